"""Unsolicited result codes (URCs) of the SIM7600, parsed into typed events.

:func:`parse_urc` never raises: a line it does not know, or a known prefix with a payload
it cannot read, gives ``None`` and the caller counts it. Field formats follow
``shared/sim7600.md`` sections 3-8, including the variants marked unverified there
(``VOICE CALL: END`` with and without a duration, ``+CRING``, text or numeric ``+CPIN``).
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from .lines import Line


@dataclass(frozen=True, slots=True)
class Ring:
    """``RING`` / ``+CRING: VOICE``: an incoming call is alerting (repeats)."""

    kind: str = "VOICE"


@dataclass(frozen=True, slots=True)
class CallerId:
    """``+CLIP: "<number>",<type>,,,,<validity>`` after each RING once ``AT+CLIP=1``."""

    number: str | None
    number_type: int | None
    validity: int | None


@dataclass(frozen=True, slots=True)
class CallWaiting:
    """``+CCWA: "<number>",<type>,<class>[,...]``: a second caller waits (after
    ``AT+CCWA=1``); the query reply ``+CCWA: <status>,<class>`` has no quoted number."""

    number: str | None
    number_type: int | None


@dataclass(frozen=True, slots=True)
class VoiceCallBegin:
    """``VOICE CALL: BEGIN``: the call is connected."""


@dataclass(frozen=True, slots=True)
class VoiceCallEnd:
    """``VOICE CALL: END[: <hhmmss or seconds>]``; ``duration`` in seconds when given."""

    duration: int | None


@dataclass(frozen=True, slots=True)
class CallTerminated:
    """``NO CARRIER``, ``BUSY``, ``NO ANSWER`` or ``NO DIALTONE`` outside a command."""

    reason: str  # "no_carrier" | "busy" | "no_answer" | "no_dialtone"


@dataclass(frozen=True, slots=True)
class MissedCall:
    """``MISSED_CALL: <hh:mmAM|PM> <number>`` when an unanswered call stops ringing."""

    number: str | None


@dataclass(frozen=True, slots=True)
class CallListEntry:
    """One ``+CLCC`` line; ``stat`` 0 active .. 5 waiting, 6 disconnected (SIMCom)."""

    index: int
    incoming: bool
    stat: int
    mode: int
    multiparty: bool
    number: str | None
    number_type: int | None


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """``+RXDTMF: <c>``: the far end pressed a key."""

    digit: str


@dataclass(frozen=True, slots=True)
class SmsStored:
    """``+CMTI: "<mem>",<index>`` (or ``+CDSI`` for a stored status report)."""

    storage: str
    index: int
    status_report: bool = False


@dataclass(frozen=True, slots=True)
class SmsPdu:
    """``+CMT: [<alpha>],<len>`` / ``+CDS: <len>`` followed by the PDU in hex."""

    pdu: str
    status_report: bool = False


@dataclass(frozen=True, slots=True)
class UssdResponse:
    """``+CUSD: <m>[,"<str>",<dcs>]``; ``text`` is still encoded as ``dcs`` says."""

    status: int
    text: str | None
    dcs: int | None


@dataclass(frozen=True, slots=True)
class Registration:
    """``+CREG`` / ``+CGREG`` / ``+CEREG`` URC or read reply (``domain`` without the plus)."""

    domain: str
    stat: int
    area: str | None = None
    cell: str | None = None
    act: int | None = None


@dataclass(frozen=True, slots=True)
class SimState:
    """``+CPIN: READY | SIM PIN | SIM PUK | ...`` or ``+SIMCARD: NOT AVAILABLE``."""

    state: str


@dataclass(frozen=True, slots=True)
class BootStage:
    """``RDY``, ``SMS DONE`` or ``PB DONE``: the modem (re)started; PB DONE is the last."""

    stage: str


@dataclass(frozen=True, slots=True)
class SmsStorageFull:
    """``+SMS FULL``: the SIM holds no more messages."""


type Urc = (
    Ring
    | CallerId
    | CallWaiting
    | VoiceCallBegin
    | VoiceCallEnd
    | CallTerminated
    | MissedCall
    | CallListEntry
    | DtmfReceived
    | SmsStored
    | SmsPdu
    | UssdResponse
    | Registration
    | SimState
    | BootStage
    | SmsStorageFull
)

_TERMINATIONS = {
    "NO CARRIER": "no_carrier",
    "BUSY": "busy",
    "NO ANSWER": "no_answer",
    "NO DIALTONE": "no_dialtone",
}
_BOOT = {"RDY": "RDY", "SMS DONE": "SMS DONE", "PB DONE": "PB DONE"}
_END = re.compile(r"^VOICE CALL: END(?::\s*(\d{1,6}))?\s*$")
_MISSED = re.compile(r"^MISSED_CALL:\s*\S+\s*(\S*)")
_REG = re.compile(r"^\+(CREG|CGREG|CEREG):\s*(.*)$")


def split_fields(payload: str) -> list[str]:
    """Split a comma-separated AT payload, keeping commas inside quotes, unquoting fields."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in payload:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    fields.append("".join(current).strip())
    return fields


def to_int(field: str | None) -> int | None:
    """``int(field)`` or ``None`` for an empty or non-numeric field."""
    if field is None:
        return None
    field = field.strip()
    return int(field) if _INTEGER.fullmatch(field) else None


def parse_duration(digits: str | None) -> int | None:
    """Read ``VOICE CALL: END`` digits: six digits are hhmmss when they fit, else seconds."""
    if not digits:
        return None
    if len(digits) == 6:
        hours, minutes, seconds = int(digits[:2]), int(digits[2:4]), int(digits[4:])
        if minutes < 60 and seconds < 60:
            return hours * 3600 + minutes * 60 + seconds
    return int(digits)


