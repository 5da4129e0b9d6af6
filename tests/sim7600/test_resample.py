"""8 kHz call audio up to 16 kHz for speech-to-text: the voice band kept, its image gone."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.callstack.sim7600.resample import Upsampler, upsample


def _tone(frequency: float, rate: int, seconds: float = 1.0, amplitude: float = 8000) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(int(rate * seconds)) / rate)


def _level_db(signal: np.ndarray, frequency: float, reference: float, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / rate)
    at = spectrum[np.argmin(abs(bins - frequency))]
    ref = spectrum[np.argmin(abs(bins - reference))]
    return float(20 * np.log10(at / ref))


@pytest.mark.parametrize(
    ("frequency", "image_db"),
    # 3.4 kHz, the top of the phone band, has its image at 4.6 kHz, near the filter's edge.
    [(300.0, -80), (1000.0, -80), (3400.0, -55)],
)
def test_voice_band_tones_come_out_at_16_khz_without_their_image(
    frequency: float, image_db: float
) -> None:
    pcm = _tone(frequency, 8000).astype("<i2").tobytes()
    out = np.frombuffer(upsample(pcm), dtype="<i2").astype(np.float64)
    assert len(out) == 16000
    # The image at 8 kHz - f, which sample repetition leaves at -14 dB (1 kHz) or worse.
    assert _level_db(out, 8000 - frequency, frequency, 16000) < image_db
    # The tone itself, sample-aligned with the same tone made at 16 kHz.
    expected = _tone(frequency, 16000)
    error = out[200:-200] - expected[200:-200]
    assert np.sqrt(np.mean(error**2)) < 0.01 * 8000 / np.sqrt(2)


def test_sample_repetition_would_fail_the_same_check() -> None:
    """The bound above is not loose: doubling each sample leaves the image in."""
    repeated = np.repeat(_tone(1000.0, 8000), 2)
    assert _level_db(repeated, 7000, 1000, 16000) > -20


def test_a_stream_fed_in_odd_pieces_equals_the_whole() -> None:
    pcm = (_tone(440.0, 8000) + _tone(2500.0, 8000, amplitude=3000)).astype("<i2").tobytes()
    whole = Upsampler()
    expected = whole.process(pcm) + whole.flush()
    pieces = Upsampler()
    out = b"".join(pieces.process(pcm[i : i + 333]) for i in range(0, len(pcm), 333))
    assert out + pieces.flush() == expected
    assert pieces.flush() == b""


def test_full_scale_input_is_clipped_not_wrapped() -> None:
    square = np.where(np.arange(8000) % 40 < 20, 32767, -32768).astype("<i2").tobytes()
    out = np.frombuffer(upsample(square), dtype="<i2")
    # Gibbs overshoot past full scale is clipped: no sign flips from wrapping.
    assert out.max() == 32767
    assert out.min() == -32768
    assert not np.any((out[1:].astype(int) - out[:-1].astype(int)) > 40000)
