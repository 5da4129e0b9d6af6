"""Typed state of a modem: enums, identity and the snapshot the HA layer renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


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
    """The call on the line, as the state machine in ``calls.py`` tracks it."""

    IDLE = "idle"
    DIALING = "dialing"
    ALERTING = "alerting"
    INCOMING = "incoming"
    ACTIVE = "active"
    HELD = "held"


class BridgeState(StrEnum):
    """The PCM audio bridge on the audio port."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"  # no audio port configured


@dataclass(frozen=True, slots=True)
class ModemIdentity:
    """What the modem says it is. ``imei``, ``imsi`` and ``iccid`` are private."""

    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None


@dataclass(frozen=True, slots=True)
class CallInfo:
    """The call on the line. ``number`` is private."""

    direction: str  # "inbound" | "outbound"
    number: str | None
    started: float | None = None  # loop time when it connected


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
    call: CallInfo | None = None
    bridge: BridgeState = BridgeState.STOPPED
    bridge_error: str | None = None
    playing: bool = False  # audio is being played into the call
    sms_storage_full: bool = False
    last_sms_received: datetime | None = None
    network_stuck: bool = False
