"""The voice calls on the line, tracked one by one by their ``+CLCC`` index.

A SIM7600 can hold an active call, a held call and a waiting call at once
(``shared/sim7600.md`` section 11). Each call has its own state; the call state the HA
layer shows is the one in the foreground (active, else dialing, ringing, held, waiting).
Calls are driven by URCs: ``+CLCC`` lines name their call by index and are the authority;
``RING``, ``+CLIP``, ``+CCWA``, ``VOICE CALL: BEGIN/END``, ``NO CARRIER``, ``BUSY``,
``NO ANSWER`` and ``MISSED_CALL`` name none, so they are applied to the one call they can
be about, and when several calls leave that in doubt the driver reads ``AT+CLCC`` instead
of guessing. The real modem sends these in varying orders and subsets, so every transition
is idempotent and each call produces exactly one ``incoming``/``waiting`` (inbound),
one ``answered`` and one ``ended``/``missed`` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
import itertools
import logging

from . import validate
from .errors import CallResultError, CallStateError, Sim7600Error
from .events import CallEvent, DtmfEvent, ModemEvent
from .executor import Execute
from .model import CallInfo, CallState
from .redact import mask_number
from .urc import (
    CallerId,
    CallListEntry,
    CallTerminated,
    CallWaiting,
    DtmfReceived,
    MissedCall,
    Ring,
    Urc,
    VoiceCallBegin,
    VoiceCallEnd,
    parse_call_list,
)

_LOGGER = logging.getLogger(__name__)

CALLER_ID_GRACE = 0.5  # RING without +CLIP: announce the call without a number after this
RING_SILENCE = 8.0  # no RING for this long while unanswered: ask AT+CLCC whether it still rings
END_SETTLE = 1.0  # wait this long after END/disconnect for the URC that names the outcome
LATE_MISSED_CALL = 5.0  # a MISSED_CALL this soon after an inbound call ended is about it
_CLCC_STATES = {
    0: CallState.ACTIVE,
    1: CallState.HELD,
    2: CallState.DIALING,
    3: CallState.ALERTING,
    4: CallState.INCOMING,
    5: CallState.WAITING,
}
_UNANSWERED = (CallState.INCOMING, CallState.WAITING)
_PLACING = (CallState.DIALING, CallState.ALERTING)
_CONNECTED = (CallState.ACTIVE, CallState.HELD)
# Which call the HA layer shows: the first state found wins.
_FOREGROUND = (
    CallState.ACTIVE,
    CallState.DIALING,
    CallState.ALERTING,
    CallState.INCOMING,
    CallState.HELD,
    CallState.WAITING,
)


class DialResult(StrEnum):
    """How an outgoing call resolved."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    TIMEOUT = "timeout"


class HangUpTarget(StrEnum):
    """Which call :meth:`CallTracker.hang_up` ends."""

    ACTIVE = "active"  # the call in the foreground (the one the call state shows)
    WAITING = "waiting"  # reject the waiting call
    HELD = "held"
    ALL = "all"


class _DialCancelled(Exception):
    """The dial was hung up before its ATD was sent."""


@dataclass(eq=False)
class _Call:
    """One call on the line. ``index`` is its ``+CLCC`` index once a line named it."""

    direction: str  # "inbound" | "outbound"
    number: str | None
    state: CallState
    index: int | None = None
    started: float | None = None  # loop time when it connected
    rings: int = 0
    announced: bool = False
    local_hang_up: bool = False  # we asked for it to end
    end_reason: str | None = None  # why it ends, known before it does (dial timeout)
    ending: bool = False  # +CLCC said disconnected; the URC naming the outcome may follow
    key: int = field(default_factory=itertools.count().__next__)  # names its timers

    @property
    def info(self) -> CallInfo:
        return CallInfo(self.direction, self.number, self.started, self.rings)


