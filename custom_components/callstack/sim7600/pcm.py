"""The call audio's format, the one every audio module of the driver speaks: signed 16-bit
little-endian mono PCM (as the SIM7600 streams it on its audio port) at the bridge rate, in
the modem's 20 ms frames."""

from __future__ import annotations

SAMPLE_WIDTH = 2
FRAME_SECONDS = 0.02


def frame_bytes(rate: int) -> int:
    """Bytes in one 20 ms frame at ``rate``."""
    return int(rate * FRAME_SECONDS) * SAMPLE_WIDTH
