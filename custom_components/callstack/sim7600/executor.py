"""The AT command executor: one command at a time over one port, URCs routed aside.

A single reader task owns the port. Each line either belongs to the command in flight
(its echo, its response lines, its final result code) or is a URC, which is parsed and
handed to ``on_urc`` at once, even in the middle of another command's reply. Final result
codes become typed exceptions. A command that times out marks the line for a resync: the
next command first sends ``AT`` and waits out a short quiet window, so a late reply to the
timed-out command cannot be taken for the reply to the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import logging
import re
from typing import Protocol

from .errors import (
    AtCommandError,
    AtTimeoutError,
    CallResultError,
    CmeError,
    CmsError,
    CommandInterruptedError,
    InvalidArgumentError,
    PortClosedError,
    Sim7600Error,
)
from .lines import PROMPT, Line, LineSplitter
from .redact import RedactedLine
from .transport import SerialPort
from .urc import Urc, parse_urc

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
NO_REPLY = ""  # prefix for commands that reply with OK only
DEAD_AFTER_TIMEOUTS = 3  # consecutive timeouts after which the port counts as dead
# A held +CUSD line whose text has not closed is reported as it is after this much quiet.
HELD_LINE_QUIET = 0.5
_RESYNC_QUIET = 0.1
_CALL_FINALS = {"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"}
_UNSAFE = re.compile(r"[\r\n\x1a\x1b\x00]")
_PREFIX = re.compile(r"^AT([+^$][A-Z]+)", re.IGNORECASE)
# Text forms of +CME ERROR (AT+CMEE=2) mapped to their numbers (27.007 9.2).
_CME_TEXT = {
    "phone failure": 0,
    "operation not allowed": 3,
    "operation not supported": 4,
    "sim not inserted": 10,
    "sim pin required": 11,
    "sim puk required": 12,
    "sim failure": 13,
    "sim busy": 14,
    "sim wrong": 15,
    "incorrect password": 16,
    "no network service": 30,
    "unknown": 100,
}
_PREFIX_ALIASES = {"+CICCID:": "+ICCID:"}
# Commands whose reply is a bare line (no "+XXX:" prefix) on the SIM7600 or some firmware.
_BARE_REPLIES = frozenset(
    {"+CGMI:", "+CGMM:", "+CGMR:", "+CGSN:", "+CIMI:", "+GMI:", "+GMM:", "+GMR:", "+GSN:"}
)


class Execute(Protocol):
    """How the services of the driver run commands (the modem's ``execute``)."""

    def __call__(
        self,
        command: str,
        *,
        timeout: float | None = ...,
        payload: bytes | None = ...,
        prefix: str | None = ...,
        before_send: Callable[[], None] | None = ...,
    ) -> Awaitable[list[str]]: ...


@dataclass(slots=True)
class ExecutorStats:
    """Counters for diagnostics; they hold no line content."""

    commands: int = 0
    lines: int = 0
    urcs: int = 0
    unknown_lines: int = 0
    timeouts: int = 0
    consecutive_timeouts: int = 0
    callback_errors: int = 0
    resyncs: int = 0
    oversized_lines: int = 0  # garbage longer than a line may be, thrown away


@dataclass(slots=True)
class _Pending:
    command: str
    prefix: str | None
    call_final: bool
    done: asyncio.Future[list[str]]
    prompt: asyncio.Future[None] | None
    lines: list[str] = field(default_factory=list)
    payload_sent: bool = False


class AtExecutor:
    """Run AT commands on ``port`` and deliver URCs to ``on_urc``.

    ``on_lost`` is called once, with the cause, when the port fails or stops answering
    (:data:`DEAD_AFTER_TIMEOUTS` timeouts in a row); every later ``execute`` raises.
    """

    def __init__(
        self,
        port: SerialPort,
        on_urc: Callable[[Urc], None],
        on_lost: Callable[[Sim7600Error], None] | None = None,
    ) -> None:
        self.port = port
        self._on_urc = on_urc
        self._on_lost = on_lost
        self._splitter = LineSplitter()
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lost: Sim7600Error | None = None
        self._needs_resync = False
        self._held_line_timer: asyncio.TimerHandle | None = None
        self.stats = ExecutorStats()

    @property
    def alive(self) -> bool:
        """Whether the port is open and answering."""
        return self._lost is None and self._reader is not None and not self._reader.done()

    def start(self) -> None:
        """Start the reader task."""
        self._reader = asyncio.get_running_loop().create_task(
            self._read_loop(), name="callstack AT reader"
        )

    def interrupt(self, reason: PortClosedError) -> None:
        """Fail the command in flight now (with what the modem had answered): the modem
        restarted and forgot it, so its answer will never come. Queued commands go on."""
        self._fail_pending(reason)

    def refuse(self, reason: PortClosedError) -> None:
        """From now on every command not yet on the line fails with ``reason`` instead of
        being sent; the one in flight runs on until :meth:`close`. For a closing owner that
        still has work to wind down, which would otherwise free the line for a queued
        command (a dial, a USSD code) that nobody would then follow."""
        if self._lost is None:
            self._lost = reason

    async def close(self, reason: PortClosedError | None = None) -> None:
        """Stop the reader, fail a command in flight and every one queued behind it (with
        ``reason``, if given) and close the port."""
        if self._lost is None:
            self._lost = reason or PortClosedError("The port was closed")
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._watch_held_line(None)
        self._fail_pending(self._lost)
        await self.port.close()

    async def execute(
        self,
        command: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        payload: bytes | None = None,
        prefix: str | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> list[str]:
        """Send ``command`` and return its response lines (echo and final code removed).

        ``payload`` is sent after the ``> `` prompt and terminated with Ctrl-Z (SMS). When
        the reply has a known prefix (derived from the command, e.g. ``+CSQ:`` for
        ``AT+CSQ``) only lines with that prefix are taken; commands with bare replies
        (``ATI``, ``AT+CGSN``, ...) take every line that is not a URC. :data:`NO_REPLY`
        as ``prefix`` takes none: for commands whose answer comes as a URC that may
        arrive before their ``OK`` (``AT+CUSD=1``).

        ``before_send`` runs when the command is about to be written, after any wait for
        the line; if it raises, nothing is sent and the error propagates. A command that
        waited behind others thus acts on the state of that moment (``ATD``: a call that
        rang meanwhile).
        """
        if _UNSAFE.search(command) or (
            payload is not None and _UNSAFE.search(payload.decode("latin-1"))
        ):
            raise InvalidArgumentError("Control characters are not allowed in AT commands")
        async with self._lock:
            if self._lost is not None:
                raise self._lost
            if self._needs_resync:
                await self._resync(min(timeout, DEFAULT_TIMEOUT))
            if prefix is None:
                prefix = _derive_prefix(command)
            if before_send is not None:
                before_send()
            return await self._run(command, timeout, payload, prefix)

    async def execute_if_idle(
        self, command: str, timeout: float = DEFAULT_TIMEOUT
    ) -> list[str] | None:
        """Run a background query (a GNSS poll) only if no command runs now; else None.

        Nothing is sent when the port is busy, so the query never makes a call or SMS
        command wait in line behind it; one that arrives while it is on the line waits at
        most its round trip. The caller tries again later.
        """
        if self._lock.locked():
            return None
        return await self.execute(command, timeout=timeout)

    async def _run(
        self, command: str, timeout: float, payload: bytes | None, prefix: str | None
    ) -> list[str]:
        loop = asyncio.get_running_loop()
        upper = command.upper()
        pending = _Pending(
            command=command,
            prefix=prefix,
            call_final=upper.startswith(("ATD", "ATA")),
            done=loop.create_future(),
            prompt=loop.create_future() if payload is not None else None,
        )
        self._pending = pending
        self.stats.commands += 1
        if _LOGGER.isEnabledFor(logging.DEBUG):  # the hot path: no objects when quiet
            _LOGGER.debug("-> %s", RedactedLine(command))
        try:
            async with asyncio.timeout(timeout):
                self.port.write(command.encode("ascii") + b"\r")
                if pending.prompt is not None and payload is not None:
                    # The modem may answer an error instead of the prompt.
                    await asyncio.wait(
                        (pending.prompt, pending.done), return_when=asyncio.FIRST_COMPLETED
                    )
                    if not pending.done.done():
                        self.port.write(payload + b"\x1a")
                        pending.payload_sent = True
                result = await pending.done
        except TimeoutError:
            self._abandon(pending)
            self._timed_out()
            raise AtTimeoutError(
                "The modem did not answer in time",
                list(pending.lines),
                payload_sent=pending.payload_sent,
            ) from None
        except asyncio.CancelledError:
            # The caller gave up (an automation stopped): the modem may still answer, or
            # wait at the SMS prompt; treat it like a timeout without counting one.
            self._abandon(pending)
            self._needs_resync = True
            raise
        finally:
            self._pending = None
        self.stats.consecutive_timeouts = 0
        return result

    def _abandon(self, pending: _Pending) -> None:
        """Never leave the modem waiting for an SMS body nobody will send."""
        if pending.prompt is not None and not pending.done.done():
            with contextlib.suppress(PortClosedError):
                self.port.write(b"\x1b")

    def _timed_out(self) -> None:
        self.stats.timeouts += 1
        self.stats.consecutive_timeouts += 1
        self._needs_resync = True
        if self.stats.consecutive_timeouts >= DEAD_AFTER_TIMEOUTS:
            self._mark_lost(AtTimeoutError("The modem stopped answering"))

    async def _resync(self, timeout: float) -> None:
        """Swallow late replies to a timed-out command before the next one goes out."""
        self.stats.resyncs += 1
        await self._run("AT", timeout, None, None)
        self._needs_resync = False
        # A late OK of the timed-out command may have answered our AT: wait for the real one.
        self._pending = _Pending(
            "AT", None, False, asyncio.get_running_loop().create_future(), None
        )
        try:
            await asyncio.sleep(_RESYNC_QUIET)
        finally:
            self._pending = None

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.port.read()
                for item in self._splitter.feed(data):
                    self._handle(item)
                self.stats.oversized_lines = self._splitter.dropped
                self._watch_held_line(asyncio.get_running_loop())
        except PortClosedError as err:
            self._mark_lost(err)
        except Exception:
            # A bug must not leave a silent, half-dead port behind: report it and let the
            # supervisor start afresh.
            _LOGGER.exception("The AT reader failed")
            self._mark_lost(PortClosedError("The AT reader failed"))

    def _watch_held_line(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """(Re)start the quiet timer while the splitter holds a line; stop it otherwise."""
        if self._held_line_timer is not None:
            self._held_line_timer.cancel()
            self._held_line_timer = None
        if loop is not None and self._splitter.holding:
            self._held_line_timer = loop.call_later(HELD_LINE_QUIET, self._flush_held_line)

    def _flush_held_line(self) -> None:
        self._held_line_timer = None
        for item in self._splitter.flush():
            self._handle(item)

    def _mark_lost(self, err: Sim7600Error) -> None:
        if self._lost is not None:
            return
        self._lost = err
        self._fail_pending(err)
        if self._on_lost is not None:
            self._on_lost(err)

    def _fail_pending(self, err: Sim7600Error) -> None:
        """Fail the command in flight, with what the modem had answered so far: whether
        its effect happened (``+CMGS`` seen) is the caller's to judge."""
        pending = self._pending
        if pending is not None and not pending.done.done():
            pending.done.set_exception(
                CommandInterruptedError(err, list(pending.lines), pending.payload_sent)
            )
            # Nobody may be awaiting it any more (e.g. a timed-out resync window).
            pending.done.exception()

    def _handle(self, item: Line | str) -> None:
        pending = self._pending
        if item == PROMPT:
            if pending is not None and pending.prompt is not None and not pending.prompt.done():
                pending.prompt.set_result(None)
            return
        assert isinstance(item, Line)
        self.stats.lines += 1
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("<- %s", RedactedLine(item.text))
        text = item.text.strip()
        if pending is not None and not pending.done.done():
            if text == pending.command:
                return  # echo (echo stays on until ATE0)
            if self._finish(pending, text):
                return
            if pending.prefix and text.startswith(pending.prefix):
                self._take(pending, item, text)
                return
        urc = parse_urc(item)
        if urc is not None:
            self.stats.urcs += 1
            try:
                self._on_urc(urc)
            except Exception:
                self.stats.callback_errors += 1
                _LOGGER.exception("URC handler failed for %s", type(urc).__name__)
            return
        if pending is not None and not pending.done.done() and pending.prefix is None:
            self._take(pending, item, text)
            return
        self.stats.unknown_lines += 1

    @staticmethod
    def _take(pending: _Pending, item: Line, text: str) -> None:
        pending.lines.append(text)
        if item.body is not None:
            pending.lines.append(item.body)

    @staticmethod
    def _finish(pending: _Pending, text: str) -> bool:
        """Resolve ``pending`` if ``text`` is its final result code."""
        if text == "OK":
            pending.done.set_result(pending.lines)
        elif text == "ERROR":
            pending.done.set_exception(AtCommandError())
        elif text.startswith("+CME ERROR:"):
            pending.done.set_exception(
                CmeError("The modem reported an equipment error", _error_code(text, _CME_TEXT))
            )
        elif text.startswith("+CMS ERROR:"):
            pending.done.set_exception(
                CmsError("The modem reported a message service error", _error_code(text, {}))
            )
        elif pending.call_final and text in _CALL_FINALS:
            pending.done.set_exception(CallResultError(f"Call ended: {text.lower()}"))
        else:
            return False
        return True


def _derive_prefix(command: str) -> str | None:
    match = _PREFIX.match(command)
    if not match:
        return None
    prefix = match.group(1).upper() + ":"
    if prefix in _BARE_REPLIES:
        return None
    return _PREFIX_ALIASES.get(prefix, prefix)


def _error_code(text: str, names: dict[str, int]) -> int | None:
    detail = text.partition(":")[2].strip()
    if detail.isdigit():
        return int(detail)
    return names.get(detail.lower())
