"""What the voicemail, recorder-privacy, blueprint and phone-card tests share: a speech-to-text
stub, the way to add it to HA, and a caller who leaves a message through the real recording
path."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from homeassistant.components import stt
from homeassistant.components.stt.const import DATA_COMPONENT as STT_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.callstack.sim7600.voicemail import MessageRules, record_message
from custom_components.callstack.voicemail import VoicemailBox
from custom_components.callstack.voicemail_store import VoicemailMessage, new_message_id
from sim7600_emulator import Sim7600Emulator

from .fixtures import PhoneStt, answered_call, hang_up


class StubStt(PhoneStt):
    """An STT entity that hears what it is told to and keeps what it was sent."""

    _attr_name = "Stub STT"
    _attr_unique_id = "stub-stt"
    languages = ("en-US", "de-DE")

    def __init__(self, text: str | None = "please call me back", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.received = b""
        self.metadata: stt.SpeechMetadata | None = None

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        self.metadata = metadata
        async for chunk in stream:
            self.received += chunk
        if self.fail:
            raise ConnectionError("the STT service went away")
        if self.text is None:
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        return stt.SpeechResult(self.text, stt.SpeechResultState.SUCCESS)


async def add_stt(hass: HomeAssistant, entity: stt.SpeechToTextEntity) -> str:
    """Set up HA's stt component with ``entity`` in it; returns its entity ID."""
    assert await async_setup_component(hass, "stt", {})
    await hass.data[STT_COMPONENT].async_add_entities([entity])
    assert entity.entity_id is not None
    return entity.entity_id


def box_of(entry: Any) -> VoicemailBox:
    box: VoicemailBox = entry.runtime_data.voicemail
    return box


async def leave_message(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry: Any, *, seconds: float = 2.0
) -> VoicemailMessage:
    """A caller leaves a message: the call answered, ``seconds`` of the far end recorded
    (the emulator's voice), the caller presses #, and the box delivers it."""
    number = emulator.identity.callers[0]
    await answered_call(hass, emulator, number)
    box = box_of(entry)
    assert await box.async_prepare_folder()
    message_id = new_message_id(dt_util.utcnow())
    received = dt_util.utcnow()
    rules = MessageRules(max_seconds=seconds)
    recorded = await record_message(
        entry.runtime_data.modem, box.folder / f"{message_id}.wav", rules
    )
    await hang_up(hass)
    message = await box.async_deliver(message_id, recorded, number, received)
    assert message is not None
    return message
