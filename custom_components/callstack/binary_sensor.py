"""Binary sensors: the audio bridge and the modem connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# HA >= 2026.10 defines the device classes in binary_sensor.const and re-exports them implicitly
# (mypy: attr-defined); older HA has no const module, so there is one import for both.
from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CallstackConfigEntry
from .entity import CallstackEntity
from .sim7600.model import BridgeState, ModemSnapshot

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CallstackBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor and how to read it from the snapshot."""

    is_on_fn: Callable[[ModemSnapshot], bool]
    attributes_fn: Callable[[ModemSnapshot], dict[str, str]] | None = None
    always_available: bool = False


BINARY_SENSORS: tuple[CallstackBinarySensorEntityDescription, ...] = (
    CallstackBinarySensorEntityDescription(
        key="audio_bridge",
        translation_key="audio_bridge",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda snapshot: snapshot.bridge is BridgeState.RUNNING,
        # Fixed codes only: why the bridge is off, never anything about the call. No
        # error is no attribute (a None one reads "Error: Unknown" in the UI).
        attributes_fn=lambda snapshot: (
            {"state": snapshot.bridge.value}
            | ({"error": snapshot.bridge_error} if snapshot.bridge_error else {})
        ),
    ),
    CallstackBinarySensorEntityDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda snapshot: snapshot.connected,
        always_available=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the modem's binary sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        CallstackBinarySensor(coordinator, description) for description in BINARY_SENSORS
    )


class CallstackBinarySensor(CallstackEntity, BinarySensorEntity):
    """A binary sensor showing one condition of the modem."""

    entity_description: CallstackBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """The connectivity sensor must stay available to say the modem is gone."""
        if self.entity_description.always_available:
            return self.coordinator.last_update_success
        return super().available

    @property
    def is_on(self) -> bool:
        """Whether the condition holds."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, str] | None:
        """Extra detail where the description defines some."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)
