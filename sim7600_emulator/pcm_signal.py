"""The far end's "voice": a deterministic test signal, so tests can check audio sample by sample.

A 440 Hz sine carries the level; a small pseudo-random component makes every 20 ms window
unique for far longer than any call, so a test can find exactly where a captured chunk sits
in the stream. The random part is the sum of two tables whose lengths are coprime (8200 and
8191 samples at 8 kHz), so it repeats only after about 2.3 hours, yet a frame costs two slices
and one C-level addition instead of a Python loop over its samples.
"""

from __future__ import annotations

from array import array
from functools import cache
import math
from operator import add
import sys

TEST_SIGNAL_RATE = 8000
"""Sample rate of the stream after AT+CPCMFRM=0 (the default); AT+CPCMFRM=1 doubles it."""

_TONE_HZ = 440
_TONE_AMPLITUDE = 8000
_NOISE_BITS = 9  # each table adds -256..255, well inside int16 next to the tone
_TABLE_SIZE = 8191  # a prime, so it is coprime with the tone-aligned table's length
_MASK32 = 0xFFFFFFFF


def _noise(index: int, salt: int) -> int:
    """A 32-bit integer hash of `index`: the same value on every run and platform."""
    x = (index * 0x9E3779B1 + salt) & _MASK32
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & _MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & _MASK32
    x ^= x >> 16
    return (x >> (32 - _NOISE_BITS)) - (1 << (_NOISE_BITS - 1))


@cache
def _tables(rate: int) -> tuple[array[int], array[int]]:
    """Tone plus noise over whole tone periods, and a second noise table of prime length."""
    period = rate // math.gcd(rate, _TONE_HZ)
    length = period * -(-_TABLE_SIZE // period)
    tone = [
        round(_TONE_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * n / rate)) for n in range(period)
    ]
    toned = array("h", (tone[n % period] + _noise(n, rate) for n in range(length)))
    noise = array("h", (_noise(n, rate + 1) for n in range(_TABLE_SIZE)))
    return toned, noise


def test_signal(start_sample: int, count: int, rate: int = TEST_SIGNAL_RATE) -> bytes:  # noqa: PT028
    """Return `count` samples from `start_sample` on as signed 16-bit little-endian mono PCM."""
    toned, noise = _tables(rate)
    samples = array("h")
    position, end = start_sample, start_sample + count
    while position < end:
        i, j = position % len(toned), position % len(noise)
        step = min(end - position, len(toned) - i, len(noise) - j)
        samples.fromlist(list(map(add, toned[i : i + step], noise[j : j + step])))
        position += step
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


# pytest would otherwise collect this function as a test wherever a test module imports it.
test_signal.__dict__["__test__"] = False
