"""The SIM's "SM" message store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

from .sms_pdu import SmsDeliver, SmsSubmit


class SmsStat(IntEnum):
    """<stat> of +CMGL/+CMGR; text mode uses the names with spaces ("REC UNREAD")."""

    REC_UNREAD = 0
    REC_READ = 1
    STO_UNSENT = 2
    STO_SENT = 3

    @property
    def text(self) -> str:
        """The text-mode name."""
        return self.name.replace("_", " ")


@dataclass
class StoredSms:
    """One stored message: its PDU as the host reads it, what it holds, and its stat.

    ``message`` is the received part (SMS-DELIVER), the user's sent or draft message
    (SMS-SUBMIT, stat STO SENT / STO UNSENT), or None for a PDU stored as raw bytes (one
    that a scenario made undecodable on purpose).
    """

    index: int
    stat: SmsStat
    message: SmsDeliver | SmsSubmit | None
    pdu: bytes


class SmsStorage:
    """Fixed capacity (default 30), slots numbered from `first_index`; the lowest free slot is used.

    Lives on the SIM, so it survives reboots. Iterating yields the messages by index.
    """

    def __init__(self, capacity: int = 30, first_index: int = 0) -> None:
        self.capacity = capacity
        self.first_index = first_index
        self.messages: dict[int, StoredSms] = {}

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[StoredSms]:
        return iter(sorted(self.messages.values(), key=lambda stored: stored.index))

    def __getitem__(self, index: int) -> StoredSms:
        return self.messages[index]

    def __contains__(self, index: object) -> bool:
        return index in self.messages

    @property
    def full(self) -> bool:
        """No free slot."""
        return len(self.messages) >= self.capacity

    def valid_index(self, index: int) -> bool:
        """Whether `index` names a slot of this storage (empty or not)."""
        return self.first_index <= index < self.first_index + self.capacity

    def store(self, message: SmsDeliver | SmsSubmit) -> StoredSms | None:
        """Put `message` in the lowest free slot: received ones unread, sent ones as sent;
        None when full."""
        stat = SmsStat.REC_UNREAD if isinstance(message, SmsDeliver) else SmsStat.STO_SENT
        return self.store_pdu(message.encode(), stat, message)

    def store_pdu(
        self, pdu: bytes, stat: SmsStat, message: SmsDeliver | SmsSubmit | None = None
    ) -> StoredSms | None:
        """Put `pdu` in the lowest free slot with `stat`; None when full."""
        index = next(
            (i for i in range(self.first_index, self.first_index + self.capacity) if i not in self),
            None,
        )
        if index is None:
            return None
        stored = StoredSms(index, stat, message, pdu)
        self.messages[index] = stored
        return stored

    def delete(self, index: int) -> None:
        """Empty slot `index` (nothing happens if it is empty)."""
        self.messages.pop(index, None)
