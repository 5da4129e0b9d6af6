"""The modem as an Assist satellite: call your home's number and talk to Assist.

A call, as the satellite runs it (the audio work lives in the driver, testable without
HA: ``sim7600/caller_audio.py``, ``assist_audio.py``, ``resample.py``):

1. A caller on the allowed list (options, "Assist over a call") rings; after the set
   number of RINGs the satellite answers. Anyone else, and a withheld number, is a normal
   call: it rings on, and nothing here touches it.
2. Each turn: a prompt tone says "speak now"; the caller's audio, upsampled to 16 kHz,
   goes into HA's pipeline from speech-to-text on (no wake word; the pipeline's own VAD,
   set by the VAD sensitivity select, ends the request); the agent answers; TTS is asked
   for the bridge's own format (WAV, 8 kHz, mono, 16-bit: nothing resampled twice) and
   played into the call. The base class keeps the ``conversation_id`` across turns.
3. The conversation ends when the caller hangs up, stays silent for the set time when
   asked to speak, or the agent answers with nothing to say (HA's built-in agent does
   for "never mind" / "cancel"); then the satellite hangs up. HA's VAD gives up on a
   request after 15 s of audio, whatever the silence option says; a caller still silent
   then is listened to on in a new run (no new prompt, outcome ``no_speech``), so the
   option holds up to its maximum.
4. Barge-in: speech (pymicro-vad, 60 ms in a row) over the answer stops it, and what the
   caller said so far goes to the next turn; a key press stops it too.
5. Each turn is an ``assist_start`` / ``assist_end`` event of the call event entity and of
   the ``callstack_call`` bus event, with the pipeline run id (what HA's pipeline debug
   view lists). Logs name turns and outcomes, never audio, numbers or transcripts.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from dataclasses import dataclass, field
import logging
from typing import Any

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityDescription,
    AssistSatelliteEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .assist_options import AssistOptions
from .const import DOMAIN
from .coordinator import CallstackConfigEntry, CallstackCoordinator
from .entity import CallstackEntity
from .media import async_audio_source, tts_options as media_tts_options
from .select import satellite_select_prefix
from .sim7600.assist_audio import CallerVoice, VoiceChunk, chime, prompt_tone
from .sim7600.audio_source import AudioSource, PcmSource
from .sim7600.caller_audio import DtmfPress
from .sim7600.calls import DialResult
from .sim7600.errors import Sim7600Error
from .sim7600.events import ModemEvent
from .sim7600.model import BridgeState, CallInfo, CallState

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0

BRIDGE_TIMEOUT = 15.0  # answered, but the call audio never started
DIAL_TIMEOUT = 45.0  # announce / start_conversation: ringing this long is "no answer"
ANSWER_PAUSE = 0.5  # after the callee answers: the phone reaches the ear
STALL_SECONDS = 2.0  # no caller audio for this long: the call is gone
MAX_FAILED_TURNS = 3  # pipeline errors in a row (nothing understood) before hanging up
_QUEUED_FRAMES = 250  # 5 s of caller audio may wait while the pipeline starts
_PREROLL_FRAMES = 25  # 0.5 s before a barge-in is handed to the next turn
_LISTENED_ON_SECONDS = 5.0
"""A run that heard no speech counts as HA's VAD timing out (15 s), and is listened on, only
after this much silence: an STT engine with its own end-of-speech detection that gives up
sooner is a failed turn, not one run after another until the silence option."""
_FRAME_SECONDS = 0.02

SATELLITE = AssistSatelliteEntityDescription(key="assist_satellite", translation_key="assist")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the satellite of a modem with call audio."""
    if entry.runtime_data.modem.audio.url is None:
        return
    async_add_entities([CallstackAssistSatellite(entry.runtime_data.coordinator)])


@dataclass(slots=True)
class _Turn:
    """What one pipeline run of a conversation came to."""

    run_id: str | None = None
    tts_url: str | None = None
    heard: bool = False  # speech-to-text gave a text
    intent_started: bool = False
    intent_ended: bool = False
    spoke: bool = False  # the agent's answer has speech
    error: str | None = None  # the pipeline's error code
    silence: bool = False  # the caller said nothing in time
    carried: float = 0.0  # seconds the caller was already silent when this run began
    silent: float = 0.0  # ... and by the time HA's VAD heard speech or the run ended
    speech: bool = False  # HA's pipeline VAD heard the caller start
    call_ended: bool = False
    started: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class _Answer:
    """How playing an answer ended: whole, or cut by the caller (``preroll``: the audio
    that started the barge-in, for the next turn; None for a key press)."""

    barged_in: bool = False
    preroll: list[bytes] | None = None


