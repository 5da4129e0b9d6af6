"""8 kHz ↔ 16 kHz for the phone line: a half-band FIR that keeps its state across frames.

The call audio is 8 kHz; HA's speech-to-text and voice activity detection take 16 kHz only.
``audioop.ratecv`` interpolates linearly, which mirrors the voice band (300-3400 Hz) into
4.6-7.7 kHz at -20 dB and less; an STT model hears that as hiss. Here the rate is doubled
with a 67-tap Kaiser-windowed (beta 7) half-band low-pass, run as its two polyphase
branches: every other output sample is the input itself (delayed), the others come from a
34-tap FIR. Halving uses the same filter and keeps every other sample.

Figures (``tests/sim7600/test_resample.py`` measures them on the filter as built):
passband ripple within ±0.01 dB up to 3.4 kHz, images of 0-3.4 kHz content (which land at
4.6-8 kHz) at least 70 dB down, group delay 16.5 samples at 8 kHz (about 2 ms).

State: the last input samples carry over from one call to the next, so a stream cut into
frames of any size gives exactly the output of the whole stream processed at once (no
clicks at frame joins). numpy is a dependency of Home Assistant itself (2.2 in 2025.4,
2.3 in 2026.11); only its long-stable core (``frombuffer``, ``convolve``, ``rint``) is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_HALF_TAPS = 16  # the filter has 4 * 16 + 3 = 67 taps
_BETA = 7.0
SAMPLE_WIDTH = 2

type _Floats = npt.NDArray[np.floating[Any]]


def half_band_taps(half: int = _HALF_TAPS, beta: float = _BETA) -> _Floats:
    """The half-band low-pass at a quarter of the higher rate, DC gain 1.

    Every tap at an even distance from the centre is zero except the centre (0.5); that is
    what makes the polyphase split above exact.
    """
    length = 4 * half + 3
    offsets = np.arange(length) - (length - 1) // 2
    taps: _Floats = 0.5 * np.sinc(offsets / 2) * np.kaiser(length, beta)
    odd = offsets % 2 != 0
    taps[~odd] = 0.0
    taps[offsets == 0] = 0.5
    taps[odd] *= 0.5 / taps[odd].sum()  # the odd taps sum to 0.5: DC passes unchanged
    return taps


_TAPS = half_band_taps()
_EVEN_BRANCH = 2.0 * _TAPS[0::2]  # the FIR of the interpolated samples (34 taps)


def _to_pcm(samples: _Floats) -> bytes:
    clipped = np.clip(np.rint(samples), -32768, 32767)
    return clipped.astype("<i2").tobytes()


def _samples(pcm: bytes) -> _Floats:
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError("PCM must hold whole 16-bit samples")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


class Upsampler:
    """Signed 16-bit mono PCM at rate *r* in, at *2r* out; twice as many samples."""

    def __init__(self) -> None:
        self._history: _Floats = np.zeros(len(_EVEN_BRANCH) - 1)

    @property
    def delay(self) -> float:
        """Group delay in input samples."""
        return _HALF_TAPS + 0.5

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk (any whole number of samples)."""
        x = _samples(pcm)
        if not len(x):
            return b""
        buffer = np.concatenate((self._history, x))
        kept = len(self._history)
        self._history = buffer[-kept:]
        out = np.empty(2 * len(x))
        out[0::2] = np.convolve(buffer, _EVEN_BRANCH, mode="valid")
        # The centre tap: the input itself, _HALF_TAPS samples late.
        start = kept - _HALF_TAPS
        out[1::2] = buffer[start : start + len(x)]
        return _to_pcm(out)


class Downsampler:
    """Signed 16-bit mono PCM at rate *2r* in, at *r* out (low-passed first)."""

    def __init__(self) -> None:
        self._history: _Floats = np.zeros(len(_TAPS) - 1)
        self._count = 0  # input samples seen: which of them are kept

    @property
    def delay(self) -> float:
        """Group delay in output samples."""
        return _HALF_TAPS + 0.5

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk; an odd sample count is fine (the phase carries over)."""
        x = _samples(pcm)
        if not len(x):
            return b""
        buffer = np.concatenate((self._history, x))
        self._history = buffer[-len(self._history) :]
        filtered = np.convolve(buffer, _TAPS, mode="valid")
        # Keep the even positions of the whole stream: then halving what Upsampler doubled
        # is a pure delay of 33 samples (both group delays of 16.5 add up to a whole one).
        first = -self._count % 2
        self._count += len(x)
        return _to_pcm(filtered[first::2])
