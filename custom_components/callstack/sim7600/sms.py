"""SMS in and out, in PDU mode, delivered exactly once.

Receiving is push-only: ``+CMTI`` names a storage index, which is read (``AT+CMGR``),
decoded and handed to the reassembler. Before the message is deleted from the SIM, the
fact that this part was handled, and any finished message, is committed to a journal
(the HA layer keeps it in ``.storage``). A crash between reading and deleting therefore
finds the part in the journal on the next sweep and deletes it without delivering it
twice. Stored messages are swept once at start-up and after every reconnect, which also
drains a full SIM.

Sending picks GSM 7-bit or UCS2, splits into concatenated parts and answers the ``> ``
prompt for each; the executor aborts with ESC when the modem does not answer in time or
the caller gives up, so the modem is never left waiting for a body.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import itertools
import logging
import time
from typing import Protocol

from . import validate
from .errors import AtCommandError, CmsError, Sim7600Error
from .events import ModemEvent, SmsDeliveryReport, SmsReceived
from .executor import Execute
from .redact import mask_number
from .sms_pdu import (
    PduDecodeError,
    SmsDeliver,
    SmsStatusReport,
    decode_pdu,
    encode_submit,
)
from .sms_reassembly import CompleteMessage, MalformedStateError, Reassembler
from .urc import SmsPdu, SmsStorageFull, SmsStored, split_fields, to_int

_LOGGER = logging.getLogger(__name__)

MAX_PART_KEYS = 2000  # handled parts remembered for de-duplication
SEND_TIMEOUT = 60.0  # the network can take 30-60 s to accept a message
MAX_PARTS = 10
_CMS_STORAGE_FULL = 322
# +CMS ERROR codes of a failed send, by the cause the HA layer reports.
SEND_ERRORS = {
    310: "no_sim",
    311: "no_sim",
    313: "no_sim",
    330: "smsc_unknown",
    331: "no_network",
    332: "no_network",
}
SMS_INIT = (
    "AT+CMGF=0",  # PDU mode: bodies are hex, so no text can pose as a result code
    'AT+CPMS="SM","SM","SM"',
    "AT+CNMI=2,1,0,1,0",  # +CMTI for new messages, +CDS for status reports
)


class SmsSendError(Sim7600Error):
    """Sending failed; ``reason`` is ``no_sim``, ``smsc_unknown``, ``no_network`` or
    ``rejected``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The modem could not send the SMS: {reason}")
        self.reason = reason


class SmsJournal(Protocol):
    """Durable memory of handled parts and held multipart groups."""

    def has_part(self, key: str) -> bool:
        """Whether the part with this key was already handled."""

    async def commit(self, part_key: str | None, reassembly: dict[str, object]) -> None:
        """Remember ``part_key`` (if any) and the reassembler state durably."""


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

    def add(self, key: str) -> None:
        """Remember ``key``, forgetting the oldest when full."""
        if key in self._known:
            return
        if len(self._order) >= MAX_PART_KEYS:
            self._known.discard(self._order.popleft())
        self._order.append(key)
        self._known.add(key)


class MemoryJournal:
    """A journal that forgets on restart (tests, benchmarks, a driver used on its own)."""

    def __init__(self) -> None:
        self.parts = RecentKeys()
        self.reassembly: dict[str, object] = {}

    def has_part(self, key: str) -> bool:
        """Whether the part with this key was already handled."""
        return key in self.parts

    async def commit(self, part_key: str | None, reassembly: dict[str, object]) -> None:
        """Remember in memory."""
        if part_key is not None:
            self.parts.add(part_key)
        self.reassembly = reassembly


@dataclass(frozen=True, slots=True)
class SendResult:
    """Message references the network assigned, one per part."""

    references: list[int]
    parts: int


def part_key(part: SmsDeliver) -> str:
    """The identity of a received part: sender, timestamp, reference, sequence and data,
    hashed so the journal on disk holds no number or text."""
    stamp = part.timestamp.isoformat() if part.timestamp else "-"
    ref = f"{part.udh.reference}/{part.udh.total}/{part.udh.seq}" if part.udh else "-"
    identity = f"{part.sender}|{stamp}|{ref}|".encode() + part.data
    return hashlib.sha256(identity).hexdigest()[:24]