class CallTracker:
    """Track the calls on the line; place, answer, hold and end them."""

    def __init__(
        self,
        execute: Execute,
        emit: Callable[[ModemEvent], None],
        on_change: Callable[[], None],
    ) -> None:
        self._execute = execute
        self._emit = emit
        self._on_change = on_change
        self._calls: list[_Call] = []
        self._shown: tuple[object, ...] = (CallState.IDLE, None, None, None)
        self._dial_queued = False  # ATD waits for the line
        self._dial_cancelled = False  # ... and must not go out when it gets it
        self._dial_call: _Call | None = None
        self._dial_result: asyncio.Future[DialResult] | None = None
        self._last_inbound_end = -LATE_MISSED_CALL
        self._last_indexed_end = -END_SETTLE
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._check: asyncio.Task[None] | None = None

    # ---- what the HA layer shows ------------------------------------------------------

    @property
    def state(self) -> CallState:
        """The state of the call in the foreground; idle without calls."""
        call = self._foreground()
        return call.state if call is not None else CallState.IDLE

    @property
    def call(self) -> CallInfo | None:
        """The call in the foreground."""
        call = self._foreground()
        return call.info if call is not None else None

    @property
    def waiting_call(self) -> CallInfo | None:
        """A call that waits while another one is up (``+CCWA``, ``+CLCC`` stat 5)."""
        call = self._find(CallState.WAITING)
        return call.info if call is not None else None

    @property
    def held_call(self) -> CallInfo | None:
        """A call on hold."""
        call = self._find(CallState.HELD)
        return call.info if call is not None else None

    # ---- commands ---------------------------------------------------------------------

    async def dial(self, number: str, timeout: float = 60.0) -> DialResult:
        """Call ``number`` and wait until it is answered or fails.

        The call exists only once ``ATD`` is actually written: a caller who rings while the
        dial still waits behind another command wins, and the dial raises
        :class:`CallStateError` without sending anything.
        """
        number = validate.phone_number(number)
        if self._calls or self._dial_queued:
            raise CallStateError("A call is already in progress")
        loop = asyncio.get_running_loop()
        call = _Call("outbound", number, CallState.DIALING, announced=True)

        def going_out() -> None:
            if self._dial_cancelled:
                raise _DialCancelled
            if self._calls:
                raise CallStateError("A call came in before the dial went out")
            self._dial_call = call
            self._dial_result = loop.create_future()
            self._add(call)

        self._dial_queued, self._dial_cancelled = True, False
        try:
            return await self._place(call, number, timeout, going_out)
        except _DialCancelled:
            self._emit(CallEvent("ended", "outbound", number, None, "local_hang_up"))
            return DialResult.FAILED
        finally:
            self._dial_queued = False
            self._dial_result = None
            self._dial_call = None

    async def _place(
        self, call: _Call, number: str, timeout: float, going_out: Callable[[], None]
    ) -> DialResult:
        try:
            await self._execute(f"ATD{number};", timeout=10.0, before_send=going_out)
        except CallStateError:
            raise  # refused before anything was sent
        except CallResultError:
            self._finish(call, "failed")
            return DialResult.FAILED
        except Sim7600Error:
            if call in self._calls:  # ATD went out: the modem may be dialling all the same
                await self._release_quietly(call)
                self._finish(call, "failed")
            raise
        result = self._dial_result
        assert result is not None
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(result)
        except TimeoutError:
            _LOGGER.debug("Outgoing call not answered in time; hanging up")
            call.end_reason = "timeout"  # whatever URC ends it, this is why
            await self._release_quietly(call)
            self._finish(call, "timeout")
            return DialResult.TIMEOUT

    async def answer(self) -> None:
        """Answer the ringing call; with another call up, take the waiting call and hold
        the active one (``AT+CHLD=2``), or resume the held call when none is active."""
        ringing = self._find(CallState.INCOMING)
        if ringing is not None and len(self._calls) == 1:
            await self._answer_ringing(ringing)
            return
        other = self._find(CallState.WAITING)
        if other is None and self._find(CallState.ACTIVE) is None:
            other = self._find(CallState.HELD)
        if other is None:
            raise CallStateError("No call is ringing, waiting or held")
        active = [call for call in self._calls if call.state is CallState.ACTIVE]
        await self._execute("AT+CHLD=2", timeout=10.0)
        for call in active:  # unless the modem's +CLCC lines already said so
            if call.state is CallState.ACTIVE and call is not other:
                call.state = CallState.HELD
        self._connected(other)
        self._changed()
        await self._check_call_list()  # confirm the swap with the modem's own list

    async def _answer_ringing(self, call: _Call) -> None:
        try:
            await self._execute("ATA", timeout=10.0)
        except CallResultError as err:
            self._finish_missed(call, None)
            raise CallStateError("The call stopped ringing before it was answered") from err
        # VOICE CALL: BEGIN may come before or after OK; some firmware sends only +CLCC.
        self._connected(call)

    async def hang_up(self, target: HangUpTarget = HangUpTarget.ACTIVE) -> None:
        """End a call: by default the one in the foreground (reject it while ringing, cancel
        it while dialing); ``waiting`` rejects the waiting call, ``held`` ends the held
        one, ``all`` ends every call. Other calls stay as they are."""
        calls = [call for call in self._calls if not call.ending]
        if not calls and self._dial_queued and target in (HangUpTarget.ACTIVE, HangUpTarget.ALL):
            self._dial_cancelled = True  # the ATD still waiting for the line never goes out
            return
        if not calls:
            raise CallStateError("There is no call to end")
        if target is HangUpTarget.ALL or (target is HangUpTarget.ACTIVE and len(calls) == 1):
            await self._hang_up_all(calls)
            return
        call = {
            HangUpTarget.ACTIVE: self._foreground(),
            HangUpTarget.WAITING: self._find(CallState.WAITING),
            HangUpTarget.HELD: self._find(CallState.HELD),
        }[target]
        if call is None:
            raise CallStateError("There is no such call to end")
        await self._release(call)

    async def _hang_up_all(self, calls: list[_Call]) -> None:
        for call in calls:
            call.local_hang_up = True
        await self._execute("AT+CHUP", timeout=10.0)
        # VOICE CALL: END normally follows; do not wait forever for it.
        self._start_timer("settle", END_SETTLE, self._settle_after_hang_up)

    async def _release(self, call: _Call) -> None:
        """End one call of several: reject a waiting call (``AT+CHLD=0``, busy for its
        caller), release any other by index (``AT+CHLD=1X``)."""
        if call.state is CallState.WAITING:
            command = "AT+CHLD=0"
        else:
            if call.index is None:
                await self._check_call_list()
            if call.index is None:
                raise CallStateError("The modem does not list this call")
            command = f"AT+CHLD=1{call.index}"
        call.local_hang_up = True
        await self._execute(command, timeout=10.0)
        self._start_timer("settle", END_SETTLE, self._settle_after_hang_up)

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send DTMF tones into the active call."""
        digits = validate.dtmf_digits(digits)
        tenths = max(1, validate.dtmf_duration_ms(duration_ms) // 100)
        if self.state is not CallState.ACTIVE:
            raise CallStateError("No call is active")
        for digit in digits:
            await self._execute(f"AT+VTS={digit},{tenths}", timeout=tenths / 10 + 5.0)

    # ---- URCs -------------------------------------------------------------------------

    def handle(self, urc: Urc) -> None:
        """Feed one call-related URC."""
        match urc:
            case Ring():
                self._ringing(None, ring=True)
            case CallerId(number=number):
                self._ringing(number or None, caller_id=True)
            case CallWaiting(number=number):
                self._waiting(number)
            case CallListEntry():
                self._apply_entry(urc)
            case VoiceCallBegin():
                self._begin()
            case VoiceCallEnd(duration=duration):
                self._ended_urc(duration)
            case CallTerminated(reason=reason):
                self._terminated(reason)
            case MissedCall(number=number):
                self._missed_urc(number)
            case DtmfReceived(digit=digit):
                if self.state in _CONNECTED:
                    self._emit(DtmfEvent(digit))

    def reconcile(self, entries: list[CallListEntry], vanished: str = "connection_lost") -> None:
        """Align the calls with an ``AT+CLCC`` list; a connected call the list no longer
        holds ends with reason ``vanished`` (unless we were hanging it up).

        ``+CLCC`` URCs that arrive while the command runs are taken into its reply, so an
        index may appear more than once: its last line is the newest.
        """
        latest = {entry.index: entry for entry in entries if entry.mode == 0}
        listed: set[_Call] = set()
        for entry in latest.values():
            if entry.stat != 6 and (call := self._apply_entry(entry, listed)) is not None:
                listed.add(call)
        for entry in latest.values():
            if entry.stat == 6:
                self._apply_entry(entry, listed)
        for call in [call for call in self._calls if call not in listed and not call.ending]:
            if call.state in _UNANSWERED and call.started is None and not call.local_hang_up:
                self._finish_missed(call, None)
            else:
                self._finish(call, "local_hang_up" if call.local_hang_up else vanished)

    def connection_lost(self) -> None:
        """The AT port is gone: whatever calls there were cannot be followed any more."""
        for call in list(self._calls):
            self._finish(call, "connection_lost")

    async def close(self) -> None:
        """Cancel timers and helper tasks."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._dial_result is not None and not self._dial_result.done():
            self._dial_result.set_result(DialResult.FAILED)

    # ---- URCs that name no call ---------------------------------------------------------

    def _ringing(self, number: str | None, *, caller_id: bool = False, ring: bool = False) -> None:
        """RING / +CLIP: the ringing call, a new one, or (during a call) the waiting one."""
        call = self._find(CallState.INCOMING)
        if call is None:
            if not self._calls:
                call = self._add(_Call("inbound", number, CallState.INCOMING))
            elif len(self._calls) == 1 and self._calls[0].state is CallState.WAITING:
                call = self._calls[0]  # the call it waited for has gone: it rings now
                call.state = CallState.INCOMING
                self._changed()
            else:
                waiting = self._find(CallState.WAITING)
                if waiting is not None and number and waiting.number is None:
                    waiting.number = number
                    self._changed()
                return  # a RING for the waiting call: nothing else changes
        if number and call.number is None:
            call.number = number
            self._changed()
        if ring:
            call.rings += 1
            self._changed()
        self._watch_unanswered(call)
        if call.announced:
            return
        if caller_id or number:
            self._announce(call)
        elif self._timer_name("caller_id", call) not in self._timers:
            # Repeated RINGs must not push the announcement back.
            self._start_timer(
                self._timer_name("caller_id", call), CALLER_ID_GRACE, lambda: self._announce(call)
            )

    def _waiting(self, number: str | None) -> None:
        """+CCWA: a second caller waits (or, with no call up, simply rings)."""
        if not self._calls:
            self._ringing(number, caller_id=True)
            return
        call = self._find(CallState.WAITING)
        if call is None:
            call = self._add(_Call("inbound", number, CallState.WAITING))
        elif number and call.number is None:
            call.number = number
            self._changed()
        self._watch_unanswered(call)
        self._announce(call)

    def _begin(self) -> None:
        """VOICE CALL: BEGIN: the one call being placed or ringing has connected."""
        placing = [call for call in self._calls if call.state in (*_PLACING, CallState.INCOMING)]
        if len(placing) == 1:
            self._connected(placing[0])
        elif len(self._calls) == 1 and self._calls[0].state is CallState.HELD:
            self._connected(self._calls[0])
        elif len(self._calls) > 1:
            self._in_doubt()

    def _ended_urc(self, duration: int | None) -> None:
        """VOICE CALL: END: the call that ends, if it can be told; else ask the modem."""
        call = self._end_target()
        if call is None:
            return
        if call.state in _CONNECTED:
            self._finish(
                call, "local_hang_up" if call.local_hang_up else "remote_hang_up", duration
            )
        elif call.state in _UNANSWERED:
            if call.local_hang_up:
                self._finish(call, "rejected")
            else:
                # MISSED_CALL names the outcome; wait a moment for it.
                self._settle(call, lambda: self._finish_missed(call, None))
        elif call.local_hang_up:
            self._finish(call, "local_hang_up")
        else:
            # BUSY / NO ANSWER / NO CARRIER names the outcome; wait a moment for it.
            self._settle(call, lambda: self._finish(call, "failed"))

    def _terminated(self, reason: str) -> None:
        """NO CARRIER / BUSY / NO ANSWER / NO DIALTONE."""
        call = self._find(*_PLACING) if reason != "no_carrier" else None
        if call is None:
            call = self._end_target()
        if call is None:
            return
        if call.state in _PLACING:
            self._finish(call, reason if reason in ("busy", "no_answer") else "failed")
        elif call.state in _CONNECTED:
            self._finish(call, "local_hang_up" if call.local_hang_up else "remote_hang_up")
        elif call.local_hang_up:
            self._finish(call, "rejected")

    def _missed_urc(self, number: str | None) -> None:
        """MISSED_CALL: the unanswered inbound call it names (or the only one) gave up."""
        unanswered = [c for c in self._calls if c.state in _UNANSWERED and c.started is None]
        candidates = [c for c in unanswered if c.ending] or unanswered
        if number and len(candidates) > 1:
            candidates = [c for c in candidates if c.number in (number, None)]
        if candidates:
            self._finish_missed(candidates[0], number)
            return
        if self._calls:
            return  # calls are up, none of them unanswered: a late line about an old call
        now = asyncio.get_running_loop().time()
        if now - self._last_inbound_end < LATE_MISSED_CALL:
            return  # MISSED_CALL about the call that just ended: it was reported
        if number:  # a caller who rang while we could not follow it
            self._last_inbound_end = now
            self._emit(CallEvent("missed", "inbound", number))

    def _end_target(self) -> _Call | None:
        """Which call an END / NO CARRIER is about: one whose end the call list announced,
        the only call, or none (an echo of an end already handled, or doubt: then the
        modem's list is read)."""
        ending = [call for call in self._calls if call.ending]
        if ending:
            return ending[0]
        if not self._calls:
            return None
        if asyncio.get_running_loop().time() - self._last_indexed_end < END_SETTLE:
            return None  # the END of a call that +CLCC already ended
        if len(self._calls) == 1:
            return self._calls[0]
        self._in_doubt()
        return None

    # ---- +CLCC: calls by index ------------------------------------------------------------

    def _apply_entry(self, entry: CallListEntry, exclude: set[_Call] | None = None) -> _Call | None:
        """Apply one ``+CLCC`` line to the call it names; returns that call."""
        if entry.mode != 0:
            return None
        call = self._match(entry, exclude or set())
        if entry.stat == 6:
            if call is not None:
                self._disconnected(call)
            return None
        target = _CLCC_STATES[entry.stat]
        if call is None:
            return self._new_from_list(entry, target)
        call.index = entry.index
        if entry.number and call.number is None:
            call.number = entry.number
            self._changed()
        if target is CallState.ACTIVE:
            self._connected(call)
        elif target in _UNANSWERED and call.state in _UNANSWERED:
            if call.state is not target:
                call.state = target  # a waiting call rings once the other call has gone
                self._changed()
            self._watch_unanswered(call)
            if not call.announced and call.number:
                self._announce(call)
        elif target is CallState.HELD and call.state is CallState.ACTIVE:
            call.state = CallState.HELD
            self._changed()
        elif target in _PLACING and call.state in _PLACING:
            call.state = target
            self._changed()
        return call

    def _match(self, entry: CallListEntry, exclude: set[_Call]) -> _Call | None:
        """The call a ``+CLCC`` line is about: by index, else an unindexed call of its kind."""
        for call in self._calls:
            if call.index == entry.index and call not in exclude:
                return call
        direction = "inbound" if entry.incoming else "outbound"
        unindexed = [
            call
            for call in self._calls
            if call.index is None and call.direction == direction and call not in exclude
        ]
        if entry.stat == 6:  # only a call it surely names may end by it
            unindexed = [c for c in unindexed if entry.number and c.number == entry.number]
        same_number = [c for c in unindexed if c.number in (entry.number, None)]
        found = same_number or unindexed
        return found[0] if found else None

    def _new_from_list(self, entry: CallListEntry, target: CallState) -> _Call:
        direction = "inbound" if entry.incoming else "outbound"
        call = _Call(direction, entry.number, target, index=entry.index)
        if target in _UNANSWERED:
            self._add(call)
            self._watch_unanswered(call)
            if target is CallState.WAITING or entry.number:
                self._announce(call)
            else:
                self._start_timer(
                    self._timer_name("caller_id", call),
                    CALLER_ID_GRACE,
                    lambda: self._announce(call),
                )
        else:
            # A call we lost track of (reconnect, restart): take it over silently.
            call.announced = True
            if target in _CONNECTED:
                call.started = asyncio.get_running_loop().time()
            self._add(call)
        return call

    def _disconnected(self, call: _Call) -> None:
        """``+CLCC`` stat 6: this call ended; END / NO CARRIER that follow are about it."""
        self._last_indexed_end = asyncio.get_running_loop().time()
        if call.state in _CONNECTED:
            self._finish(call, "local_hang_up" if call.local_hang_up else "remote_hang_up")
        elif call.local_hang_up:
            self._finish(call, "rejected" if call.state in _UNANSWERED else "local_hang_up")
        elif call.state in _UNANSWERED:
            self._settle(call, lambda: self._finish_missed(call, None))
        else:
            self._settle(call, lambda: self._finish(call, "failed"))

    # ---- transitions ------------------------------------------------------------------

    def _announce(self, call: _Call) -> None:
        self._cancel_timer(self._timer_name("caller_id", call))
        if call.announced or call not in self._calls or call.state not in _UNANSWERED:
            return
        call.announced = True
        kind = "waiting" if call.state is CallState.WAITING else "incoming"
        _LOGGER.debug("%s call from %s", kind.capitalize(), mask_number(call.number))
        self._emit(CallEvent(kind, "inbound", call.number))

    def _connected(self, call: _Call) -> None:
        if call not in self._calls:
            return
        if call.state is CallState.HELD:
            call.state = CallState.ACTIVE  # resumed
            self._changed()
            return
        if call.state not in (*_UNANSWERED, *_PLACING):
            return
        self._cancel_timers(call)
        if call.direction == "inbound" and not call.announced:
            self._announce(call)
        call.state = CallState.ACTIVE
        call.started = asyncio.get_running_loop().time()
        call.ending = False
        self._changed()
        self._emit(CallEvent("answered", call.direction, call.number))
        self._resolve_dial(call, DialResult.ANSWERED)

    def _finish_missed(self, call: _Call, number: str | None) -> None:
        if call not in self._calls:
            return
        self._remove(call)
        self._last_inbound_end = asyncio.get_running_loop().time()
        self._emit(CallEvent("missed", "inbound", number or call.number))

    def _finish(self, call: _Call, reason: str, duration: int | None = None) -> None:
        if call not in self._calls:
            return
        loop = asyncio.get_running_loop()
        if duration is None and call.started is not None:
            duration_s: float | None = round(loop.time() - call.started, 1)
        else:
            duration_s = float(duration) if duration is not None else None
        reason = call.end_reason or reason
        if call.state in _UNANSWERED and reason == "local_hang_up":
            reason = "rejected"
        if call.direction == "inbound":
            self._last_inbound_end = loop.time()
        outcome = {
            "busy": DialResult.BUSY,
            "no_answer": DialResult.NO_ANSWER,
            "timeout": DialResult.TIMEOUT,
        }.get(reason, DialResult.FAILED)
        self._resolve_dial(call, outcome)
        self._remove(call)
        self._emit(CallEvent("ended", call.direction, call.number, duration_s, reason))

    def _resolve_dial(self, call: _Call, result: DialResult) -> None:
        """Tell a waiting :meth:`dial` how its call went."""
        future = self._dial_result
        if call is self._dial_call and future is not None and not future.done():
            future.set_result(result)

    def _add(self, call: _Call) -> _Call:
        self._calls.append(call)
        self._changed()
        return call

    def _remove(self, call: _Call) -> None:
        self._cancel_timers(call)
        self._calls.remove(call)
        if not self._calls:
            self._cancel_timer("settle")
        self._changed()

    def _changed(self) -> None:
        """Tell the modem when what it shows (foreground call, waiting, held) changed."""
        shown = (self.state, self.call, self.waiting_call, self.held_call)
        if shown != self._shown:
            self._shown = shown
            self._on_change()

    def _foreground(self) -> _Call | None:
        return self._find(*_FOREGROUND)

    def _find(self, *states: CallState) -> _Call | None:
        """The first call in the first of ``states`` that has one."""
        for state in states:
            for call in self._calls:
                if call.state is state:
                    return call
        return None

    # ---- timers and helpers -----------------------------------------------------------

    @staticmethod
    def _timer_name(name: str, call: _Call) -> str:
        return f"{name}:{call.key}"

    def _settle(self, call: _Call, outcome: Callable[[], None]) -> None:
        """The call is ending; give the URC that names how a moment, then ``outcome``."""
        call.ending = True
        self._start_timer(self._timer_name("end", call), END_SETTLE, outcome)

    def _watch_unanswered(self, call: _Call) -> None:
        """While a call rings or waits, ask the modem now and then whether it still does
        (RINGs may stop, or never come for a waiting call, with no line saying why)."""

        def recheck() -> None:
            self._spawn(self._recheck(call))

        self._start_timer(self._timer_name("ring", call), RING_SILENCE, recheck)

    async def _recheck(self, call: _Call) -> None:
        await self._check_call_list()
        if call in self._calls and call.state in _UNANSWERED:
            self._watch_unanswered(call)

    def _start_timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer(name)
        self._timers[name] = asyncio.get_running_loop().call_later(
            delay, self._fire, name, callback
        )

    def _fire(self, name: str, callback: Callable[[], None]) -> None:
        self._timers.pop(name, None)
        callback()

    def _cancel_timer(self, name: str) -> None:
        if (handle := self._timers.pop(name, None)) is not None:
            handle.cancel()

    def _cancel_timers(self, call: _Call) -> None:
        for name in ("ring", "caller_id", "end"):
            self._cancel_timer(self._timer_name(name, call))

    def _settle_after_hang_up(self) -> None:
        if self._calls:
            self._spawn(self._check_call_list())

    def _in_doubt(self) -> None:
        """A line that names no call arrived while several are up: read the list."""
        if self._check is None or self._check.done():
            self._check = self._spawn(self._check_call_list(vanished="remote_hang_up"))

    async def _check_call_list(self, vanished: str = "remote_hang_up") -> None:
        try:
            lines = await self._execute("AT+CLCC", timeout=5.0)
        except Sim7600Error:
            return
        self.reconcile(parse_call_list(lines), vanished)

    async def _release_quietly(self, call: _Call) -> None:
        """End our own call after a failure, without touching any other call."""
        call.local_hang_up = True
        others = [other for other in self._calls if other is not call]
        command = "AT+CHUP" if not others else f"AT+CHLD=1{call.index}" if call.index else None
        if command is None:
            return
        try:
            await self._execute(command, timeout=10.0)
        except Sim7600Error:
            _LOGGER.debug("Hang-up after a failed dial failed")

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
