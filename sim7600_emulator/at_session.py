"""The module's AT interpreter: frames the host's bytes into lines, echoes, runs one at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging

from .at_command import NO_FINAL, AtCommand, CommandKind, Handler, parse_command
from .context import ModemContext
from .errors import AtFailure

_LOGGER = logging.getLogger(__name__)

MAX_LINE = 4096
"""Longest command line kept; a longer one is discarded, like an overflowing input buffer."""

CTRL_Z = 0x1A
ESC = 0x1B
CR = 0x0D
LF = 0x0A


@dataclass
class HangRule:
    """The next `remaining` commands starting with `prefix` get no answer at all."""

    prefix: str
    remaining: int


@dataclass
class DelayRule:
    """The next `remaining` commands starting with `prefix` get their final result code
    `seconds` after the rest of their reply."""

    prefix: str
    seconds: float
    remaining: int


class AtSession:
    """Reads the AT port. Input waits, unframed, while a command runs; the SMS prompt reads raw.

    The worker frames lazily, so a line sent right after AT+CMGS is read as the SMS body, just
    as the module would, and the host can pipeline commands.
    """

    def __init__(self, ctx: ModemContext) -> None:
        self._ctx = ctx
        self.handlers: dict[str, Handler] = {}
        self.commands: list[str] = []
        self._buffer = bytearray()
        self._input = asyncio.Event()
        self._new_command = asyncio.Event()
        self._hangs: list[HangRule] = []
        self._delays: list[DelayRule] = []
        self._worker: asyncio.Task[None] | None = None
        self._lf_may_follow = False

    def feed(self, data: bytes) -> None:
        """Bytes from the host; ignored while the module is off (booting)."""
        if self._worker is None:
            return
        self._buffer += data
        self._input.set()

    def start(self) -> None:
        """Power on: start reading commands."""
        if self._worker is None:
            self._worker = self._ctx.tasks.spawn(self._run(), "at-session")

    def stop(self) -> None:
        """Power off: drop whatever the host had sent and any command in progress."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self._buffer.clear()
        self._lf_may_follow = False

    def hang(self, prefix: str, times: int) -> None:
        """Leave the next `times` commands starting with `prefix` unanswered (not even echoed)."""
        self._hangs.append(HangRule(prefix.upper(), times))

    def delay_final(self, prefix: str, seconds: float, times: int) -> None:
        """Hold back the final result code of the next `times` commands starting with
        `prefix` by `seconds` (the reply lines before it go out at once)."""
        self._delays.append(DelayRule(prefix.upper(), seconds, times))

    async def wait_for_command(self, prefix: str, timeout: float, after: int) -> str:
        """The first command from index `after` on that starts with `prefix` (any case)."""
        prefix = prefix.upper()
        async with asyncio.timeout(timeout):
            while True:
                for command in self.commands[after:]:
                    if command.upper().startswith(prefix):
                        return command
                after = len(self.commands)
                self._new_command.clear()
                await self._new_command.wait()

    async def read_prompt(self, text_mode: bool) -> bytes | None:
        """After `> `: the SMS body up to Ctrl-Z, or None if the host sent ESC.

        Body bytes are echoed when echo is on; in text mode each CR gets the `\\r\\n> ` prompt.
        """
        body = bytearray()
        while True:
            self._skip_lf()
            if not self._buffer:
                await self._wait_input()
                continue
            end = next((i for i, b in enumerate(self._buffer) if b in (CTRL_Z, ESC)), None)
            chunk = bytes(self._buffer if end is None else self._buffer[:end])
            terminator = None if end is None else self._buffer[end]
            del self._buffer[: len(chunk) + (terminator is not None)]
            self._echo_prompt_input(chunk, text_mode)
            body += chunk
            if terminator is not None:
                return bytes(body) if terminator == CTRL_Z else None

    async def _run(self) -> None:
        while True:
            line = await self._next_line()
            await self._execute(line)

    async def _next_line(self) -> bytes:
        while True:
            self._skip_lf()
            end = self._buffer.find(b"\r")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    self._buffer.clear()
                await self._wait_input()
                continue
            line = bytes(self._buffer[:end]).strip(b"\n")
            del self._buffer[: end + 1]
            self._lf_may_follow = True
            if line.strip():
                return line

    async def _wait_input(self) -> None:
        self._input.clear()
        await self._input.wait()

    def _skip_lf(self) -> None:
        """Accept \\r\\n line endings: an LF right after the CR that ended a line is dropped."""
        if self._lf_may_follow and self._buffer:
            if self._buffer[0] == LF:
                del self._buffer[0]
            self._lf_may_follow = False

    def _echo_prompt_input(self, chunk: bytes, text_mode: bool) -> None:
        echoed = bytearray()
        for byte in chunk:
            if text_mode and byte == CR:
                echoed += b"\r\n> "
            elif self._ctx.settings.echo:
                echoed.append(byte)
        if echoed:
            self._ctx.out.raw(bytes(echoed))

    async def _execute(self, line: bytes) -> None:
        cmd = parse_command(line.decode("latin-1"))
        if cmd is None:
            self._echo(line)
            return
        self.commands.append(cmd.line)
        self._new_command.set()
        if self._take_hang(cmd):
            return
        self._echo(line)
        await self._dispatch(cmd)

    async def _dispatch(self, cmd: AtCommand) -> None:
        out = self._ctx.out
        handler = self.handlers.get(cmd.name)
        if handler is None or cmd.kind is CommandKind.INVALID:
            out.lines("ERROR")
            return
        try:
            final = await handler(cmd)
        except AtFailure as failure:
            out.lines(failure.final(self._ctx.settings.cmee))
            return
        except Exception:
            # An emulator bug: answer like a confused module and keep serving. The command line
            # is not logged, since it may hold a PIN or a phone number.
            _LOGGER.exception("Emulator failed on an AT%s command", cmd.name)
            out.lines("ERROR")
            return
        if final != NO_FINAL and (delay := self._take_delay(cmd)):
            await asyncio.sleep(delay)
        if final is None:
            out.lines("OK")
        elif final != NO_FINAL:
            out.lines(final)

    def _echo(self, line: bytes) -> None:
        if self._ctx.settings.echo:
            self._ctx.out.raw(line + b"\r")

    def _take_hang(self, cmd: AtCommand) -> bool:
        upper = cmd.line.upper()
        for rule in self._hangs:
            if rule.remaining > 0 and upper.startswith(rule.prefix):
                rule.remaining -= 1
                return True
        return False

    def _take_delay(self, cmd: AtCommand) -> float:
        upper = cmd.line.upper()
        for rule in self._delays:
            if rule.remaining > 0 and upper.startswith(rule.prefix):
                rule.remaining -= 1
                return rule.seconds
        return 0.0
