"""The module behind the ports: command families wired to one AT session, power and boot."""

from __future__ import annotations

import asyncio

from .at_command import AtCommand, CommandKind, Final
from .at_output import AtOutput
from .at_session import AtSession
from .audio_stream import AudioStream
from .call_control import CallControl
from .clock import ModemClock
from .context import ModemContext
from .errors import BadParameter, CmeError, PlainError
from .general_commands import GeneralCommands
from .gnss import GnssEngine
from .identity import Identity
from .network import Network
from .network_commands import NetworkCommands
from .ports import ModemPort
from .settings import Settings
from .sim_card import SimCard
from .sim_commands import SimCommands
from .sms_commands import SmsCommands
from .sms_inbox import SmsInbox
from .tasks import TaskSet
from .ussd import UssdService
from .variants import Variants

CFUN_LEVELS = (0, 1, 4)
RESET_GRACE = 0.05
"""Seconds between the OK of AT+CRESET and the USB disconnect, so the OK reaches the host."""


class Modem:
    """Owns the shared context and every command family; runs boot, reboot and CFUN changes."""

    def __init__(
        self,
        identity: Identity,
        variants: Variants,
        at_port: ModemPort,
        audio_port: ModemPort,
        *,
        nmea_port: ModemPort,
        audio_speed: float,
    ) -> None:
        self._variants = variants
        self.tasks = TaskSet()
        self.ctx = ModemContext(
            identity=identity,
            variants=variants,
            out=AtOutput(at_port),
            tasks=self.tasks,
            clock=ModemClock(variants.clock_unsynced),
            sim=SimCard(identity.pin, identity.puk),
            network=Network(),
            settings=self.default_settings(),
        )
        self._ports = (at_port, audio_port, nmea_port)
        self.session = AtSession(self.ctx)
        self.audio = AudioStream(audio_port, self.tasks, audio_speed)
        self.network = NetworkCommands(self.ctx)
        self.calls = CallControl(self.ctx, self.audio)
        self.inbox = SmsInbox(self.ctx)
        self.sms = SmsCommands(self.ctx, self.inbox, self.session.read_prompt)
        self.ussd = UssdService(self.ctx)
        self.gnss = GnssEngine(self.ctx, nmea_port)
        families = (
            GeneralCommands(self.ctx, self.default_settings),
            SimCommands(self.ctx, self._sim_unlocked),
            self.network,
            self.calls,
            self.sms,
            self.ussd,
            self.gnss,
        )
        for family in families:
            self.session.handlers |= family.handlers()
        self.session.handlers |= {"+CFUN": self._cfun, "+CRESET": self._creset}

    def default_settings(self) -> Settings:
        """Settings after power-up."""
        return Settings(cmee=self._variants.cmee_default)

    def start(self) -> None:
        """Power on (the ports are already there): accept commands."""
        self.session.start()

    async def restart(self, *, reenumerate: bool) -> None:
        """Reboot: drop the call and settings, then RDY and the SIM banner.

        With `reenumerate` (AT+CRESET, AT+CFUN=1,1) the ports vanish and return like a USB
        device: RDY would go out while nobody can hear it, so only the banner follows the return.
        """
        ctx = self.ctx
        if reenumerate:
            await asyncio.sleep(RESET_GRACE)
        self.session.stop()
        self.calls.power_off()
        self.ussd.reset()
        self.gnss.power_off()
        ctx.settings = self.default_settings()
        ctx.network.cfun = 1
        ctx.sim.power_up()
        ctx.clock.restart()
        self.network.notify()
        if reenumerate:
            for port in self._ports:
                await port.drop()
        await asyncio.sleep(ctx.variants.boot_delay)
        if reenumerate:
            for port in self._ports:
                await port.restore()
        self.session.start()
        if ctx.variants.boot_rdy and not reenumerate:
            ctx.out.lines("RDY")
        await self._sim_banner()

    async def _sim_banner(self) -> None:
        """+CPIN: <state>; once the SIM is unlocked also SMS DONE and PB DONE, then registration."""
        ctx = self.ctx
        delay = ctx.variants.sim_ready_delay
        await asyncio.sleep(delay)
        try:
            status = ctx.sim.cpin_status()
        except CmeError:  # no card (absent, blocked): nothing to report
            return
        ctx.out.lines(f"+CPIN: {status}")
        if not ctx.sim.ready:
            return
        for line in ("SMS DONE", "PB DONE"):
            await asyncio.sleep(delay)
            ctx.out.lines(line)
        self.network.notify()

    def _sim_unlocked(self) -> None:
        self.tasks.spawn(self._sim_banner(), "sim-banner")

    async def _cfun(self, cmd: AtCommand) -> Final:
        ctx = self.ctx
        if cmd.kind is CommandKind.READ:
            ctx.out.lines(f"+CFUN: {ctx.network.cfun}")
            return None
        if cmd.kind is CommandKind.TEST:
            ctx.out.lines("+CFUN: (0,1,4),(0-1)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        level = cmd.int_arg(0, CFUN_LEVELS)
        if cmd.int_arg(1, range(2), default=0):
            if level != 1:
                raise BadParameter
            self.tasks.spawn(self.restart(reenumerate=True), "reset")
            return None
        self.tasks.spawn(self._change_functionality(level), "cfun")
        return None

    async def _change_functionality(self, level: int) -> None:
        """After CFUN's OK: radio off ends calls; CFUN=0 powers the SIM off, CFUN=1 back on."""
        ctx = self.ctx
        ctx.network.cfun = level
        if level != 1:
            self.calls.network_lost()
        if level == 0 and ctx.sim.powered:
            ctx.sim.powered = False
            ctx.out.lines("+SIMCARD: NOT AVAILABLE")
        self.network.notify()
        if level != 0 and not ctx.sim.powered:
            ctx.sim.power_up()
            await self._sim_banner()

    async def _creset(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            return None
        if cmd.kind is not CommandKind.ACTION:
            raise PlainError
        self.tasks.spawn(self.restart(reenumerate=True), "reset")
        return None
