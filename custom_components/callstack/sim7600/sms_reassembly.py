"""Reassembly of concatenated (multipart) SMS.

Parts of one message arrive as separate SMS-DELIVERs, in any order, sometimes twice,
sometimes never. They are held per (sender, reference, total, ref_bits) until all have
arrived, or until the caller decides they waited long enough (``expire``), in which
case the user still gets what arrived rather than nothing.

A sender's references wrap (one octet), so a later message can reuse the reference of
one that lost a part. A part is therefore only a repeat of a held one when its content
and service-centre time stamp match too; a part that conflicts with the group (the same
number with other content or another time stamp, or a time stamp further than
:data:`PART_TIME_WINDOW` from every held part: the parts of one message are submitted
together) starts a new group, and the old one is handed out as ``incomplete`` at once.

Pure: no I/O and no clock; ``now`` is passed in. Because the Home Assistant layer
persists held parts across restarts, ``now`` must then be wall-clock seconds (e.g.
``time.time()``), not a monotonic clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any

from .errors import Sim7600Error
from .sms_pdu import SmsDeliver

__all__ = ["PART_TIME_WINDOW", "CompleteMessage", "MalformedStateError", "Reassembler"]

_STATE_VERSION = 1
PART_TIME_WINDOW = timedelta(minutes=15)
_MAX_REFERENCE = 0xFFFF
_MAX_TOTAL = 255


class MalformedStateError(Sim7600Error, ValueError):
    """Persisted data given to ``from_dict`` is not what ``to_dict`` produces."""


@dataclass(frozen=True, slots=True)
class CompleteMessage:
    """A whole message, or what arrived of it when ``incomplete``.

    ``timestamp`` is that of the lowest-numbered part received; ``reference`` is None
    for a single-part SMS; ``missing`` lists the absent part numbers (their text is
    simply left out of ``text``).
    """

    sender: str
    text: str
    timestamp: datetime | None
    parts: int
    total: int
    incomplete: bool
    reference: int | None
    missing: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict; ``from_dict`` reverses it."""
        return {
            "sender": self.sender,
            "text": self.text,
            "timestamp": _dump_time(self.timestamp),
            "parts": self.parts,
            "total": self.total,
            "incomplete": self.incomplete,
            "reference": self.reference,
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CompleteMessage:
        """Rebuild from ``to_dict`` output; MalformedStateError when malformed."""
        reference = data.get("reference")
        return cls(
            sender=_field(data, "sender", str),
            text=_field(data, "text", str),
            timestamp=_load_time(data.get("timestamp")),
            parts=_int(data.get("parts"), "parts", _MAX_TOTAL),
            total=_int(data.get("total"), "total", _MAX_TOTAL, minimum=1),
            incomplete=_field(data, "incomplete", bool),
            reference=None if reference is None else _int(reference, "reference", _MAX_REFERENCE),
            missing=tuple(_int(seq, "missing", _MAX_TOTAL) for seq in _list(data, "missing")),
        )


@dataclass(frozen=True, slots=True)
class _Key:
    """Identifies one multipart message; the sender is part of it because references
    are only unique per sender."""

    sender: str
    reference: int
    total: int
    ref_bits: int


@dataclass(frozen=True, slots=True)
class _Part:
    text: str
    timestamp: datetime | None


@dataclass(slots=True)
class _Group:
    """Parts of one message held so far; mutable because parts trickle in."""

    first_seen: float
    parts: dict[int, _Part]

    def conflicts(self, seq: int, part: _Part) -> bool:
        """Whether ``part`` (number ``seq``) cannot belong to the message held here."""
        if (same := self.parts.get(seq)) is not None:
            return same != part
        if part.timestamp is None:
            return False
        stamps = [held.timestamp for held in self.parts.values() if held.timestamp is not None]
        return bool(stamps) and all(
            abs(part.timestamp - stamp) > PART_TIME_WINDOW for stamp in stamps
        )


class Reassembler:
    """Holds parts of multipart messages until they are complete or expire."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[_Key, _Group] = {}

    def __len__(self) -> int:
        """Number of messages waiting for parts."""
        return len(self._groups)

    def add(self, part: SmsDeliver, *, now: float) -> list[CompleteMessage]:
        """Take one received SMS; return the messages it finishes, in delivery order.

        That is none while parts are missing, the whole message with its last part, and
        first of all the held group this part conflicts with (a reused reference), marked
        incomplete. A repeat of a held part (same number, content and time stamp) is
        ignored: modems and networks do deliver duplicates.
        """
        concat = part.udh
        if concat is None:
            return [
                CompleteMessage(
                    sender=part.sender,
                    text=part.text,
                    timestamp=part.timestamp,
                    parts=1,
                    total=1,
                    incomplete=False,
                    reference=None,
                    missing=(),
                )
            ]
        key = _Key(part.sender, concat.reference, concat.total, concat.ref_bits)
        held = _Part(part.text, part.timestamp)
        out: list[CompleteMessage] = []
        group = self._groups.get(key)
        if group is not None and group.conflicts(concat.seq, held):
            out.append(_assemble(key, self._groups.pop(key)))
            group = None
        if group is None:
            group = self._groups[key] = _Group(first_seen=now, parts={})
        group.parts.setdefault(concat.seq, held)
        if len(group.parts) == key.total:
            out.append(_assemble(key, self._groups.pop(key)))
        return out

    def expire(self, now: float, max_age: float) -> list[CompleteMessage]:
        """Give up on messages first seen at least max_age ago; return what arrived."""
        stale = [key for key, group in self._groups.items() if now - group.first_seen >= max_age]
        stale.sort(key=lambda key: self._groups[key].first_seen)
        return [_assemble(key, self._groups.pop(key)) for key in stale]

    def to_dict(self) -> dict[str, Any]:
        """Held parts as a plain JSON-compatible dict, for persisting across restarts."""
        return {
            "version": _STATE_VERSION,
            "groups": [
                {
                    "sender": key.sender,
                    "reference": key.reference,
                    "total": key.total,
                    "ref_bits": key.ref_bits,
                    "first_seen": group.first_seen,
                    "parts": [
                        {"seq": seq, "text": held.text, "timestamp": _dump_time(held.timestamp)}
                        for seq, held in sorted(group.parts.items())
                    ],
                }
                for key, group in self._groups.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Reassembler:
        """Rebuild from ``to_dict`` output; MalformedStateError when malformed."""
        if data.get("version") != _STATE_VERSION:
            raise MalformedStateError("unknown reassembly state version")
        reassembler = cls()
        for raw_group in _list(data, "groups"):
            key, group = _load_group(_mapping(raw_group))
            reassembler._groups[key] = group
        return reassembler


def _load_group(data: Mapping[str, object]) -> tuple[_Key, _Group]:
    key = _Key(
        sender=_field(data, "sender", str),
        reference=_int(data.get("reference"), "reference", _MAX_REFERENCE),
        total=_int(data.get("total"), "total", _MAX_TOTAL, minimum=1),
        ref_bits=_int(data.get("ref_bits"), "ref_bits"),
    )
    if key.ref_bits not in (8, 16):
        raise MalformedStateError("malformed field: ref_bits")
    first_seen = data.get("first_seen")
    if (
        isinstance(first_seen, bool)
        or not isinstance(first_seen, int | float)
        or not math.isfinite(first_seen)
    ):
        raise MalformedStateError("malformed field: first_seen")
    parts: dict[int, _Part] = {}
    for raw_part in _list(data, "parts"):
        part = _mapping(raw_part)
        seq = _int(part.get("seq"), "seq")
        if not 1 <= seq <= key.total:
            raise MalformedStateError("malformed field: seq")
        parts[seq] = _Part(_field(part, "text", str), _load_time(part.get("timestamp")))
    if not parts:
        raise MalformedStateError("malformed field: parts")
    return key, _Group(float(first_seen), parts)


def _assemble(key: _Key, group: _Group) -> CompleteMessage:
    seqs = sorted(group.parts)
    missing = tuple(seq for seq in range(1, key.total + 1) if seq not in group.parts)
    return CompleteMessage(
        sender=key.sender,
        text="".join(group.parts[seq].text for seq in seqs),
        timestamp=group.parts[seqs[0]].timestamp,
        parts=len(seqs),
        total=key.total,
        incomplete=bool(missing),
        reference=key.reference,
        missing=missing,
    )


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedStateError("malformed entry")
    return value


def _list(data: Mapping[str, object], name: str) -> list[object]:
    return _field(data, name, list)


def _field[T](data: Mapping[str, object], name: str, kind: type[T]) -> T:
    value = data.get(name)
    if not isinstance(value, kind):
        raise MalformedStateError(f"malformed field: {name}")
    return value


def _int(value: object, name: str, maximum: int | None = None, *, minimum: int = 0) -> int:
    if (
        isinstance(value, bool)  # bool is an int subclass
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise MalformedStateError(f"malformed field: {name}")
    return value


def _dump_time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _load_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedStateError("malformed field: timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedStateError("malformed field: timestamp") from None
    if moment.utcoffset() is None:  # SMSC time stamps carry their zone; others cannot compare
        raise MalformedStateError("malformed field: timestamp")
    return moment
