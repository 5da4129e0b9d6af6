"""Voicemail in Home Assistant: a recorded message becomes a stored message, a transcript,
an event and a count.

The driver records and judges the message (``sim7600/voicemail.py``); this module gives it
an ID and a place (:class:`~.voicemail_store.VoicemailStore`), transcribes it through HA's
``stt`` component when the user chose an engine, and tells HA: the ``callstack_voicemail``
bus event, the ``voicemail`` event type of the Call event entity, the New voicemail sensor.
A message that is no message (nothing but silence) is not stored, and the event says so.
A failing or missing STT engine costs the transcript, never the recording.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import Any
import wave

from homeassistant.components import stt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from . import voicemail_options
from .const import (
    CONF_VOICEMAIL_ENABLED,
    CONF_VOICEMAIL_GREETING,
    CONF_VOICEMAIL_GREETING_MEDIA,
    CONF_VOICEMAIL_KEEP_COUNT,
    CONF_VOICEMAIL_KEEP_DAYS,
    CONF_VOICEMAIL_STT,
    CONF_VOICEMAIL_TTS,
    DOMAIN,
    EVENT_VOICEMAIL,
)
from .coordinator import CallstackConfigEntry
from .media import async_audio_source, prepare_folder
from .sim7600.resample import upsample
from .sim7600.voicemail import RecordedMessage, VoicemailEngine
from .voicemail_store import FOLDER, VoicemailMessage, VoicemailStore, new_message_id

_LOGGER = logging.getLogger(__name__)

MEDIA_SOURCE_ROOT = f"media-source://{DOMAIN}"
STT_RATE = 16000
STT_TIMEOUT = 120.0
_STT_CHUNK = 3200  # 100 ms at 16 kHz
_RETENTION_INTERVAL = timedelta(hours=1)


def media_content_id(entry_id: str, message_id: str) -> str:
    """The message's ID in HA's media source (playable, castable)."""
    return f"{MEDIA_SOURCE_ROOT}/{entry_id}/{message_id}"


def voicemail_folder(recordings: Path) -> Path:
    """Where a modem's messages live, inside its recordings folder."""
    return recordings / FOLDER


