"""An Assist pipeline for the HA tests: HA's real pipeline code with stub providers.

The speech-to-text entity returns the texts a test queues (and keeps the audio it was
given), the agent answers with what the test says and records the conversation ids, the
TTS entity returns a WAV at the rate it was asked for, each answer a known length; HA's
own pipeline, VAD, chat sessions and TTS conversion (FFmpeg) run in between.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from functools import cache
import io
import math
from pathlib import Path
from typing import Any
import wave

from homeassistant.components import stt
from homeassistant.components.assist_pipeline import (
    async_get_pipeline,
    async_update_pipeline,
)
from homeassistant.components.conversation import (
    ConversationEntity,
    ConversationInput,
    ConversationResult,
)
from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest

from .fixtures import PhoneStt

ANSWER_SECONDS = 1.0


@cache
def tone_wav(seconds: float, rate: int = 22050, frequency: float = 523.0) -> bytes:
    """A WAV of a tone (the "spoken" answer: a tone, so what the far end heard of it
    is easy to find), 16-bit mono. Made once per length: the stub TTS costs nothing (the
    latency benchmark times HA's pipeline, not this loop)."""
    samples = round(seconds * rate)
    pcm = b"".join(
        round(6000 * math.sin(2 * math.pi * frequency * n / rate)).to_bytes(
            2, "little", signed=True
        )
        for n in range(samples)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


class StubStt(PhoneStt):
    """Returns the queued texts in turn (an empty text once they run out)."""

    _attr_name = "Test STT"
    _attr_unique_id = "callstack-test-stt"

    def __init__(self) -> None:
        self.texts: deque[str] = deque()
        self.heard: list[bytes] = []  # the 16 kHz audio of each request

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        self.heard.append(b"".join([chunk async for chunk in stream]))
        text = self.texts.popleft() if self.texts else ""
        return stt.SpeechResult(text, stt.SpeechResultState.SUCCESS)


class StubAgent(ConversationEntity):
    """Answers each text with ``reply(text)``; records (text, conversation id)."""

    _attr_name = "Test agent"
    _attr_unique_id = "callstack-test-agent"

    def __init__(self) -> None:
        self.reply: Callable[[str], str] = lambda text: f"You said {text}"
        self.requests: list[tuple[str, str | None]] = []

    @property
    def supported_languages(self) -> list[str]:
        return ["en"]

    async def async_process(self, user_input: ConversationInput) -> ConversationResult:
        self.requests.append((user_input.text, user_input.conversation_id))
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech(self.reply(user_input.text))
        return ConversationResult(response=response, conversation_id=user_input.conversation_id)


class StubTts(TextToSpeechEntity):
    """Speaks every message as an ``ANSWER_SECONDS`` tone at 22.05 kHz (HA converts it
    to the bridge format the satellite asks for)."""

    _attr_name = "Test TTS"
    _attr_unique_id = "callstack-test-tts"
    _attr_supported_languages = ["en"]
    _attr_default_language = "en"

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.seconds = ANSWER_SECONDS

    @property
    def supported_options(self) -> list[str]:
        return []

    def get_tts_audio(self, message: str, language: str, options: dict[str, Any]) -> TtsAudioType:
        self.messages.append((message, dict(options)))
        return "wav", tone_wav(self.seconds)


@dataclass
class AssistStack:
    """The stub providers behind HA's preferred pipeline."""

    stt: StubStt
    agent: StubAgent
    tts: StubTts
    answers: list[str] = field(default_factory=list)


async def async_setup_assist_stack(hass: HomeAssistant) -> AssistStack:
    """HA's pipeline set up with the stubs as its STT, agent and TTS (the preferred
    pipeline); FFmpeg (Debian's) converts TTS as HA does. The benchmarks use it too."""
    for component in ("homeassistant", "ffmpeg", "stt", "tts", "conversation", "assist_pipeline"):
        assert await async_setup_component(hass, component, {})
    stack = AssistStack(StubStt(), StubAgent(), StubTts())
    await hass.data["stt"].async_add_entities([stack.stt])
    await hass.data["tts"].async_add_entities([stack.tts])
    await hass.data["conversation"].async_add_entities([stack.agent])
    await hass.async_block_till_done()
    await async_update_pipeline(
        hass,
        async_get_pipeline(hass),
        conversation_engine="conversation.test_agent",
        conversation_language="en",
        language="en",
        stt_engine="stt.test_stt",
        stt_language="en",
        tts_engine="tts.test_tts",
        tts_language="en",
    )
    return stack


@pytest.fixture
async def assist_stack(hass: HomeAssistant, tmp_path: Path) -> AssistStack:
    """:func:`async_setup_assist_stack`, its TTS cache in tmp_path."""
    hass.config.config_dir = str(tmp_path)
    return await async_setup_assist_stack(hass)
