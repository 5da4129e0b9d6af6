"""Logbook: every ``callstack_*`` bus event in words, so Activity reads like a phone's call log.

The words come from the event's own data, which the recorder already holds: a number shows
only where the event carries it (users who keep numbers off the bus see "a caller"). Message
and USSD texts and voicemail transcripts are left out unless the modem's "Message texts in the
logbook" option is on;
DTMF digits never appear (they can be a PIN). Entries carry the modem's ``device_id``, so
they show on the device page too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import (
    CONF_LOGBOOK_MESSAGE_TEXT,
    DOMAIN,
    EVENT_CALL,
    EVENT_DTMF,
    EVENT_SMS_DELIVERY,
    EVENT_SMS_RECEIVED,
    EVENT_USSD,
    EVENT_VOICEMAIL,
)

type Describe = Callable[[Event], dict[str, str]]

_CALL_REASONS = {
    "busy": "the line was busy",
    "no_answer": "nobody answered",
    "rejected": "it was rejected",
    "failed": "it could not be placed",
    "timeout": "nobody answered in time",
    "connection_lost": "the modem was lost",
}
_USSD_STATUSES = {
    "done": "USSD reply",
    "needs_reply": "USSD reply, waiting for an answer",
    "network_ended": "USSD session ended by the network",
    "unsupported": "USSD code not supported",
    "timeout": "USSD request timed out",
}


@callback
def async_describe_events(
    hass: HomeAssistant, async_describe_event: Callable[[str, str, Describe], None]
) -> None:
    """Describe Callstack's bus events for the logbook."""
    describers: dict[str, Callable[[HomeAssistant, Mapping[str, Any]], str]] = {
        EVENT_CALL: _call,
        EVENT_DTMF: _dtmf,
        EVENT_SMS_RECEIVED: _sms_received,
        EVENT_SMS_DELIVERY: _sms_delivery,
        EVENT_USSD: _ussd,
        EVENT_VOICEMAIL: _voicemail,
    }
    for event_type, message in describers.items():

        @callback
        def describe(
            event: Event, message: Callable[[HomeAssistant, Mapping[str, Any]], str] = message
        ) -> dict[str, str]:
            return {
                LOGBOOK_ENTRY_NAME: _modem_name(hass, event.data),
                LOGBOOK_ENTRY_MESSAGE: message(hass, event.data),
            }

        async_describe_event(DOMAIN, event_type, describe)


def _modem_name(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    entry = hass.config_entries.async_get_entry(str(data.get("config_entry_id")))
    return entry.title if entry is not None else "Callstack"


def _show_texts(hass: HomeAssistant, data: Mapping[str, Any]) -> bool:
    entry = hass.config_entries.async_get_entry(str(data.get("config_entry_id")))
    return bool(entry is not None and entry.options.get(CONF_LOGBOOK_MESSAGE_TEXT, False))


def _party(data: Mapping[str, Any], withheld: str, *, unnamed: str = "a caller") -> str:
    """The other party: its number, ``withheld`` when the network withheld it, or ``unnamed``
    when the user keeps numbers off the bus (the event has no ``number`` at all)."""
    if "number" not in data:
        return unnamed
    return str(data["number"]) if data["number"] else withheld


def duration_words(seconds: float) -> str:
    """``125`` → ``2 min 5 s``: how long a call or message lasted, as people say it."""
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _call(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    kind = data.get("type")
    outbound = data.get("direction") == "outbound"
    caller = _party(data, "a withheld number")
    match kind:
        case "incoming":
            return f"incoming call from {caller}"
        case "waiting":
            return f"call waiting from {caller}"
        case "missed":
            return f"missed call from {caller}"
        case "answered":
            if outbound:
                return f"{_party(data, 'the callee', unnamed='the callee')} answered"
            return f"answered the call from {caller}"
        case "ended":
            return _ended(data, outbound)
        case "assist_start":
            return "Assist is listening to the caller"
        case "assist_end":
            outcome = _ASSIST_OUTCOMES.get(str(data.get("outcome")), "ended")
            return f"Assist {outcome}"
    return f"call {kind}"


# How an Assist turn on a call ended (assist_satellite.py), in words.
_ASSIST_OUTCOMES = {
    "answered": "answered",
    "barge_in": "was interrupted by the caller",
    "silence": "heard nothing and hung up",
    "no_speech": "heard nothing yet and listens on",
    "agent": "finished the conversation",
    "error": "did not understand",
    "hang_up": "lost the caller: the call ended",
}


def _ended(data: Mapping[str, Any], outbound: bool) -> str:
    other = (
        _party(data, "the callee", unnamed="the callee")
        if outbound
        else _party(data, "a withheld number")
    )
    reason = data.get("reason")
    if reason in _CALL_REASONS:
        what = "call to" if outbound else "call from"
        return f"{what} {other} ended: {_CALL_REASONS[reason]}"
    duration = data.get("duration")
    after = f" after {duration_words(float(duration))}" if duration is not None else ""
    return f"call with {other} ended{after}"


def _dtmf(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    return "the caller pressed a key"  # never the digit: key presses can be a PIN


def _sms_received(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    message = f"SMS from {_party(data, 'an unknown sender', unnamed='a sender')}"
    if data.get("incomplete"):
        message += " (incomplete)"
    text = data.get("text")
    if text and _show_texts(hass, data):
        message += f": {text}"
    return message


def _sms_delivery(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    if data.get("delivered"):
        return "SMS delivered"
    return f"SMS not delivered (status {data.get('status')})"


def _ussd(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    message = _USSD_STATUSES.get(str(data.get("status")), "USSD reply")
    text = data.get("message")
    if text and _show_texts(hass, data):
        message += f": {text}"
    return message


def _voicemail(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    caller = _party(data, "a withheld number")
    if not data.get("kept"):
        return f"{caller} left no voicemail"
    message = f"voicemail from {caller} ({duration_words(float(data.get('duration') or 0))})"
    transcript = data.get("transcript")
    if transcript and _show_texts(hass, data):
        message += f": {transcript}"
    return message
