"""DTMF menus and alarm calls: keys the far end presses while something plays.

Both flows are agnostic of what they play. A prompt is a coroutine function that plays
something into the call once (the Home Assistant layer builds it from a WAV, a media ID or
TTS) and that may be cancelled at any point; the flows run it as a task and cancel it when a
key that matters is pressed (barge-in). The keys are queued from the moment the flow starts,
before anything plays, so a key pressed during or right after a prompt is never lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import math
from types import TracebackType
from typing import Self

from .calls import DialResult
from .errors import InvalidArgumentError, ModemClosedError
from .events import CallEvent, DtmfEvent, ModemEvent

type Prompt = Callable[[], Awaitable[object]]
"""Plays something into the call once; cancelled on barge-in."""

DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_DIGITS = 64
MAX_WAIT = 600.0  # seconds, for any of the timeouts
MAX_REPEAT = 20
ACK_PAUSE = 2.0  # seconds to listen for the acknowledgement after each playing of a message


class DtmfEnd(StrEnum):
    """Why collecting digits stopped."""

    MAX_DIGITS = "max_digits"
    TERMINATOR = "terminator"
    TIMEOUT = "timeout"
    CALL_ENDED = "call_ended"


@dataclass(frozen=True, slots=True)
class DtmfRequest:
    """What to collect: up to ``max_digits`` digits, ``timeout`` seconds for the first one
    (counted once the prompt has finished), ``inter_digit_timeout`` for each further one;
    ``terminator`` ends the input early and is not part of it (``None``: no terminator)."""

    max_digits: int = 1
    timeout: float = 10.0
    inter_digit_timeout: float = 5.0
    terminator: str | None = "#"

    def __post_init__(self) -> None:
        if isinstance(self.max_digits, bool) or not 1 <= self.max_digits <= MAX_DIGITS:
            raise InvalidArgumentError(f"max_digits must be 1 to {MAX_DIGITS}")
        for wait in (self.timeout, self.inter_digit_timeout):
            if not math.isfinite(wait) or not 0 < wait <= MAX_WAIT:
                raise InvalidArgumentError(f"Timeouts must be above 0 and at most {MAX_WAIT} s")
        if self.terminator is not None and self.terminator not in DTMF_KEYS:
            raise InvalidArgumentError("The terminator is one of 0-9, *, # and A-D")


@dataclass(frozen=True, slots=True)
class DtmfResult:
    """The digits pressed (without the terminator) and why the input ended."""

    digits: str
    ended_by: DtmfEnd


@dataclass(frozen=True, slots=True)
class AlarmRequest:
    """Play the message up to ``repeat`` times, until a key in ``acknowledge_digits`` is
    pressed (empty: nothing acknowledges, the message just plays ``repeat`` times)."""

    repeat: int = 3
    acknowledge_digits: str = ""
    pause: float = ACK_PAUSE

    def __post_init__(self) -> None:
        if isinstance(self.repeat, bool) or not 1 <= self.repeat <= MAX_REPEAT:
            raise InvalidArgumentError(f"repeat must be 1 to {MAX_REPEAT}")
        if not set(self.acknowledge_digits.upper()) <= DTMF_KEYS:
            raise InvalidArgumentError("Acknowledge digits are 0-9, *, # and A-D")
        if not math.isfinite(self.pause) or not 0 <= self.pause <= MAX_WAIT:
            raise InvalidArgumentError("The pause must be 0 to 600 s")


@dataclass(frozen=True, slots=True)
class AlarmResult:
    """How an alarm call went: the dial ``result``; whether and with which ``digit`` the
    callee acknowledged; how many times the message started (``plays``)."""

    result: DialResult
    acknowledged: bool
    digit: str | None
    plays: int


class KeyListener:
    """The keys pressed in the call, in order; ``None`` once the call has ended.

    Enter it before playing or dialling: from then on nothing is lost. ``call_gone`` says
    whether an ``ended``/``missed`` event is about the call followed (and not, say, about a
    waiting caller who gave up); by default every one is. The modem calls what it finds in
    ``on_close`` when it closes: then :meth:`next` raises :class:`ModemClosedError`.
    """

    def __init__(
        self,
        subscribe: Callable[[Callable[[ModemEvent], None]], Callable[[], None]],
        on_close: set[Callable[[], None]],
        call_gone: Callable[[], bool] = lambda: True,
    ) -> None:
        self._subscribe = subscribe
        self._on_close = on_close
        self._closed = False
        self._call_gone = call_gone
        self._unsubscribe: Callable[[], None] | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.call_ended = False

    def follow(self, call_gone: Callable[[], bool]) -> None:
        """Follow another call from now on (an alarm call, once it is answered)."""
        self._call_gone = call_gone

    def __enter__(self) -> Self:
        self._unsubscribe = self._subscribe(self._on_event)
        self._on_close.add(self._close)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._on_close.discard(self._close)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _close(self) -> None:
        self._closed = True
        self._queue.put_nowait(None)

    def _on_event(self, event: ModemEvent) -> None:
        if isinstance(event, DtmfEvent):
            self._queue.put_nowait(event.digit.upper())
        elif (
            isinstance(event, CallEvent)
            and event.kind in ("ended", "missed")
            and not self.call_ended
            and self._call_gone()
        ):
            self.call_ended = True
            self._queue.put_nowait(None)

    async def next(self, timeout: float | None = None) -> str | None:
        """The next key, ``None`` if the call ended; raises ``TimeoutError``, and
        :class:`ModemClosedError` once the modem has closed."""
        async with asyncio.timeout(timeout):
            key = await self._queue.get()
        if self._closed:
            raise ModemClosedError()
        return key


class _TimedOut:
    """No key came in time."""


_TIMED_OUT = _TimedOut()


class _PromptFinished:
    """The prompt played to its end with no key that stops it."""


_FINISHED = _PromptFinished()


async def play_until_key(
    prompt: Prompt, keys: KeyListener, stops: Callable[[str], bool]
) -> str | _PromptFinished | None:
    """Play ``prompt`` until a key for which ``stops`` is true (returned), the call ends
    (``None``) or it finishes (a ``_PromptFinished``). Other keys are dropped.

    A playback failure is raised, unless the call ended meanwhile: then it is ``None``.
    """
    play = asyncio.ensure_future(prompt())
    try:
        while True:
            key = asyncio.ensure_future(keys.next())
            try:
                await asyncio.wait((play, key), return_when=asyncio.FIRST_COMPLETED)
            finally:
                # Cancelling a queue get leaves its item in the queue: no key is lost.
                key.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await key
            if key.done() and not key.cancelled():
                pressed = key.result()
                if pressed is None or stops(pressed):
                    return pressed
                continue
            try:
                play.result()
            except Exception:
                if keys.call_ended:
                    return None
                raise
            return _FINISHED
    finally:
        if not play.done():
            play.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await play


async def collect(keys: KeyListener, request: DtmfRequest, prompt: Prompt | None) -> DtmfResult:
    """Run a DTMF menu step: the optional prompt with barge-in, then the digits."""
    digits = ""
    pressed: str | _TimedOut | None
    if prompt is not None:
        played = await play_until_key(prompt, keys, lambda key: True)
        if isinstance(played, _PromptFinished):
            pressed = await _next_or_timeout(keys, request.timeout)
        else:
            pressed = played
    else:
        pressed = await _next_or_timeout(keys, request.timeout)
    while True:
        if isinstance(pressed, _TimedOut):
            return DtmfResult(digits, DtmfEnd.TIMEOUT)
        if pressed is None:
            return DtmfResult(digits, DtmfEnd.CALL_ENDED)
        if pressed == request.terminator:
            return DtmfResult(digits, DtmfEnd.TERMINATOR)
        digits += pressed
        if len(digits) >= request.max_digits:
            return DtmfResult(digits, DtmfEnd.MAX_DIGITS)
        pressed = await _next_or_timeout(keys, request.inter_digit_timeout)


async def announce(
    keys: KeyListener, request: AlarmRequest, message: Prompt
) -> tuple[str | None, int]:
    """Play ``message`` until it is acknowledged or has played ``repeat`` times, listening
    ``pause`` seconds after each time; returns the acknowledging key (or None) and how
    many times the message started."""
    acknowledge = request.acknowledge_digits.upper()

    def stops(key: str) -> bool:
        return key in acknowledge

    for plays in range(1, request.repeat + 1):
        played = await play_until_key(message, keys, stops)
        if not isinstance(played, _PromptFinished):
            return played, plays  # acknowledged, or the callee hung up (None)
        deadline = asyncio.get_running_loop().time() + request.pause
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            pressed = await _next_or_timeout(keys, left)
            if isinstance(pressed, _TimedOut):
                break
            if pressed is None or stops(pressed):
                return pressed, plays
    return None, request.repeat


async def _next_or_timeout(keys: KeyListener, timeout: float) -> str | _TimedOut | None:
    try:
        return await keys.next(timeout)
    except TimeoutError:
        return _TIMED_OUT
