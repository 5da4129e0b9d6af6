"""Push coordinator: maps driver events onto Home Assistant.

The driver pushes; nothing here polls. Every snapshot change becomes
``async_set_updated_data``; call and DTMF events are fired on the bus for automations
(the event entities listen to the driver themselves); repairs issues follow the modem's
condition and clear themselves when it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import logging
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BUS_EVENT_PRIVATE_DATA,
    DEFAULT_BUS_EVENT_PRIVATE_DATA,
    DOMAIN,
    EVENT_CALL,
    EVENT_DTMF,
    EVENT_SMS_DELIVERY,
    EVENT_SMS_RECEIVED,
    EVENT_USSD,
    PRIVATE_FIELDS,
)
from .message_log import LoggedMessage, MessageLog
from .sim7600.events import (
    CallEvent,
    ConnectionChanged,
    DtmfEvent,
    ModemEvent,
    SmsDeliveryReport,
    SmsReceived,
    UssdReceived,
)
from .sim7600.model import ModemSnapshot, SimStatus
from .sim7600.modem import Modem

if TYPE_CHECKING:
    from .voicemail import VoicemailBox

_LOGGER = logging.getLogger(__name__)

type CallstackConfigEntry = ConfigEntry[CallstackRuntime]


@dataclass(slots=True)
class CallstackRuntime:
    """What a loaded config entry holds."""

    modem: Modem
    coordinator: CallstackCoordinator
    voicemail: VoicemailBox
    messages: MessageLog = field(default_factory=MessageLog)
    # Decided once at setup, as the platforms are: the modem's own answer to AT+CGPS? can
    # change with a restart, but what was set up is what unloads.
    gnss_entities: bool = False
    assist: bool = False  # an Assist satellite (its platforms were set up)

    @property
    def device_id(self) -> str:
        """The modem's device in the device registry."""
        return self.coordinator.device_id


