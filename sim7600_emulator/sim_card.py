"""The SIM card: its lock state, PIN and PUK attempts, and whether the module powers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import CmeError, CmsError

SimState = Literal["ready", "pin", "puk", "absent"]
"""States a scenario can put the SIM in (a SIM blocked after 10 wrong PUKs is "blocked")."""

PIN_ATTEMPTS = 3
PUK_ATTEMPTS = 10


@dataclass
class SimCard:
    """Lock state machine of AT+CPIN. `pin_enabled` makes every power-up ask for the PIN again."""

    pin: str
    puk: str
    state: SimState | Literal["blocked"] = "ready"
    pin_enabled: bool = False
    pin_attempts: int = PIN_ATTEMPTS
    puk_attempts: int = PUK_ATTEMPTS
    powered: bool = True

    @property
    def ready(self) -> bool:
        """Unlocked and powered: IMSI, SMS and registration are available."""
        return self.powered and self.state == "ready"

    def set_state(self, state: SimState) -> None:
        """Scenario control: insert, remove or lock the card."""
        self.state = state
        if state == "pin":
            self.pin_enabled = True
            self.pin_attempts = PIN_ATTEMPTS
        elif state == "puk":
            self.pin_attempts = 0
            self.puk_attempts = PUK_ATTEMPTS
        elif state == "ready":
            self.pin_enabled = False

    def power_up(self) -> None:
        """The module (re)starts the card: a PIN-protected SIM is locked again."""
        self.powered = True
        if self.state == "ready" and self.pin_enabled:
            self.state = "pin"

    def cpin_status(self) -> str:
        """What `+CPIN: <code>` reports; raises the CME error when there is no usable card."""
        self.check_present()
        return {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK"}[self.state]

    def check_present(self) -> None:
        """Raise +CME ERROR 10 (no SIM, or SIM powered off by CFUN=0) or 13 (blocked)."""
        if not self.powered or self.state == "absent":
            raise CmeError(10)
        if self.state == "blocked":
            raise CmeError(13)

    def check_ready(self) -> None:
        """Raise the CME error for a command that needs an unlocked SIM (10, 11, 12 or 13)."""
        self.check_present()
        if self.state == "pin":
            raise CmeError(11)
        if self.state == "puk":
            raise CmeError(12)

    def check_ready_for_sms(self) -> None:
        """The same check in +CMS ERROR terms: 310 no SIM, 311 PIN, 316 PUK, 313 failure."""
        try:
            self.check_ready()
        except CmeError as error:
            raise CmsError({10: 310, 11: 311, 12: 316}.get(error.code, 313)) from None

    def enter(self, code: str, new_pin: str | None) -> None:
        """AT+CPIN="<pin>" or AT+CPIN="<puk>","<new pin>"; wrong codes cost an attempt (+CME 16)."""
        self.check_present()
        if self.state == "pin":
            if code != self.pin:
                self.pin_attempts -= 1
                if self.pin_attempts == 0:
                    self.state = "puk"
                raise CmeError(16)
        elif self.state == "puk":
            if new_pin is None:
                raise CmeError(12)
            if code != self.puk:
                self.puk_attempts -= 1
                if self.puk_attempts == 0:
                    self.state = "blocked"
                raise CmeError(16)
            self.pin = new_pin
            self.puk_attempts = PUK_ATTEMPTS
        else:
            raise CmeError(3)
        self.state = "ready"
        self.pin_attempts = PIN_ATTEMPTS
