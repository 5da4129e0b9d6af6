"""The far end's "voice": a deterministic test signal, so tests can check audio sample by sample.

A 440 Hz sine carries the level; a small pseudo-random component keyed on the sample index makes
every 20 ms window unique for far longer than any call, so a test can find exactly where a
captured chunk sits in the stream.
"""

from __future__ import annotations

from array import array
from functools import cache
import math
import sys

TEST_SIGNAL_RATE = 8000
"""Sample rate of the stream after AT+CPCMFRM=0 (the default); AT+CPCMFRM=1 doubles it."""

_TONE_HZ = 440
_TONE_AMPLITUDE = 8000
_NOISE_BITS = 10  # the random part spans -512..511, well inside int16 next to the tone
_MASK32 = 0xFFFFFFFF


@cache
def _tone_period(rate: int) -> tuple[int, ...]:
    """One exact period of the tone at `rate` (200 samples at 8 kHz), computed once."""
    period = rate // math.gcd(rate, _TONE_HZ)
    return tuple(
        round(_TONE_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * n / rate)) for n in range(period)
    )


def _noise(sample: int, rate: int) -> int:
    """A 32-bit integer hash of the sample index: the same value on every run and platform."""
    x = (sample * 0x9E3779B1 + rate) & _MASK32
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & _MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & _MASK32
    x ^= x >> 16
    return (x >> (32 - _NOISE_BITS)) - (1 << (_NOISE_BITS - 1))


def test_signal(start_sample: int, count: int, rate: int = TEST_SIGNAL_RATE) -> bytes:  # noqa: PT028
    """Return `count` samples from `start_sample` on as signed 16-bit little-endian mono PCM."""
    tone = _tone_period(rate)
    period = len(tone)
    samples = array(
        "h",
        (tone[n % period] + _noise(n, rate) for n in range(start_sample, start_sample + count)),
    )
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


# pytest would otherwise collect this function as a test wherever a test module imports it.
test_signal.__dict__["__test__"] = False
