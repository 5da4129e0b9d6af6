"""Snapshots that read the same on every supported Home Assistant (2025.4.4 and 2026.x).

HA's own serializer writes registry entries with every attribute the running HA has, and those
drift: from 2026.x entity entries gain `object_id_base`, `suggested_object_id` (and `compat_name`
in 2026.11), `aliases` becomes an ordered list that holds a marker for the entity's own name,
device entries trade `config_entries`/`primary_config_entry`/`suggested_area`/`is_new` for
`config_entry_id` and composite-device bookkeeping, and the keys of state attributes and of
entity capabilities become StrEnum members (`EntityStateAttribute.FRIENDLY_NAME`). One snapshot
file serves both versions by keeping only what describes our entities and device the same way
on both: the attributes below, which every supported HA has, the aliases a user or we gave (HA's
own name marker dropped), and those keys as the plain strings they equal.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util.read_only_dict import ReadOnlyDict
from pytest_homeassistant_custom_component.syrupy import (
    DeviceRegistryEntrySnapshot,
    EntityRegistryEntrySnapshot,
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)

ENTITY_FIELDS = (
    "aliases",
    "area_id",
    "capabilities",
    "config_entry_id",
    "config_subentry_id",
    "device_class",
    "device_id",
    "disabled_by",
    "domain",
    "entity_category",
    "entity_id",
    "has_entity_name",
    "hidden_by",
    "icon",
    "id",
    "labels",
    "name",
    "options",
    "original_device_class",
    "original_icon",
    "original_name",
    "platform",
    "previous_unique_id",
    "supported_features",
    "translation_key",
    "unique_id",
    "unit_of_measurement",
)
DEVICE_FIELDS = (
    "area_id",
    "configuration_url",
    "connections",
    "disabled_by",
    "entry_type",
    "hw_version",
    "id",
    "identifiers",
    "labels",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "name_by_user",
    "serial_number",
    "sw_version",
    "via_device_id",
)


class VersionNeutralSerializer(HomeAssistantSnapshotSerializer):
    """HA's serializer, with registry entries reduced to the attributes of every supported HA."""

    @classmethod
    def _serializable_entity_registry_entry(cls, data: er.RegistryEntry) -> Any:
        full = super()._serializable_entity_registry_entry(data)
        kept = EntityRegistryEntrySnapshot({field: full[field] for field in ENTITY_FIELDS})
        kept["aliases"] = {alias for alias in data.aliases if isinstance(alias, str)}
        if data.capabilities is not None:
            kept["capabilities"] = {str(key): value for key, value in data.capabilities.items()}
        return kept

    @classmethod
    def _serializable_device_registry_entry(cls, data: dr.DeviceEntry) -> Any:
        full = super()._serializable_device_registry_entry(data)
        return DeviceRegistryEntrySnapshot({field: full[field] for field in DEVICE_FIELDS})

    @classmethod
    def _serializable_state(cls, data: State) -> Any:
        full = super()._serializable_state(data)
        full["attributes"] = ReadOnlyDict(
            {str(key): value for key, value in data.attributes.items()}
        )
        return full


class VersionNeutralSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot extension with the version-neutral serializer."""

    serializer_class = VersionNeutralSerializer
