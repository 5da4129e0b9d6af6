"""Call audio at 8 kHz up to 16 kHz, the rate speech-to-text engines take.

Doubling the rate inserts a zero after every sample and low-passes the result at the old
Nyquist frequency (4 kHz), which removes the mirror image of the voice band that the zeros
create (3.4 kHz speech would otherwise come back as 4.6 kHz). The filter is a 63-tap
windowed sinc (Kaiser, beta 8: about 80 dB of stop-band attenuation), split into its two
polyphase halves, one for the even and one for the odd output samples, so no multiplication
by an inserted zero is ever done. Sample repetition (what ``audioop.ratecv`` and naive
doubling amount to at best, linear interpolation) leaves the images in: an STT engine hears
them as hiss. The filter's history is carried from one chunk to the next, so a stream fed in
pieces gives exactly what the whole would, with no click at chunk boundaries.

numpy is a dependency of Home Assistant itself (its core requirements in every supported
version), so this costs no extra requirement.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

TAPS = 63
_BETA = 8.0
DELAY = (TAPS - 1) // 2  # output samples the filter delays the signal by


@cache
def _phases() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The even and odd polyphase halves of the interpolation filter (gain 2 in all)."""
    n = np.arange(TAPS) - DELAY
    taps = 0.5 * np.sinc(n / 2) * np.kaiser(TAPS, _BETA)
    taps *= 2 / taps.sum()  # unity gain at DC after zero stuffing
    # Both halves as long, so each yields one output per input sample (the odd half
    # ends in a zero tap).
    return taps[0::2].copy(), np.append(taps[1::2], 0.0)


class Upsampler:
    """8 kHz to 16 kHz, 16-bit mono little-endian PCM, fed in chunks of any size."""

    def __init__(self) -> None:
        even, odd = _phases()
        self._even = even
        self._odd = odd
        self._history: npt.NDArray[np.float64] = np.zeros(len(even) - 1)
        self._odd_byte = b""
        self._flushed = False

    def process(self, pcm: bytes) -> bytes:
        """Upsample the next samples; returns twice as many (the filter's delay lags)."""
        data = self._odd_byte + pcm
        whole = len(data) - len(data) % 2
        self._odd_byte = data[whole:]
        if not whole:
            return b""
        samples = np.frombuffer(data[:whole], dtype="<i2").astype(np.float64)
        return self._filter(samples)

    def flush(self) -> bytes:
        """The filter's tail: the last input samples' worth of output, once."""
        if self._flushed:
            return b""
        self._flushed = True
        return self._filter(np.zeros((DELAY + 1) // 2))

    def _filter(self, samples: npt.NDArray[np.float64]) -> bytes:
        padded = np.concatenate((self._history, samples))
        self._history = padded[len(padded) - len(self._history) :]
        out = np.empty(2 * len(samples))
        out[0::2] = np.convolve(padded, self._even, mode="valid")
        out[1::2] = np.convolve(padded, self._odd, mode="valid")
        return np.clip(np.rint(out), -32768, 32767).astype("<i2").tobytes()


def upsample(pcm: bytes) -> bytes:
    """A whole 8 kHz recording at 16 kHz, aligned (the filter's delay taken out)."""
    upsampler = Upsampler()
    out = upsampler.process(pcm) + upsampler.flush()
    return out[DELAY * 2 : DELAY * 2 + len(pcm) * 2]
