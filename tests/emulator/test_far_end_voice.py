"""The far end's voice from a WAV file of another rate: converted to the call's rate as a
phone would, band-limited first, so what lies above the call's band does not fold into it."""

from __future__ import annotations

import math

import audioop

from sim7600_emulator.far_end_voice import Voice

SOURCE_RATE = 22050  # espeak-ng's rate


def sine(frequency: float, rate: int, seconds: float = 1.0, amplitude: int = 10000) -> bytes:
    count = int(rate * seconds)
    return b"".join(
        round(amplitude * math.sin(2 * math.pi * frequency * n / rate)).to_bytes(
            2, "little", signed=True
        )
        for n in range(count)
    )


def level_at_call_rate(pcm: bytes, rate: int) -> float:
    """RMS of the voice as an 8 kHz call hears it (its middle: no start or end effects)."""
    voice = Voice(pcm, SOURCE_RATE)
    voice.restart(rate)
    out = voice.take(rate)
    middle = out[len(out) // 4 : 3 * len(out) // 4]
    return float(audioop.rms(middle, 2))


def test_speech_band_passes() -> None:
    source = sine(1000, SOURCE_RATE)
    ratio = level_at_call_rate(source, 8000) / audioop.rms(source, 2)
    assert 20 * math.log10(ratio) > -1.0


def test_content_above_the_call_band_does_not_fold_into_it() -> None:
    """6 kHz at 22.05 kHz would alias to 2 kHz at 8 kHz; a phone's codec filters it out."""
    source = sine(6000, SOURCE_RATE)
    ratio = level_at_call_rate(source, 8000) / audioop.rms(source, 2)
    assert 20 * math.log10(max(ratio, 1e-9)) < -40.0


def test_a_voice_at_the_call_rate_is_unchanged() -> None:
    source = sine(1000, 8000)
    voice = Voice(source, 8000)
    voice.restart(8000)
    assert voice.take(8000) == source
