"""8 kHz ↔ 16 kHz for the phone line: a half-band FIR that keeps its state across frames.

The call audio is 8 kHz; HA's speech-to-text and voice activity detection take 16 kHz only.
``audioop.ratecv`` interpolates linearly, which mirrors the voice band (300-3400 Hz) into
4.6-7.7 kHz only 20-40 dB down; an STT model hears that as hiss. Here the rate is doubled
with a 67-tap Kaiser-windowed (beta 7) half-band low-pass, run as its two polyphase
branches: every other output sample is the input itself (delayed), the others come from a
34-tap FIR. Halving uses the same filter and keeps every other sample.

Figures (``tests/sim7600/test_resample.py`` measures them on the filter as built and on
tones through these classes): passband ripple within ±0.01 dB up to 3.4 kHz, images of
0-3.4 kHz content (which land at 4.6-8 kHz) at least 70 dB down, group delay 16.5 samples
at 8 kHz (about 2 ms).

State: the last input samples carry over from one call to the next, so a stream cut into
frames of any size gives exactly the output of the whole stream processed at once (no
clicks at frame joins).

Dependencies: only ``audioop`` (audioop-lts, a core requirement of every supported HA).
numpy would be simpler, but HA 2025.4 and 2026.11 pin different versions (a custom
integration cannot pin either) and a bare HA 2026.11 Core install need not have it at
all. The FIR runs as C-level adds and multiplications over the whole frame, in 32-bit
with 14 bits of headroom below the 16-bit signal, so a 20 ms frame costs a few dozen
``audioop`` calls, not a Python loop over its samples. Upsampling folds the FIR on its
symmetry (one multiplication per pair of taps) and takes the centre tap's samples as they
came: 18 µs per 20 ms frame where it was 25 µs (old and new side by side in one process).
"""

from __future__ import annotations

import math

import audioop

from .pcm import SAMPLE_WIDTH, Whole

_WIDE = 4  # accumulate in 32-bit
_HALF_TAPS = 16  # the filter has 4 * 16 + 3 = 67 taps
_BETA = 7.0
# 16-bit -> 32-bit (audioop shifts by 16), then 2 bits down: sums of the taps' products
# stay inside 32 bits even for a full-scale input (the taps' absolute sum is below 2).
_HEADROOM = 0.25


def _bessel_i0(x: float) -> float:
    """The modified Bessel function of order 0 (its power series; converges fast)."""
    total, term, k = 1.0, 1.0, 1
    while term > 1e-12 * total:
        term *= (x / (2 * k)) ** 2
        total += term
        k += 1
    return total


def half_band_taps(half: int = _HALF_TAPS, beta: float = _BETA) -> list[float]:
    """The half-band low-pass at a quarter of the higher rate, DC gain 1.

    Every tap at an even distance from the centre is zero except the centre (0.5); that is
    what makes the polyphase split exact.
    """
    length = 4 * half + 3
    centre = (length - 1) // 2
    taps = []
    for n in range(length):
        offset = n - centre
        if offset == 0:
            taps.append(0.5)
        elif offset % 2 == 0:
            taps.append(0.0)
        else:
            window = _bessel_i0(beta * math.sqrt(1 - (offset / centre) ** 2)) / _bessel_i0(beta)
            taps.append(math.sin(math.pi * offset / 2) / (math.pi * offset) * window)
    odd_sum = sum(tap for n, tap in enumerate(taps) if (n - centre) % 2)
    return [tap if n == centre else tap * 0.5 / odd_sum for n, tap in enumerate(taps)]