class VoicemailBox:
    """One modem's voicemail: store, transcripts, events, retention."""

    def __init__(self, hass: HomeAssistant, entry: CallstackConfigEntry, folder: Path) -> None:
        self.hass = hass
        self.entry = entry
        self.store = VoicemailStore(hass, entry.entry_id, folder)
        self._event_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._engine: VoicemailEngine | None = None
        self._recording: tuple[str, datetime] | None = None  # the message being recorded

    @property
    def folder(self) -> Path:
        """The voicemail folder."""
        return self.store.folder

    @staticmethod
    async def async_remove_index(hass: HomeAssistant, entry_id: str) -> None:
        """The entry was removed: drop the index (the files stay, like recordings)."""
        await VoicemailStore(hass, entry_id, Path()).async_remove_index()

    async def async_setup(self) -> None:
        """Load the store (reconciled with the folder), apply retention now and hourly."""
        await self.store.async_load()
        await self.async_apply_retention()
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._retention_tick, _RETENTION_INTERVAL, cancel_on_shutdown=True
            )
        )

    async def async_prepare_folder(self) -> bool:
        """Create the voicemail folder (when the first message comes, not before); False
        if it cannot be, or lies outside the directories HA may write to."""
        try:
            resolved = await self.hass.async_add_executor_job(
                prepare_folder, self.hass, self.folder
            )
        except OSError:
            _LOGGER.warning("The voicemail folder cannot be created")
            return False
        if resolved is None:
            _LOGGER.warning("The voicemail folder is outside the allowed directories")
            return False
        return True

    @callback
    def async_start_engine(self) -> None:
        """Answer calls, when voicemail is on in the options (see VoicemailEngine for how
        it stays out of the way of anything else that answers)."""
        options = self.entry.options
        if not options.get(CONF_VOICEMAIL_ENABLED):
            return
        modem = self.entry.runtime_data.modem
        if modem.audio.url is None:
            _LOGGER.warning("Voicemail is on, but the modem has no audio port: it stays off")
            return
        self._engine = VoicemailEngine(
            modem,
            voicemail_options.answer_rules(options),
            voicemail_options.message_rules(options),
            greeting=self._async_play_greeting,
            prepare=self._async_prepare_message,
            deliver=self._async_deliver_message,
        )
        self._engine.start()

    async def async_stop_engine(self) -> None:
        """Stop answering; a voicemail in progress is dropped and its call hung up."""
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.stop()

    async def _async_play_greeting(self) -> None:
        """The greeting media if one is set, else the greeting text through TTS (the
        resolver every player uses). One that cannot be played is logged and skipped: the
        caller still hears the beep and can leave a message."""
        options = voicemail_options.current(self.entry.options)
        media = options[CONF_VOICEMAIL_GREETING_MEDIA] or None
        message = None if media else options[CONF_VOICEMAIL_GREETING] or None
        if media is None and message is None:
            return
        try:
            source = await async_audio_source(
                self.hass,
                self.entry,
                media=media,
                message=message,
                tts_engine=options[CONF_VOICEMAIL_TTS],
            )
        except HomeAssistantError as err:
            _LOGGER.warning(
                "The voicemail greeting cannot be played (%s); recording without it",
                err.translation_key or type(err).__name__,
            )
            return
        await self.entry.runtime_data.modem.play(source)

    async def _async_prepare_message(self) -> Path | None:
        if not await self.async_prepare_folder():
            return None
        now = dt_util.utcnow()
        message_id = new_message_id(now)
        self._recording = (message_id, now)
        return self.folder / f"{message_id}.wav"

    async def _async_deliver_message(self, recorded: RecordedMessage, number: str | None) -> None:
        if self._recording is None:
            return
        message_id, received = self._recording
        self._recording = None
        await self.async_deliver(message_id, recorded, number, received)

    async def _retention_tick(self, now: datetime) -> None:
        await self.async_apply_retention()

    async def async_apply_retention(self) -> int:
        """Delete what the retention options no longer keep."""
        options = voicemail_options.current(self.entry.options)
        return await self.store.async_apply_retention(
            int(options[CONF_VOICEMAIL_KEEP_DAYS]), int(options[CONF_VOICEMAIL_KEEP_COUNT])
        )

    @callback
    def async_add_event_listener(self, listener: Callable[[dict[str, Any]], None]) -> CALLBACK_TYPE:
        """Call ``listener`` with each voicemail event's data (the Call event entity)."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    async def async_deliver(
        self,
        message_id: str,
        recorded: RecordedMessage,
        number: str | None,
        received: datetime,
    ) -> VoicemailMessage | None:
        """Store a recorded message, transcribe it, tell HA; None if it was no message."""
        if not recorded.kept:
            self._announce(None, number, recorded.duration, recorded.ended_by.value)
            return None
        message = VoicemailMessage(
            id=message_id,
            number=number,
            received=received,
            duration=recorded.duration,
            ended_by=recorded.ended_by.value,
        )
        await self.store.async_add(message)
        transcript = await self._async_transcribe(message)
        if transcript is not None:
            message = replace(message, transcript=transcript)
            await self.store.async_update(message)
        await self.async_apply_retention()
        self._announce(message, number, message.duration, message.ended_by)
        return message

    def _announce(
        self,
        message: VoicemailMessage | None,
        number: str | None,
        duration: float,
        ended_by: str,
    ) -> None:
        data: dict[str, Any] = {
            "number": number,
            "duration": duration,
            "ended_by": ended_by,
            "kept": message is not None,
            "message_id": message.id if message else None,
            "media_content_id": (
                media_content_id(self.entry.entry_id, message.id) if message else None
            ),
            "transcript": message.transcript if message else None,
        }
        self.entry.runtime_data.coordinator.fire(EVENT_VOICEMAIL, data)
        for listener in list(self._event_listeners):
            listener(data)

    async def _async_transcribe(self, message: VoicemailMessage) -> str | None:
        engine_id = self.entry.options.get(CONF_VOICEMAIL_STT)
        if not engine_id:
            return None
        try:
            return await async_transcribe(self.hass, engine_id, self.store.path(message))
        except Exception as err:  # any engine failure costs the transcript only
            _LOGGER.warning(
                "Speech-to-text failed for a voicemail (%s); the message is kept without a "
                "transcript",
                type(err).__name__,
            )
            return None


async def async_transcribe(hass: HomeAssistant, engine_id: str, path: Path) -> str | None:
    """The transcript of a recording through HA's ``stt`` engine ``engine_id`` (an entity
    or a legacy provider), None when the engine is missing, refuses 16 kHz PCM in every
    language it has, or hears nothing."""
    engine = (
        stt.async_get_speech_to_text_engine(hass, engine_id)
        if stt.DOMAIN in hass.config.components
        else None
    )
    if engine is None:
        _LOGGER.warning("The voicemail speech-to-text engine %s is not available", engine_id)
        return None
    metadata = _metadata(hass, engine)
    if metadata is None:
        _LOGGER.warning("The speech-to-text engine %s takes no 16 kHz 16-bit PCM", engine_id)
        return None
    pcm = await hass.async_add_executor_job(_pcm_for_stt, path)
    if isinstance(engine, stt.SpeechToTextEntity):
        process = engine.internal_async_process_audio_stream
    else:
        process = engine.async_process_audio_stream
    async with asyncio.timeout(STT_TIMEOUT):
        result = await process(metadata, _chunks(pcm))
    if result.result is not stt.SpeechResultState.SUCCESS or not result.text:
        return None
    return result.text.strip() or None


def _metadata(hass: HomeAssistant, engine: Any) -> stt.SpeechMetadata | None:
    """16 kHz mono PCM in HA's language if the engine has it, else the engine's first
    language of the same family, else its first language."""
    languages = list(engine.supported_languages)
    wanted = hass.config.language
    family = [lang for lang in languages if lang.split("-")[0] == wanted.split("-")[0]]
    for language in dict.fromkeys([wanted, *family, *languages]):
        metadata = stt.SpeechMetadata(
            language=language,
            format=stt.AudioFormats.WAV,
            codec=stt.AudioCodecs.PCM,
            bit_rate=stt.AudioBitRates.BITRATE_16,
            sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
            channel=stt.AudioChannels.CHANNEL_MONO,
        )
        if engine.check_metadata(metadata):
            return metadata
    return None


def _pcm_for_stt(path: Path) -> bytes:
    """The recording as 16 kHz 16-bit mono PCM without a header (blocking)."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        pcm = wav.readframes(wav.getnframes())
    if channels != 1 or width != 2:
        raise ValueError("not a 16-bit mono recording")
    if rate == 8000:
        return upsample(pcm)
    if rate == STT_RATE:
        return pcm
    raise ValueError("unexpected sample rate")


async def _chunks(pcm: bytes) -> AsyncIterator[bytes]:
    for offset in range(0, len(pcm), _STT_CHUNK):
        yield pcm[offset : offset + _STT_CHUNK]