class CallstackCoordinator(DataUpdateCoordinator[ModemSnapshot]):
    """Hold the modem's latest snapshot and tell entities when it changes."""

    config_entry: CallstackConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: CallstackConfigEntry, modem: Modem, device_id: str
    ) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=DOMAIN, always_update=False)
        self.modem = modem
        self.device_id = device_id
        self._refresh_scheduled = False
        self.data = modem.snapshot
        self._was_connected = self.data.connected
        self._assist_listeners: list[Callable[[str, dict[str, object]], None]] = []

    async def _async_update_data(self) -> ModemSnapshot:
        """The snapshot is always current: the driver keeps it so from URCs."""
        return self.modem.snapshot

    @callback
    def async_start(self) -> None:
        """Follow the modem's events until the entry unloads."""
        self.config_entry.async_on_unload(self.modem.subscribe(self._on_event))
        self._update_issues(self.data)

    @callback
    def _on_event(self, event: ModemEvent) -> None:
        match event:
            case CallEvent():
                self._fire(
                    EVENT_CALL,
                    {
                        "type": event.kind,
                        "direction": event.direction,
                        "number": event.number,
                        "duration": event.duration,
                        "reason": event.reason,
                    },
                )
            case DtmfEvent(digit=digit):
                self._fire(EVENT_DTMF, {"digit": digit})
            case SmsReceived(message=message):
                self._fire(EVENT_SMS_RECEIVED, sms_event_data(event))
                self.config_entry.runtime_data.messages.add(
                    LoggedMessage(
                        "in",
                        message.sender,
                        message.text,
                        message.timestamp or dt_util.utcnow(),
                        message.incomplete,
                    )
                )
            case SmsDeliveryReport():
                self._fire(
                    EVENT_SMS_DELIVERY,
                    {
                        "reference": event.reference,
                        "delivered": event.delivered,
                        "status": event.status,
                    },
                )
            case UssdReceived():
                self._fire(EVENT_USSD, {"status": event.status, "message": event.message})
            case ConnectionChanged(connected=connected):
                self._log_connection(connected)
        if not self._refresh_scheduled:
            # One entity refresh per loop iteration, after the events: a RING and its
            # +CLIP arrive in one read, and the automation should not wait for 13 entity
            # writes in between.
            self._refresh_scheduled = True
            self.hass.loop.call_soon(self._refresh)

    @callback
    def _refresh(self) -> None:
        self._refresh_scheduled = False
        snapshot = self.modem.snapshot
        if snapshot != self.data:
            self.async_set_updated_data(snapshot)
            self._update_issues(snapshot)

    @callback
    def async_assist_event(self, kind: str, data: dict[str, object]) -> None:
        """A turn of an Assist conversation on a call started or ended (``assist_start``,
        ``assist_end``, with the pipeline run id): a ``callstack_call`` bus event of that
        type, and an event of the call event entity. Nothing private is in ``data``."""
        self._fire(EVENT_CALL, {"type": kind, **data})
        for listener in list(self._assist_listeners):
            listener(kind, data)

    @callback
    def async_listen_assist(
        self, listener: Callable[[str, dict[str, object]], None]
    ) -> Callable[[], None]:
        """Call ``listener`` with every Assist event; returns the unsubscribe function."""
        self._assist_listeners.append(listener)
        return lambda: self._assist_listeners.remove(listener)

    def fire(self, event_type: str, data: dict[str, object]) -> None:
        """Fire one of Callstack's bus events from outside the driver's stream (voicemail)."""
        self._fire(event_type, data)

    def _fire(self, event_type: str, data: dict[str, object]) -> None:
        """Fire a bus event; without its private fields when the user chose so (the
        recorder stores bus events as they are, the event entities' attributes not)."""
        if not self.config_entry.options.get(
            CONF_BUS_EVENT_PRIVATE_DATA, DEFAULT_BUS_EVENT_PRIVATE_DATA
        ):
            data = {key: value for key, value in data.items() if key not in PRIVATE_FIELDS}
        self.hass.bus.async_fire(
            event_type,
            {"config_entry_id": self.config_entry.entry_id, "device_id": self.device_id, **data},
        )

    def _log_connection(self, connected: bool) -> None:
        """Log a lost or regained modem once per change, not per entity or retry."""
        if connected and not self._was_connected:
            _LOGGER.info("The modem is back")
        elif not connected and self._was_connected:
            _LOGGER.info("The modem is unavailable; entities are unavailable until it returns")
        self._was_connected = connected

    def _update_issues(self, snapshot: ModemSnapshot) -> None:
        entry = self.config_entry
        _set_issue(
            self.hass,
            f"audio_port_unavailable_{entry.entry_id}",
            snapshot.bridge_error in ("port_unavailable", "port_lost"),
            "audio_port_unavailable",
            entry.title,
        )
        _set_issue(
            self.hass,
            f"sim_puk_required_{entry.entry_id}",
            snapshot.sim is SimStatus.PUK_REQUIRED,
            "sim_puk_required",
            entry.title,
        )
        _set_issue(
            self.hass,
            f"network_stuck_{entry.entry_id}",
            snapshot.network_stuck,
            "network_stuck",
            entry.title,
        )
        _set_issue(
            self.hass,
            f"sms_storage_full_{entry.entry_id}",
            snapshot.sms_storage_full,
            "sms_storage_full",
            entry.title,
        )
        _set_issue(
            self.hass,
            f"sim_not_inserted_{entry.entry_id}",
            snapshot.connected and snapshot.sim is SimStatus.NOT_INSERTED,
            "sim_not_inserted",
            entry.title,
        )


ISSUES = (
    "audio_port_unavailable",
    "network_stuck",
    "sim_puk_required",
    "sim_not_inserted",
    "sms_storage_full",
)


def sms_event_data(event: SmsReceived) -> dict[str, object]:
    """What automations get for a received SMS (the bus event and the event entity)."""
    message = event.message
    return {
        "number": message.sender,
        "text": message.text,
        "timestamp": message.timestamp.isoformat() if message.timestamp else None,
        "parts": message.parts,
        "incomplete": message.incomplete,
    }


def _set_issue(hass: HomeAssistant, issue_id: str, active: bool, key: str, title: str) -> None:
    """Create or delete a repairs issue so it always matches the modem's condition."""
    if active:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={"title": title},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def async_set_puk_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Raise the "SIM needs its PUK" issue for a modem that cannot be set up because of it."""
    _set_issue(hass, f"sim_puk_required_{entry.entry_id}", True, "sim_puk_required", entry.title)


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the entry's repairs issues (when it is removed)."""
    for key in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, f"{key}_{entry_id}")
