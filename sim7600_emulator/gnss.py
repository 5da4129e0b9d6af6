"""The GNSS engine: AT+CGPS on/off, +CGPSINFO/+CGNSSINFO replies, NMEA on the NMEA port.

While the engine runs it completes one epoch per second of track time (`Variants.gnss_epoch`
wall seconds, shorter to play a track faster) and writes that epoch's NMEA sentences
(GGA, RMC, GSA, GSV, VTG) to the NMEA port, the module's USB interface 01. A fix needs the
cold start to be over, the sky to be visible and at least three satellites in use (three: 2D,
four or more: 3D). Without a fix the sentences have empty fields, as the module prints them
(sim7600.md section 12).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from .at_command import AtCommand, CommandKind, Final, Handler
from .context import ModemContext
from .errors import PlainError
from .gnss_track import GnssSample, GnssTrack
from .ports import ModemPort

CGPS_MODES = range(1, 4)
KMH_PER_KNOT = 1.852
MAX_PERIOD = 255


@dataclass
class Sky:
    """What the receiver sees: satellites in view and in use, and the dilution of precision."""

    visible: bool = True
    in_view: int = 10
    in_use: int = 7
    hdop: float = 0.9
    pdop: float = 1.4
    vdop: float = 1.1

    @property
    def fix_dimension(self) -> int:
        """1 = no fix, 2 = 2D, 3 = 3D (the GSA <mode2> field)."""
        used = self.in_use if self.visible else 0
        return 3 if used >= 4 else 2 if used == 3 else 1


def checksum(body: str) -> str:
    """The NMEA checksum: XOR of every character between `$` and `*`, two hex digits."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return f"{value:02X}"


def sentence(body: str) -> str:
    """`$<body>*<checksum>`."""
    return f"${body}*{checksum(body)}"


def _latitude(value: float) -> tuple[str, str]:
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees:02d}{minutes:09.6f}", "N" if value >= 0 else "S"


def _longitude(value: float) -> tuple[str, str]:
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees:03d}{minutes:09.6f}", "E" if value >= 0 else "W"


