"""Typed state of a modem: enums, identity and the snapshot the HA layer renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import re


class SimStatus(StrEnum):
    """What the SIM reports (``AT+CPIN?``)."""

    READY = "ready"
    PIN_REQUIRED = "pin_required"
    PUK_REQUIRED = "puk_required"
    NOT_INSERTED = "not_inserted"
    ERROR = "error"


class RegistrationStatus(StrEnum):
    """Network registration, judged by ``+CEREG`` first (LTE), then ``+CREG``."""

    HOME = "home"
    ROAMING = "roaming"
    SEARCHING = "searching"
    DENIED = "denied"
    NOT_REGISTERED = "not_registered"
    UNKNOWN = "unknown"

    @property
    def registered(self) -> bool:
        """Whether calls and SMS can go through."""
        return self in (RegistrationStatus.HOME, RegistrationStatus.ROAMING)


class CallState(StrEnum):
    """The state of a call, as ``calls.py`` tracks each; ``idle`` when there is none."""

    IDLE = "idle"
    DIALING = "dialing"
    ALERTING = "alerting"
    INCOMING = "incoming"
    ACTIVE = "active"
    HELD = "held"
    WAITING = "waiting"  # a second caller while another call is up


class BridgeState(StrEnum):
    """The PCM audio bridge on the audio port."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"  # no audio port configured


_VENDOR_PREFIX = re.compile(r"^SIMCOM[ _-]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ModemIdentity:
    """What the modem says it is. ``imei``, ``imsi`` and ``iccid`` are private."""

    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None

    @property
    def model_name(self) -> str | None:
        """The model as people call it: ``SIMCOM_SIM7600G-H`` (what AT+CGMM says) is the
        ``SIM7600G-H``; the vendor is the device's manufacturer, not part of its name."""
        if self.model is None:
            return None
        name = _VENDOR_PREFIX.sub("", self.model.strip())
        return name or self.model


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One call on the line. ``number`` is private."""

    direction: str  # "inbound" | "outbound"
    number: str | None
    started: float | None = None  # loop time when it connected
    rings: int = 0  # RINGs heard while it rang (what "answer after N rings" counts)


class FixType(StrEnum):
    """What the GNSS receiver has: no fix, a 2D fix (no altitude) or a 3D fix."""

    NONE = "none"
    FIX_2D = "2d"
    FIX_3D = "3d"


@dataclass(frozen=True, slots=True)
class GnssPosition:
    """Where the modem is. Private: coordinates never go to logs or diagnostics.

    ``speed`` is in km/h and ``course`` in degrees true (None while standing still or
    unknown); ``hdop`` is the horizontal dilution of precision when the modem says it.
    """

    latitude: float
    longitude: float
    altitude: float | None = None
    speed: float | None = None
    course: float | None = None
    hdop: float | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class GnssState:
    """The GNSS receiver as the driver sees it.

    ``position`` is None while there is no fix; ``last_position`` keeps the last one known.
    ``source`` says where the figures come from: ``nmea`` (the NMEA port, pushed) or
    ``poll`` (``AT+CGPSINFO`` on the AT port, which tells no satellites or DOP).
    """

    supported: bool | None = None  # None until the modem was asked (AT+CGPS?)
    enabled: bool = False
    source: str | None = None
    fix: FixType = FixType.NONE
    position: GnssPosition | None = None
    last_position: GnssPosition | None = None
    satellites_in_use: int | None = None
    satellites_in_view: int | None = None
    hdop: float | None = None


@dataclass(frozen=True, slots=True)
class ModemSnapshot:
    """Everything an entity shows, in one immutable value."""

    connected: bool = False
    identity: ModemIdentity = field(default_factory=ModemIdentity)
    sim: SimStatus | None = None
    registration: RegistrationStatus = RegistrationStatus.UNKNOWN
    operator: str | None = None
    technology: str | None = None
    signal_dbm: int | None = None
    ber: int | None = None
    call_state: CallState = CallState.IDLE
    call: CallInfo | None = None  # the call in the foreground, the one call_state is about
    waiting_call: CallInfo | None = None
    held_call: CallInfo | None = None
    bridge: BridgeState = BridgeState.STOPPED
    bridge_error: str | None = None
    playing: bool = False  # audio is being played into the call
    sms_storage_full: bool = False
    last_sms_received: datetime | None = None
    network_stuck: bool = False
    gnss: GnssState = field(default_factory=GnssState)
