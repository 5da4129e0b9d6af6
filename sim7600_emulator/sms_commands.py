"""SMS commands of 3GPP TS 27.005: configuration, reading, deleting and sending."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from .at_command import AtCommand, CommandKind, Final, Handler
from .charsets import CHARSETS, from_host
from .clock import network_time
from .context import ModemContext
from .errors import BadParameter, CmsError, PlainError
from .sms_format import message_lines
from .sms_inbox import SentSms, SmsInbox
from .sms_pdu import PduError, alphabet_of, decode_submit, tpdu_length
from .sms_storage import SmsStat, StoredSms

STORAGE = "SM"
CMGL_ALL = 4
CNMI_RANGES = (range(4), range(4), range(4), range(3), range(2))
DELETE_FLAGS: dict[int, set[SmsStat]] = {
    1: {SmsStat.REC_READ},
    2: {SmsStat.REC_READ, SmsStat.STO_SENT},
    3: {SmsStat.REC_READ, SmsStat.STO_SENT, SmsStat.STO_UNSENT},
    4: set(SmsStat),
}
"""Which messages AT+CMGD=<i>,<delflag> deletes besides index i (delflag 0 deletes only it)."""

PromptReader = Callable[[bool], Awaitable[bytes | None]]


class SmsCommands:
    """Reading marks REC UNREAD as REC READ; AT+CMGS prompts with `\\r\\n> ` and reads to Ctrl-Z."""

    def __init__(self, ctx: ModemContext, inbox: SmsInbox, read_prompt: PromptReader) -> None:
        self._ctx = ctx
        self._inbox = inbox
        self._read_prompt = read_prompt
        self.sent: list[SentSms] = []
        self.send_error: int | None = None
        """Answer the next AT+CMGS with +CMS ERROR: <n> (then back to None)."""
        self.send_delay = 0.0
        """Seconds the network takes to accept a message (real: up to 30-60 s)."""
        self._last_reference = -1

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        ctx = self._ctx
        return {
            "+CMGF": ctx.setting_command("cmgf", "+CMGF", range(2)),
            "+CSCS": self._cscs,
            "+CSMP": self._csmp,
            "+CNMI": self._cnmi,
            "+CSCA": self._csca,
            "+CPMS": self._sms(self._cpms),
            "+CMGR": self._sms(self._cmgr),
            "+CMGL": self._sms(self._cmgl),
            "+CMGD": self._sms(self._cmgd),
            "+CMGS": self._sms(self._cmgs),
        }

    def _sms(self, handler: Handler) -> Handler:
        """Needs an unlocked SIM; bad parameters are +CMS ERROR 304 (PDU mode) / 305 (text)."""

        async def handle(cmd: AtCommand) -> Final:
            if cmd.kind is not CommandKind.TEST:
                self._ctx.sim.check_ready_for_sms()
            try:
                return await handler(cmd)
            except BadParameter:
                raise CmsError(305 if self._text_mode else 304) from None

        return handle

    @property
    def _text_mode(self) -> bool:
        return self._ctx.settings.cmgf == 1

    # Configuration ------------------------------------------------------------------------------

    async def _cscs(self, cmd: AtCommand) -> Final:
        settings = self._ctx.settings
        if cmd.kind is CommandKind.SET:
            charset = cmd.str_arg(0).upper()
            if charset not in CHARSETS:
                raise BadParameter
            settings.cscs = charset
        elif cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f'+CSCS: "{settings.cscs}"')
        elif cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CSCS: (" + ",".join(f'"{name}"' for name in CHARSETS) + ")")
        else:
            raise PlainError
        return None

    async def _csmp(self, cmd: AtCommand) -> Final:
        settings = self._ctx.settings
        if cmd.kind is CommandKind.SET:
            fo, vp, pid, dcs = (
                cmd.int_arg(i, range(256), default=current)
                for i, current in enumerate(settings.csmp)
            )
            settings.csmp = (fo, vp, pid, dcs)
        elif cmd.kind is CommandKind.READ:
            self._ctx.out.lines("+CSMP: " + ",".join(map(str, settings.csmp)))
        elif cmd.kind is not CommandKind.TEST:
            raise PlainError
        return None

    async def _cnmi(self, cmd: AtCommand) -> Final:
        settings = self._ctx.settings
        if cmd.kind is CommandKind.SET:
            mode, mt, bm, ds, bfr = (
                cmd.int_arg(i, choices, default=current)
                for i, (choices, current) in enumerate(zip(CNMI_RANGES, settings.cnmi, strict=True))
            )
            settings.cnmi = (mode, mt, bm, ds, bfr)
        elif cmd.kind is CommandKind.READ:
            self._ctx.out.lines("+CNMI: " + ",".join(map(str, settings.cnmi)))
        elif cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CNMI: (0-3),(0-3),(0-3),(0-2),(0-1)")
        else:
            raise PlainError
        return None

    async def _csca(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.SET:
            self._inbox.smsc = cmd.str_arg(0)
        elif cmd.kind is CommandKind.READ:
            smsc = self._inbox.smsc
            self._ctx.out.lines(f'+CSCA: "{smsc}",{145 if smsc.startswith("+") else 129}')
        elif cmd.kind is not CommandKind.TEST:
            raise PlainError
        return None

    async def _cpms(self, cmd: AtCommand) -> Final:
        storage = self._inbox.storage
        usage = f"{len(storage)},{storage.capacity}"
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(
                f'+CPMS: "{STORAGE}",{usage},"{STORAGE}",{usage},"{STORAGE}",{usage}'
            )
        elif cmd.kind is CommandKind.TEST:
            self._ctx.out.lines(f'+CPMS: ("{STORAGE}"),("{STORAGE}"),("{STORAGE}")')
        elif cmd.kind is CommandKind.SET:
            if not cmd.args or any(arg.upper() != STORAGE for arg in cmd.args):
                raise CmsError(302)
            self._ctx.out.lines("+CPMS: " + ",".join([usage] * 3))
        else:
            raise PlainError
        return None

    # Reading and deleting ---------------------------------------------------------------------

    def _lines(self, command: str, fields: list[str], stored: StoredSms) -> list[str]:
        settings = self._ctx.settings
        return message_lines(
            command,
            fields,
            stored.message,
            stored.pdu,
            text_mode=self._text_mode,
            charset=settings.cscs,
        )

    def _stat_field(self, stat: SmsStat) -> str:
        return f'"{stat.text}"' if self._text_mode else str(int(stat))

    async def _cmgr(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            return None
        index = cmd.int_arg(0)
        storage = self._inbox.storage
        if index not in storage:
            raise CmsError(321)
        stored = storage[index]
        self._ctx.out.lines(*self._lines("+CMGR", [self._stat_field(stored.stat)], stored))
        self._mark_read(stored)
        return None

    async def _cmgl(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            names = ["REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"]
            listed = ",".join(f'"{name}"' for name in names) if self._text_mode else "0-4"
            self._ctx.out.lines(f"+CMGL: ({listed})")
            return None
        wanted = self._listed_stat(cmd)
        lines: list[str] = []
        for stored in self._inbox.storage:
            if wanted is None or stored.stat is wanted:
                fields = [str(stored.index), self._stat_field(stored.stat)]
                lines += self._lines("+CMGL", fields, stored)
                self._mark_read(stored)
        if lines:
            self._ctx.out.lines(*lines)
        return None

    def _listed_stat(self, cmd: AtCommand) -> SmsStat | None:
        """The stat AT+CMGL asks for (None = all); REC UNREAD when omitted."""
        if self._text_mode:
            name = cmd.str_arg(0, default="REC UNREAD").upper()
            if name == "ALL":
                return None
            try:
                return SmsStat[name.replace(" ", "_")]
            except KeyError:
                raise BadParameter from None
        value = cmd.int_arg(0, range(5), default=0)
        return None if value == CMGL_ALL else SmsStat(value)

    @staticmethod
    def _mark_read(stored: StoredSms) -> None:
        if stored.stat is SmsStat.REC_UNREAD:
            stored.stat = SmsStat.REC_READ

    async def _cmgd(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            storage = self._inbox.storage
            indexes = ",".join(str(stored.index) for stored in storage)
            self._ctx.out.lines(f"+CMGD: ({indexes}),(0-4)")
            return None
        index = cmd.int_arg(0)
        flag = cmd.int_arg(1, range(5), default=0)
        storage = self._inbox.storage
        if not storage.valid_index(index):
            raise CmsError(321)
        doomed = DELETE_FLAGS.get(flag, set())
        for stored in list(storage):
            if stored.index == index or stored.stat in doomed:
                storage.delete(stored.index)
        self._inbox.space_freed()
        return None

    # Sending ----------------------------------------------------------------------------------

    async def _cmgs(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        build: Callable[[bytes], SentSms]
        if self._text_mode:
            try:
                destination = from_host(cmd.str_arg(0), self._ctx.settings.cscs)
            except ValueError:
                raise BadParameter from None
            cmd.int_arg(1, range(256), default=129)
            build = partial(self._from_text, destination)
        else:
            build = partial(self._from_pdu, cmd.int_arg(0, range(1, 177)))
        self._ctx.out.raw(b"\r\n> ")
        body = await self._read_prompt(self._text_mode)
        if body is None:
            return None  # ESC: the message is discarded
        sent = build(body)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        if self.send_error is not None:
            code, self.send_error = self.send_error, None
            raise CmsError(code)
        if not self._ctx.registered:
            raise CmsError(331)
        self.sent.append(sent)
        self._ctx.out.lines(f"+CMGS: {sent.reference}")
        return None

    def _next_reference(self) -> int:
        self._last_reference = (self._last_reference + 1) % 256
        return self._last_reference

    def _from_text(self, destination: str, body: bytes) -> SentSms:
        first_octet, _, _, dcs = self._ctx.settings.csmp
        try:
            text = from_host(body.decode("latin-1"), self._ctx.settings.cscs)
        except ValueError:
            raise CmsError(305) from None
        return SentSms(
            destination=destination,
            text=text,
            alphabet=alphabet_of(dcs),
            concat=None,
            status_report=bool(first_octet & 0x20),
            reference=self._next_reference(),
            mode="text",
            submitted=network_time(),
        )

    def _from_pdu(self, length: int, body: bytes) -> SentSms:
        try:
            pdu = bytes.fromhex(body.decode("latin-1").strip())
            if not pdu or tpdu_length(pdu) != length:
                raise PduError("length does not match AT+CMGS")
            submit = decode_submit(pdu)
        except ValueError:
            raise CmsError(304) from None
        return SentSms(
            destination=submit.destination,
            text=submit.text,
            alphabet=submit.alphabet,
            concat=submit.concat,
            status_report=submit.status_report,
            reference=self._next_reference(),
            mode="pdu",
            submitted=network_time(),
        )
