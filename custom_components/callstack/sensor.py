"""Sensors: call state, last caller, signal, network and SIM health, GNSS fix and satellites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import SIGNAL_STRENGTH_DECIBELS_MILLIWATT, EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CallstackConfigEntry, CallstackCoordinator
from .device_tracker import gnss_entities_wanted
from .entity import CallstackEntity
from .sim7600.events import CallEvent, ModemEvent
from .sim7600.model import CallState, FixType, ModemSnapshot, RegistrationStatus, SimStatus
from .voicemail import VoicemailBox

# Push updates: nothing to parallelise.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CallstackSensorEntityDescription(SensorEntityDescription):
    """A sensor and how to read it from the snapshot."""

    value_fn: Callable[[ModemSnapshot], str | int | float | datetime | None]
    attributes_fn: Callable[[ModemSnapshot], dict[str, Any]] | None = None


SENSORS: tuple[CallstackSensorEntityDescription, ...] = (
    CallstackSensorEntityDescription(
        key="call_state",
        translation_key="call_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in CallState],
        value_fn=lambda snapshot: snapshot.call_state.value,
        # The state is the call in the foreground; these say what else is on the line.
        attributes_fn=lambda snapshot: {
            "waiting": snapshot.waiting_call is not None,
            "on_hold": snapshot.held_call is not None,
        },
    ),
    CallstackSensorEntityDescription(
        key="last_sms_received",
        translation_key="last_sms_received",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda snapshot: snapshot.last_sms_received,
    ),
    CallstackSensorEntityDescription(
        key="signal_strength",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.signal_dbm,
    ),
    CallstackSensorEntityDescription(
        key="signal_quality",
        translation_key="signal_quality",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.ber,
    ),
    CallstackSensorEntityDescription(
        key="network_operator",
        translation_key="network_operator",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.operator,
    ),
    CallstackSensorEntityDescription(
        key="network_registration",
        translation_key="network_registration",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in RegistrationStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.registration.value,
    ),
    CallstackSensorEntityDescription(
        key="network_technology",
        translation_key="network_technology",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.technology,
    ),
    CallstackSensorEntityDescription(
        key="sim_status",
        translation_key="sim_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in SimStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.sim.value if snapshot.sim else None,
    ),
)


GNSS_SENSORS: tuple[CallstackSensorEntityDescription, ...] = (
    CallstackSensorEntityDescription(
        key="gnss_fix",
        translation_key="gnss_fix",
        device_class=SensorDeviceClass.ENUM,
        options=[fix.value for fix in FixType],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.gnss.fix.value,
    ),
    CallstackSensorEntityDescription(
        key="gnss_satellites_in_use",
        translation_key="gnss_satellites_in_use",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.gnss.satellites_in_use,
    ),
    CallstackSensorEntityDescription(
        key="gnss_satellites_in_view",
        translation_key="gnss_satellites_in_view",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.gnss.satellites_in_view,
    ),
    CallstackSensorEntityDescription(
        key="gnss_hdop",
        translation_key="gnss_hdop",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.gnss.hdop,
    ),
)
"""Shown only when the GNSS option is on and the modem has a receiver."""

# Its state is a phone number, and a state cannot be kept out of the recorder the way an
# attribute can: so it is off until the user turns it on (README, "Privacy").
LAST_CALLER = SensorEntityDescription(
    key="last_caller",
    translation_key="last_caller",
    entity_registry_enabled_default=False,
)

NEW_VOICEMAIL = SensorEntityDescription(
    key="new_voicemail",
    translation_key="new_voicemail",
    state_class=SensorStateClass.MEASUREMENT,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the modem's sensors."""
    coordinator = entry.runtime_data.coordinator
    descriptions = SENSORS + (GNSS_SENSORS if gnss_entities_wanted(entry) else ())
    async_add_entities(
        [
            *(CallstackSensor(coordinator, description) for description in descriptions),
            CallstackLastCallerSensor(coordinator),
            CallstackNewVoicemailSensor(coordinator, NEW_VOICEMAIL),
        ]
    )


class CallstackSensor(CallstackEntity, SensorEntity):
    """A sensor showing one field of the modem snapshot."""

    entity_description: CallstackSensorEntityDescription

    @property
    def native_value(self) -> str | int | float | datetime | None:
        """The field's current value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What the description adds beside the value (the call state: waiting, on hold)."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)


class CallstackLastCallerSensor(CallstackEntity, RestoreSensor):
    """The number of the last incoming or waiting call (answered or not); unknown when
    withheld.

    Fed by the driver's call events, like the event entities, and restored at start.
    """

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, LAST_CALLER)

    async def async_added_to_hass(self) -> None:
        """Restore the last number, then follow incoming calls."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None:
            self._attr_native_value = last.native_value
        self.async_on_remove(self.coordinator.modem.subscribe(self._on_modem_event))

    @callback
    def _on_modem_event(self, event: ModemEvent) -> None:
        if not isinstance(event, CallEvent) or event.direction != "inbound":
            return
        # A missed call that was never announced (RINGs lost) still names its caller.
        if event.kind in ("incoming", "waiting") or (event.kind == "missed" and event.number):
            self._attr_native_value = event.number
            self.async_write_ha_state()


class CallstackNewVoicemailSensor(CallstackEntity, SensorEntity):
    """How many voicemails nobody has heard yet (``total``: how many are stored).

    The messages are on disk, not in the modem, so the count stays available while the
    modem is away.
    """

    async def async_added_to_hass(self) -> None:
        """Follow the voicemail box."""
        await super().async_added_to_hass()
        self.async_on_remove(self._box.store.async_add_listener(self.async_write_ha_state))

    @property
    def _box(self) -> VoicemailBox:
        return self.coordinator.config_entry.runtime_data.voicemail

    @property
    def available(self) -> bool:
        """Always: the count does not depend on the modem."""
        return True

    @property
    def native_value(self) -> int:
        """Unheard messages."""
        return self._box.store.unheard

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """All stored messages."""
        return {"total": len(self._box.store.messages)}
