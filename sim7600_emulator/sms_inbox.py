"""Messages from the network: SIM storage, retries while it is full, and the CNMI indications."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .clock import format_modem_time, network_time
from .context import ModemContext
from .sms_format import message_lines
from .sms_pdu import Alphabet, Concat, SmsDeliver, address_type, encode_status_report, tpdu_length
from .sms_segments import Encoding, choose_alphabet, split_text
from .sms_storage import SmsStorage

STATUS_REPORT_FIRST_OCTET = 6


@dataclass(frozen=True)
class SentSms:
    """A message the host sent with AT+CMGS, as the network received it."""

    destination: str
    text: str
    alphabet: Alphabet
    concat: Concat | None
    status_report: bool
    """Whether the host asked for a delivery report (TP-SRR)."""
    reference: int
    """TP-MR the module assigned, reported as `+CMGS: <mr>`."""
    mode: str
    """"pdu" or "text": how the host sent it."""
    submitted: datetime


class SmsInbox:
    """Delivers SMS-DELIVER parts as AT+CNMI says: stored and announced with +CMTI (mt=1),
    stored silently (mt=0) or shown at once with +CMT (mt=2/3). While the SIM is full an
    arriving part waits, as the network keeps retrying, and is stored when a slot frees up.
    """

    def __init__(self, ctx: ModemContext) -> None:
        self._ctx = ctx
        self.storage = SmsStorage(first_index=ctx.variants.sms_first_index)
        self.smsc = ctx.identity.smsc
        self.waiting: deque[SmsDeliver] = deque()
        self.status_reports: list[bytes] = []
        self._full_reported = False
        self._last_reference = 0

    def deliver(
        self,
        sender: str,
        text: str,
        *,
        encoding: Encoding,
        split: int | None,
        order: Sequence[int] | None,
        reference: int | None,
        ref16: bool,
        omit_parts: Sequence[int],
        store: bool,
        timestamp: datetime | None = None,
    ) -> list[int]:
        """Send `text` from `sender` as one or more parts; the storage indexes used right away."""
        alphabet = choose_alphabet(text, encoding)
        chunks = split_text(text, alphabet, split, ref16)
        total = len(chunks)
        sequence = list(order) if order is not None else list(range(1, total + 1))
        if not set(sequence) | set(omit_parts) <= set(range(1, total + 1)):
            raise ValueError(f"parts are numbered 1..{total}")
        if reference is None:
            self._last_reference += 1
            reference = self._last_reference % (65536 if ref16 else 256)
        timestamp = timestamp or network_time()
        indexes: list[int] = []
        for seq in sequence:
            if seq in omit_parts:
                continue
            concat = Concat(reference, total, seq, ref16) if total > 1 else None
            message = SmsDeliver(self.smsc, sender, timestamp, chunks[seq - 1], alphabet, concat)
            index = self._arrive(message, store)
            if index is not None:
                indexes.append(index)
        return indexes

    def space_freed(self) -> None:
        """After a deletion: store the parts the network was retrying (after the command's OK)."""
        if not self.storage.full:
            self._full_reported = False
        if self.waiting:
            self._ctx.tasks.spawn(self._retry_waiting(), "sms-retry")

    def report(self, sent: SentSms, status: int) -> None:
        """The network's delivery report for `sent`: +CDS (ds=1) or stored with +CDSI (ds=2)."""
        ctx = self._ctx
        discharged = network_time()
        pdu = encode_status_report(
            smsc=self.smsc,
            reference=sent.reference,
            recipient=sent.destination,
            submitted=sent.submitted,
            discharged=discharged,
            status=status,
        )
        ds = ctx.settings.cnmi[3]
        if ds == 1 and ctx.settings.cmgf == 1:
            ctx.out.lines(
                f"+CDS: {STATUS_REPORT_FIRST_OCTET},{sent.reference},"
                f'"{sent.destination}",{address_type(sent.destination)},'
                f'"{format_modem_time(sent.submitted)}","{format_modem_time(discharged)}",{status}'
            )
        elif ds == 1:
            ctx.out.lines(f"+CDS: {tpdu_length(pdu)}", pdu.hex().upper())
        elif ds == 2:
            self.status_reports.append(pdu)
            index = self.storage.first_index + len(self.status_reports) - 1
            ctx.out.lines(f'+CDSI: "SR",{index}')

    async def _retry_waiting(self) -> None:
        while self.waiting and not self.storage.full:
            self._arrive(self.waiting.popleft(), store=True)

    def _arrive(self, message: SmsDeliver, store: bool) -> int | None:
        ctx = self._ctx
        mt = ctx.settings.cnmi[1]
        if not store or mt >= 2:
            pdu = message.encode()
            text_mode = ctx.settings.cmgf == 1
            lines = message_lines(
                "+CMT", [], message, pdu, text_mode=text_mode, charset=ctx.settings.cscs
            )
            ctx.out.lines(*lines)
            return None
        stored = self.storage.store(message)
        if stored is None:
            self.waiting.append(message)
            if ctx.variants.sms_full_urc and not self._full_reported:
                self._full_reported = True
                ctx.out.lines("+SMS FULL")
            return None
        if mt == 1:
            ctx.out.lines(f'+CMTI: "SM",{stored.index}')
        return stored.index
