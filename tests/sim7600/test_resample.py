"""8 kHz ↔ 16 kHz: the frequency response of the filter as built, image rejection and
alias rejection measured on tones, seamless frame joins, and what it costs per second."""

from __future__ import annotations

import random
import time

import audioop
import numpy as np
import pytest

from custom_components.callstack.sim7600.resample import (
    Downsampler,
    Upsampler,
    half_band_taps,
    upsample,
)

IMAGE_REJECTION_DB = 70.0  # stated in resample.py: images of 0-3.4 kHz content
RIPPLE_DB = 0.01


def tone(frequency: float, rate: int, seconds: float, amplitude: float = 16000.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return np.rint(amplitude * np.sin(2 * np.pi * frequency * t)).astype("<i2").tobytes()


def level_db(pcm: bytes, rate: int, frequency: float) -> float:
    """Level of ``frequency`` in ``pcm`` in dB of full scale: the Blackman-windowed
    signal projected onto that exact frequency (no bin-scalloping error)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    window = np.blackman(len(x))
    phasor = np.exp(-2j * np.pi * frequency * np.arange(len(x)) / rate)
    amplitude = abs(np.sum(x * window * phasor)) / (window.sum() / 2) / 32768
    return float(20 * np.log10(amplitude + 1e-12))


def steady(pcm: bytes, skip: int) -> bytes:
    """Drop the filter's start-up samples (the history starts as silence)."""
    return pcm[skip * 2 :]


def test_the_filter_is_half_band_with_flat_passband_and_deep_stopband() -> None:
    taps = half_band_taps()
    assert len(taps) == 67
    centre = len(taps) // 2
    assert taps[centre] == 0.5
    assert all(taps[centre + k] == 0 for k in range(2, centre + 1, 2))
    assert np.allclose(taps, taps[::-1])  # linear phase
    response = np.abs(np.fft.rfft(taps, 1 << 16)) + 1e-15
    frequency = np.fft.rfftfreq(1 << 16, 1 / 16000)
    passband = 20 * np.log10(response[frequency <= 3400])
    stopband = 20 * np.log10(response[frequency >= 4600])
    assert passband.max() < RIPPLE_DB
    assert passband.min() > -RIPPLE_DB
    assert stopband.max() < -IMAGE_REJECTION_DB


@pytest.mark.parametrize("chunk", [320, 334, 4000])
def test_upsampling_is_the_half_band_filter_over_the_zero_stuffed_input(chunk: int) -> None:
    """Whatever its arithmetic (polyphase branches, the FIR folded on its symmetry, 32-bit
    fixed point), the output is the filter of half_band_taps() over the input with a zero
    between samples, doubled, to within one step: here for noise at -6 dBFS in chunks of
    any size (a port read, a frame, a whole message)."""
    rng = np.random.default_rng(5)
    source = rng.integers(-16384, 16384, 8000).astype("<i2")
    stuffed = np.zeros(2 * len(source))
    stuffed[::2] = source
    ideal = np.rint(2 * np.convolve(stuffed, half_band_taps())[: len(stuffed)])
    upsampler = Upsampler()
    pcm = source.tobytes()
    out = b"".join(upsampler.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    error = np.frombuffer(out, dtype="<i2") - np.clip(ideal, -32768, 32767)
    assert len(error) == len(stuffed)
    assert np.abs(error).max() <= 1


@pytest.mark.parametrize("frequency", [300.0, 1000.0, 2500.0, 3400.0])
def test_upsampling_leaves_no_image_above_4_khz(frequency: float) -> None:
    out = steady(Upsampler().process(tone(frequency, 8000, 1.0)), 200)
    assert len(out) == 2 * (2 * 8000) - 400
    level = level_db(out, 16000, frequency)
    assert abs(level - level_db(tone(frequency, 16000, 1.0), 16000, frequency)) < 0.05
    image = level_db(out, 16000, 8000 - frequency)
    assert level - image > IMAGE_REJECTION_DB


def test_linear_interpolation_would_fail_the_same_measurement() -> None:
    """The bound is not loose: audioop.ratecv (what a bridge would use otherwise)
    leaves the 1 kHz tone's image at 7 kHz less than 40 dB down."""
    out, _ = audioop.ratecv(tone(1000.0, 8000, 1.0), 2, 1, 8000, 16000, None)
    out = steady(out, 200)
    assert level_db(out, 16000, 1000.0) - level_db(out, 16000, 7000.0) < 40


@pytest.mark.parametrize("frequency", [5000.0, 6500.0])
def test_downsampling_rejects_what_would_alias(frequency: float) -> None:
    out = steady(Downsampler().process(tone(frequency, 16000, 1.0)), 100)
    # An undecimated tone at f would fold to 8000 - f.
    assert level_db(out, 8000, 8000 - frequency) < -6 - IMAGE_REJECTION_DB + 3


def test_downsampling_keeps_the_voice_band() -> None:
    out = steady(Downsampler().process(tone(1000.0, 16000, 1.0)), 100)
    reference = level_db(tone(1000.0, 8000, 1.0), 8000, 1000.0)
    assert abs(level_db(out, 8000, 1000.0) - reference) < 0.05


def test_round_trip_is_a_pure_delay_of_33_samples() -> None:
    """Doubling then halving gives the voice band back, 33 samples (two group delays)
    late, to within rounding."""
    t = np.arange(8000) / 8000
    x = sum(
        4000 * np.sin(2 * np.pi * f * t + phase)
        for f, phase in ((310.0, 0.1), (730.0, 1.3), (1390.0, 2.2), (2950.0, 0.7))
    )
    source = np.rint(x).astype("<i2").tobytes()
    back = np.frombuffer(Downsampler().process(Upsampler().process(source)), dtype="<i2")
    residual = back[33 + 200 :].astype(float) - np.frombuffer(source, dtype="<i2")[200:-33]
    assert np.abs(residual).max() <= 4


@pytest.mark.parametrize("cls", [Upsampler, Downsampler])
def test_frames_of_any_size_join_without_a_click(cls: type[Upsampler | Downsampler]) -> None:
    """Cut into frames of random sizes (odd counts too), the output is bit for bit the
    output of the whole stream at once: no discontinuity at any join."""
    rng = random.Random(7)
    source = tone(440.0, 8000, 2.0) + tone(3000.0, 8000, 1.0)
    whole = cls().process(source)
    resampler = cls()
    pieces: list[bytes] = []
    offset = 0
    while offset < len(source):
        size = 2 * rng.randint(1, 400)
        pieces.append(resampler.process(source[offset : offset + size]))
        offset += size
    assert b"".join(pieces) == whole


def test_clipping_saturates_instead_of_wrapping() -> None:
    square = (b"\xff\x7f" * 40 + b"\x00\x80" * 40) * 50  # full-scale square wave overshoots
    out = np.frombuffer(Upsampler().process(square), dtype="<i2")
    assert out.max() == 32767
    assert out.min() == -32768
    assert np.abs(np.diff(out.astype(int))).max() < 65535  # no +32767 -> -32768 wrap


def test_half_a_sample_waits_for_its_other_half() -> None:
    source = tone(440.0, 8000, 0.1)
    whole = Upsampler().process(source)
    split = Upsampler()
    assert split.process(source[:101]) + split.process(source[101:]) == whole


def test_a_whole_recording_comes_out_aligned() -> None:
    """upsample(): twice the samples, the delay taken out: a 1 kHz tone at 8 kHz is the
    same tone at 16 kHz, in phase, to within a few LSB once the filter has settled."""
    source = tone(1000.0, 8000, 0.5)
    out = np.frombuffer(upsample(source), dtype="<i2").astype(float)
    ideal = np.frombuffer(tone(1000.0, 16000, 0.5), dtype="<i2").astype(float)
    assert len(out) == len(ideal)
    assert np.abs(out[100:-100] - ideal[100:-100]).max() < 16


@pytest.mark.parametrize("frequency", [300.0, 3400.0])
def test_the_voice_band_edges_come_out_aligned_too(frequency: float) -> None:
    """(From voicemail's transcripts, which upsample whole messages.) The edges of the
    phone band, 3.4 kHz next to the filter's transition band, keep their phase and level:
    within 1 % RMS of the same tone made at 16 kHz."""
    source = tone(frequency, 8000, 1.0, amplitude=8000.0)
    out = np.frombuffer(upsample(source), dtype="<i2").astype(float)
    ideal = np.frombuffer(tone(frequency, 16000, 1.0, amplitude=8000.0), dtype="<i2")
    assert len(out) == len(ideal)
    error = out[200:-200] - ideal[200:-200].astype(float)
    assert np.sqrt(np.mean(error**2)) < 0.01 * 8000 / np.sqrt(2)


def test_a_stream_and_its_tail_equal_the_whole_and_flush_gives_the_tail_once() -> None:
    """(From voicemail.) Chunks of an odd byte length plus flush() are the whole stream
    plus flush(); a second flush() adds nothing."""
    source = tone(440.0, 8000, 1.0) + tone(2500.0, 8000, 0.5, amplitude=3000.0)
    whole = Upsampler()
    expected = whole.process(source) + whole.flush()
    pieces = Upsampler()
    out = b"".join(pieces.process(source[i : i + 333]) for i in range(0, len(source), 333))
    assert out + pieces.flush() == expected
    assert pieces.flush() == b""


def test_cpu_per_second_of_call_audio_is_small() -> None:
    """A regression guard, not the benchmark (benchmarks/assist.py measures it): 60 s of
    20 ms frames must take far less than the 1.2 s (2 % of a core) the whole Assist path
    may cost, even on a busy machine."""
    frame = tone(1000.0, 8000, 0.02)
    upsampler = Upsampler()
    start = time.process_time()
    for _ in range(3000):
        upsampler.process(frame)
    assert time.process_time() - start < 1.2
