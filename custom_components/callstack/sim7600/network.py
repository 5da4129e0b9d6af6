"""Parsers for the network, SIM and identity replies of the SIM7600.

Each takes the response lines of one command (as :class:`AtExecutor` returns them) and
never raises on odd input: an unreadable reply gives ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import RegistrationStatus, SimStatus
from .urc import split_fields, to_int

# +COPS / +CxREG access technology (27.007 <AcT>).
_ACT_NAMES = {
    0: "GSM",
    1: "GSM",
    2: "UMTS",
    3: "EDGE",
    4: "HSDPA",
    5: "HSUPA",
    6: "HSPA",
    7: "LTE",
    8: "LTE",
    9: "LTE",
    13: "NR",
}
_REGISTRATION = {
    0: RegistrationStatus.NOT_REGISTERED,
    1: RegistrationStatus.HOME,
    2: RegistrationStatus.SEARCHING,
    3: RegistrationStatus.DENIED,
    4: RegistrationStatus.UNKNOWN,
    5: RegistrationStatus.ROAMING,
}
_SIM_STATES = {
    "READY": SimStatus.READY,
    "SIM PIN": SimStatus.PIN_REQUIRED,
    "SIM PUK": SimStatus.PUK_REQUIRED,
    "NOT AVAILABLE": SimStatus.NOT_INSERTED,
    "NOT INSERTED": SimStatus.NOT_INSERTED,
}


@dataclass(frozen=True, slots=True)
class Signal:
    """``+CSQ``: ``dbm`` is None when the modem does not know (rssi 99)."""

    rssi: int
    ber: int | None
    dbm: int | None


@dataclass(frozen=True, slots=True)
class Operator:
    """``+COPS?``: the operator name and access technology."""

    name: str | None
    technology: str | None


def _payload(lines: list[str], prefix: str) -> str | None:
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def parse_csq(lines: list[str]) -> Signal | None:
    """``+CSQ: <rssi>,<ber>``: dBm = -113 + 2 * rssi; 99 means unknown."""
    payload = _payload(lines, "+CSQ:")
    if payload is None:
        return None
    fields = split_fields(payload)
    rssi = to_int(fields[0])
    ber = to_int(fields[1]) if len(fields) > 1 else None
    if rssi is None or not (0 <= rssi <= 31 or rssi == 99):
        return None
    return Signal(
        rssi=rssi,
        ber=ber if ber is not None and 0 <= ber <= 7 else None,
        dbm=None if rssi == 99 else -113 + 2 * rssi,
    )


def parse_cops(lines: list[str]) -> Operator | None:
    """``+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]``."""
    payload = _payload(lines, "+COPS:")
    if payload is None:
        return None
    fields = split_fields(payload)
    name = fields[2] if len(fields) > 2 and fields[2] else None
    act = to_int(fields[3]) if len(fields) > 3 else None
    return Operator(name, technology_name(act))


def technology_name(act: int | None) -> str | None:
    """Name an ``<AcT>`` value."""
    return _ACT_NAMES.get(act) if act is not None else None


def registration_status(stat: int | None) -> RegistrationStatus:
    """Map a ``+CxREG`` ``<stat>`` to :class:`RegistrationStatus`."""
    if stat is None:
        return RegistrationStatus.UNKNOWN
    return _REGISTRATION.get(stat, RegistrationStatus.UNKNOWN)


def best_registration(*statuses: RegistrationStatus) -> RegistrationStatus:
    """Pick the most useful of the CEREG/CGREG/CREG views (a data-only SIM can be denied
    on CREG while registered on CEREG)."""
    for wanted in (
        RegistrationStatus.HOME,
        RegistrationStatus.ROAMING,
        RegistrationStatus.SEARCHING,
        RegistrationStatus.DENIED,
        RegistrationStatus.NOT_REGISTERED,
    ):
        if wanted in statuses:
            return wanted
    return RegistrationStatus.UNKNOWN


def sim_status(state: str) -> SimStatus:
    """Map a ``+CPIN:`` state (or ``+SIMCARD`` text) to :class:`SimStatus`."""
    return _SIM_STATES.get(state.strip().upper(), SimStatus.ERROR)


def parse_cpin(lines: list[str]) -> SimStatus | None:
    """``+CPIN: READY`` etc."""
    payload = _payload(lines, "+CPIN:")
    return sim_status(payload) if payload is not None else None


def parse_spic(lines: list[str]) -> int | None:
    """``+SPIC: <pin1>,<puk1>,<pin2>,<puk2>``: PIN attempts left (SIMCom, unverified)."""
    payload = _payload(lines, "+SPIC:")
    return to_int(split_fields(payload)[0]) if payload is not None else None


def strip_prefix(lines: list[str], prefix: str | None) -> str | None:
    """The first line with ``prefix`` removed (``+CGMR: LE20B03`` → ``LE20B03``), or the
    first line as it is when no line carries the prefix (some firmware omits it)."""
    payload = _payload(lines, prefix) if prefix else None
    if payload is not None:
        return payload.strip('"') or None
    for line in lines:
        if line.strip():
            return line.strip()
    return None


def bare_digits(lines: list[str], prefix: str | None = None) -> str | None:
    """The identity digits in a reply: ``AT+CGSN``, ``AT+CIMI``, ``+ICCID: ...``."""
    value = strip_prefix(lines, prefix)
    if value is None:
        return None
    value = value.strip().strip('"')
    return value if value.isalnum() and 6 <= len(value) <= 22 else None