_TAPS = half_band_taps()
_CENTRE = len(_TAPS) // 2
# The FIR of the interpolated samples: the even-indexed taps, doubled (zero stuffing
# halves the level), as (delay in input samples, gain) pairs.
_EVEN_BRANCH = [(m, 2.0 * _TAPS[2 * m]) for m in range(len(_TAPS) // 2 + 1)]
# The same FIR folded on its symmetry (the filter has linear phase: the gain at delay m is
# the gain at delay 33 - m), as (delay, mirrored delay, gain): the two inputs are added
# first, so each pair costs one multiplication instead of two.
_EVEN_PAIRS = [
    (m, len(_EVEN_BRANCH) - 1 - m, gain) for m, gain in _EVEN_BRANCH[: len(_EVEN_BRANCH) // 2]
]
assert all(gain == _EVEN_BRANCH[mirror][1] for _, mirror, gain in _EVEN_PAIRS)
# Halving: the centre and the nonzero odd-distance taps, as (delay, gain) pairs.
_DECIMATOR = [(k, tap) for k, tap in enumerate(_TAPS) if tap]


def _widen(pcm: bytes) -> bytes:
    return audioop.mul(audioop.lin2lin(pcm, SAMPLE_WIDTH, _WIDE), _WIDE, _HEADROOM)


def _narrow(acc: bytes) -> bytes:
    """Back to 16-bit, rounded to nearest, clipped. Half a step is added before scaling
    (``audioop.bias`` wraps around, so never near the limits) and ``lin2lin`` floors."""
    half_step = round(_HEADROOM * (1 << 16)) // 2
    scaled = audioop.mul(audioop.bias(acc, _WIDE, half_step), _WIDE, 1 / _HEADROOM)
    return audioop.lin2lin(scaled, _WIDE, SAMPLE_WIDTH)  # mul saturated at the limits


def _fir(history: bytes, taps: list[tuple[int, float]], count: int, step: int) -> bytes:
    """``count`` outputs of the FIR over ``history`` (32-bit samples): output ``i`` is
    the sum of ``gain * history[start + i * step - delay]`` with ``start`` the index of
    the newest sample the first output sees."""
    newest = len(history) // _WIDE - 1 - (count - 1) * step
    acc = bytes(count * _WIDE)
    for delay, gain in taps:
        begin = (newest - delay) * _WIDE
        span = history[begin : begin + ((count - 1) * step + 1) * _WIDE]
        if step > 1:
            span = _every(span, step)
        acc = audioop.add(acc, audioop.mul(span, _WIDE, gain), _WIDE)
    return acc


def _folded_fir(history: bytes, count: int) -> bytes:
    """``count`` outputs of the interpolating FIR over ``history`` (32-bit samples, the
    last ``count`` of them new): what :func:`_fir` gives for ``_EVEN_BRANCH`` with step 1,
    summed pairwise on the symmetry (the same sum, rounded once per pair instead of once
    per tap: a few 2^-14 of an output step apart)."""
    newest = len(history) // _WIDE - count
    span = count * _WIDE
    acc = b""
    for delay, mirror, gain in _EVEN_PAIRS:
        near = (newest - delay) * _WIDE
        far = (newest - mirror) * _WIDE
        pair = audioop.add(history[near : near + span], history[far : far + span], _WIDE)
        term = audioop.mul(pair, _WIDE, gain)
        acc = audioop.add(acc, term, _WIDE) if acc else term
    return acc


def _every(samples: bytes, step: int) -> bytes:
    """Every ``step``-th 32-bit sample (step 2: the left channel of a stereo view)."""
    assert step == 2
    return audioop.tomono(samples + bytes(_WIDE), _WIDE, 1, 0)


class _HalfBand:
    """The input side both resamplers share: whole samples out of chunks of any byte
    length (a port read can end mid-sample), widened behind the history the filter needs."""

    def __init__(self, history: int) -> None:
        self._history = bytes(history * _WIDE)  # the last input samples, widened
        self._samples = Whole(SAMPLE_WIDTH)

    def _extend(self, pcm: bytes) -> tuple[bytes, bytes]:
        """The history followed by the chunk's whole samples (widened), and those samples
        as they came."""
        pcm = self._samples.take(pcm)
        if not pcm:
            return b"", b""
        buffer = self._history + _widen(pcm)
        self._history = buffer[-len(self._history) :]
        return buffer, pcm


class Upsampler(_HalfBand):
    """Signed 16-bit mono PCM at rate *r* in, at *2r* out; twice as many samples."""

    delay = _HALF_TAPS + 0.5
    """Group delay in input samples."""

    def __init__(self) -> None:
        super().__init__(len(_EVEN_BRANCH) - 1)
        self._flushed = False
        self._late = bytes(_HALF_TAPS * SAMPLE_WIDTH)  # the last input samples, as they came

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk (any length; half a sample waits for its other half)."""
        buffer, pcm = self._extend(pcm)
        if not pcm:
            return b""
        even = _narrow(_folded_fir(buffer, len(pcm) // SAMPLE_WIDTH))
        # The centre tap (0.5, doubled): the input itself, _HALF_TAPS samples late; taken
        # from the input as it came (widening and narrowing would give it back exactly).
        late = self._late + pcm
        odd, self._late = late[: len(pcm)], late[len(pcm) :]
        # Interleave: a stereo buffer read as mono at twice the rate.
        return audioop.add(
            audioop.tostereo(even, SAMPLE_WIDTH, 1, 0),
            audioop.tostereo(odd, SAMPLE_WIDTH, 0, 1),
            SAMPLE_WIDTH,
        )

    def flush(self) -> bytes:
        """The filter's tail (the output the last input samples still owe), once."""
        if self._flushed:
            return b""
        self._flushed = True
        return self.process(bytes((_HALF_TAPS + 1) * SAMPLE_WIDTH))


def upsample(pcm: bytes) -> bytes:
    """A whole recording at twice its rate, aligned: the filter's delay (33 output
    samples) taken out, exactly twice as many samples as went in."""
    upsampler = Upsampler()
    out = upsampler.process(pcm) + upsampler.flush()
    skip = round(2 * Upsampler.delay) * SAMPLE_WIDTH
    return out[skip : skip + 2 * (len(pcm) // SAMPLE_WIDTH) * SAMPLE_WIDTH]


class Downsampler(_HalfBand):
    """Signed 16-bit mono PCM at rate *2r* in, at *r* out (low-passed first)."""

    delay = _HALF_TAPS + 0.5
    """Group delay in output samples."""

    def __init__(self) -> None:
        super().__init__(len(_TAPS) - 1)
        self._count = 0  # input samples seen: which of them are kept

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk; an odd sample count is fine (the phase carries over)."""
        buffer, pcm = self._extend(pcm)
        count = len(pcm) // SAMPLE_WIDTH
        if not count:
            return b""
        # Keep the even positions of the whole stream: then halving what Upsampler doubled
        # is a pure delay of 33 samples (both group delays of 16.5 add up to a whole one).
        first = -self._count % 2
        self._count += count
        outputs = (count - first + 1) // 2
        if not outputs:
            return b""
        # The newest input the last output sees: the last kept position of this chunk.
        last = first + (outputs - 1) * 2
        end = len(buffer) - (count - 1 - last) * _WIDE
        return _narrow(_fir(buffer[:end], _DECIMATOR, outputs, 2))
