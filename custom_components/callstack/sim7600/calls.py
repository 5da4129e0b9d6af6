"""The voice-call state machine.

It is driven by URCs (RING, +CLIP, +CLCC, VOICE CALL: BEGIN/END, NO CARRIER, BUSY,
NO ANSWER, MISSED_CALL) and reconciled with ``AT+CLCC`` whenever the URCs leave doubt
(after a reconnect, or when RINGs stop with no MISSED_CALL). The real modem sends these
in varying orders and subsets (``shared/sim7600.md`` section 3), so every transition is
idempotent and each call produces exactly one ``incoming``/``answered`` and one
``ended``/``missed`` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum
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
RING_SILENCE = 8.0  # no RING for this long while incoming: ask AT+CLCC whether it still rings
END_SETTLE = 1.0  # wait this long after END/disconnect for the URC that names the outcome
_CLCC_STATES = {
    0: CallState.ACTIVE,
    1: CallState.HELD,
    2: CallState.DIALING,
    3: CallState.ALERTING,
    4: CallState.INCOMING,
    5: CallState.INCOMING,
}
LATE_MISSED_CALL = 5.0  # a MISSED_CALL this soon after an inbound call ended is about it


class DialResult(StrEnum):
    """How an outgoing call resolved."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    TIMEOUT = "timeout"


