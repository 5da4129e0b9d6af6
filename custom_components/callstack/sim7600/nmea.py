"""A strict NMEA 0183 parser for the four sentences a position needs: GGA, RMC, GSA, GSV.

The SIM7600 prints NMEA on its NMEA port (USB interface 01) once a second while GNSS is on.
Every sentence must carry a valid checksum; one that does not, or whose fields do not parse,
raises :class:`NmeaError` so the caller can count it and go on. Any talker is accepted
(``GP`` GPS, ``GN`` combined, ``GL``, ``GA``, ``BD``/``GB``, ``GQ``), and trailing fields of
newer NMEA versions (4.10 signal IDs) are ignored. Other sentence types (VTG, GLL, TXT, ...)
give ``None``.

A small parser of our own rather than pynmea2: it is typed (mypy strict), never returns
a half-parsed sentence, and its last release dates from January 2023.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
import math
import re

MAX_SENTENCE = 256
"""Longer than any valid sentence (82 characters by the standard; vendors exceed it a bit)."""

_SENTENCE = re.compile(r"\$([A-Z]{2})([A-Z]{3}),([\x20-\x7e]*)\*([0-9A-Fa-f]{2})")
_COORDINATE = re.compile(r"(\d{2,3})(\d{2}(?:\.\d+)?)")
_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?")
_DATE = re.compile(r"(\d{2})(\d{2})(\d{2})")
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?")


class NmeaError(ValueError):
    """A sentence with a bad checksum or fields that do not parse (the text is not kept)."""


@dataclass(frozen=True, slots=True)
class Gga:
    """Fix data: ``quality`` 0 means no fix (and no position)."""

    talker: str
    time: time | None
    latitude: float | None
    longitude: float | None
    quality: int
    satellites: int | None
    hdop: float | None
    altitude: float | None


@dataclass(frozen=True, slots=True)
class Rmc:
    """Recommended minimum: position, speed over ground (knots), course, date."""

    talker: str
    time: time | None
    valid: bool
    latitude: float | None
    longitude: float | None
    speed_knots: float | None
    course: float | None
    date: date | None

    @property
    def timestamp(self) -> datetime | None:
        """Date and time of the fix in UTC, when both are given."""
        if self.time is None or self.date is None:
            return None
        return datetime.combine(self.date, self.time, UTC)


@dataclass(frozen=True, slots=True)
class Gsa:
    """DOP and active satellites: ``mode`` 1 no fix, 2 2D, 3 3D."""

    talker: str
    mode: int
    satellites: tuple[int, ...]
    pdop: float | None
    hdop: float | None
    vdop: float | None


@dataclass(frozen=True, slots=True)
class Gsv:
    """Satellites in view: sentence ``number`` of ``total``, ``in_view`` in all."""

    talker: str
    total: int
    number: int
    in_view: int


type Sentence = Gga | Rmc | Gsa | Gsv


def checksum(body: str) -> int:
    """XOR of the characters between ``$`` and ``*``."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return value


def parse_sentence(line: str) -> Sentence | None:
    """Parse one sentence (``$GPGGA,...*hh``, line ending optional).

    Returns ``None`` for a valid sentence of another type; raises :class:`NmeaError` for a
    line that is not a well-formed sentence with a correct checksum.
    """
    line = line.strip()
    if len(line) > MAX_SENTENCE:
        raise NmeaError("sentence too long")
    match = _SENTENCE.fullmatch(line)
    if match is None:
        raise NmeaError("not an NMEA sentence")
    talker, kind, data, given = match.groups()
    if checksum(f"{talker}{kind},{data}") != int(given, 16):
        raise NmeaError("bad checksum")
    fields = data.split(",")
    parser = _PARSERS.get(kind)
    if parser is None:
        return None
    try:
        return parser(talker, fields)
    except (IndexError, ValueError) as err:
        raise NmeaError(f"malformed {kind}") from err


def _gga(talker: str, f: list[str]) -> Gga:
    quality = _int(f[5]) or 0
    latitude, longitude = _position(f[1], f[2], f[3], f[4])
    if quality and (latitude is None or longitude is None):
        raise ValueError("a fix without a position")
    altitude = parse_number(f[8])
    if altitude is not None and f[9] not in ("M", ""):
        raise ValueError("altitude not in metres")
    return Gga(
        talker=talker,
        time=parse_time(f[0]),
        latitude=latitude if quality else None,
        longitude=longitude if quality else None,
        quality=quality,
        satellites=_int(f[6]),
        hdop=parse_non_negative(f[7]),
        altitude=altitude if quality else None,
    )


