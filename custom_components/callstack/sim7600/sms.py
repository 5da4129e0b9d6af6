"""SMS in and out, in PDU mode, delivered exactly once.

Receiving is push-only: ``+CMTI`` names a storage index, which is read (``AT+CMGR``),
decoded and handed to the reassembler. Only received messages (stat 0/1) are ours: the
user's sent and draft messages (stat 2/3) are left alone, and so is a received PDU the
decoder cannot read (counted, logged once, kept for the user to read on a phone).

Each part goes through three steps, in this order, so that an interruption anywhere
(an unload, a reload, HA stopping, a crash) delays a message but never drops or doubles
it:

1. *journal*: the part's key, the multipart state and every message the part finishes
   (in the journal's outbox) change together in memory and are saved;
2. *deliver*: once that save is durable, the outbox is emitted and emptied, with no
   await in between, so nothing can cancel one without the other;
3. *delete*: the SIM copy goes only after a durable save names its key.

A save that is not durable (HA's storage defers writes while it stops) stops at step 1:
the part stays on the SIM and the message in the outbox, and the next start delivers it
once, from the outbox if the deferred write reached the disk, from the SIM if it did not.
A sweep first delivers what an interrupted run left in the outbox. Stored messages are
swept once at start-up and after every reconnect, which also drains a full SIM.

Sending picks GSM 7-bit or UCS2, splits into concatenated parts and answers the ``> ``
prompt for each; the executor aborts with ESC when the modem does not answer in time or
the caller gives up, so the modem is never left waiting for a body. When the connection
closes or the modem stops answering in the middle, parts the network confirmed
(``+CMGS``) count as sent, and a part handed over without confirmation as possibly sent:
the caller is never told "failed" for a message that may have gone out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import itertools
import logging
import time

from . import validate
from .errors import (
    AtCommandError,
    AtTimeoutError,
    CmsError,
    CommandInterruptedError,
    PortClosedError,
    Sim7600Error,
)
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
from .sms_reassembly import CompleteMessage, Reassembler
from .sms_state import MemoryJournal, RecentKeys, SmsJournal
from .urc import SmsPdu, SmsStorageFull, SmsStored, split_fields, to_int

_LOGGER = logging.getLogger(__name__)

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
RECEIVED_STATS = frozenset({0, 1})  # REC UNREAD, REC READ; 2/3 are the user's sent/drafts
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


class SmsSendInterruptedError(Sim7600Error):
    """The connection closed, or the modem stopped answering, in the middle of sending:
    ``sent`` of ``parts`` parts were confirmed by the network; when ``unconfirmed``, one
    more was handed to the modem and may have gone out too. Sending again may deliver
    those twice."""

    def __init__(self, sent: int, parts: int, *, unconfirmed: bool) -> None:
        super().__init__(f"Sending was interrupted after {sent} of {parts} parts")
        self.sent = sent
        self.parts = parts
        self.unconfirmed = unconfirmed


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
        self.max_part_age = max_part_age
        self.storage_full = False
        self.received = 0
        self.duplicates = 0
        self.undecodable = 0
        self.last_received: datetime | None = None
        self._durable = True  # the journal's state as loaded is on disk
        self._undecodable = RecentKeys()  # digests of undecodable PDUs, counted once each
        self._references = itertools.count(int(time.time()) & 0xFF)
        self._lock = asyncio.Lock()  # one stored message at a time, in arrival order

    @property
    def reassembler(self) -> Reassembler:
        """Multipart groups waiting for parts (kept in the journal)."""
        return self.journal.state.reassembler

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
        """Deliver what an interrupted run left journalled, then handle every message
        stored on the SIM (start-up, reconnect, full SIM)."""
        async with self._lock:
            if self.journal.state.outbox:
                await self._commit()
            await self._sweep()

    async def _sweep(self) -> None:
        try:
            lines = await self._execute("AT+CMGL=4", timeout=30.0)
        except AtCommandError:
            return
        for index, stat, pdu in _listed_pdus(lines):
            await self._handle_stored(index, stat, pdu)
        await self._expire()
        if self.storage_full and not await self._still_full():
            self.storage_full = False
            self._on_change()

    async def _still_full(self) -> bool:
        """Whether what stays on the SIM (sent, drafts, unreadable) still fills it."""
        try:
            lines = await self._execute('AT+CPMS="SM","SM","SM"')
        except AtCommandError:
            return False
        for line in lines:
            counts = [to_int(field) for field in split_fields(line.partition(":")[2])]
            if len(counts) >= 2 and counts[0] is not None and counts[1] is not None:
                return counts[0] >= counts[1]
        return False

    async def expire(self) -> None:
        """Deliver multipart groups that waited too long, flagged incomplete."""
        async with self._lock:
            await self._expire()

    async def _expire(self) -> None:
        expired = self.reassembler.expire(time.time(), self.max_part_age)
        if expired:
            # Journalled first, or the groups would come back (and out again) after a restart.
            self.journal.state.outbox.extend(expired)
            await self._commit()

    async def handle(self, urc: SmsStored | SmsPdu | SmsStorageFull) -> None:
        """React to an SMS URC."""
        async with self._lock:
            await self._handle_urc(urc)

    async def _handle_urc(self, urc: SmsStored | SmsPdu | SmsStorageFull) -> None:
        match urc:
            case SmsStored(index=index):
                await self._read(index)
            case SmsPdu(pdu=pdu):
                await self._handle_pushed(pdu)
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
        stat = next(
            (to_int(split_fields(line[6:])[0]) for line in lines if line.startswith("+CMGR:")),
            None,
        )
        pdus = [line for line in lines if not line.startswith("+CMGR:")]
        if stat is not None and pdus:
            await self._handle_stored(index, stat, pdus[0])

    async def _handle_stored(self, index: int, stat: int, pdu: str) -> None:
        if stat not in RECEIVED_STATS:
            return  # the user's own sent or draft message
        try:
            decoded = decode_pdu(pdu)
        except PduDecodeError:
            self._keep_undecodable(index, pdu)
            return
        if isinstance(decoded, SmsStatusReport):
            self._report(decoded)
        else:
            await self._take(decoded)
        if self._durable:
            await self._delete(index)

    async def _handle_pushed(self, pdu: str) -> None:
        """A message or report pushed directly (``+CMT``/``+CDS``): nothing to delete."""
        try:
            decoded = decode_pdu(pdu)
        except PduDecodeError:
            if self._first_sight(pdu):
                _LOGGER.warning("A pushed SMS could not be decoded (the modem keeps no copy)")
            return
        if isinstance(decoded, SmsStatusReport):
            self._report(decoded)
        else:
            await self._take(decoded)

    async def _take(self, part: SmsDeliver) -> None:
        """Journal ``part`` and deliver what it finishes (steps 1 and 2 of the module
        docstring), unless it was journalled already."""
        key = part_key(part)
        state = self.journal.state
        if key in state.parts:
            self.duplicates += 1
            return
        # One synchronous step: key, groups and finished messages change together.
        state.parts.add(key)
        state.outbox.extend(state.reassembler.add(part, now=time.time()))
        await self._commit()

    async def _commit(self) -> None:
        """Save the journal; once durable, deliver the outbox in the same step."""
        self._durable = await self.journal.save()
        if not self._durable:
            _LOGGER.debug("SMS journal write deferred; messages wait on the SIM")
            return
        outbox = self.journal.state.outbox
        if outbox:
            delivered = list(outbox)
            outbox.clear()
            for message in delivered:
                self._deliver(message)
            self.journal.save_soon()

    def _keep_undecodable(self, index: int, pdu: str) -> None:
        if self._first_sight(pdu):
            _LOGGER.warning(
                "A received SMS in SIM slot %d could not be decoded; it stays on the SIM "
                "(read it with a phone, then delete it there)",
                index,
            )

    def _first_sight(self, pdu: str) -> bool:
        """Count an undecodable PDU once, however often a sweep finds it again."""
        digest = hashlib.sha256(pdu.encode()).hexdigest()
        if digest in self._undecodable:
            return False
        self._undecodable.add(digest)
        self.undecodable += 1
        return True

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
        """Send ``text`` to ``number``; raises :class:`SmsSendError` on failure and
        :class:`SmsSendInterruptedError` when the connection closed part-way."""
        number = validate.sms_recipient(number)
        text = validate.sms_text(text, MAX_PARTS)
        parts = encode_submit(
            number,
            text,
            reference=next(self._references) & 0xFF,
            request_status_report=request_delivery_report,
            max_parts=MAX_PARTS,
        )
        references: list[int] = []
        for sent, part in enumerate(parts):
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
            except (PortClosedError, AtTimeoutError) as err:
                # Closed or timed out in the middle: what the modem answered and was
                # handed by then decides whether the SMS went out, may have, or did not.
                lines = _reply_before(err)
                confirmed = sent + _confirmed(lines)
                if confirmed < len(parts):
                    unconfirmed = _payload_sent(err) and not _confirmed(lines)
                    if not (confirmed or unconfirmed):
                        raise  # nothing went out: safe to send again
                    raise SmsSendInterruptedError(
                        confirmed, len(parts), unconfirmed=unconfirmed
                    ) from err
                # The network took the last part; only the final OK went missing.
            references.extend(_references_in(lines))
        return SendResult(references, len(parts))


def _confirmed(lines: list[str]) -> bool:
    return any(line.startswith("+CMGS:") for line in lines)


def _reply_before(err: PortClosedError | AtTimeoutError) -> list[str]:
    return err.reply if isinstance(err, CommandInterruptedError | AtTimeoutError) else []


def _payload_sent(err: PortClosedError | AtTimeoutError) -> bool:
    return isinstance(err, CommandInterruptedError | AtTimeoutError) and err.payload_sent


def _references_in(lines: list[str]) -> list[int]:
    found = (to_int(line.partition(":")[2]) for line in lines if line.startswith("+CMGS:"))
    return [reference for reference in found if reference is not None]


def _listed_pdus(lines: list[str]) -> list[tuple[int, int, str]]:
    """Pair each ``+CMGL: <index>,<stat>,,<len>`` header with the PDU line after it."""
    out: list[tuple[int, int, str]] = []
    for header, body in itertools.pairwise(lines):
        if header.startswith("+CMGL:"):
            fields = split_fields(header[6:])
            index = to_int(fields[0])
            stat = to_int(fields[1]) if len(fields) > 1 else None
            if index is not None and stat is not None:
                out.append((index, stat, body))
    return out
