"""What Assist hears: speech told from silence and tones, 16 kHz chunks of the caller's
stream, the prompt tone, and which caller numbers match an allowed one."""

from __future__ import annotations

import math

import audioop
import pytest

from custom_components.callstack.sim7600.assist_audio import (
    CallerVoice,
    SpeechDetector,
    VoiceChunk,
    prompt_tone,
)
from custom_components.callstack.sim7600.caller_audio import AudioFrame, CallerAudio, DtmfPress
from custom_components.callstack.sim7600.resample import Upsampler
from custom_components.callstack.sim7600.validate import same_subscriber
from sim7600_emulator import test_signal
from tests.speech import spoken


def frames(pcm: bytes, size: int) -> list[bytes]:
    return [pcm[offset : offset + size] for offset in range(0, len(pcm) - size + 1, size)]


def test_speech_is_detected_and_silence_and_tones_are_not() -> None:
    detector = SpeechDetector()
    speech = spoken("turn on the kitchen light", 16000)
    assert sum(detector.process(chunk) for chunk in frames(speech, 640)) > 20
    for quiet in (
        bytes(32000),
        Upsampler().process(test_signal(0, 16000)),  # the emulator's 440 Hz + noise
        Upsampler().process(prompt_tone(8000) * 4),  # our own prompt, echoed
    ):
        detector = SpeechDetector()
        assert not any(detector.process(chunk) for chunk in frames(quiet, 640))


def test_a_click_is_not_speech() -> None:
    """One 10 ms chunk of speech between silence must not count (min_speech 60 ms)."""
    speech = spoken("turn on the kitchen light", 16000)
    detector = SpeechDetector()
    loudest = max(frames(speech, 320), key=lambda chunk: audioop.rms(chunk, 2))
    for chunk in [bytes(320)] * 20 + [loudest] + [bytes(320)] * 20:
        assert not detector.process(chunk)


async def test_caller_voice_upsamples_and_marks_speech() -> None:
    stream = CallerAudio(320, max_frames=1000, skip=0, on_close=lambda _: None)
    silence, speech = bytes(8000), spoken("good morning", 8000)
    stream.feed(silence + speech, 1.0)
    stream.dtmf("5", 2.0)
    stream.end()
    voice = CallerVoice(stream, 8000)
    items = [item async for item in voice]
    assert isinstance(items[-1], DtmfPress)
    chunks = [item for item in items if isinstance(item, VoiceChunk)]
    assert {len(chunk.pcm) for chunk in chunks} == {640}  # 20 ms at 16 kHz
    marks = [chunk.speech for chunk in chunks]
    assert not any(marks[: len(silence) // 320])
    assert sum(marks) > 10


def test_caller_voice_takes_16_khz_as_it_is() -> None:
    stream = CallerAudio(640, max_frames=10, skip=0, on_close=lambda _: None)
    voice = CallerVoice(stream, 16000)

    assert voice.convert(AudioFrame(b"\x01\x00" * 320, 0.0)).pcm == b"\x01\x00" * 320
    with pytest.raises(ValueError, match="8000 or 16000"):
        CallerVoice(stream, 11025)


def test_prompt_tone_is_short_and_not_clipped() -> None:
    tone = prompt_tone(8000)
    assert 0.2 < len(tone) / 2 / 8000 < 0.3
    assert audioop.max(tone, 2) <= 8192
    assert 20 * math.log10(audioop.rms(tone, 2) / 32768) < -12


@pytest.mark.parametrize(
    ("caller", "listed", "same"),
    [
        ("+4915550000001", "+4915550000001", True),
        ("+4915550000001", "004915550000001", True),
        ("015550000001", "+4915550000001", True),  # national presentation
        ("+4915550000001", "015550000001", True),
        ("+4915550000002", "+4915550000001", False),
        ("+3315550000001", "+4915550000001", False),
        ("015550000001", "015550000001", True),
        ("015550000001", "015550000002", False),
        ("+49 155 5000 0001", "+4915550000001", True),  # as people write numbers
        ("0155 5000-0001", "+49 (0)155 50000001", True),
        ("anonymous", "+4915550000001", False),  # a withheld marker has no digits
        ("0001", "+441", False),  # too short to be a national form
        (None, "+4915550000001", False),  # withheld
        ("", "+4915550000001", False),
        ("+4915550000001", "", False),
    ],
)
def test_caller_numbers_match_the_listed_ones(caller: str | None, listed: str, same: bool) -> None:
    assert same_subscriber(caller, listed) is same
