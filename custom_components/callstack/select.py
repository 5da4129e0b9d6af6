"""The Assist satellite's settings as select entities: which assistant (pipeline) answers
calls, and how soon a pause ends what the caller says (HA's own select classes, as voip
and esphome use them; their state names are HA's, their texts in our translations)."""

from __future__ import annotations

from homeassistant.components.assist_pipeline.select import (
    AssistPipelineSelect,
    VadSensitivitySelect,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import CallstackConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the pipeline and VAD sensitivity selects of a modem with call audio."""
    if entry.runtime_data.modem.audio.url is None:
        return  # no call audio, no Assist satellite
    async_add_entities(
        [CallstackPipelineSelect(hass, entry), CallstackVadSensitivitySelect(hass, entry)]
    )


def satellite_select_prefix(entry: CallstackConfigEntry) -> str:
    """HA's selects name their unique IDs ``<prefix>-pipeline`` / ``-vad_sensitivity``."""
    return entry.entry_id


class CallstackPipelineSelect(AssistPipelineSelect):
    """The assistant that answers calls (Preferred: HA's preferred assistant)."""

    _attr_has_entity_name = True

    def __init__(self, hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
        super().__init__(hass, DOMAIN, satellite_select_prefix(entry))
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})


class CallstackVadSensitivitySelect(VadSensitivitySelect):
    """How long a pause ends the caller's request (0.7 s by default)."""

    _attr_has_entity_name = True

    def __init__(self, hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
        super().__init__(hass, satellite_select_prefix(entry))
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})
