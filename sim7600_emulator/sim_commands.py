"""AT+CPIN and AT+SPIC: unlocking the SIM and reading its remaining attempts."""

from __future__ import annotations

from collections.abc import Callable

from .at_command import AtCommand, CommandKind, Final, Handler
from .context import ModemContext
from .errors import PlainError
from .sim_card import PIN_ATTEMPTS, PUK_ATTEMPTS


class SimCommands:
    """A correct PIN is answered OK, then `on_unlocked` sends +CPIN: READY, SMS DONE, PB DONE."""

    def __init__(self, ctx: ModemContext, on_unlocked: Callable[[], None]) -> None:
        self._ctx = ctx
        self._on_unlocked = on_unlocked

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        return {"+CPIN": self._cpin, "+SPIC": self._spic}

    async def _cpin(self, cmd: AtCommand) -> Final:
        sim = self._ctx.sim
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f"+CPIN: {sim.cpin_status()}")
            return None
        if cmd.kind is CommandKind.TEST:
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        code = cmd.str_arg(0)
        new_pin = cmd.str_arg(1) if cmd.has_arg(1) else None
        sim.enter(code, new_pin)
        self._on_unlocked()
        return None

    async def _spic(self, cmd: AtCommand) -> Final:
        """SIMCom's remaining-attempts query [U]: `+SPIC: <pin>,<puk>,<pin2>,<puk2>`."""
        sim = self._ctx.sim
        self._ctx.out.lines(
            f"+SPIC: {sim.pin_attempts},{sim.puk_attempts},{PIN_ATTEMPTS},{PUK_ATTEMPTS}"
        )
        return None
