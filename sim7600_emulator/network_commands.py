"""Signal, registration, operator and serving-cell commands, and the registration URCs."""

from __future__ import annotations

from .at_command import AtCommand, CommandKind, Final, Handler
from .context import ModemContext
from .errors import CmeError, PlainError
from .network import (
    ACCESS_TECHNOLOGY,
    NETWORK_MODE,
    REGISTERED,
    REGISTRATION_DOMAINS,
    RegistrationDomain,
)

_SETTING: dict[RegistrationDomain, str] = {"+CREG": "creg", "+CGREG": "cgreg", "+CEREG": "cereg"}


class NetworkCommands:
    """Answers from the Network state; notify() sends +CxREG URCs when a state changes."""

    def __init__(self, ctx: ModemContext) -> None:
        self._ctx = ctx
        self._reported = {domain: ctx.registration(domain) for domain in REGISTRATION_DOMAINS}

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        handlers: dict[str, Handler] = {
            "+CSQ": self._csq,
            "+COPS": self._cops,
            "+CPSI": self._cpsi,
            "+CNSMOD": self._cnsmod,
        }
        for domain in REGISTRATION_DOMAINS:
            handlers[domain] = self._registration_command(domain)
        return handlers

    def notify(self) -> None:
        """Send `+CxREG: <stat>[,...]` for each domain whose state changed, as AT+CxREG=n asks."""
        for domain in REGISTRATION_DOMAINS:
            stat = self._ctx.registration(domain)
            if stat == self._reported[domain]:
                continue
            self._reported[domain] = stat
            n = getattr(self._ctx.settings, _SETTING[domain])
            if n:
                self._ctx.out.lines(f"{domain}: {stat}{self._location(n, stat)}")

    def _location(self, n: int, stat: int) -> str:
        return self._ctx.network.location() if n == 2 and stat in REGISTERED else ""

    def _registration_command(self, domain: RegistrationDomain) -> Handler:
        attribute = _SETTING[domain]
        setting = self._ctx.setting_command(attribute, domain, range(3))

        async def handle(cmd: AtCommand) -> Final:
            if cmd.kind is not CommandKind.READ:
                return await setting(cmd)
            n = getattr(self._ctx.settings, attribute)
            stat = self._ctx.registration(domain)
            self._ctx.out.lines(f"{domain}: {n},{stat}{self._location(n, stat)}")
            return None

        return handle

    async def _csq(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CSQ: (0-31,99),(0-7,99)")
            return None
        if cmd.kind is not CommandKind.ACTION:
            raise PlainError
        network = self._ctx.network
        rssi = network.rssi if network.cfun == 1 else 99
        self._ctx.out.lines(f"+CSQ: {rssi},{network.ber}")
        return None

    async def _cops(self, cmd: AtCommand) -> Final:
        ctx = self._ctx
        network = ctx.network
        if cmd.kind is CommandKind.SET:
            ctx.settings.cops_format = cmd.int_arg(1, range(3), default=ctx.settings.cops_format)
            cmd.int_arg(0, range(5))
            return None
        if cmd.kind is CommandKind.TEST:
            act = ACCESS_TECHNOLOGY[network.tech]
            ctx.out.lines(
                f'+COPS: (2,"{network.operator}","{network.operator}","{network.plmn}",{act}),,'
                "(0-4),(0-2)"
            )
            return None
        if cmd.kind is not CommandKind.READ:
            raise PlainError
        if not ctx.registered:
            ctx.out.lines("+COPS: 0")
            return None
        fmt = ctx.settings.cops_format
        name = network.plmn if fmt == 2 else network.operator
        ctx.out.lines(f'+COPS: 0,{fmt},"{name}",{ACCESS_TECHNOLOGY[network.tech]}')
        return None

    async def _cpsi(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(self._ctx.network.cpsi(self._ctx.registered))
            return None
        if cmd.kind is CommandKind.SET:
            if cmd.int_arg(0) != 0:
                raise CmeError(4)  # periodic +CPSI reports are not emulated; turning them off is
            return None
        raise PlainError

    async def _cnsmod(self, cmd: AtCommand) -> Final:
        if cmd.kind is not CommandKind.READ:
            return await self._ctx.setting_command("cnsmod", "+CNSMOD", range(2))(cmd)
        mode = NETWORK_MODE[self._ctx.network.tech] if self._ctx.registered else 0
        self._ctx.out.lines(f"+CNSMOD: {self._ctx.settings.cnsmod},{mode}")
        return None
