"""What the SMS service must remember across restarts, and the journal that keeps it.

Three things, changed together and saved together: the keys of the parts already taken
off the SIM, the multipart groups still waiting for parts, and the *outbox* of finished
messages journalled but not yet handed to the subscribers. The outbox is what makes a
message survive an interruption between its journal write and its delivery: whatever
cancels the service there, the message is delivered from the outbox by the next sweep,
in this process or after a restart, and the SIM copy is only deleted once the write that
names it is durable.

``JournalState.from_dict`` is the one loader of saved state: it checks the shape of
everything it reads and raises :class:`MalformedStateError` for anything else, so a
damaged file can never crash whoever loads it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .sms_reassembly import CompleteMessage, MalformedStateError, Reassembler

__all__ = [
    "MAX_PART_KEYS",
    "JournalState",
    "MalformedStateError",
    "MemoryJournal",
    "RecentKeys",
    "SmsJournal",
]

MAX_PART_KEYS = 2000  # handled parts remembered for de-duplication
_MAX_KEY_LENGTH = 64


class RecentKeys:
    """The last :data:`MAX_PART_KEYS` part keys, oldest forgotten first.

    A SIM holds a few dozen messages, so a part older than this can never come back from
    it; the bound keeps the journal from growing for ever.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._order: deque[str] = deque()
        self._known: set[str] = set()
        for key in keys:
            self.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def add(self, key: str) -> None:
        """Remember ``key``, forgetting the oldest when full."""
        if key in self._known:
            return
        if len(self._order) >= MAX_PART_KEYS:
            self._known.discard(self._order.popleft())
        self._order.append(key)
        self._known.add(key)


@dataclass(slots=True)
class JournalState:
    """Parts taken, groups held, messages journalled but not delivered yet."""

    parts: RecentKeys = field(default_factory=RecentKeys)
    reassembler: Reassembler = field(default_factory=Reassembler)
    outbox: list[CompleteMessage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict; :meth:`from_dict` reverses it."""
        return {
            "parts": list(self.parts),
            "reassembly": self.reassembler.to_dict(),
            "outbox": [message.to_dict() for message in self.outbox],
        }

    @classmethod
    def from_dict(cls, data: object) -> JournalState:
        """Rebuild saved state; :class:`MalformedStateError` for anything of another shape.

        ``None`` (nothing saved yet) is the empty state. A journal written before the
        outbox existed has no ``outbox``, and one written before the first message no
        ``reassembly`` content: both are read as empty.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise MalformedStateError("malformed journal")
        parts = data.get("parts", [])
        if not isinstance(parts, list) or not all(
            isinstance(key, str) and 0 < len(key) <= _MAX_KEY_LENGTH for key in parts
        ):
            raise MalformedStateError("malformed field: parts")
        reassembly = data.get("reassembly", {})
        if not isinstance(reassembly, Mapping):
            raise MalformedStateError("malformed field: reassembly")
        outbox = data.get("outbox", [])
        if not isinstance(outbox, list) or not all(isinstance(item, Mapping) for item in outbox):
            raise MalformedStateError("malformed field: outbox")
        return cls(
            parts=RecentKeys(parts),
            reassembler=Reassembler.from_dict(reassembly) if reassembly else Reassembler(),
            outbox=[CompleteMessage.from_dict(item) for item in outbox],
        )


class SmsJournal(Protocol):
    """Durable keeper of a :class:`JournalState`.

    The service changes ``state`` in place and then saves it. ``save`` returns whether the
    state is now durable (on disk): False when the write was deferred, as Home Assistant's
    storage does while it stops; the service then neither delivers nor deletes anything
    that depends on it. ``save_soon`` is for changes that may be lost without harm (a
    delivered message leaving the outbox: at worst it is delivered again after a crash).
    """

    state: JournalState

    async def save(self) -> bool:
        """Write ``state``; True once it is durable."""

    def save_soon(self) -> None:
        """Write ``state`` a little later (and at the latest when the process stops)."""


class MemoryJournal:
    """A journal that forgets on restart (tests, benchmarks, a driver used on its own);
    shared by driver objects in one process, it carries the state across a close and a
    new connect."""

    def __init__(self) -> None:
        self.state = JournalState()
        self.saves = 0

    async def save(self) -> bool:
        """Memory is as durable as it gets here."""
        self.saves += 1
        return True

    def save_soon(self) -> None:
        """Nothing to write."""