def _rmc(talker: str, f: list[str]) -> Rmc:
    if f[1] not in ("A", "V"):
        raise ValueError("status")
    valid = f[1] == "A"
    latitude, longitude = _position(f[2], f[3], f[4], f[5])
    if valid and (latitude is None or longitude is None):
        raise ValueError("a valid fix without a position")
    course = parse_non_negative(f[7])
    if course is not None and course >= 360.0:
        raise ValueError("course")
    return Rmc(
        talker=talker,
        time=parse_time(f[0]),
        valid=valid,
        latitude=latitude if valid else None,
        longitude=longitude if valid else None,
        speed_knots=parse_non_negative(f[6]) if valid else None,
        course=course if valid else None,
        date=parse_date(f[8]),
    )


def _gsa(talker: str, f: list[str]) -> Gsa:
    if len(f) < 17:
        raise ValueError("short GSA")
    mode = _int(f[1])
    if mode not in (1, 2, 3):
        raise ValueError("mode")
    satellites = tuple(number for field in f[2:14] if (number := _int(field)) is not None)
    return Gsa(
        talker=talker,
        mode=mode,
        satellites=satellites,
        pdop=parse_non_negative(f[14]),
        hdop=parse_non_negative(f[15]),
        vdop=parse_non_negative(f[16]),
    )


def _gsv(talker: str, f: list[str]) -> Gsv:
    total, number, in_view = _int(f[0]), _int(f[1]), _int(f[2])
    if total is None or number is None or in_view is None or not 1 <= number <= total:
        raise ValueError("GSV counters")
    return Gsv(talker=talker, total=total, number=number, in_view=in_view)


_PARSERS: dict[str, Callable[[str, list[str]], Sentence]] = {
    "GGA": _gga,
    "RMC": _rmc,
    "GSA": _gsa,
    "GSV": _gsv,
}


def parse_coordinate(value: str, hemisphere: str) -> float | None:
    """``ddmm.mmmm`` (latitude, N/S) or ``dddmm.mmmm`` (longitude, E/W) to signed degrees.

    Also used for ``+CGPSINFO``, which prints coordinates the same way. Empty gives None;
    anything else that is not a coordinate within range raises ``ValueError``.
    """
    if not value and not hemisphere:
        return None
    latitude = hemisphere in ("N", "S")
    if not latitude and hemisphere not in ("E", "W"):
        raise ValueError("hemisphere")
    match = _COORDINATE.fullmatch(value)
    if match is None or len(match.group(1)) != (2 if latitude else 3):
        raise ValueError("coordinate")
    minutes = float(match.group(2))
    if minutes >= 60.0:
        raise ValueError("minutes")
    degrees = int(match.group(1)) + minutes / 60.0
    if degrees > (90.0 if latitude else 180.0):
        raise ValueError("out of range")
    return -degrees if hemisphere in ("S", "W") else degrees


def _position(lat: str, ns: str, lon: str, ew: str) -> tuple[float | None, float | None]:
    latitude = parse_coordinate(lat, ns)
    longitude = parse_coordinate(lon, ew)
    if ns in ("E", "W") or ew in ("N", "S"):
        raise ValueError("hemispheres swapped")
    return latitude, longitude


def parse_time(value: str) -> time | None:
    """``hhmmss[.sss]`` (UTC) or None when empty."""
    if not value:
        return None
    match = _TIME.fullmatch(value)
    if match is None:
        raise ValueError("time")
    hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    return time(int(hour), int(minute), int(second), micro, tzinfo=UTC)


def parse_date(value: str) -> date | None:
    """``ddmmyy`` (years 2000-2099) or None when empty."""
    if not value:
        return None
    match = _DATE.fullmatch(value)
    if match is None:
        raise ValueError("date")
    day, month, year = (int(part) for part in match.groups())
    return date(2000 + year, month, day)


def parse_number(value: str) -> float | None:
    """A finite decimal (``-12.5``), None when empty; ``ValueError`` for anything else
    (``nan``, ``inf``, ``1e400``, ``1_0``). Also used for ``+CGPSINFO``."""
    if not value:
        return None
    if _NUMBER.fullmatch(value) is None:
        raise ValueError("number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("number")
    return number


def parse_non_negative(value: str) -> float | None:
    """:func:`parse_number` that also refuses a negative value (speed, DOP, course)."""
    number = parse_number(value)
    if number is not None and number < 0:
        raise ValueError("negative")
    return number


def _int(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not value.isascii():
        raise ValueError("integer")
    return int(value)
