"""Where the modem is: a GPS device tracker fed by the modem's GNSS receiver.

Created only when the GNSS option is on and the modem has a receiver. It is unavailable
while there is no fix (indoors, in a tunnel, during a cold start); the recorder keeps the
positions it had, as it does for every tracker, and the driver keeps the last one known.
"""

from __future__ import annotations

from typing import Any

# The package root is where HA 2026 keeps these (config_entry only aliases them, deprecated);
# HA 2025.4 has them there too, imported from config_entry without an explicit re-export.
from homeassistant.components.device_tracker import (  # type: ignore[attr-defined, unused-ignore]
    TrackerEntity,
    TrackerEntityDescription,
)
from homeassistant.components.device_tracker.const import SourceType
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import GNSS_KEY_PREFIX, GNSS_METRES_PER_HDOP
from .coordinator import CallstackConfigEntry
from .entity import CallstackEntity
from .sim7600.model import GnssPosition

# Push updates: nothing to parallelise.
PARALLEL_UPDATES = 0

LOCATION = TrackerEntityDescription(key=f"{GNSS_KEY_PREFIX}location", translation_key="location")


def gnss_entities_wanted(entry: CallstackConfigEntry) -> bool:
    """Whether the modem follows its position (option on, receiver present at setup)."""
    return entry.runtime_data.gnss_entities


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the tracker when GNSS is on."""
    if gnss_entities_wanted(entry):
        async_add_entities([CallstackTracker(entry.runtime_data.coordinator, LOCATION)])


class CallstackTracker(CallstackEntity, TrackerEntity):
    """The modem's position: latitude, longitude, accuracy from HDOP, altitude, speed, course."""

    entity_description: TrackerEntityDescription

    @property
    def _position(self) -> GnssPosition | None:
        return self.coordinator.data.gnss.position

    @property
    def available(self) -> bool:
        """Available while the modem answers and has a fix."""
        return super().available and self._position is not None

    @property
    def source_type(self) -> SourceType:
        """A satellite fix."""
        return SourceType.GPS

    @property
    def latitude(self) -> float | None:
        """Degrees north."""
        position = self._position
        return position.latitude if position else None

    @property
    def longitude(self) -> float | None:
        """Degrees east."""
        position = self._position
        return position.longitude if position else None

    @property
    def location_accuracy(self) -> int:
        """Metres, estimated from the HDOP (0 when the modem does not tell it)."""
        position = self._position
        if position is None or position.hdop is None:
            return 0
        return round(position.hdop * GNSS_METRES_PER_HDOP)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Altitude (m), speed (km/h) and course (degrees), as mobile_app trackers name them."""
        position = self._position
        if position is None:
            return None
        return {
            "altitude": position.altitude,
            "speed": position.speed,
            "course": position.course,
        }