def parse_clcc(payload: str) -> CallListEntry | None:
    """Parse the part of a ``+CLCC:`` line after the colon."""
    fields = split_fields(payload)
    if len(fields) < 5:
        return None
    index, direction, stat, mode, mpty = (to_int(field) for field in fields[:5])
    if index is None or direction not in (0, 1) or stat is None or not 0 <= stat <= 6:
        return None
    number = fields[5] if len(fields) > 5 and fields[5] else None
    number_type = to_int(fields[6]) if len(fields) > 6 else None
    return CallListEntry(index, direction == 1, stat, mode or 0, mpty == 1, number, number_type)


def parse_ccwa(payload: str) -> CallWaiting | None:
    """Parse a ``+CCWA`` URC; ``None`` for the query reply or a call that is not voice."""
    if not payload.startswith('"'):
        return None
    fields = split_fields(payload)
    if len(fields) < 2:
        return None
    call_class = to_int(fields[2]) if len(fields) > 2 else None
    if call_class is not None and not call_class & 1:
        return None  # data or fax
    return CallWaiting(fields[0] or None, to_int(fields[1]))


def parse_call_list(lines: list[str]) -> list[CallListEntry]:
    """Parse the reply of ``AT+CLCC`` (an empty list is a bare OK)."""
    return [
        entry
        for line in lines
        if line.startswith("+CLCC:") and (entry := parse_clcc(line[6:])) is not None
    ]


def parse_ussd(payload: str) -> UssdResponse | None:
    """Parse ``<m>[,"<str>"[,<dcs>]]``; the text runs from its first quote to the quote
    before ``,<dcs>`` (or the last one), so quotes and commas inside it stay text."""
    match = _USSD.match(payload)
    if match is None:
        return None
    status, text = match.groups()
    dcs: str | None = None
    if text is not None and (closed := _USSD_CLOSE.search(text)) is not None:
        text, dcs = text[: closed.start()], closed.group(1)
    return UssdResponse(int(status), text, to_int(dcs))


def parse_registration(line: str) -> Registration | None:
    """Parse a ``+CxREG`` URC (``<stat>[,...]``) or read reply (``<n>,<stat>[,...]``)."""
    match = _REG.match(line)
    if not match:
        return None
    payload = match.group(2)
    fields = split_fields(payload)
    # A read reply is "<n>,<stat>[,...]"; a URC is "<stat>[,"<area>",...]" with the area
    # quoted, so an unquoted second field means "read reply".
    raw = payload.split(",")
    if len(raw) >= 2 and not raw[1].strip().startswith('"'):
        fields = fields[1:]
    numbers = [to_int(field) for field in fields]
    stat = numbers[0] if numbers else None
    if stat is None or not 0 <= stat <= 5:
        return None
    area = fields[1] or None if len(fields) > 1 else None
    cell = fields[2] or None if len(fields) > 2 else None
    act = numbers[3] if len(numbers) > 3 else None
    return Registration(match.group(1), stat, area, cell, act)


def parse_urc(line: Line) -> Urc | None:
    """Turn one line into a URC event, or ``None`` when it is not a URC we know."""
    text = line.text.strip()
    if text == "RING":
        return Ring()
    if text in _TERMINATIONS:
        return CallTerminated(_TERMINATIONS[text])
    if text in _BOOT:
        return BootStage(_BOOT[text])
    if text == "VOICE CALL: BEGIN":
        return VoiceCallBegin()
    if text == "+SMS FULL":
        return SmsStorageFull()
    if match := _END.match(text):
        return VoiceCallEnd(parse_duration(match.group(1)))
    if match := _MISSED.match(text):
        return MissedCall(match.group(1) or None)
    head, _, payload = text.partition(":")
    payload = payload.strip()
    match head:
        case "+CRING":
            return Ring(payload or "VOICE")
        case "+CLIP":
            fields = split_fields(payload)
            number = fields[0] or None
            validity = to_int(fields[5]) if len(fields) > 5 else None
            return CallerId(number, to_int(fields[1]) if len(fields) > 1 else None, validity)
        case "+CCWA":
            return parse_ccwa(payload)
        case "+CLCC":
            return parse_clcc(payload)
        case "+RXDTMF":
            return DtmfReceived(payload[:1]) if payload[:1] in _DTMF_KEYS else None
        case "+CMTI" | "+CDSI":
            fields = split_fields(payload)
            index = to_int(fields[-1])
            if index is None or len(fields) < 2:
                return None
            return SmsStored(fields[0], index, status_report=head == "+CDSI")
        case "+CMT" | "+CDS":
            if line.body is None or not _HEX.match(line.body.strip()):
                return None
            return SmsPdu(line.body.strip(), status_report=head == "+CDS")
        case "+CUSD":
            return parse_ussd(payload)
        case "+CREG" | "+CGREG" | "+CEREG":
            return parse_registration(text)
        case "+CPIN":
            return SimState(payload) if payload else None
        case "+SIMCARD":
            return SimState("NOT AVAILABLE") if "NOT AVAILABLE" in payload else None
    return None


_INTEGER = re.compile(r"-?[0-9]{1,9}")
_DTMF_KEYS = frozenset("0123456789*#ABCD")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
_USSD = re.compile(r'^([0-9]{1,3})\s*(?:,\s*"(.*))?$', re.DOTALL)
_USSD_CLOSE = re.compile(r'"\s*(?:,\s*([0-9]{1,3})\s*)?$')