class CallstackAssistSatellite(CallstackEntity, AssistSatelliteEntity):
    """Assist on the modem's phone line (see the module docstring)."""

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, SATELLITE)
        self.entity_description = SATELLITE
        entry = coordinator.config_entry
        self._options = AssistOptions.from_options(entry.options)
        self._prefix = satellite_select_prefix(entry)
        self._answering: asyncio.Task[None] | None = None
        self._conversation: asyncio.Task[None] | None = None
        self._call: tuple[str, str | None] | None = None  # the call we took
        self._call_gone = False
        self._turn: _Turn | None = None
        if self._options.dial:
            # Both features exist in every supported HA; without a number to call, neither.
            self._attr_supported_features = (
                AssistSatelliteEntityFeature.ANNOUNCE
                | AssistSatelliteEntityFeature.START_CONVERSATION
            )

    # ---- what the base class asks -----------------------------------------------------

    @property
    def pipeline_entity_id(self) -> str | None:
        """The pipeline select of this modem."""
        return self._select_entity_id("pipeline")

    @property
    def vad_sensitivity_entity_id(self) -> str | None:
        """The VAD sensitivity select of this modem."""
        return self._select_entity_id("vad_sensitivity")

    def _select_entity_id(self, suffix: str) -> str | None:
        return er.async_get(self.hass).async_get_entity_id(
            "select", DOMAIN, f"{self._prefix}-{suffix}"
        )

    @property
    def tts_options(self) -> dict[str, Any]:
        """TTS in the bridge's own format, so the answer is played as it comes."""
        return media_tts_options(self.coordinator.modem.audio.sample_rate)

    @callback
    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """A phone line has no wake words."""
        return AssistSatelliteConfiguration([], [], 0)

    async def async_set_configuration(self, config: AssistSatelliteConfiguration) -> None:
        """Refuse wake words: the call itself is the wake-up."""
        if config.active_wake_words:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="assist_no_wake_words"
            )

    # ---- lifecycle --------------------------------------------------------------------

    async def async_added_to_hass(self) -> None:
        """Follow the modem's calls."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.modem.subscribe(self._on_modem_event))

    async def async_will_remove_from_hass(self) -> None:
        """End a conversation (and an answer in progress) with the entity."""
        for task in (self._answering, self._conversation):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await super().async_will_remove_from_hass()

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        del event  # every event may change the call; the snapshot says how
        snapshot = self.coordinator.modem.snapshot
        call = snapshot.call
        if self._conversation is not None:
            # The call we took ended, went on hold or gave way to another one.
            if _key(call) != self._call or snapshot.call_state is CallState.HELD:
                self._end_conversation()
            return
        if (
            snapshot.call_state is CallState.INCOMING
            and call is not None
            and call.direction == "inbound"
            and call.rings >= self._options.rings
            and self._answering is None
            and self._options.allows(call.number)
        ):
            self._answering = self.coordinator.config_entry.async_create_background_task(
                self.hass, self._async_answer_call(call), "callstack assist answer"
            )

    def _end_conversation(self) -> None:
        """Stop everything of the conversation now: the run, the answer, the stream."""
        conversation = self._conversation
        if conversation is not None and not conversation.done() and not self._call_gone:
            self._call_gone = True
            conversation.cancel()

    async def _async_answer_call(self, call: CallInfo) -> None:
        modem = self.coordinator.modem
        try:
            await modem.answer()
        except Sim7600Error as err:
            _LOGGER.debug("Assist could not answer the call: %s", type(err).__name__)
            return
        finally:
            self._answering = None
        self._call = _key(call)
        self._call_gone = False
        self._conversation = self.coordinator.config_entry.async_create_background_task(
            self.hass, self._async_converse(), "callstack assist conversation"
        )

    # ---- the conversation -------------------------------------------------------------

    async def _async_converse(self) -> None:
        """Turns until the call ends, the caller stays silent or the agent is done."""
        modem = self.coordinator.modem
        reason = "hang_up"
        voice: CallerVoice | None = None
        try:
            voice = await self._async_listen()
            if voice is None:
                reason = "no_audio"  # answered, but nobody can hear anybody: hang up
            else:
                _LOGGER.info("Assist took a call")
            preroll: list[bytes] | None = None
            silent = 0.0
            failures = 0
            while voice is not None:
                turn = await self._async_turn(voice, preroll, silent)
                preroll, silent = None, 0.0
                outcome = await self._async_after_turn(turn, voice)
                if isinstance(outcome, _Answer):
                    self._fire_end(turn, "barge_in" if outcome.barged_in else "answered")
                    preroll = outcome.preroll
                    failures = 0
                    continue
                self._fire_end(turn, outcome)
                if outcome == "no_speech":
                    preroll, silent = [], turn.silent  # listen on: no prompt, same patience
                    continue
                if outcome == "error":
                    failures += 1
                    if failures < MAX_FAILED_TURNS:
                        continue
                    reason = "errors"
                else:
                    reason = outcome
                break
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self._call_gone or task is None or task.cancelling() > 1:
                raise  # the entity goes away, not just the call
            task.uncancel()
            if self._turn is not None:
                self._fire_end(self._turn, "hang_up")
        finally:
            if voice is not None:
                voice.close()
            self._turn = None
            self._conversation = None
            self._call = None
            if self.hass is not None and self.state != "idle":
                self.tts_response_finished()
        _LOGGER.info("Assist call ended: %s", reason)
        if reason != "hang_up" and modem.snapshot.call_state is CallState.ACTIVE:
            try:
                await modem.hang_up()
            except Sim7600Error as err:
                _LOGGER.debug("Assist could not hang up: %s", type(err).__name__)

    async def _async_listen(self) -> CallerVoice | None:
        """The caller's voice once the call audio runs (None if it never does)."""
        audio = self.coordinator.modem.audio
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BRIDGE_TIMEOUT
        while not audio.running:
            if loop.time() > deadline or audio.state is BridgeState.FAILED:
                _LOGGER.warning("The call audio did not start; Assist cannot take the call")
                return None
            await asyncio.sleep(0.05)
        return CallerVoice(audio.listen(max_frames=_QUEUED_FRAMES), audio.sample_rate)

    async def _async_turn(
        self, voice: CallerVoice, preroll: list[bytes] | None, silent: float = 0.0
    ) -> _Turn:
        """Prompt (unless ``preroll`` is given: the caller already speaks, or is listened to
        on), then one pipeline run; ``silent``: seconds of silence carried in."""
        turn = _Turn(carried=silent, silent=silent)
        self._turn = turn
        if preroll is None:
            await self._async_play_pcm(prompt_tone(self.coordinator.modem.audio.sample_rate))
            voice.clear()  # what arrived while the tone played
        # From speech-to-text (no wake word: the call is the wake-up) to TTS, the
        # defaults; HA 2026.11's extra keyword (context) is left at its default too.
        await self.async_accept_pipeline_from_satellite(self._stt_audio(voice, turn, preroll or []))
        return turn

    async def _async_after_turn(self, turn: _Turn, voice: CallerVoice) -> _Answer | str:
        """Play the answer; or say why the conversation cannot go on (or "error")."""
        if turn.call_ended:
            return "hang_up"
        if turn.silence:
            return "silence"
        if turn.tts_url is not None:
            try:
                return await self._async_speak(turn.tts_url, voice)
            finally:
                self.tts_response_finished()
        listened = turn.silent - turn.carried >= _LISTENED_ON_SECONDS
        if turn.error == "stt-no-text-recognized" and not turn.speech and listened:
            return "no_speech"  # HA's VAD timed out on a silent caller (15 s)
        if turn.intent_ended and not turn.spoke:
            return "agent"  # an answer with nothing to say: the agent is done
        if turn.heard and not turn.intent_started and turn.error is None:
            return "asked"  # HA 2026.11's ask_question: the run ended with the answer
        return "error"

    async def _stt_audio(self, voice: CallerVoice, turn: _Turn, preroll: list[bytes]) -> Any:
        """The caller at 16 kHz for the pipeline, until it stops reading (its VAD ended
        the request), the caller stays silent too long or the call ends.

        Until the pipeline's VAD hears the caller start (STT_VAD_START), the moment each
        frame arrives does not matter (only the end of speech is waited for), so the
        stream is not live then: the bridge reads the port a few times a second instead
        of at every frame. From the first speech on, frames come as they arrive."""
        for pcm in preroll:
            yield pcm
        voice.detect = False  # the pipeline's VAD listens now (STT_VAD_START)
        voice.live = bool(preroll)  # a barge-in: the caller speaks already
        try:
            while True:
                voice.live = voice.live or turn.speech
                try:
                    async with asyncio.timeout(STALL_SECONDS):
                        item = await anext(voice)
                except (StopAsyncIteration, TimeoutError):
                    turn.call_ended = True
                    return
                if isinstance(item, DtmfPress):
                    continue
                if not (preroll or turn.speech):
                    turn.silent += _FRAME_SECONDS
                    if turn.silent >= self._options.silence:
                        turn.silence = True
                        return
                yield item.pcm
        finally:
            voice.live = True  # the answer's barge-in detection hears each frame

    @callback
    def on_pipeline_event(self, event: PipelineEvent) -> None:
        """Note what the run did (nothing of it is logged but its kind)."""
        turn = self._turn
        _LOGGER.debug("Assist pipeline event %s", event.type)
        if turn is None:
            return
        data = event.data or {}
        match event.type:
            case PipelineEventType.RUN_START:
                # The run id is not in the event; HA's debug store has it a moment later.
                self.hass.loop.call_soon(self._fire_start, turn, event)
            case PipelineEventType.STT_VAD_START:
                turn.speech = True
            case PipelineEventType.STT_END:
                turn.heard = True
            case PipelineEventType.INTENT_START:
                turn.intent_started = True
            case PipelineEventType.INTENT_END:
                turn.intent_ended = True
                response = (data.get("intent_output") or {}).get("response") or {}
                speech = (response.get("speech") or {}).get("plain") or {}
                turn.spoke = bool(str(speech.get("speech") or "").strip())
            case PipelineEventType.TTS_END:
                output = data.get("tts_output") or {}
                turn.tts_url = output.get("url")
            case PipelineEventType.ERROR:
                turn.error = str(data.get("code"))

    def _fire_start(self, turn: _Turn, event: PipelineEvent) -> None:
        turn.run_id = _pipeline_run_id(self.hass, event)
        turn.started.set()
        self.coordinator.async_assist_event("assist_start", self._event_data(turn))

    def _fire_end(self, turn: _Turn, outcome: str) -> None:
        if not turn.started.is_set():
            return  # the run never started: no start event to close
        self.coordinator.async_assist_event(
            "assist_end", {**self._event_data(turn), "outcome": outcome}
        )

    def _event_data(self, turn: _Turn) -> dict[str, object]:
        return {"pipeline_run_id": turn.run_id, "conversation_id": self._conversation_id}

    # ---- Assist calls out ---------------------------------------------------------------

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """``assist_satellite.announce``: call the number in the options, speak, hang up."""
        modem = self.coordinator.modem
        await self._async_call_out()
        try:
            await self._async_play_announcement(announcement)
        finally:
            if modem.snapshot.call_state is CallState.ACTIVE:
                with contextlib.suppress(Sim7600Error):
                    await modem.hang_up()

    async def async_start_conversation(
        self, start_announcement: AssistSatelliteAnnouncement
    ) -> None:
        """``assist_satellite.start_conversation`` (and HA 2026.11's ``ask_question``):
        call, speak, then listen: the conversation goes on as for a call that came in,
        in the conversation HA started for it. Returns once the message was spoken."""
        modem = self.coordinator.modem
        await self._async_call_out()
        try:
            await self._async_play_announcement(start_announcement)
        except BaseException:
            if modem.snapshot.call_state is CallState.ACTIVE:
                with contextlib.suppress(Sim7600Error):
                    await modem.hang_up()
            raise
        self._call = _key(modem.snapshot.call)
        self._call_gone = False
        self._conversation = self.coordinator.config_entry.async_create_background_task(
            self.hass, self._async_converse(), "callstack assist conversation"
        )

    async def _async_call_out(self) -> None:
        """Dial the number of the options and wait for the callee and the call audio."""
        modem = self.coordinator.modem
        number = self._options.dial
        if number is None:  # the features are off then; an old call is refused plainly
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="assist_no_number")
        if self._conversation is not None or modem.snapshot.call_state is not CallState.IDLE:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="assist_line_busy")
        try:
            result = await modem.dial(number, DIAL_TIMEOUT)
        except Sim7600Error as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="assist_line_busy"
            ) from err
        if result is not DialResult.ANSWERED:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="assist_not_answered",
                translation_placeholders={"result": result.value},
            )
        audio = modem.audio
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BRIDGE_TIMEOUT
        while not audio.running:
            snapshot = modem.snapshot  # (read anew: the call moves while this waits)
            if loop.time() > deadline or snapshot.call_state is not CallState.ACTIVE:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="assist_no_call_audio"
                )
            await asyncio.sleep(0.05)
        await asyncio.sleep(ANSWER_PAUSE / audio.speed)

    async def _async_play_announcement(self, announcement: AssistSatelliteAnnouncement) -> None:
        """The chime (for HA's pre-announce sound, which only a URL names here) and the
        message: a TTS result by its token, any other media through voice's resolver."""
        if announcement.preannounce_media_id:
            await self._async_play_pcm(chime(self.coordinator.modem.audio.sample_rate))
        if announcement.tts_token is not None:
            media = f"/api/tts_proxy/{announcement.tts_token}"
        else:
            media = announcement.original_media_id
        await self._async_play(await self._async_source(media))

    # ---- speaking into the call -------------------------------------------------------

    async def _async_speak(self, url: str, voice: CallerVoice) -> _Answer:
        """Play the TTS answer; stop it when the caller speaks over it or presses a key.

        The answer streams (voice's WAV source over HA's TTS result stream) and plays as
        it arrives; :meth:`Modem.stop_playback` stops it before the next frame."""
        source = await self._async_source(url)
        voice.clear()
        voice.detect = True
        playing = asyncio.ensure_future(self._async_play(source))
        recent: deque[bytes] = deque(maxlen=_PREROLL_FRAMES)
        try:
            while not playing.done():
                heard = asyncio.ensure_future(anext(voice))
                done, _ = await asyncio.wait((playing, heard), return_when=asyncio.FIRST_COMPLETED)
                if heard not in done:
                    heard.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await heard
                    break
                try:
                    item = heard.result()
                except StopAsyncIteration:
                    break  # the call ended; so does the playback
                if isinstance(item, DtmfPress):
                    return _Answer(barged_in=True)
                assert isinstance(item, VoiceChunk)
                recent.append(item.pcm)
                if item.speech:
                    _LOGGER.debug("Barge-in: the caller spoke over the answer")
                    return _Answer(barged_in=True, preroll=list(recent))
            return _Answer()
        finally:
            if not playing.done():
                self.coordinator.modem.stop_playback()
            with contextlib.suppress(asyncio.CancelledError, Sim7600Error):
                await playing

    async def _async_source(self, media: str) -> AudioSource:
        """A started source for a TTS result URL or any media ID (voice's resolver)."""
        try:
            return await async_audio_source(
                self.hass,
                self.coordinator.config_entry,
                media=media,
                target_entity_id=self.entity_id,
            )
        except HomeAssistantError as err:
            _LOGGER.debug("Assist's answer cannot be played: %s", err.translation_key)
            raise

    async def _async_play(self, source: AudioSource) -> None:
        modem = self.coordinator.modem
        with contextlib.suppress(Sim7600Error):  # the call ended meanwhile
            await modem.play(source)

    async def _async_play_pcm(self, pcm: bytes) -> None:
        await self._async_play(PcmSource(pcm, self.coordinator.modem.audio.sample_rate))


def _key(call: CallInfo | None) -> tuple[str, str | None] | None:
    """Which call it is, from ringing to connected (``started`` is set only then)."""
    return (call.direction, call.number) if call is not None else None


def _pipeline_run_id(hass: HomeAssistant, event: PipelineEvent) -> str | None:
    """The id of the run that emitted ``event``: the run in HA's pipeline debug store
    whose events hold this very event object (HA puts an event there right after handing
    it to the satellite, in both supported versions)."""
    data = hass.data.get("assist_pipeline")
    debug = getattr(data, "pipeline_debug", {}).get((event.data or {}).get("pipeline"), {})
    for run_id, run in reversed(list(debug.items())):
        if any(logged is event for logged in run.events):
            return str(run_id)
    return None
