"""Event entities: calls (incoming, waiting, answered, ended, missed), DTMF digits and SMS
received."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CallstackConfigEntry, CallstackCoordinator, sms_event_data
from .entity import CallstackEntity
from .sim7600.events import CallEvent, DtmfEvent, ModemEvent, SmsReceived

PARALLEL_UPDATES = 0

CALL_EVENT = EventEntityDescription(
    key="call",
    translation_key="call",
    event_types=[
        "incoming",
        "waiting",
        "answered",
        "ended",
        "missed",
        "assist_start",
        "assist_end",
        "voicemail",
    ],
)
SMS_EVENT = EventEntityDescription(
    key="sms",
    translation_key="sms",
    event_types=["received"],
)
DTMF_EVENT = EventEntityDescription(
    key="dtmf",
    translation_key="dtmf",
    event_types=["received"],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call, DTMF and SMS event entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            CallstackCallEvent(coordinator),
            CallstackDtmfEvent(coordinator),
            CallstackSmsEvent(coordinator),
        ]
    )


class CallstackDriverEvent(CallstackEntity, EventEntity):
    """An event entity fed straight from the driver's event stream (its private
    attributes stay out of the recorder, see :class:`CallstackEntity`)."""

    async def async_added_to_hass(self) -> None:
        """Subscribe to the driver; unsubscribe when removed."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.modem.subscribe(self._on_modem_event))

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        raise NotImplementedError


class CallstackCallEvent(CallstackDriverEvent):
    """Fires on every call transition, with the caller's number, for each turn of an
    Assist conversation on the call (with its pipeline run id), and when a caller left
    (or did not leave) a voicemail."""

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, CALL_EVENT)

    async def async_added_to_hass(self) -> None:
        """Also follow the Assist conversations of the modem's satellite and the
        voicemail box."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_listen_assist(self._on_assist_event))
        voicemail = self.coordinator.config_entry.runtime_data.voicemail
        self.async_on_remove(voicemail.async_add_event_listener(self._on_voicemail))

    @callback
    def _on_assist_event(self, kind: str, data: dict[str, object]) -> None:
        self._trigger_event(kind, data)
        self.async_write_ha_state()

    @callback
    def _on_voicemail(self, data: dict[str, Any]) -> None:
        self._trigger_event("voicemail", data)
        self.async_write_ha_state()

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        if isinstance(event, CallEvent):
            self._trigger_event(
                event.kind,
                {
                    "number": event.number,
                    "direction": event.direction,
                    "duration": event.duration,
                    "reason": event.reason,
                },
            )
            self.async_write_ha_state()


class CallstackDtmfEvent(CallstackDriverEvent):
    """Fires for each DTMF digit the far end presses."""

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, DTMF_EVENT)

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        if isinstance(event, DtmfEvent):
            self._trigger_event("received", {"digit": event.digit})
            self.async_write_ha_state()


class CallstackSmsEvent(CallstackDriverEvent):
    """Fires once per received SMS, multipart messages joined."""

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, SMS_EVENT)

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        if isinstance(event, SmsReceived):
            self._trigger_event("received", sms_event_data(event))
            self.async_write_ha_state()
