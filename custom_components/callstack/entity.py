"""Base entity of the Callstack integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, PRIVATE_FIELDS
from .coordinator import CallstackCoordinator


class CallstackEntity(CoordinatorEntity[CallstackCoordinator]):
    """An entity of one modem; unavailable while the modem is unreachable.

    Private attributes (numbers, texts, DTMF digits) are for automations, never for the
    recorder's history: every entity excludes them, whatever it shows.
    """

    _attr_has_entity_name = True
    _unrecorded_attributes = PRIVATE_FIELDS

    def __init__(self, coordinator: CallstackCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})

    @property
    def available(self) -> bool:
        """Available while the modem answers."""
        return super().available and self.coordinator.data.connected
