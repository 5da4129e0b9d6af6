"""State every command family shares, handed to each of them at construction."""

from __future__ import annotations

from dataclasses import dataclass

from .at_command import AtCommand, CommandKind, Final, Handler
from .at_output import AtOutput
from .clock import ModemClock
from .errors import CmeError, PlainError
from .identity import Identity
from .network import REGISTERED, Network, RegistrationDomain
from .settings import Settings
from .sim_card import SimCard
from .tasks import TaskSet
from .variants import Variants


@dataclass
class ModemContext:
    """The module's shared state. `settings` is replaced on reboot, so always read it from here."""

    identity: Identity
    variants: Variants
    out: AtOutput
    tasks: TaskSet
    clock: ModemClock
    sim: SimCard
    network: Network
    settings: Settings

    def registration(self, domain: RegistrationDomain) -> int:
        """<stat> of `domain` as +CREG/+CGREG/+CEREG report it now."""
        return self.network.stat_for(domain, self.sim.ready)

    @property
    def registered(self) -> bool:
        """Whether calls, SMS and USSD can reach the network (packet domain registered)."""
        return self.registration("+CGREG") in REGISTERED

    def check_registered(self) -> None:
        """Raise +CME ERROR 30 (no network service) unless registered."""
        if not self.registered:
            raise CmeError(30)

    def setting_command(
        self, attribute: str, name: str, choices: range, read_suffix: str = ""
    ) -> Handler:
        """A handler for a command that just stores a number: AT+X=<n>, AT+X? and AT+X=?.

        Extra parameters (AT+DDET=1,0,0,0) are accepted and ignored.
        """

        async def handle(cmd: AtCommand) -> Final:
            if cmd.kind is CommandKind.SET:
                setattr(self.settings, attribute, cmd.int_arg(0, choices))
            elif cmd.kind is CommandKind.READ:
                self.out.lines(f"{name}: {getattr(self.settings, attribute)}{read_suffix}")
            elif cmd.kind is CommandKind.TEST:
                self.out.lines(f"{name}: ({choices.start}-{choices.stop - 1})")
            else:
                raise PlainError
            return None

        return handle
