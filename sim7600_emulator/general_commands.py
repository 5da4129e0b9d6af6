"""Basic commands: AT, echo, profile reset, error reporting, clock and the module's identity."""

from __future__ import annotations

from collections.abc import Callable

from .at_command import AtCommand, CommandKind, Final, Handler
from .clock import format_modem_time
from .context import ModemContext
from .errors import PlainError
from .settings import Settings

MANUFACTURER = "SIMCOM INCORPORATED"
MODEL = "SIMCOM_SIM7600G-H"
SUB_VERSION = "B04V03"


class GeneralCommands:
    """Identity answers follow real captures (sim7600.md section 2); ATI and CGSN carry the IMEI."""

    def __init__(self, ctx: ModemContext, reset_settings: Callable[[], Settings]) -> None:
        self._ctx = ctx
        self._reset_settings = reset_settings

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        ctx = self._ctx
        variants = ctx.variants
        handlers: dict[str, Handler] = {
            "": self._ok,
            "E": self._echo,
            "Z": self._reset,
            "&F": self._reset,
            "I": self._ati,
            "+SIMCOMATI": self._simcomati,
            "+CMEE": ctx.setting_command("cmee", "+CMEE", range(3)),
            "+CCLK": self._cclk,
            "+CGMI": self._constant(MANUFACTURER),
            "+CGMM": self._constant(MODEL),
            "+CGMR": self._constant(f"+CGMR: {variants.firmware}"),
            "+CSUB": self._constant(f"+CSUB: {SUB_VERSION}"),
            "+CGSN": self._constant(ctx.identity.imei),
            "+CIMI": self._cimi,
            "+CICCID": self._ciccid,
            "+CNUM": self._cnum,
        }
        if variants.gmx_commands:
            handlers["+GMI"] = self._constant(MANUFACTURER)
            handlers["+GMM"] = self._constant(MODEL)
            handlers["+GMR"] = self._constant(f"+GMR: {variants.firmware}")
        return handlers

    def _constant(self, line: str) -> Handler:
        async def handle(cmd: AtCommand) -> Final:
            if cmd.kind is CommandKind.TEST:
                return None
            if cmd.kind is not CommandKind.ACTION:
                raise PlainError
            self._ctx.out.lines(line)
            return None

        return handle

    async def _ok(self, cmd: AtCommand) -> Final:
        return None

    async def _echo(self, cmd: AtCommand) -> Final:
        if cmd.rest not in ("", "0", "1"):
            raise PlainError
        self._ctx.settings.echo = cmd.rest == "1"
        return None

    async def _reset(self, cmd: AtCommand) -> Final:
        if cmd.rest not in ("", "0"):
            raise PlainError
        self._ctx.settings = self._reset_settings()
        return None

    def _ati_lines(self) -> list[str]:
        return [
            f"Manufacturer: {MANUFACTURER}",
            f"Model: {MODEL}",
            f"Revision: {self._ctx.variants.firmware}",
            f"IMEI: {self._ctx.identity.imei}",
            "+GCAP: +CGSM",
        ]

    async def _ati(self, cmd: AtCommand) -> Final:
        if cmd.rest not in ("", "0"):
            raise PlainError
        self._ctx.out.lines(*self._ati_lines())
        return None

    async def _simcomati(self, cmd: AtCommand) -> Final:
        lines = self._ati_lines()
        lines[3:3] = [f"QCN: {MODEL}_{SUB_VERSION}", "MEID: ", "DeviceInfo: 173,170"]
        self._ctx.out.lines(*lines)
        return None

    async def _cclk(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f'+CCLK: "{format_modem_time(self._ctx.clock.now())}"')
            return None
        if cmd.kind in (CommandKind.SET, CommandKind.TEST):
            return None  # setting the clock is accepted; network time keeps it
        raise PlainError

    async def _cimi(self, cmd: AtCommand) -> Final:
        self._ctx.sim.check_ready()
        self._ctx.out.lines(self._ctx.identity.imsi)
        return None

    async def _ciccid(self, cmd: AtCommand) -> Final:
        self._ctx.sim.check_present()
        self._ctx.out.lines(f"+ICCID: {self._ctx.identity.iccid}")
        return None

    async def _cnum(self, cmd: AtCommand) -> Final:
        self._ctx.sim.check_ready()
        if self._ctx.variants.cnum_reports_number:
            self._ctx.out.lines(f'+CNUM: "","{self._ctx.identity.msisdn}",145')
        return None
