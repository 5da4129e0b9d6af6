"""Voice calls: the commands that place, answer, hold and end them, the URCs, and the far ends.

The module can hold several calls at once (sim7600.md section 11): one active, one held and
one waiting. Each has its +CLCC index (the lowest free one); with AT+CLCC=1 every change
reprints the whole list, the call that ended included with stat 6.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from .at_command import NO_FINAL, AtCommand, CommandKind, Final, Handler
from .audio_stream import AudioStream
from .call_model import (
    Call,
    CallDirection,
    CallStat,
    DialOutcome,
    KeyPlan,
    end_line,
    number_type,
)
from .context import ModemContext
from .errors import BadParameter, CmeError, PlainError

DIAL_CHARACTERS = frozenset("0123456789+*#ABCD")
DTMF_CHARACTERS = frozenset("0123456789*#ABCD")
PCM_RATES = {0: 8000, 1: 16000}
"""Sample rate for each AT+CPCMFRM value."""
CHLD_MODES = "(0,1,1x,2,2x,3,4)"
VOICE_CLASS = 1
UNANSWERED = (CallStat.INCOMING, CallStat.WAITING)


class CallControl:
    """The module's calls, following the sequences of sim7600.md sections 3 and 11."""

    def __init__(self, ctx: ModemContext, audio: AudioStream) -> None:
        self._ctx = ctx
        self._audio = audio
        self.calls: dict[int, Call] = {}
        self.dial_outcome = DialOutcome()
        self.dtmf_sent = ""
        self._key_plans: list[KeyPlan] = []
        self._key_tasks: list[tuple[Call, asyncio.Task[None]]] = []

    @property
    def call(self) -> Call | None:
        """The call in the foreground: the active one, else the lowest index; None without calls."""
        active = self._with(CallStat.ACTIVE)
        if active is not None:
            return active
        return self.calls[min(self.calls)] if self.calls else None

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        ctx = self._ctx
        return {
            "D": self._dial,
            "A": self._answer,
            "H": self._ath,
            "+CHUP": self._chup,
            "+CHLD": self._chld,
            "+CCWA": self._ccwa,
            "+CLCC": self._clcc,
            "+VTS": self._vts,
            "+CPCMREG": self._cpcmreg,
            "+CLIP": ctx.setting_command("clip", "+CLIP", range(2), read_suffix=",1"),
            "+COLP": ctx.setting_command("colp", "+COLP", range(2), read_suffix=",1"),
            "+CRC": ctx.setting_command("crc", "+CRC", range(2)),
            "+CVHU": ctx.setting_command("cvhu", "+CVHU", range(2)),
            "+VTD": ctx.setting_command("vtd", "+VTD", range(1, 256)),
            "+DDET": ctx.setting_command("ddet", "+DDET", range(2)),
            "+CPCMFRM": ctx.setting_command("cpcmfrm", "+CPCMFRM", range(2)),
            "+CLVL": ctx.setting_command("clvl", "+CLVL", range(6)),
            "+CMUT": ctx.setting_command("cmut", "+CMUT", range(2)),
            "+CSDVC": ctx.setting_command("csdvc", "+CSDVC", range(1, 5)),
            "+CPCMBANDWIDTH": self._cpcmbandwidth,
        }

    # Scenario controls -----------------------------------------------------------------------

    async def incoming_call(self, number: str, number_kind: int, ring_interval: float) -> None:
        """A call arrives: RING (+CLIP), +CLCC stat 4, then RING again every `ring_interval`.

        During another call it is a waiting call instead (+CCWA with AT+CCWA=1, +CLCC stat 5),
        or, with the call waiting service off, the network turns the caller away unseen.
        """
        inbound = CallDirection.MOBILE_TERMINATED
        if not self.calls:
            call = self._add(number, number_kind, inbound, CallStat.INCOMING)
            call.ring_interval = ring_interval
            self._ring(call)
            self._report()
            self._start_ringing(call)
            return
        if any(call.stat in UNANSWERED for call in self.calls.values()):
            raise RuntimeError("a call is already ringing or waiting")
        if not self._ctx.network.call_waiting:
            return  # the caller hears busy; nothing reaches the module
        call = self._add(number, number_kind, inbound, CallStat.WAITING)
        call.ring_interval = ring_interval
        if self._ctx.settings.ccwa:
            self._ctx.out.lines(f'+CCWA: "{number}",{number_kind},{VOICE_CLASS}')
        self._report()
        if self._ctx.variants.waiting_ring:
            self._ring(call)
            self._start_ringing(call)

    async def missed_call(self, call_id: int | None = None) -> None:
        """The ringing or waiting caller gives up: +CLCC stat 6 and `MISSED_CALL: <time> <num>`."""
        call = self._pick(call_id, *UNANSWERED)
        variants = self._ctx.variants
        waiting = call.stat is CallStat.WAITING
        self._remove(call)
        if waiting and variants.waiting_gone_urcs:
            self._ctx.out.lines(end_line(0, variants.end_format))
            self._ctx.out.lines("NO CARRIER")
        if not waiting or variants.waiting_missed_call:
            self._ctx.out.lines(f"MISSED_CALL: {self._ctx.clock.now():%I:%M%p} {call.number}")

    async def remote_answer(self) -> None:
        """The far end picks up a call the host placed."""
        call = self._pick(None, CallStat.DIALING, CallStat.ALERTING)
        self._stop_progress(call)
        self._connect(call)

    async def remote_hang_up(self, call_id: int | None = None) -> None:
        """A far end hangs up (the foreground call unless `call_id` says which): END and
        NO CARRIER, or a missed / failed call before connect."""
        call = self._pick(call_id)
        if call.stat in UNANSWERED:
            await self.missed_call(call.id)
        elif call.connected_at is None:
            self._fail(call, "NO CARRIER")
        else:
            self._disconnect_remotely(call)

    async def send_dtmf(self, digits: str) -> None:
        """The far end presses keys: `+RXDTMF: <c>` per digit."""
        self._pick(None, CallStat.ACTIVE)
        _check_dtmf(digits)
        for digit in digits:
            self._key(digit)

    def press_keys(self, plan: KeyPlan) -> None:
        """Arm `plan` for the active call, or for the next call that becomes active."""
        _check_dtmf(plan.digits)
        if plan.delay < 0 or plan.gap < 0:
            raise ValueError("delay and gap must be >= 0")
        self._key_plans.append(plan)
        if (active := self._with(CallStat.ACTIVE)) is not None:
            self._start_key_plans(active)

    def _start_key_plans(self, call: Call) -> None:
        plans, self._key_plans = self._key_plans, []
        for plan in plans:
            task = self._ctx.tasks.spawn(self._press(plan, call), "far-end-keys")
            self._key_tasks.append((call, task))
            task.add_done_callback(self._key_task_done)

    def _key_task_done(self, task: asyncio.Task[None]) -> None:
        self._key_tasks = [(call, other) for call, other in self._key_tasks if other is not task]

    async def _press(self, plan: KeyPlan, call: Call) -> None:
        if plan.after == "audio":
            await self._audio.next_host_audio()
        await asyncio.sleep(plan.delay)
        for index, digit in enumerate(plan.digits):
            if index:
                await asyncio.sleep(plan.gap)
            if self.calls.get(call.id) is not call or call.stat is not CallStat.ACTIVE:
                return
            self._key(digit)

    def _key(self, digit: str) -> None:
        self._ctx.out.lines(f"+RXDTMF: {digit}", ending="\r\r\n")

    def network_lost(self) -> None:
        """Radio off (CFUN=0/4): every call ends as if its far end had hung up."""
        for call in sorted(self.calls.values(), key=lambda call: call.connected_at is not None):
            if call.id not in self.calls:
                continue
            if call.connected_at is None:
                self._remove(call)
                self._ctx.out.lines("NO CARRIER")
            else:
                self._disconnect_remotely(call)

    def power_off(self) -> None:
        """A reboot drops every call without a word."""
        for call in self.calls.values():
            self._stop_progress(call)
        for _, task in self._key_tasks:
            task.cancel()
        self._audio.stop()
        self.calls.clear()

    # AT commands ------------------------------------------------------------------------------

    async def _dial(self, cmd: AtCommand) -> Final:
        if not cmd.rest.endswith(";"):
            return "NO CARRIER"  # a data call: nothing to connect to over LTE
        number = cmd.rest[:-1].strip()
        if not number or not set(number) <= DIAL_CHARACTERS:
            raise PlainError
        self._ctx.sim.check_ready()
        self._ctx.check_registered()
        if self.calls:
            raise CmeError(3)
        call = self._add(
            number, number_type(number), CallDirection.MOBILE_ORIGINATED, CallStat.DIALING
        )
        call.progress = self._ctx.tasks.spawn(self._far_end(call, self.dial_outcome), "far-end")
        return None

    async def _answer(self, cmd: AtCommand) -> Final:
        call = self._with(CallStat.INCOMING)
        if call is None:
            return "NO CARRIER"
        self._stop_progress(call)
        out = self._ctx.out
        if self._ctx.variants.ata_begin_first:
            out.lines("VOICE CALL: BEGIN")
            out.lines("OK")
        else:
            out.lines("OK")
            out.lines("VOICE CALL: BEGIN")
        self._mark_connected(call, CallStat.ACTIVE)
        self._report()
        return NO_FINAL

    async def _ath(self, cmd: AtCommand) -> Final:
        if cmd.rest not in ("", "0"):
            raise PlainError
        if self._ctx.variants.ath_needs_cvhu0 and self._ctx.settings.cvhu != 0:
            return None  # CVHU=1: ATH is answered but leaves a voice call up
        return self._hang_up(list(self.calls.values()))

    async def _chup(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            return None
        if cmd.kind is not CommandKind.ACTION:
            raise PlainError
        return self._hang_up(list(self.calls.values()))

    async def _chld(self, cmd: AtCommand) -> Final:
        """AT+CHLD=<n> (3GPP TS 22.030): 0 release held / reject waiting, 1 release active and
        accept the other, 1X release call X, 2 hold active and accept the other, 2X hold all
        but X. Conference (3) and transfer (4) are not supported."""
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines(f"+CHLD: {CHLD_MODES}")
            return None
        if cmd.kind is CommandKind.ACTION:
            mode = "2"  # bare AT+CHLD is AT+CHLD=2
        elif cmd.kind is CommandKind.SET:
            mode = cmd.str_arg(0)
        else:
            raise PlainError
        if not mode.isdigit() or mode[0] not in "01234" or len(mode) > 2:
            raise BadParameter
        if mode in ("3", "4"):
            raise CmeError(4)
        target = int(mode[1]) if len(mode) == 2 else None
        if target is not None and (target not in self.calls or mode[0] not in "12"):
            raise CmeError(3)
        if mode == "0":
            return self._release_held_or_reject_waiting()
        if mode[0] == "1":
            return self._release(target)
        return self._hold_and_accept(target)

    async def _ccwa(self, cmd: AtCommand) -> Final:
        """AT+CCWA=<n>[,<mode>[,<class>]]: n turns the +CCWA URC on; mode 0/1 turns the
        network service off/on, mode 2 queries it (`+CCWA: <status>,<class>`)."""
        settings, network = self._ctx.settings, self._ctx.network
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f"+CCWA: {settings.ccwa}")
            return None
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CCWA: (0-1)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        presentation = cmd.int_arg(0, range(2), default=settings.ccwa)
        mode = cmd.int_arg(1, range(3)) if cmd.has_arg(1) else None
        call_class = cmd.int_arg(2, range(1, 256), default=7)
        settings.ccwa = presentation
        if mode in (0, 1):
            self._ctx.check_registered()
            if call_class & VOICE_CLASS:
                network.call_waiting = mode == 1
        elif mode == 2:
            self._ctx.check_registered()
            self._ctx.out.lines(f"+CCWA: {int(network.call_waiting)},{VOICE_CLASS}")
        return None

    async def _clcc(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.ACTION:
            for call in self._ordered():
                self._ctx.out.lines(call.clcc_line())
            return None
        return await self._ctx.setting_command("clcc", "+CLCC", range(2))(cmd)

    async def _vts(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+VTS: (0-9,*,#,A,B,C,D),(1-255)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        digits = cmd.str_arg(0).upper()
        cmd.int_arg(1, range(1, 256), default=self._ctx.settings.vtd)
        if not set(digits) <= DTMF_CHARACTERS:
            raise CmeError(50)
        if self._with(CallStat.ACTIVE) is None:
            raise CmeError(3)
        self.dtmf_sent += digits
        return None

    async def _cpcmreg(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.READ:
            self._ctx.out.lines(f"+CPCMREG: {int(self._audio.active)}")
            return None
        if cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CPCMREG: (0-1),(0-1)")
            return None
        if cmd.kind is not CommandKind.SET:
            raise PlainError
        enable = cmd.int_arg(0, range(2))
        cmd.int_arg(1, range(2), default=0)
        if not enable:
            if self._ctx.variants.reject_plain_cpcmreg0 and not cmd.has_arg(1):
                raise CmeError(self._ctx.variants.cpcmreg_error)
            self._audio.stop()
            return None
        call = self._with(CallStat.ACTIVE)
        if call is None:
            raise CmeError(self._ctx.variants.cpcmreg_error)
        if call.cpcmreg_refusals_left > 0:
            call.cpcmreg_refusals_left -= 1
            raise CmeError(self._ctx.variants.cpcmreg_error)
        if not self._audio.active:
            self._audio.start(PCM_RATES[self._ctx.settings.cpcmfrm])
        return None

    async def _cpcmbandwidth(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.SET:
            self._ctx.settings.cpcmbandwidth = (cmd.int_arg(0, range(2)), cmd.int_arg(1, range(2)))
        elif cmd.kind is CommandKind.READ:
            first, second = self._ctx.settings.cpcmbandwidth
            self._ctx.out.lines(f"+CPCMBANDWIDTH: {first},{second}")
        elif cmd.kind is CommandKind.TEST:
            self._ctx.out.lines("+CPCMBANDWIDTH: (0-1),(0-1)")
        else:
            raise PlainError
        return None

    # Sequences ---------------------------------------------------------------------------------

    def _hang_up(self, calls: list[Call]) -> Final:
        """AT+CHUP / ATH: every call ends; OK and END (one per connected call) in the variant's
        order, NO CARRIER optional."""
        if not calls:
            return None
        out = self._ctx.out
        variants = self._ctx.variants
        if variants.hangup_ok_first:
            out.lines("OK")
        connected = [call for call in calls if call.connected_at is not None]
        self._remove(*calls)
        for call in connected:
            out.lines(end_line(self._loop_time() - (call.connected_at or 0), variants.end_format))
        if not variants.hangup_ok_first:
            out.lines("OK")
        if variants.hangup_no_carrier and connected:
            out.lines("NO CARRIER")
        return NO_FINAL

    def _release_held_or_reject_waiting(self) -> Final:
        """AT+CHLD=0: a waiting call is rejected (busy for its caller); else held calls end."""
        waiting = self._with(CallStat.WAITING)
        if waiting is not None:
            self._ctx.out.lines("OK")
            self._remove(waiting)
            return NO_FINAL
        held = [call for call in self.calls.values() if call.stat is CallStat.HELD]
        if not held:
            raise CmeError(3)
        self._ctx.out.lines("OK")
        self._end_connected(held)
        return NO_FINAL

    def _release(self, target: int | None) -> Final:
        """AT+CHLD=1: active calls end and the waiting (else held) call is taken; 1X ends X."""
        if target is not None:
            call = self.calls[target]
            self._ctx.out.lines("OK")
            if call.connected_at is None:
                self._remove(call)
                self._promote_waiting()
            else:
                self._end_connected([call])
            return NO_FINAL
        active = [call for call in self.calls.values() if call.stat is CallStat.ACTIVE]
        other = self._with(CallStat.WAITING) or self._with(CallStat.HELD)
        if not active and other is None:
            raise CmeError(3)
        self._ctx.out.lines("OK")
        if active:
            self._end_connected(active, promote=False)
        if other is not None:
            self._take(other)
        return NO_FINAL

    def _hold_and_accept(self, target: int | None) -> Final:
        """AT+CHLD=2: active calls go on hold and the waiting (else held) call is taken;
        2X: every active call but X goes on hold and X is taken."""
        active = [call for call in self.calls.values() if call.stat is CallStat.ACTIVE]
        if target is not None:
            other: Call | None = self.calls[target]
            assert other is not None
            if other.stat not in (CallStat.WAITING, CallStat.HELD, CallStat.ACTIVE):
                raise CmeError(3)
            active = [call for call in active if call.id != target]
        else:
            other = self._with(CallStat.WAITING) or self._with(CallStat.HELD)
        if not active and other is None:
            raise CmeError(3)
        self._ctx.out.lines("OK")
        for call in active:
            call.stat = CallStat.HELD
        if other is not None and other.stat is not CallStat.ACTIVE:
            self._take(other)
        else:
            self._report()
        return NO_FINAL

    def _take(self, call: Call) -> None:
        """Connect a waiting call (optional VOICE CALL: BEGIN) or retrieve a held one."""
        self._stop_progress(call)
        if self._ctx.variants.chld_stops_pcm:
            self._audio.stop()
        if call.stat is CallStat.WAITING:
            if self._ctx.variants.chld_begin:
                self._ctx.out.lines("VOICE CALL: BEGIN")
            self._mark_connected(call, CallStat.ACTIVE)
        else:
            call.stat = CallStat.ACTIVE
        self._report()

    def _end_connected(self, calls: list[Call], *, promote: bool = True) -> None:
        """Connected calls end by our command: the list, then one END per call."""
        self._remove(*calls)
        for call in calls:
            duration = self._loop_time() - (call.connected_at or 0)
            self._ctx.out.lines(end_line(duration, self._ctx.variants.end_format))
        if promote:
            self._promote_waiting()

    async def _far_end(self, call: Call, outcome: DialOutcome) -> None:
        """After ATD's OK: +CLCC dialing, then what `outcome` says."""
        self._report()
        if outcome.kind in ("busy", "no_carrier"):
            await asyncio.sleep(outcome.delay)
            self._fail(call, "BUSY" if outcome.kind == "busy" else "NO CARRIER")
            return
        await asyncio.sleep(outcome.delay / 2)
        call.stat = CallStat.ALERTING
        self._report()
        if outcome.kind == "none":
            return
        await asyncio.sleep(outcome.delay / 2)
        if outcome.kind == "no_answer":
            self._fail(call, "NO ANSWER")
        else:
            call.progress = None
            self._connect(call)

    def _start_ringing(self, call: Call) -> None:
        call.progress = self._ctx.tasks.spawn(self._keep_ringing(call), "ring")

    async def _keep_ringing(self, call: Call) -> None:
        while True:
            await asyncio.sleep(call.ring_interval)
            self._ring(call)

    def _ring(self, call: Call) -> None:
        settings = self._ctx.settings
        out = self._ctx.out
        if settings.crc:
            out.lines("+CRING: VOICE", ending="\r\r\n")
        else:
            out.lines("RING")
        if settings.clip:
            out.lines(f'+CLIP: "{call.number}",{call.number_type},,,,0')

    def _connect(self, call: Call) -> None:
        self._ctx.out.lines("VOICE CALL: BEGIN")
        self._mark_connected(call, CallStat.ACTIVE)
        self._report()

    def _mark_connected(self, call: Call, stat: CallStat) -> None:
        call.stat = stat
        call.connected_at = self._loop_time()
        call.cpcmreg_refusals_left = self._ctx.variants.cpcmreg_refusals
        if stat is CallStat.ACTIVE:
            self._start_key_plans(call)

    def _fail(self, call: Call, result: str) -> None:
        """A placed call that never connected ends: +CLCC 6, optional END: 000000, the result."""
        self._remove(call)
        if self._ctx.variants.failed_dial_end:
            self._ctx.out.lines(end_line(0, self._ctx.variants.end_format))
        self._ctx.out.lines(result)
        self._promote_waiting()

    def _disconnect_remotely(self, call: Call) -> None:
        assert call.connected_at is not None
        self._remove(call)
        self._ctx.out.lines(
            end_line(self._loop_time() - call.connected_at, self._ctx.variants.end_format)
        )
        self._ctx.out.lines("NO CARRIER")
        self._promote_waiting()

    # Bookkeeping -------------------------------------------------------------------------------

    def _add(self, number: str, kind: int, direction: CallDirection, stat: CallStat) -> Call:
        index = next(i for i in range(1, len(self.calls) + 2) if i not in self.calls)
        call = Call(number, kind, direction, stat, id=index)
        self.calls[index] = call
        return call

    def _remove(self, *calls: Call) -> None:
        """Calls end: stat 6 in the list, then they are gone; the audio stops with the last
        connected call."""
        for call in calls:
            self._stop_progress(call)
            call.stat = CallStat.DISCONNECTED
        for call, task in self._key_tasks:
            if any(call is gone for gone in calls):
                task.cancel()  # the keys still to be pressed in a call that ended
        self._report()
        for call in calls:
            self.calls.pop(call.id, None)
        if not any(call.connected_at is not None for call in self.calls.values()):
            self._audio.stop()

    def _promote_waiting(self) -> None:
        """A waiting call left alone rings on as an ordinary incoming call."""
        waiting = self._with(CallStat.WAITING)
        if waiting is not None and len(self.calls) == 1:
            waiting.stat = CallStat.INCOMING
            self._report()
            if waiting.progress is None:
                self._start_ringing(waiting)

    def _report(self) -> None:
        """With AT+CLCC=1, every change of state prints the whole list as +CLCC URCs."""
        if self._ctx.settings.clcc:
            for call in self._ordered():
                self._ctx.out.lines(call.clcc_line())

    def _ordered(self) -> Iterable[Call]:
        return (self.calls[index] for index in sorted(self.calls))

    def _with(self, stat: CallStat) -> Call | None:
        return next((call for call in self._ordered() if call.stat is stat), None)

    def _pick(self, call_id: int | None, *stats: CallStat) -> Call:
        """The call `call_id`, else the first in `stats` (else the foreground call)."""
        if call_id is not None:
            call = self.calls.get(call_id)
        elif stats:
            call = next((found for stat in stats if (found := self._with(stat))), None)
        else:
            call = self.call
        if call is None or (stats and call.stat not in stats):
            state = "no such call" if call is None else call.stat.name
            raise RuntimeError(f"not possible with {state}")
        return call

    @staticmethod
    def _stop_progress(call: Call) -> None:
        """Stop the call's ringing or far-end action, unless that is what is running now."""
        task, call.progress = call.progress, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()


def _check_dtmf(digits: str) -> None:
    if not digits or not set(digits) <= DTMF_CHARACTERS:
        raise ValueError(f"not DTMF digits: {digits!r}")
