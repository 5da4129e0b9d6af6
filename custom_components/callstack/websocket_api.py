"""Websocket commands of the phone card.

``callstack/phone/subscribe`` pushes one modem's phone state to the card whenever it changes:
the call (state, direction, number, since when), signal and operator, the last SMS, and the
newest voicemail messages when voicemail is on. The card could read some of this from entity
states, but the caller's number, message texts and transcripts are attributes the recorder
must not store (and the SMS and voicemail lists are not entities at all), so they reach the
card this way, over the user's authenticated websocket, and nowhere else. A voicemail entry
carries its ``media_content_id``: the card plays it by resolving that through HA's own
``media_source/resolve_media`` (a signed URL; resolving marks the message heard, as playing
it in the media browser does).

The subscription follows the config entry through reloads: it reports ``loaded: false``
while the modem's entry is not loaded and picks the modem up again when it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import CONF_VOICEMAIL_ENABLED, DOMAIN
from .coordinator import CallstackConfigEntry
from .sim7600.model import CallInfo
from .voicemail import media_content_id
from .voicemail_store import VoicemailMessage

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
# The newest voicemail messages the card lists (the media browser has all of them).
VOICEMAIL_SHOWN = 5


@callback
def async_setup(hass: HomeAssistant) -> None:
    """Register the card's commands (once, with the actions)."""
    async_register_command(hass, ws_subscribe_phone)


@websocket_command(
    {
        vol.Required("type"): "callstack/phone/subscribe",
        vol.Optional(ATTR_CONFIG_ENTRY_ID): str,
    }
)
@callback
def ws_subscribe_phone(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Subscribe to one modem's phone state (the only one when none is named)."""
    entry = _entry(hass, msg.get(ATTR_CONFIG_ENTRY_ID))
    if entry is None:
        connection.send_error(
            msg["id"],
            ERR_NOT_FOUND,
            "No Callstack modem with that config entry ID exists",
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
        )
        return
    subscription = _PhoneSubscription(hass, connection, msg["id"], entry.entry_id)
    connection.subscriptions[msg["id"]] = subscription.close
    connection.send_result(msg["id"])
    subscription.start()


def _entry(hass: HomeAssistant, entry_id: str | None) -> ConfigEntry | None:
    entries = hass.config_entries.async_entries(DOMAIN)
    if entry_id is None:
        loaded = [entry for entry in entries if entry.state is ConfigEntryState.LOADED]
        return next(iter(loaded or entries), None)
    return next((entry for entry in entries if entry.entry_id == entry_id), None)


class _PhoneSubscription:
    """One card's view of one modem, pushed on every change."""

    def __init__(
        self,
        hass: HomeAssistant,
        connection: ActiveConnection,
        msg_id: int,
        entry_id: str,
    ) -> None:
        self._hass = hass
        self._connection = connection
        self._msg_id = msg_id
        self._entry_id = entry_id
        self._unsubscribe_entry: Callable[[], None] | None = None
        self._unsubscribe_runtime: list[Callable[[], None]] = []

    def start(self) -> None:
        self._unsubscribe_entry = async_dispatcher_connect(
            self._hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._on_entry_changed
        )
        self._attach()

    @callback
    def close(self) -> None:
        self._detach()
        if self._unsubscribe_entry is not None:
            self._unsubscribe_entry()
            self._unsubscribe_entry = None

    @callback
    def _on_entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry) -> None:
        if entry.entry_id != self._entry_id:
            return
        if change is ConfigEntryChange.REMOVED:
            self._detach()
            self._push()
        elif (entry.state is ConfigEntryState.LOADED) != bool(self._unsubscribe_runtime):
            self._detach()
            self._attach()

    def _loaded_entry(self) -> CallstackConfigEntry | None:
        entry = self._hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry

    def _attach(self) -> None:
        if (entry := self._loaded_entry()) is not None:
            runtime = entry.runtime_data
            self._unsubscribe_runtime = [
                runtime.coordinator.async_add_listener(self._push),
                runtime.messages.listen(self._push),
                runtime.voicemail.store.async_add_listener(self._push),
            ]
        self._push()

    def _detach(self) -> None:
        for unsubscribe in self._unsubscribe_runtime:
            unsubscribe()
        self._unsubscribe_runtime = []

    @callback
    def _push(self) -> None:
        self._connection.send_message(
            event_message(self._msg_id, phone_state(self._hass, self._entry_id))
        )


def _other_call(call: CallInfo | None) -> dict[str, Any] | None:
    """A second call beside the one in front (waiting or on hold)."""
    return None if call is None else {"number": call.number, "direction": call.direction}


def _voicemail(entry: CallstackConfigEntry) -> dict[str, Any] | None:
    """The newest messages and the count of new ones; None while voicemail is off."""
    if not entry.options.get(CONF_VOICEMAIL_ENABLED):
        return None
    store = entry.runtime_data.voicemail.store
    messages = store.messages
    return {
        "new": store.unheard,
        "total": len(messages),
        "messages": [_voicemail_message(entry, m) for m in messages[:VOICEMAIL_SHOWN]],
    }


def _voicemail_message(entry: CallstackConfigEntry, message: VoicemailMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "media_content_id": media_content_id(entry.entry_id, message.id),
        "number": message.number,
        "received": message.received.isoformat(),
        "duration": message.duration,
        "transcript": message.transcript,
        "heard": message.heard,
    }


def phone_state(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """What the card shows for a modem, as JSON."""
    entry = hass.config_entries.async_get_entry(entry_id)
    state: dict[str, Any] = {
        "config_entry_id": entry_id,
        "title": entry.title if entry is not None else None,
        "loaded": False,
    }
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        return state
    runtime = entry.runtime_data
    snapshot = runtime.coordinator.data
    call = snapshot.call
    since = None
    if call is not None and call.started is not None:
        since = dt_util.utcnow() - timedelta(seconds=max(0.0, hass.loop.time() - call.started))
    state.update(
        loaded=True,
        connected=snapshot.connected,
        call={
            "state": snapshot.call_state.value,
            "direction": call.direction if call else None,
            "number": call.number if call else None,
            "since": since.isoformat() if since else None,
            "waiting": _other_call(snapshot.waiting_call),
            "held": _other_call(snapshot.held_call),
        },
        signal_dbm=snapshot.signal_dbm,
        operator=snapshot.operator,
        technology=snapshot.technology,
        messages=[message.as_dict() for message in runtime.messages.messages],
        voicemail=_voicemail(entry),
    )
    return state