class SmsService:
    """Receive, reassemble, journal and send SMS through ``execute``."""

    def __init__(
        self,
        execute: Execute,
        emit: Callable[[ModemEvent], None],
        on_change: Callable[[], None],
        journal: SmsJournal | None = None,
        *,
        max_part_age: float = 24 * 3600.0,
    ) -> None:
        self._execute = execute
        self._emit = emit
        self._on_change = on_change
        self.journal: SmsJournal = journal or MemoryJournal()
        self.reassembler = Reassembler()
        self.max_part_age = max_part_age
        self.storage_full = False
        self.received = 0
        self.duplicates = 0
        self.undecodable = 0
        self.last_received: datetime | None = None
        self._references = itertools.count(int(time.time()) & 0xFF)
        self._lock = asyncio.Lock()  # one stored message at a time, in arrival order

    def restore(self, reassembly: dict[str, object]) -> None:
        """Reload multipart groups held before a restart (a damaged journal starts empty)."""
        if not reassembly:
            return
        try:
            self.reassembler = Reassembler.from_dict(reassembly)
        except MalformedStateError:
            _LOGGER.warning("The saved multipart SMS state was damaged; starting empty")

    async def initialise(self, *, sweep: bool = True) -> None:
        """Put the modem in PDU mode with push notifications, then sweep the SIM."""
        for command in SMS_INIT:
            try:
                await self._execute(command)
            except AtCommandError:
                _LOGGER.debug("Modem refused an SMS setting")
        if sweep:
            await self.sweep()

    async def sweep(self) -> None:
        """Handle every message stored on the SIM (start-up, reconnect, full SIM)."""
        async with self._lock:
            await self._sweep()

    async def _sweep(self) -> None:
        try:
            lines = await self._execute("AT+CMGL=4", timeout=30.0)
        except AtCommandError:
            return
        for index, pdu in _listed_pdus(lines):
            await self._handle_stored(index, pdu)
        await self._expire()
        if self.storage_full:
            self.storage_full = False
            self._on_change()

    async def expire(self) -> None:
        """Deliver multipart groups that waited too long, flagged incomplete."""
        async with self._lock:
            await self._expire()

    async def _expire(self) -> None:
        expired = self.reassembler.expire(time.time(), self.max_part_age)
        if expired:
            # Persist first, or the groups would come back (and out again) after a restart.
            await self.journal.commit(None, self.reassembler.to_dict())
        for message in expired:
            self._deliver(message)

    async def handle(self, urc: SmsStored | SmsPdu | SmsStorageFull) -> None:
        """React to an SMS URC."""
        async with self._lock:
            await self._handle_urc(urc)

    async def _handle_urc(self, urc: SmsStored | SmsPdu | SmsStorageFull) -> None:
        match urc:
            case SmsStored(index=index):
                await self._read(index)
            case SmsPdu(pdu=pdu):
                self._handle_pdu(pdu)
            case SmsStorageFull():
                self.storage_full = True
                self._on_change()
                await self._sweep()

    async def _read(self, index: int) -> None:
        try:
            lines = await self._execute(f"AT+CMGR={index}", timeout=10.0)
        except CmsError as err:
            _LOGGER.debug("Could not read stored SMS (CMS %s)", err.code)
            return
        pdus = [line for line in lines if not line.startswith("+CMGR:")]
        if pdus:
            await self._handle_stored(index, pdus[0])

    async def _handle_stored(self, index: int, pdu: str) -> None:
        try:
            decoded = decode_pdu(pdu)
        except PduDecodeError:
            self.undecodable += 1
            _LOGGER.warning("Deleting a stored SMS that could not be decoded")
            await self._delete(index)
            return
        if isinstance(decoded, SmsStatusReport):
            self._report(decoded)
            await self._delete(index)
            return
        key = part_key(decoded)
        if self.journal.has_part(key):
            self.duplicates += 1
            await self._delete(index)
            return
        message = self.reassembler.add(decoded, now=time.time())
        await self.journal.commit(key, self.reassembler.to_dict())
        # Journalled: deliver now, then delete. Should the delete fail, the next sweep
        # finds the part in the journal and only deletes it.
        if message is not None:
            self._deliver(message)
        await self._delete(index)

    def _handle_pdu(self, pdu: str) -> None:
        """A message or report pushed directly (``+CMT``/``+CDS``): nothing to delete."""
        try:
            decoded = decode_pdu(pdu)
        except PduDecodeError:
            self.undecodable += 1
            return
        if isinstance(decoded, SmsStatusReport):
            self._report(decoded)
        elif (message := self.reassembler.add(decoded, now=time.time())) is not None:
            self._deliver(message)

    async def _delete(self, index: int) -> None:
        try:
            await self._execute(f"AT+CMGD={index}", timeout=10.0)
        except Sim7600Error as err:
            _LOGGER.debug("Could not delete a stored SMS: %s", type(err).__name__)

    def _deliver(self, message: CompleteMessage) -> None:
        self.received += 1
        self.last_received = datetime.now(UTC)
        _LOGGER.debug(
            "SMS from %s: %d of %d parts", mask_number(message.sender), message.parts, message.total
        )
        self._emit(SmsReceived(message))

    def _report(self, report: SmsStatusReport) -> None:
        self._emit(SmsDeliveryReport(report.reference, report.delivered, report.status))

    async def send(
        self, number: str, text: str, *, request_delivery_report: bool = False
    ) -> SendResult:
        """Send ``text`` to ``number``; raises :class:`SmsSendError` on failure."""
        number = validate.phone_number(number)
        text = validate.sms_text(text, MAX_PARTS)
        parts = encode_submit(
            number,
            text,
            reference=next(self._references) & 0xFF,
            request_status_report=request_delivery_report,
            max_parts=MAX_PARTS,
        )
        references: list[int] = []
        for part in parts:
            try:
                lines = await self._execute(
                    f"AT+CMGS={part.tpdu_length}",
                    timeout=SEND_TIMEOUT,
                    payload=part.hex.encode("ascii"),
                )
            except CmsError as err:
                if err.code == _CMS_STORAGE_FULL:
                    self.storage_full = True
                raise SmsSendError(SEND_ERRORS.get(err.code or 0, "rejected")) from err
            except AtCommandError as err:
                raise SmsSendError("rejected") from err
            reference = next(
                (to_int(line.partition(":")[2]) for line in lines if line.startswith("+CMGS:")),
                None,
            )
            if reference is not None:
                references.append(reference)
        return SendResult(references, len(parts))


def _listed_pdus(lines: list[str]) -> list[tuple[int, str]]:
    """Pair each ``+CMGL: <index>,<stat>,,<len>`` header with the PDU line after it."""
    out: list[tuple[int, str]] = []
    for header, body in itertools.pairwise(lines):
        if header.startswith("+CMGL:"):
            index = to_int(split_fields(header[6:])[0])
            if index is not None:
                out.append((index, body))
    return out
