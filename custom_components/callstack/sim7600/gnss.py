"""GNSS: switch the modem's receiver on and follow its position.

The position comes pushed from the NMEA port (USB interface 01) when one is configured
and opens: no AT command is spent on it. Without it (or while it cannot be opened) the
driver asks ``AT+CGPSINFO`` on the AT port every ``poll_interval`` seconds, and only when
no other command is running (:meth:`AtExecutor.execute_if_idle`, tried again every
:data:`IDLE_RETRY` seconds while the port is busy), so a call or an SMS never queues behind
a position query.

Coordinates are private: nothing here logs them, and the diagnostics get counters only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import logging

from .errors import AtCommandError, AtTimeoutError, PortClosedError, PortError, Sim7600Error
from .executor import Execute
from .model import FixType, GnssPosition, GnssState
from .nmea import (
    MAX_SENTENCE,
    Gga,
    Gsa,
    Gsv,
    NmeaError,
    Rmc,
    Sentence,
    parse_coordinate,
    parse_date,
    parse_non_negative,
    parse_number,
    parse_sentence,
    parse_time,
)
from .transport import SerialPort, open_port

_LOGGER = logging.getLogger(__name__)

KMH_PER_KNOT = 1.852
STALE_SECONDS = 5.0
"""An NMEA port silent this long (the module prints every second) means no fix."""
POLL_TIMEOUT = 2.0
IDLE_RETRY = 0.05
"""Seconds between attempts of a poll while other commands keep the AT port busy."""
NMEA_RETRY_SECONDS = 5.0
"""Pause before opening the NMEA port again after it closed."""

type ExecuteIfIdle = Callable[[str, float], Awaitable[list[str] | None]]


@dataclass(slots=True)
class GnssStats:
    """Counters for diagnostics; no coordinates."""

    sentences: int = 0
    bad_sentences: int = 0  # bad checksum or fields, or too long
    polls: int = 0
    failed_polls: int = 0
    nmea_opens: int = 0
    nmea_open_failures: int = 0
    stale: int = 0  # the NMEA port went silent


@dataclass(frozen=True, slots=True)
class Reading:
    """What the receiver reports at one moment."""

    fix: FixType = FixType.NONE
    position: GnssPosition | None = None
    satellites_in_use: int | None = None
    satellites_in_view: int | None = None
    hdop: float | None = None


class NmeaFix:
    """Folds a stream of sentences into the latest fix, satellites and DOP."""

    _gga: Gga | None
    _rmc: Rmc | None
    _gsa: dict[str, Gsa]
    _in_view: dict[str, int]

    def __init__(self) -> None:
        self.clear()

    def feed(self, sentence: Sentence) -> None:
        """Take one parsed sentence."""
        match sentence:
            case Gga():
                self._gga = sentence
            case Rmc():
                self._rmc = sentence
            case Gsa():
                self._gsa[sentence.talker] = sentence
            case Gsv(number=1):
                self._in_view[sentence.talker] = sentence.in_view

    def clear(self) -> None:
        """Forget everything (the stream stopped)."""
        self._gga = None
        self._rmc = None
        self._gsa = {}
        self._in_view = {}

    def reading(self) -> Reading:
        """Fix, position, satellites and HDOP as the sentences say now."""
        gga, rmc = self._gga, self._rmc
        hdop = gga.hdop if gga is not None and gga.hdop is not None else self._gsa_hdop()
        in_use = gga.satellites if gga is not None and gga.satellites is not None else None
        if in_use is None and self._gsa:
            in_use = sum(len(gsa.satellites) for gsa in self._gsa.values())
        in_view = sum(self._in_view.values()) if self._in_view else None
        position = self._position(gga, rmc, hdop)
        if position is None:
            return Reading(FixType.NONE, None, in_use, in_view, hdop)
        modes = {gsa.mode for gsa in self._gsa.values()}
        if 3 in modes:
            fix = FixType.FIX_3D
        elif 2 in modes:
            fix = FixType.FIX_2D
        else:
            fix = FixType.FIX_3D if position.altitude is not None else FixType.FIX_2D
        if fix is FixType.FIX_2D:
            position = replace(position, altitude=None)
        return Reading(fix, position, in_use, in_view, hdop)

    def _gsa_hdop(self) -> float | None:
        return next((gsa.hdop for gsa in self._gsa.values() if gsa.hdop is not None), None)

    @staticmethod
    def _position(gga: Gga | None, rmc: Rmc | None, hdop: float | None) -> GnssPosition | None:
        moving = rmc if rmc is not None and rmc.valid else None
        if gga is not None and gga.quality:
            assert gga.latitude is not None
            assert gga.longitude is not None
            latitude, longitude, altitude = gga.latitude, gga.longitude, gga.altitude
        elif gga is None and moving is not None:
            assert moving.latitude is not None
            assert moving.longitude is not None
            latitude, longitude, altitude = moving.latitude, moving.longitude, None
        else:
            return None
        stamp = moving.timestamp if moving is not None else None
        if stamp is None and gga is not None and gga.time is not None:
            stamp = datetime.combine(datetime.now(UTC).date(), gga.time)
        speed = moving.speed_knots if moving is not None else None
        return GnssPosition(
            latitude=latitude,
            longitude=longitude,
            altitude=altitude,
            speed=None if speed is None else round(speed * KMH_PER_KNOT, 2),
            course=moving.course if moving is not None and speed else None,
            hdop=hdop,
            time=stamp,
        )


def parse_cgpsinfo(lines: list[str]) -> GnssPosition | None:
    """``+CGPSINFO: <lat>,<N/S>,<lon>,<E/W>,<date>,<time>,<alt>,<speed kn>,<course>``.

    Empty fields (``+CGPSINFO: ,,,,,,,,``) mean no fix: None. Raises ``ValueError`` for a
    reply that does not parse.
    """
    payload = next((line[10:] for line in lines if line.startswith("+CGPSINFO:")), None)
    if payload is None:
        raise ValueError("no +CGPSINFO line")
    fields = [value.strip() for value in payload.split(",")]
    if len(fields) < 9:
        raise ValueError("short +CGPSINFO")
    latitude = parse_coordinate(fields[0], fields[1])
    longitude = parse_coordinate(fields[2], fields[3])
    if latitude is None or longitude is None:
        return None
    day, moment = parse_date(fields[4]), parse_time(fields[5])
    speed = parse_non_negative(fields[7])
    course = parse_non_negative(fields[8])
    return GnssPosition(
        latitude=latitude,
        longitude=longitude,
        altitude=parse_number(fields[6]),
        speed=None if speed is None else round(speed * KMH_PER_KNOT, 2),
        course=course if speed else None,
        time=None if day is None or moment is None else datetime.combine(day, moment),
    )


def parse_cgps(lines: list[str]) -> bool | None:
    """``+CGPS: <on>,<mode>``: whether the engine runs (None if the reply is odd)."""
    for line in lines:
        if line.startswith("+CGPS:"):
            head = line[6:].split(",")[0].strip()
            return {"0": False, "1": True}.get(head)
    return None


class GnssService:
    """The receiver of one modem: on/off, the NMEA reader or the poll, the current state."""

    def __init__(
        self,
        execute: Execute,
        execute_if_idle: ExecuteIfIdle,
        on_change: Callable[[], None],
        *,
        enabled: bool,
        nmea_url: str | None,
        poll_interval: float,
    ) -> None:
        self._execute = execute
        self._execute_if_idle = execute_if_idle
        self._on_change = on_change
        self.nmea_url = nmea_url
        self.poll_interval = poll_interval
        self._state = GnssState(enabled=enabled)
        self._fix = NmeaFix()
        self._task: asyncio.Task[None] | None = None
        self.stats = GnssStats()

    @property
    def state(self) -> GnssState:
        """The receiver's state now."""
        return self._state

    @property
    def supported(self) -> bool | None:
        """Whether the modem answered ``AT+CGPS?`` (None before it was asked)."""
        return self._state.supported

    async def initialise(self) -> None:
        """Ask whether the modem has GNSS and, when enabled, switch it on.

        Runs at every (re)initialisation: a modem restart switches GNSS off. ``AT+CGPS=1``
        while the engine runs answers ERROR, so the state is read first. A modem that
        answered before and times out now (just restarted, busy) still has its receiver:
        only its running state is unknown, so it is switched on all the same.
        """
        try:
            running = parse_cgps(await self._execute("AT+CGPS?"))
        except AtTimeoutError:
            if not self._state.supported:
                self._set(replace(self._state, supported=False))
                return
            running = None
        except AtCommandError:
            self._set(replace(self._state, supported=False))
            return
        self._set(replace(self._state, supported=True))
        if not self._state.enabled or running:
            return
        try:
            await self._execute("AT+CGPS=1", timeout=POLL_TIMEOUT)
        except (AtCommandError, AtTimeoutError):
            _LOGGER.warning("The modem did not switch GNSS on; it is asked again after a restart")

    def start(self) -> None:
        """Follow the position (NMEA, else polling) until :meth:`close`; idempotent."""
        if not self._state.enabled or self._state.supported is False:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="callstack GNSS")

    async def close(self) -> None:
        """Stop following the position (the modem's engine is left as it is)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if self.nmea_url is not None and (port := await self._open_nmea()) is not None:
                try:
                    await self._read_nmea(port)
                except PortClosedError:
                    _LOGGER.debug("The NMEA port closed")
                finally:
                    await port.close()
                self._fix.clear()
                self._update("nmea")
                await asyncio.sleep(NMEA_RETRY_SECONDS)
                continue
            await self._poll()
            await asyncio.sleep(self.poll_interval)

    async def _open_nmea(self) -> SerialPort | None:
        assert self.nmea_url is not None
        try:
            port = await open_port(self.nmea_url)
        except PortError:
            self.stats.nmea_open_failures += 1
            return None
        self.stats.nmea_opens += 1
        return port

    async def _read_nmea(self, port: SerialPort) -> None:
        pending = b""
        while True:
            try:
                async with asyncio.timeout(STALE_SECONDS):
                    data = await port.read()
            except TimeoutError:
                self.stats.stale += 1
                self._fix.clear()
                self._update("nmea")
                continue
            *lines, pending = (pending + data).split(b"\n")
            if len(pending) > MAX_SENTENCE:
                self.stats.bad_sentences += 1
                pending = b""
            for raw in lines:
                self._take(raw)
            self._update("nmea")

    def _take(self, raw: bytes) -> None:
        text = raw.decode("ascii", "replace").strip()
        if not text:
            return
        try:
            sentence = parse_sentence(text)
        except NmeaError:
            self.stats.bad_sentences += 1
            return
        self.stats.sentences += 1
        if sentence is not None:
            self._fix.feed(sentence)

    def _update(self, source: str) -> None:
        self._set_reading(source, self._fix.reading())

    async def _poll(self) -> None:
        self.stats.polls += 1
        try:
            position = parse_cgpsinfo(await self._query_when_idle("AT+CGPSINFO"))
        except (Sim7600Error, ValueError) as err:
            self.stats.failed_polls += 1
            _LOGGER.debug("GNSS poll failed: %s", type(err).__name__)
            position = None
        if position is None:
            reading = Reading()
        else:
            # +CGPSINFO tells no fix dimension: an altitude means 3D.
            fix = FixType.FIX_3D if position.altitude is not None else FixType.FIX_2D
            reading = Reading(fix, position)
        self._set_reading("poll", reading)

    async def _query_when_idle(self, command: str) -> list[str]:
        """Send ``command`` once the AT port is free. Retried on a timer rather than woken
        at the end of every command: a busy port costs a wake-up per :data:`IDLE_RETRY`,
        not one per command."""
        while True:
            lines = await self._execute_if_idle(command, POLL_TIMEOUT)
            if lines is not None:
                return lines
            await asyncio.sleep(IDLE_RETRY)

    def _set_reading(self, source: str, reading: Reading) -> None:
        self._set(
            replace(
                self._state,
                source=source,
                fix=reading.fix,
                position=reading.position,
                last_position=reading.position or self._state.last_position,
                satellites_in_use=reading.satellites_in_use,
                satellites_in_view=reading.satellites_in_view,
                hdop=reading.hdop,
            )
        )

    def _set(self, state: GnssState) -> None:
        if state != self._state:
            self._state = state
            self._on_change()
