"""The call audio's format, the one every audio module of the driver speaks: signed 16-bit
little-endian mono PCM (as the SIM7600 streams it on its audio port) at the bridge rate, in
the modem's 20 ms frames."""

from __future__ import annotations

SAMPLE_WIDTH = 2
FRAME_SECONDS = 0.02


def frame_bytes(rate: int) -> int:
    """Bytes in one 20 ms frame at ``rate``."""
    return int(rate * FRAME_SECONDS) * SAMPLE_WIDTH


class Whole:
    """Whole units (samples, sample frames, 20 ms frames) out of a stream cut anywhere: a
    port read, a file read or a resampler's output can end in the middle of one, and what
    is left over waits for the next chunk."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rest = b""

    def take(self, data: bytes) -> bytes:
        """What is left over and ``data``, up to the end of its last whole unit."""
        data = self._rest + data
        cut = len(data) - len(data) % self.size
        self._rest = data[cut:]
        return data[:cut]