class CallTracker:
    """Track the call on the line; place, answer and end calls."""

    def __init__(
        self,
        execute: Execute,
        emit: Callable[[ModemEvent], None],
        on_change: Callable[[], None],
    ) -> None:
        self._execute = execute
        self._emit = emit
        self._on_change = on_change
        self.state = CallState.IDLE
        self.call: CallInfo | None = None
        self._announced = False
        self._local_hang_up = False
        self._end_reason: str | None = None  # set when we know why a call ends before it does
        self._dial_pending = False  # ATD is queued or in flight
        self._last_inbound_end = -LATE_MISSED_CALL
        self._dial_result: asyncio.Future[DialResult] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- commands ---------------------------------------------------------------------

    async def dial(self, number: str, timeout: float = 60.0) -> DialResult:
        """Call ``number`` and wait until it is answered or fails."""
        number = validate.phone_number(number)
        if self.state is not CallState.IDLE:
            raise CallStateError("A call is already in progress")
        loop = asyncio.get_running_loop()
        self._dial_result = result = loop.create_future()
        self._set_state(CallState.DIALING, CallInfo("outbound", number))
        self._announced = True  # outgoing calls are announced by "answered"
        self._dial_pending = True
        try:
            await self._execute(f"ATD{number};", timeout=10.0)
        except CallResultError:
            self._finish("failed")
            return DialResult.FAILED
        except Sim7600Error:
            await self._hang_up_quietly()  # the modem may be dialling all the same
            self._finish("failed")
            raise
        finally:
            self._dial_pending = False
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(result)
        except TimeoutError:
            _LOGGER.debug("Outgoing call not answered in time; hanging up")
            self._end_reason = "timeout"  # whatever URC ends it, this is why
            await self._hang_up_quietly()
            self._finish("timeout")
            return DialResult.TIMEOUT
        finally:
            self._dial_result = None

    async def answer(self) -> None:
        """Answer the ringing call."""
        if self.state is not CallState.INCOMING:
            raise CallStateError("No call is ringing")
        try:
            await self._execute("ATA", timeout=10.0)
        except CallResultError as err:
            self._finish_missed(None)
            raise CallStateError("The call stopped ringing before it was answered") from err
        # VOICE CALL: BEGIN may come before or after OK; some firmware sends only +CLCC.
        self._connected()

    async def hang_up(self) -> None:
        """End the current call: reject it while ringing, cancel it while dialing."""
        if self.state is CallState.IDLE:
            raise CallStateError("There is no call to end")
        self._local_hang_up = True
        await self._execute("AT+CHUP", timeout=10.0)
        # VOICE CALL: END normally follows; do not wait forever for it.
        self._start_timer("end", END_SETTLE, self._settle_after_hang_up)

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
                self._ringing(None)
            case CallerId(number=number):
                self._ringing(number or None, caller_id=True)
            case CallListEntry():
                self._apply_entry(urc)
            case VoiceCallBegin():
                self._connected()
            case VoiceCallEnd(duration=duration):
                self._ended_urc(duration)
            case CallTerminated(reason=reason):
                self._terminated(reason)
            case MissedCall(number=number):
                self._finish_missed(number)
            case DtmfReceived(digit=digit):
                if self.state in (CallState.ACTIVE, CallState.HELD):
                    self._emit(DtmfEvent(digit))

    def reconcile(self, entries: list[CallListEntry]) -> None:
        """Align the state with an ``AT+CLCC`` list (after a reconnect or a doubt)."""
        if self._dial_pending:
            return  # the list may predate our ATD, which is still waiting for the line
        voice = [entry for entry in entries if entry.mode == 0 and entry.stat != 6]
        if not voice:
            if self.state is CallState.INCOMING:
                self._finish_missed(None)
            elif self.state is not CallState.IDLE:
                self._finish("connection_lost" if not self._local_hang_up else "local_hang_up")
            return
        self._apply_entry(voice[0])

    def connection_lost(self) -> None:
        """The AT port is gone: whatever call there was cannot be followed any more."""
        if self.state is not CallState.IDLE:
            self._finish("connection_lost")

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

    # ---- transitions ------------------------------------------------------------------

    def _ringing(self, number: str | None, *, caller_id: bool = False) -> None:
        if self.state not in (CallState.IDLE, CallState.INCOMING):
            return  # a waiting call during an active one: not supported, ignored
        if self.state is CallState.IDLE:
            self._local_hang_up = False
            self._announced = False
            self._set_state(CallState.INCOMING, CallInfo("inbound", number))
        elif number and self.call is not None and self.call.number is None:
            self.call = CallInfo("inbound", number)
        self._start_timer("ring", RING_SILENCE, self._ring_silence)
        if self._announced:
            return
        if caller_id or number:
            self._announce()
        elif "caller_id" not in self._timers:  # repeated RINGs must not push it back
            self._start_timer("caller_id", CALLER_ID_GRACE, self._announce)

    def _announce(self) -> None:
        self._cancel_timer("caller_id")
        if self._announced or self.state is not CallState.INCOMING or self.call is None:
            return
        self._announced = True
        _LOGGER.debug("Incoming call from %s", mask_number(self.call.number))
        self._emit(CallEvent("incoming", "inbound", self.call.number))

    def _apply_entry(self, entry: CallListEntry) -> None:
        if entry.mode != 0:
            return
        if entry.stat == 6:
            self._ended_urc(None)
            return
        target = _CLCC_STATES[entry.stat]
        if self.state is CallState.IDLE and target is not CallState.INCOMING:
            # A call we lost track of (reconnect, restart): take it over silently.
            direction = "inbound" if entry.incoming else "outbound"
            started = asyncio.get_running_loop().time() if target is CallState.ACTIVE else None
            self._announced = True
            self._set_state(target, CallInfo(direction, entry.number, started))
            return
        if target is CallState.INCOMING:
            self._ringing(entry.number)
        elif target is CallState.ACTIVE:
            self._connected()
        elif target is CallState.HELD and self.state is CallState.ACTIVE:
            self._set_state(CallState.HELD, self.call)
        elif target in (CallState.DIALING, CallState.ALERTING) and self.state in (
            CallState.DIALING,
            CallState.ALERTING,
        ):
            self._set_state(target, self.call)

    def _connected(self) -> None:
        if self.state is CallState.HELD:
            self._set_state(CallState.ACTIVE, self.call)
            return
        if self.state not in (CallState.INCOMING, CallState.DIALING, CallState.ALERTING):
            return
        self._cancel_timer("ring")
        self._cancel_timer("caller_id")
        call = self.call or CallInfo("inbound", None)
        if call.direction == "inbound" and not self._announced:
            self._announce()
        self._set_state(
            CallState.ACTIVE,
            CallInfo(call.direction, call.number, asyncio.get_running_loop().time()),
        )
        self._emit(CallEvent("answered", call.direction, call.number))
        if self._dial_result is not None and not self._dial_result.done():
            self._dial_result.set_result(DialResult.ANSWERED)

    def _ended_urc(self, duration: int | None) -> None:
        if self.state in (CallState.ACTIVE, CallState.HELD):
            self._finish("local_hang_up" if self._local_hang_up else "remote_hang_up", duration)
        elif self.state is CallState.INCOMING:
            if self._local_hang_up:
                self._finish("rejected")
            else:
                # MISSED_CALL names the outcome; wait a moment for it.
                self._start_timer("end", END_SETTLE, lambda: self._finish_missed(None))
        elif self.state in (CallState.DIALING, CallState.ALERTING):
            if self._local_hang_up:
                self._finish("local_hang_up")
            else:
                # BUSY / NO ANSWER / NO CARRIER names the outcome; wait a moment for it.
                self._start_timer("end", END_SETTLE, lambda: self._finish("failed"))

    def _terminated(self, reason: str) -> None:
        if self.state in (CallState.DIALING, CallState.ALERTING):
            self._finish(reason if reason in ("busy", "no_answer") else "failed")
        elif self.state in (CallState.ACTIVE, CallState.HELD):
            self._finish("local_hang_up" if self._local_hang_up else "remote_hang_up")
        elif self.state is CallState.INCOMING and self._local_hang_up:
            self._finish("rejected")

    def _finish_missed(self, number: str | None) -> None:
        if self.state not in (CallState.IDLE, CallState.INCOMING):
            return
        now = asyncio.get_running_loop().time()
        if self.state is CallState.IDLE and now - self._last_inbound_end < LATE_MISSED_CALL:
            return  # MISSED_CALL about the call that just ended: it was reported
        call_number = number or (self.call.number if self.call else None)
        was_tracked = self.state is CallState.INCOMING
        self._reset()
        self._last_inbound_end = now
        if was_tracked or number:
            self._emit(CallEvent("missed", "inbound", call_number))

    def _finish(self, reason: str, duration: int | None = None) -> None:
        if self.state is CallState.IDLE or self.call is None:
            return
        call = self.call
        if duration is None and call.started is not None:
            duration_s: float | None = round(asyncio.get_running_loop().time() - call.started, 1)
        else:
            duration_s = float(duration) if duration is not None else None
        reason = self._end_reason or reason
        if self.state is CallState.INCOMING and reason == "local_hang_up":
            reason = "rejected"
        if call.direction == "inbound":
            self._last_inbound_end = asyncio.get_running_loop().time()
        if self._dial_result is not None and not self._dial_result.done():
            outcome = {
                "busy": DialResult.BUSY,
                "no_answer": DialResult.NO_ANSWER,
                "timeout": DialResult.TIMEOUT,
            }.get(reason, DialResult.FAILED)
            self._dial_result.set_result(outcome)
        self._reset()
        self._emit(CallEvent("ended", call.direction, call.number, duration_s, reason))

    def _reset(self) -> None:
        for name in list(self._timers):
            self._cancel_timer(name)
        self._announced = False
        self._local_hang_up = False
        self._end_reason = None
        self._set_state(CallState.IDLE, None)

    def _set_state(self, state: CallState, call: CallInfo | None) -> None:
        changed = state is not self.state or call != self.call
        self.state = state
        self.call = call
        if changed:
            self._on_change()

    # ---- timers and helpers -----------------------------------------------------------

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

    def _ring_silence(self) -> None:
        if self.state is CallState.INCOMING:
            self._spawn(self._check_call_list())

    def _settle_after_hang_up(self) -> None:
        if self.state is not CallState.IDLE:
            self._spawn(self._check_call_list())

    async def _check_call_list(self) -> None:
        try:
            lines = await self._execute("AT+CLCC", timeout=5.0)
        except Sim7600Error:
            return
        self.reconcile(parse_call_list(lines))

    async def _hang_up_quietly(self) -> None:
        self._local_hang_up = True
        try:
            await self._execute("AT+CHUP", timeout=10.0)
        except Sim7600Error:
            _LOGGER.debug("Hang-up after dial timeout failed")

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
