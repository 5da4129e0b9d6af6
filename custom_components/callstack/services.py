"""Actions: calls (dial, answer, hang_up, send_dtmf), call audio (record, play, say,
stop_playback), DTMF menus (collect_dtmf) and alarm calls (dial with a message), SMS and
USSD.

Each action picks its modem by ``config_entry_id`` (optional while exactly one modem is
loaded), validates its input into :class:`ServiceValidationError` and maps driver errors
onto translated :class:`HomeAssistantError` s. No action reports success for work that
did not happen: a recording that captured nothing is an error, not an empty file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass
import logging
import os
import re
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import VolSchemaType
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import DOMAIN
from .coordinator import CallstackConfigEntry
from .media import async_audio_source, prepare_folder, recordings_dir
from .sim7600 import validate
from .sim7600.audio import CHANNELS, DTMF_DIGITS, MAX_GAIN
from .sim7600.audio_source import AudioSource
from .sim7600.calls import HangUpTarget
from .sim7600.errors import (
    AtCommandError,
    AudioBridgeLostError,
    AudioBridgeNotRunningError,
    AudioBusyError,
    CallStateError,
    InvalidArgumentError,
    MediaError,
    PortClosedError,
    RecordingEmptyError,
    Sim7600Error,
)
from .sim7600.ivr import AlarmRequest, DtmfRequest, Prompt
from .sim7600.model import CallState
from .sim7600.modem import Modem
from .sms_actions import async_send_sms
from .voicemail_actions import (
    DELETE_FIELDS,
    MARK_HEARD_FIELDS,
    async_delete as async_delete_voicemail,
    async_mark_heard as async_mark_voicemail_heard,
)

_LOGGER = logging.getLogger(__name__)

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
MEDIA_SOURCE_PREFIX = "media-source://media_source/local/"
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,100}\.wav")


def _number[T: (int, float)](kind: type[T]) -> Callable[[Any], T]:
    """``vol.Coerce(kind)`` that also refuses what no ``kind`` can hold (``int(inf)``,
    ``float(10**400)``): those raise OverflowError, which voluptuous lets through."""
    coerce = vol.Coerce(kind)

    def validator(value: Any) -> T:
        try:
            result: T = coerce(value)
        except OverflowError:
            raise vol.Invalid(f"expected {kind.__name__}") from None
        return result

    return validator


_ENTRY: dict[vol.Marker, Any] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
_PLAYBACK: dict[vol.Marker, Any] = {
    vol.Optional("wait", default=True): cv.boolean,
    vol.Optional("volume", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=MAX_GAIN)),
    vol.Optional("interrupt", default=False): cv.boolean,
}
# What to play: a TTS message (with the TTS fields of callstack.say) or a media ID / WAV
# name (see _prompt); one or the other. Empty counts as not given, so a blueprint can pass
# both of its inputs along.
_PROMPT: dict[vol.Marker, Any] = {
    vol.Optional("message"): vol.Any(None, cv.string),
    vol.Optional("media"): vol.Any(None, cv.string),
    vol.Optional("tts_entity_id"): vol.Any(None, cv.string),
    vol.Optional("language"): vol.Any(None, cv.string),
    vol.Optional("options"): vol.Any(None, dict),
}
_TTS_FIELDS = ("tts_entity_id", "language", "options")
SCHEMAS: dict[str, VolSchemaType] = {
    "dial": vol.Schema(
        {
            **_ENTRY,
            vol.Required("number"): cv.string,
            vol.Optional("timeout", default=60): _number(float),
            **_PROMPT,
            vol.Optional("repeat", default=3): _number(int),
            vol.Optional("acknowledge_digits", default=""): vol.Any(None, cv.string),
        }
    ),
    "collect_dtmf": vol.Schema(
        {
            **_ENTRY,
            vol.Optional("max_digits", default=1): _number(int),
            vol.Optional("timeout", default=10): _number(float),
            vol.Optional("inter_digit_timeout", default=5): _number(float),
            vol.Optional("terminator", default="#"): vol.Any(None, cv.string),
            **_PROMPT,
        }
    ),
    "answer": vol.Schema(_ENTRY),
    "hang_up": vol.Schema(
        {
            **_ENTRY,
            vol.Optional("target", default=HangUpTarget.ACTIVE.value): vol.In(
                [target.value for target in HangUpTarget]
            ),
        }
    ),
    "send_dtmf": vol.Schema(
        {
            **_ENTRY,
            vol.Required("digits"): cv.string,
            vol.Optional("duration_ms", default=100): _number(int),
        }
    ),
    "record": vol.Schema(
        {
            **_ENTRY,
            vol.Optional("duration", default=30): _number(float),
            vol.Optional("filename"): cv.string,
            vol.Optional("stop_on_dtmf", default=False): cv.boolean,
            vol.Optional("overwrite", default=False): cv.boolean,
            vol.Optional("channels", default="caller"): vol.In(CHANNELS),
        }
    ),
    "play": vol.All(
        cv.has_at_least_one_key("media", "file"),
        vol.Schema(
            {
                **_ENTRY,
                # "file" is the name of the first version; "media" takes the same and more.
                vol.Exclusive("media", "media"): cv.string,
                vol.Exclusive("file", "media"): cv.string,
                **_PLAYBACK,
            }
        ),
    ),
    "say": vol.Schema(
        {
            **_ENTRY,
            vol.Required("message"): cv.string,
            vol.Optional("tts_entity_id"): cv.string,
            vol.Optional("language"): cv.string,
            vol.Optional("options"): dict,
            **_PLAYBACK,
        }
    ),
    "stop_playback": vol.Schema(_ENTRY),
    "send_sms": vol.Schema(
        {
            **_ENTRY,
            vol.Required("number"): cv.string,
            vol.Required("message"): cv.string,
            vol.Optional("request_delivery_report", default=False): cv.boolean,
        }
    ),
    "send_ussd": vol.Schema(
        {
            **_ENTRY,
            vol.Required("code"): cv.string,
            vol.Optional("timeout", default=30): _number(float),
        }
    ),
    "cancel_ussd": vol.Schema(_ENTRY),
    "mark_voicemail_heard": vol.Schema({**_ENTRY, **MARK_HEARD_FIELDS}),
    "delete_voicemail": vol.Schema({**_ENTRY, **DELETE_FIELDS}),
}


@dataclass(frozen=True, slots=True)
class _Action:
    handler: Callable[
        [HomeAssistant, CallstackConfigEntry, ServiceCall], Awaitable[ServiceResponse]
    ]
    supports_response: SupportsResponse


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _device_error(err: Sim7600Error) -> HomeAssistantError:
    """Map a driver error to a translated error (driver messages hold nothing private)."""
    match err:
        case AudioBridgeLostError():
            return _error("audio_bridge_lost")
        case AudioBridgeNotRunningError():
            return _error("audio_bridge_not_running")
        case RecordingEmptyError():
            return _error("recording_empty")
        case AtCommandError():
            return _error("modem_error")
        case PortClosedError(closed=True):
            return _error("modem_closed")
    return _error("modem_unavailable")


@callback
def _resolve_entry(hass: HomeAssistant, call: ServiceCall) -> CallstackConfigEntry:
    entry_id: str | None = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        loaded = [
            entry
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        ]
        if len(loaded) != 1:
            raise _invalid("entry_ambiguous" if loaded else "entry_not_loaded")
        return loaded[0]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("entry_not_found")
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("entry_not_loaded")
    return entry


def _connected_modem(entry: CallstackConfigEntry) -> Modem:
    modem = entry.runtime_data.modem
    if not modem.connected:
        raise _error("modem_unavailable")
    return modem


async def _dial(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    try:
        number = validate.phone_number(call.data["number"])
    except InvalidArgumentError:
        raise _invalid("invalid_number") from None
    timeout = call.data["timeout"]
    if not 5 <= timeout <= 300:
        raise _invalid("invalid_timeout", max="300")
    try:
        alarm = AlarmRequest(call.data["repeat"], (call.data["acknowledge_digits"] or "").upper())
    except InvalidArgumentError:
        raise _invalid("invalid_alarm") from None
    modem = _connected_modem(entry)
    if modem.calls.state is not CallState.IDLE:
        raise _error("call_in_progress")
    try:
        async with _prompt(hass, entry, call.data) as message:
            if message is None:
                return {"result": (await modem.dial(number, timeout)).value}
            if modem.audio.url is None:
                raise _error("audio_bridge_not_running")
            result = await modem.alarm_call(number, message, alarm, timeout)
    except CallStateError:
        raise _error("call_in_progress") from None
    except AudioBusyError:
        raise _error("playback_in_progress") from None
    except Sim7600Error as err:
        raise _device_error(err) from err
    return {
        "result": result.result.value,
        "acknowledged": result.acknowledged,
        "digit": result.digit,
        "plays": result.plays,
    }


async def async_answer(entry: CallstackConfigEntry) -> None:
    """Answer the ringing call, with translated errors (the action and the button)."""
    modem = _connected_modem(entry)
    try:
        await modem.answer()
    except CallStateError:
        raise _error("no_incoming_call") from None
    except Sim7600Error as err:
        raise _device_error(err) from err


_NO_SUCH_CALL = {
    HangUpTarget.ACTIVE: "no_call",
    HangUpTarget.ALL: "no_call",
    HangUpTarget.WAITING: "no_waiting_call",
    HangUpTarget.HELD: "no_held_call",
}


async def async_hang_up(
    entry: CallstackConfigEntry, target: HangUpTarget = HangUpTarget.ACTIVE
) -> None:
    """End, reject or cancel a call, with translated errors (the action and the button)."""
    modem = _connected_modem(entry)
    try:
        await modem.hang_up(target)
    except CallStateError:
        raise _error(_NO_SUCH_CALL[target]) from None
    except Sim7600Error as err:
        raise _device_error(err) from err


async def _answer(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    await async_answer(entry)
    return None


async def _hang_up(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    await async_hang_up(entry, HangUpTarget(call.data["target"]))
    return None


async def _collect_dtmf(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    terminator: str | None = call.data["terminator"] or None
    try:
        request = DtmfRequest(
            call.data["max_digits"],
            call.data["timeout"],
            call.data["inter_digit_timeout"],
            terminator.upper() if terminator else None,
        )
    except InvalidArgumentError:
        raise _invalid("invalid_dtmf_request") from None
    modem = _connected_modem(entry)
    if modem.calls.state is not CallState.ACTIVE:
        raise _error("no_active_call")
    try:
        async with _prompt(hass, entry, call.data) as prompt:
            result = await modem.collect_dtmf(request, prompt)
    except CallStateError:
        raise _error("no_active_call") from None
    except AudioBusyError:
        raise _error("playback_in_progress") from None
    except Sim7600Error as err:
        raise _device_error(err) from err
    return {"digits": result.digits, "ended_by": result.ended_by.value}


async def _send_dtmf(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    try:
        digits = validate.dtmf_digits(call.data["digits"])
        duration_ms = validate.dtmf_duration_ms(call.data["duration_ms"])
    except InvalidArgumentError:
        raise _invalid("invalid_dtmf") from None
    modem = _connected_modem(entry)
    try:
        await modem.send_dtmf(digits, duration_ms)
    except CallStateError:
        raise _error("no_active_call") from None
    except Sim7600Error as err:
        raise _device_error(err) from err
    return None


async def _record(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    duration: float = call.data["duration"]
    if not 0 < duration <= 3600:  # also refuses NaN
        raise _invalid("invalid_duration")
    filename = call.data.get("filename") or dt_util.now().strftime("call-%Y%m%d-%H%M%S.wav")
    if not _FILENAME.fullmatch(filename) or ".." in filename:
        raise _invalid("invalid_filename")
    modem = _connected_modem(entry)
    # Fail closed before touching the file system.
    if modem.calls.state is not CallState.ACTIVE or not modem.audio.running:
        raise _error("audio_bridge_not_running")
    folder = recordings_dir(hass, entry)
    try:
        resolved = await hass.async_add_executor_job(prepare_folder, hass, folder)
    except OSError:
        raise _error("recording_failed") from None
    if resolved is None:
        raise _invalid("path_not_allowed")
    target = resolved / filename
    overwrite: bool = call.data["overwrite"]
    if not overwrite and await hass.async_add_executor_job(os.path.lexists, target):
        raise _invalid("file_exists")
    try:
        result = await modem.record(
            target,
            duration,
            stop_digits=DTMF_DIGITS if call.data["stop_on_dtmf"] else "",
            overwrite=overwrite,
            channels=call.data["channels"],
        )
    except AudioBusyError:
        raise _error("recording_in_progress") from None
    except FileExistsError:
        raise _invalid("file_exists") from None
    except OSError:
        raise _error("recording_failed") from None
    except Sim7600Error as err:
        raise _device_error(err) from err
    return {
        "path": str(result.path),
        "media_content_id": f"{MEDIA_SOURCE_PREFIX}{folder.name}/{filename}",
        "duration": result.duration,
        "ended_by": result.ended_by,
    }


def _playable_call(entry: CallstackConfigEntry, interrupt: bool) -> Modem:
    """The modem, if a call with running audio can take a playback now."""
    modem = _connected_modem(entry)
    if modem.calls.state is not CallState.ACTIVE or not modem.audio.running:
        raise _error("audio_bridge_not_running")
    if modem.audio.busy and not interrupt:
        raise _error("playback_in_progress")
    return modem


async def _prompt_source(
    hass: HomeAssistant, entry: CallstackConfigEntry, data: Mapping[str, Any]
) -> AudioSource:
    """What the ``message`` (with its TTS fields) or ``media`` of an action names, started
    for one playing (:func:`.media.async_audio_source`); raises the translated error when
    it cannot be played."""
    return await async_audio_source(
        hass,
        entry,
        media=data.get("media"),
        message=data.get("message"),
        tts_engine=data.get("tts_entity_id"),
        language=data.get("language"),
        options=data.get("options"),
    )


class _CallPrompt:
    """A prompt as the driver wants it: each call plays the message once.

    Audio sources are single-use, so each playing opens a fresh one. The first is opened
    at once: media that cannot be played is refused before anything is dialled or played,
    and :meth:`aclose` releases it if it never played (the call was not answered).
    """

    def __init__(
        self, hass: HomeAssistant, entry: CallstackConfigEntry, data: dict[str, Any]
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._data = data
        self._pending: AudioSource | None = None

    async def open(self) -> None:
        self._pending = await _prompt_source(self._hass, self._entry, self._data)

    async def __call__(self) -> None:
        source, self._pending = self._pending, None
        if source is None:
            source = await _prompt_source(self._hass, self._entry, self._data)
        await self._entry.runtime_data.modem.play(source)

    async def aclose(self) -> None:
        source, self._pending = self._pending, None
        if source is not None:
            await source.aclose()


@contextlib.asynccontextmanager
async def _prompt(
    hass: HomeAssistant, entry: CallstackConfigEntry, data: dict[str, Any]
) -> AsyncIterator[Prompt | None]:
    """The ``message`` or ``media`` of the call as a prompt (None when neither is given)."""
    given = {key: data[key] for key in ("message", "media") if data.get(key)}
    if len(given) > 1:
        raise _invalid("message_and_media")
    if not given:
        yield None
        return
    tts = {key: data[key] for key in _TTS_FIELDS if data.get(key)}
    prompt = _CallPrompt(hass, entry, given | tts)
    await prompt.open()
    try:
        yield prompt
    finally:
        await prompt.aclose()


async def _play(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    media: str = call.data.get("media") or call.data["file"]
    _playable_call(entry, call.data["interrupt"])
    source = await _prompt_source(hass, entry, {"media": media})
    return await _start_playback(hass, entry, call, source)


async def _say(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    _playable_call(entry, call.data["interrupt"])
    source = await _prompt_source(hass, entry, call.data)  # its message and TTS fields
    return await _start_playback(hass, entry, call, source)


async def _start_playback(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall, source: AudioSource
) -> ServiceResponse:
    """Play a started source: wait for the end, or start it in the background."""
    try:
        modem = _playable_call(entry, call.data["interrupt"])
    except HomeAssistantError:
        await source.aclose()
        raise
    play = modem.play(source, gain=call.data["volume"], replace=call.data["interrupt"])
    if call.data["wait"]:
        try:
            result = await play
        except AudioBusyError:
            raise _error("playback_in_progress") from None
        except MediaError as err:  # the media broke off midway (a failing TTS stream)
            raise _invalid("invalid_media", reason=err.reason) from None
        except Sim7600Error as err:
            raise _device_error(err) from err
        return {"duration": result.duration, "ended_by": result.ended_by}
    entry.async_create_background_task(hass, _play_quietly(play), "callstack playback")
    duration = round(source.duration, 3) if source.duration is not None else None
    return {"duration": duration, "ended_by": "started"}


async def _play_quietly(play: Awaitable[object]) -> None:
    """Play without a caller waiting; the outcome can only be logged."""
    try:
        await play
    except Sim7600Error as err:
        _LOGGER.warning("Playback into the call stopped: %s", type(err).__name__)


async def _stop_playback(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    _connected_modem(entry).stop_playback()
    return None


async def _send_sms(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    result = await async_send_sms(
        entry,
        call.data["number"],
        call.data["message"],
        delivery_report=call.data["request_delivery_report"],
    )
    references: list[JsonValueType] = list(result.references)
    return {"references": references, "parts": result.parts}


async def _send_ussd(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    try:
        code = validate.ussd_code(call.data["code"])
    except InvalidArgumentError:
        raise _invalid("invalid_ussd_code") from None
    timeout = call.data["timeout"]
    if not 5 <= timeout <= 180:
        raise _invalid("invalid_timeout", max="180")
    modem = _connected_modem(entry)
    try:
        result = await modem.send_ussd(code, timeout)
    except Sim7600Error as err:
        raise _device_error(err) from err
    return {"status": result.status, "message": result.message}


async def _cancel_ussd(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    await _connected_modem(entry).cancel_ussd()
    return None


ACTIONS: dict[str, _Action] = {
    "dial": _Action(_dial, SupportsResponse.OPTIONAL),
    "answer": _Action(_answer, SupportsResponse.NONE),
    "hang_up": _Action(_hang_up, SupportsResponse.NONE),
    "send_dtmf": _Action(_send_dtmf, SupportsResponse.NONE),
    "collect_dtmf": _Action(_collect_dtmf, SupportsResponse.ONLY),
    "record": _Action(_record, SupportsResponse.OPTIONAL),
    "play": _Action(_play, SupportsResponse.OPTIONAL),
    "say": _Action(_say, SupportsResponse.OPTIONAL),
    "stop_playback": _Action(_stop_playback, SupportsResponse.NONE),
    "send_sms": _Action(_send_sms, SupportsResponse.OPTIONAL),
    "send_ussd": _Action(_send_ussd, SupportsResponse.OPTIONAL),
    "cancel_ussd": _Action(_cancel_ussd, SupportsResponse.NONE),
    "mark_voicemail_heard": _Action(async_mark_voicemail_heard, SupportsResponse.OPTIONAL),
    "delete_voicemail": _Action(async_delete_voicemail, SupportsResponse.OPTIONAL),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every Callstack action."""
    for name, action in ACTIONS.items():

        async def handle(call: ServiceCall, action: _Action = action) -> ServiceResponse:
            entry = _resolve_entry(hass, call)
            response = await action.handler(hass, entry, call)
            return response if call.return_response else None

        hass.services.async_register(
            DOMAIN, name, handle, schema=SCHEMAS[name], supports_response=action.supports_response
        )
