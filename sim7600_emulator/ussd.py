"""USSD (AT+CUSD): scripted network answers to codes, sessions, and network-initiated pushes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .at_command import AtCommand, CommandKind, Final, Handler
from .charsets import from_host, to_host
from .context import ModemContext
from .errors import BadParameter, PlainError

DCS_GSM7 = 15
DCS_UCS2 = 72

STATUS_NEEDS_REPLY = 1
STATUS_NOT_SUPPORTED = 4


@dataclass(frozen=True)
class UssdReply:
    """The network's answer: `+CUSD: <status>[,"<text>",<dcs>]`.

    status: 0 done, 1 needs a reply (keeps the session open), 2 ended by network,
    3 other client, 4 not supported, 5 timeout.
    """

    status: int
    text: str | None
    dcs: int = DCS_GSM7


class UssdService:
    """Answers AT+CUSD=1,"<code>" from `responses` (unknown codes get `+CUSD: 4`) after OK."""

    def __init__(self, ctx: ModemContext) -> None:
        self._ctx = ctx
        self.responses: dict[str, UssdReply] = {}
        self.session_open = False

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        return {"+CUSD": self._cusd}

    def reset(self) -> None:
        """A reboot ends any session."""
        self.session_open = False

    def push(self, reply: UssdReply) -> None:
        """Send a +CUSD URC, shown only while presentation is on (AT+CUSD=1)."""
        settings = self._ctx.settings
        self.session_open = reply.status == STATUS_NEEDS_REPLY
        if not settings.cusd:
            return
        line = f"+CUSD: {reply.status}"
        if reply.text is not None:
            if reply.dcs == DCS_UCS2:
                encoded = reply.text.encode("utf-16-be").hex().upper()
            else:
                encoded = to_host(reply.text, settings.cscs)
            line += f',"{encoded}",{reply.dcs}'
        self._ctx.out.lines(line)

    async def _cusd(self, cmd: AtCommand) -> Final:
        settings = self._ctx.settings
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f"+CUSD: {settings.cusd}")
            return None
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CUSD: (0-2)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        n = cmd.int_arg(0, range(3))
        if n == 2:
            self.session_open = False
            return None
        settings.cusd = n
        if cmd.has_arg(1):
            cmd.int_arg(2, range(256), default=DCS_GSM7)
            try:
                code = from_host(cmd.str_arg(1), settings.cscs)
            except ValueError:
                raise BadParameter from None
            self._ctx.sim.check_ready()
            self._ctx.check_registered()
            reply = self.responses.get(code, UssdReply(STATUS_NOT_SUPPORTED, None))
            self._ctx.tasks.spawn(self._answer_later(reply), "ussd")
        return None

    async def _answer_later(self, reply: UssdReply) -> None:
        await asyncio.sleep(self._ctx.variants.ussd_delay)
        self.push(reply)