class GnssEngine:
    """The module's GNSS receiver, reachable with AT+CGPS* on the AT port."""

    def __init__(self, ctx: ModemContext, nmea_port: ModemPort) -> None:
        self._ctx = ctx
        self._port = nmea_port
        self.on = False
        self.mode = 1
        self.track = GnssTrack.fixed(0.0, 0.0)
        self.sky = Sky()
        self.epoch = 0
        self.epochs_sent = 0
        self._acquired_at = 0.0
        self._runner: asyncio.Task[None] | None = None
        self._info_period = 0
        self._info_task: asyncio.Task[None] | None = None

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family (none on a variant without GNSS: they answer ERROR)."""
        if not self._ctx.variants.gnss:
            return {}
        return {"+CGPS": self._cgps, "+CGPSINFO": self._cgpsinfo, "+CGNSSINFO": self._cgnssinfo}

    # Scenario ---------------------------------------------------------------------------------

    def set_track(self, track: GnssTrack) -> None:
        """Follow `track` from its start at the next epoch."""
        self.track = track
        self.epoch = 0

    @property
    def has_fix(self) -> bool:
        """Whether the receiver has a position now."""
        if not self.on or self.sky.fix_dimension == 1:
            return False
        return asyncio.get_running_loop().time() >= self._acquired_at

    def stop_from_elsewhere(self) -> None:
        """AT+CGPS=0 from another client: the engine stops and says so with `+CGPS: 0`."""
        if self.on:
            self._stop()
            self._ctx.tasks.spawn(self._stopped_later(), "gnss-stop")

    def power_off(self) -> None:
        """A reboot: the engine stops without a URC (AT+CGPSAUTO is 0 by default)."""
        self._stop()

    # Commands ---------------------------------------------------------------------------------

    async def _cgps(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f"+CGPS: {int(self.on)},{self.mode}")
            return None
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CGPS: (0,1),(1-3)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        on = cmd.int_arg(0, range(2))
        mode = cmd.int_arg(1, CGPS_MODES, default=1)
        if on == int(self.on) and self._ctx.variants.cgps_repeat_error:
            raise PlainError
        if on:
            self._start(mode)
        else:
            self._stop()
            self._ctx.tasks.spawn(self._stopped_later(), "gnss-stop")
        return None

    async def _cgpsinfo(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines(f"+CGPSINFO: (0-{MAX_PERIOD})")
            return None
        if cmd.kind is CommandKind.READ:
            raise PlainError
        if cmd.kind is CommandKind.SET:
            self._set_info_period(cmd.int_arg(0, range(MAX_PERIOD + 1)))
            return None
        self._ctx.out.lines(self.cgpsinfo_line())
        return None

    async def _cgnssinfo(self, cmd: AtCommand) -> Final:
        if cmd.kind is not CommandKind.ACTION:
            raise PlainError
        self._ctx.out.lines(self.cgnssinfo_line())
        return None

    # Output -----------------------------------------------------------------------------------

    def cgpsinfo_line(self) -> str:
        """`+CGPSINFO: <lat>,<N/S>,<lon>,<E/W>,<ddmmyy>,<hhmmss.s>,<alt>,<speed kn>,<course>`."""
        if not self.has_fix:
            return "+CGPSINFO: ,,,,,,,,"
        return f"+CGPSINFO: {self._fix_fields()}"

    def cgnssinfo_line(self) -> str:
        """`+CGNSSINFO: <mode>,<GPS>,<GLONASS>,<BEIDOU>,<lat>,...,<PDOP>,<HDOP>,<VDOP>`."""
        if not self.has_fix:
            return "+CGNSSINFO: " + "," * 15
        sky = self.sky
        return (
            f"+CGNSSINFO: {sky.fix_dimension},{sky.in_use:02d},00,00,{self._fix_fields()},"
            f"{sky.pdop:.1f},{sky.hdop:.1f},{sky.vdop:.1f}"
        )

    def _fix_fields(self) -> str:
        """What both info commands report of the fix, in the same order:
        `<lat>,<N/S>,<lon>,<E/W>,<ddmmyy>,<hhmmss.s>,<alt>,<speed kn>,<course>`."""
        sample = self.track.sample(self.epoch)
        now = self._fix_time()
        lat, ns = _latitude(sample.position.latitude)
        lon, ew = _longitude(sample.position.longitude)
        course = "" if sample.course is None else f"{sample.course:.1f}"
        return (
            f"{lat},{ns},{lon},{ew},{now:%d%m%y},{now:%H%M%S}.0,"
            f"{self._altitude(sample)},{sample.speed_knots:.1f},{course}"
        )

    def nmea_epoch(self) -> list[str]:
        """The sentences of the current epoch, in the order the module prints them."""
        talker = self._ctx.variants.nmea_talker
        if not self.has_fix:
            return [
                sentence(f"{talker}GGA,,,,,,0,,,,,,,,"),
                sentence(f"{talker}RMC,,V,,,,,,,,,,N"),
                sentence(f"{talker}GSA,A,1,,,,,,,,,,,,,,,"),
                *self._gsv(0),
                sentence(f"{talker}VTG,,T,,M,,N,,K,N"),
            ]
        sky = self.sky
        sample = self.track.sample(self.epoch)
        now = self._fix_time()
        hhmmss = f"{now:%H%M%S}.00"
        lat, ns = _latitude(sample.position.latitude)
        lon, ew = _longitude(sample.position.longitude)
        course = "" if sample.course is None else f"{sample.course:.1f}"
        speed = f"{sample.speed_knots:.1f}"
        altitude = self._altitude(sample)
        alt_fields = f"{altitude},M,0.0,M" if altitude else ",,,"
        prns = [f"{prn:02d}" for prn in range(1, sky.in_use + 1)][:12]
        prn_fields = ",".join(prns + [""] * (12 - len(prns)))
        return [
            sentence(
                f"{talker}GGA,{hhmmss},{lat},{ns},{lon},{ew},1,{sky.in_use:02d},"
                f"{sky.hdop:.1f},{alt_fields},,"
            ),
            sentence(
                f"{talker}RMC,{hhmmss},A,{lat},{ns},{lon},{ew},{speed},{course},{now:%d%m%y},,,A"
            ),
            sentence(
                f"{talker}GSA,A,{sky.fix_dimension},{prn_fields},"
                f"{sky.pdop:.1f},{sky.hdop:.1f},{sky.vdop:.1f}"
            ),
            *self._gsv(sky.in_view if sky.visible else 0),
            sentence(
                f"{talker}VTG,{course},T,,M,{speed},N,{sample.speed_knots * KMH_PER_KNOT:.1f},K,A"
            ),
        ]

    def _gsv(self, in_view: int) -> list[str]:
        """Satellites in view, four per sentence (`$GPGSV,1,1,00` when none)."""
        extra = ",1" if self._ctx.variants.gsv_signal_id else ""
        total = max(1, (in_view + 3) // 4)
        out = []
        for number in range(1, total + 1):
            fields = [
                f"{prn:02d},{(prn * 7) % 90:02d},{(prn * 37) % 360:03d},{20 + prn % 25}"
                for prn in range(4 * number - 3, min(in_view, 4 * number) + 1)
            ]
            body = ",".join([f"GPGSV,{total},{number},{in_view:02d}", *fields])
            out.append(sentence(body + extra))
        return out

    def _altitude(self, sample: GnssSample) -> str:
        return f"{sample.position.altitude:.1f}" if self.sky.fix_dimension == 3 else ""

    def _fix_time(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    # Running ----------------------------------------------------------------------------------

    def _start(self, mode: int) -> None:
        self.on = True
        self.mode = mode
        loop = asyncio.get_running_loop()
        self._acquired_at = loop.time() + self._ctx.variants.gnss_cold_start
        self._runner = self._ctx.tasks.spawn(self._run(), "gnss")

    def _stop(self) -> None:
        self.on = False
        if self._runner is not None:
            self._runner.cancel()
            self._runner = None
        self._set_info_period(0)

    async def _stopped_later(self) -> None:
        """`+CGPS: 0` once the engine has really stopped (2-30 s on a module, ATC3 17.2.1)."""
        await asyncio.sleep(self._ctx.variants.gnss_stop_delay)
        if not self.on:
            self._ctx.out.lines("+CGPS: 0")

    async def _run(self) -> None:
        interval = self._ctx.variants.gnss_epoch
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.epoch += 1
            self.epochs_sent += 1
            self._port.send("".join(line + "\r\n" for line in self.nmea_epoch()).encode("ascii"))

    def _set_info_period(self, seconds: int) -> None:
        """AT+CGPSINFO=<s>: a +CGPSINFO URC every s seconds (of epochs); 0 stops it."""
        self._info_period = seconds
        if self._info_task is not None:
            self._info_task.cancel()
            self._info_task = None
        if seconds:
            self._info_task = self._ctx.tasks.spawn(self._report(seconds), "gnss-info")

    async def _report(self, seconds: int) -> None:
        while True:
            await asyncio.sleep(seconds * self._ctx.variants.gnss_epoch)
            self._ctx.out.lines(self.cgpsinfo_line())
