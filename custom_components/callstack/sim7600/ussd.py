"""USSD sessions (balance checks, operator menus).

``AT+CUSD=1,"<code>",15`` is answered ``OK`` at once; the network's answer comes later
as a ``+CUSD`` URC. Its text is GSM 7-bit as the character set says, or, with dcs 72,
UCS2 as hex (and with ``AT+CSCS="HEX"`` even dcs 15 text arrives as hex).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import logging
import re

from . import validate
from .errors import ModemClosedError, Sim7600Error
from .events import ModemEvent, UssdReceived
from .executor import NO_REPLY, Execute
from .urc import UssdResponse

_LOGGER = logging.getLogger(__name__)

STATUSES = {
    0: "done",
    1: "needs_reply",
    2: "network_ended",
    3: "done",  # answered by another client on the modem
    4: "unsupported",
    5: "timeout",
}
_HEX = re.compile(r"(?:[0-9A-Fa-f]{4})+")
_UCS2_DCS = 72


@dataclass(frozen=True, slots=True)
class UssdResult:
    """The network's answer: ``status`` as in :data:`STATUSES`, or ``timeout``."""

    status: str
    message: str | None


def decode_ussd_text(text: str | None, dcs: int | None) -> str | None:
    """Decode ``+CUSD`` text: UCS2 hex for dcs 72 (or hex-looking dcs 15 text)."""
    if text is None:
        return None
    if (dcs == _UCS2_DCS or (dcs is not None and dcs & 0x0C == 0x08)) and _HEX.fullmatch(text):
        return bytes.fromhex(text).decode("utf-16-be", "replace")
    return text


class UssdService:
    """One USSD session at a time; unrequested messages become events."""

    def __init__(self, execute: Execute, emit: Callable[[ModemEvent], None]) -> None:
        self._execute = execute
        self._emit = emit
        self._waiter: asyncio.Future[UssdResponse] | None = None
        self._lock = asyncio.Lock()

    async def send(self, code: str, timeout: float = 30.0) -> UssdResult:
        """Send a USSD code, or the reply to a session that asked for one."""
        code = validate.ussd_code(code)
        async with self._lock:
            waiter = asyncio.get_running_loop().create_future()

            def arm() -> None:
                # Runs when AT+CUSD is written (the executor writes right after, with no
                # yield between): only from then on can a +CUSD be the answer. Until then
                # (the code may wait behind an SMS send) every +CUSD is a network message.
                self._waiter = waiter

            try:
                # The answer is a +CUSD URC, which may come before the OK.
                await self._execute(
                    f'AT+CUSD=1,"{code}",15', timeout=10.0, prefix=NO_REPLY, before_send=arm
                )
                async with asyncio.timeout(timeout):
                    response = await waiter
            except TimeoutError:
                await self.cancel()
                return UssdResult("timeout", None)
            finally:
                self._waiter = None
        status = STATUSES.get(response.status, "unsupported")
        return UssdResult(status, decode_ussd_text(response.text, response.dcs))

    def close(self) -> None:
        """The modem is closing: a wait for an answer ends now, as none will come."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ModemClosedError())

    async def cancel(self) -> None:
        """End an open session (``AT+CUSD=2``)."""
        with contextlib.suppress(Sim7600Error):
            await self._execute("AT+CUSD=2", timeout=5.0)

    def handle(self, urc: UssdResponse) -> None:
        """A ``+CUSD`` URC: the answer we wait for, or a network-initiated message."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(urc)
            return
        status = STATUSES.get(urc.status, "unsupported")
        _LOGGER.debug("Network-initiated USSD message, status %s", status)
        self._emit(UssdReceived(status, decode_ussd_text(urc.text, urc.dcs)))
