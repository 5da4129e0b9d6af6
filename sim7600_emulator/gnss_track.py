"""Where the emulated module is: a track sampled once per GNSS epoch (one second of track time).

A track is a list of positions, one per epoch (the last one holds), or a straight line at a
constant speed and course. Distances use a flat-earth step from the start point, which is
exact enough for the few kilometres a test drives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

EARTH_RADIUS_M = 6_371_000.0
KNOTS_PER_MPS = 3600.0 / 1852.0


@dataclass(frozen=True)
class GnssPosition:
    """A point: degrees (north and east positive) and metres above mean sea level."""

    latitude: float
    longitude: float
    altitude: float = 0.0


@dataclass(frozen=True)
class GnssSample:
    """The module's position at one epoch, with its speed over ground and course."""

    position: GnssPosition
    speed_knots: float
    course: float | None  # degrees true; None while standing still


class GnssTrack:
    """Positions at whole seconds of track time: `sample(epoch)`."""

    def __init__(
        self,
        points: Sequence[GnssPosition],
        *,
        speed_mps: float | None = None,
        course: float | None = None,
    ) -> None:
        if not points:
            raise ValueError("a track needs at least one position")
        for point in points:
            if not (-90.0 <= point.latitude <= 90.0 and -180.0 <= point.longitude <= 180.0):
                raise ValueError("latitude must be within ±90 and longitude within ±180")
        self.points = tuple(points)
        self._speed = speed_mps
        self._course = course

    @classmethod
    def fixed(cls, latitude: float, longitude: float, altitude: float = 0.0) -> GnssTrack:
        """Standing still at one place."""
        return cls([GnssPosition(latitude, longitude, altitude)])

    @classmethod
    def line(
        cls,
        start: GnssPosition,
        *,
        speed_kmh: float,
        course: float,
    ) -> GnssTrack:
        """From `start` in a straight line at `speed_kmh`, heading `course` degrees true."""
        if speed_kmh < 0 or not 0.0 <= course < 360.0:
            raise ValueError("speed must be >= 0 and course within [0, 360)")
        return cls([start], speed_mps=speed_kmh / 3.6, course=course)

    def sample(self, epoch: int) -> GnssSample:
        """The position `epoch` seconds after the track started."""
        if self._speed is not None and self._course is not None:
            return self._on_line(epoch, self._speed, self._course)
        index = min(epoch, len(self.points) - 1)
        here = self.points[index]
        if index == 0 or epoch >= len(self.points):
            return GnssSample(here, 0.0, None)
        before = self.points[index - 1]
        distance = _distance(before, here)
        if distance == 0.0:
            return GnssSample(here, 0.0, None)
        return GnssSample(here, distance * KNOTS_PER_MPS, _bearing(before, here))

    def _on_line(self, epoch: int, speed: float, course: float) -> GnssSample:
        start = self.points[0]
        travelled = speed * epoch
        heading = math.radians(course)
        north = travelled * math.cos(heading)
        east = travelled * math.sin(heading)
        latitude = start.latitude + math.degrees(north / EARTH_RADIUS_M)
        scale = math.cos(math.radians(start.latitude)) or 1e-9
        longitude = start.longitude + math.degrees(east / (EARTH_RADIUS_M * scale))
        longitude = (longitude + 180.0) % 360.0 - 180.0
        position = GnssPosition(max(-90.0, min(90.0, latitude)), longitude, start.altitude)
        return GnssSample(position, speed * KNOTS_PER_MPS, course if speed > 0 else None)


def _distance(a: GnssPosition, b: GnssPosition) -> float:
    """Metres between two nearby points (equirectangular)."""
    mean = math.radians((a.latitude + b.latitude) / 2)
    north = math.radians(b.latitude - a.latitude)
    east = math.radians(b.longitude - a.longitude) * math.cos(mean)
    return EARTH_RADIUS_M * math.hypot(north, east)


def _bearing(a: GnssPosition, b: GnssPosition) -> float:
    mean = math.radians((a.latitude + b.latitude) / 2)
    north = b.latitude - a.latitude
    east = (b.longitude - a.longitude) * math.cos(mean)
    return math.degrees(math.atan2(east, north)) % 360.0
