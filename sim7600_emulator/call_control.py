"""Voice calls: the commands that place, answer and end them, the URCs, and the far end."""

from __future__ import annotations

import asyncio

from .at_command import NO_FINAL, AtCommand, CommandKind, Final, Handler
from .audio_stream import AudioStream
from .call_model import (
    Call,
    CallDirection,
    CallStat,
    DialOutcome,
    end_line,
    number_type,
)
from .context import ModemContext
from .errors import CmeError, PlainError

DIAL_CHARACTERS = frozenset("0123456789+*#ABCD")
DTMF_CHARACTERS = frozenset("0123456789*#ABCD")
PCM_RATES = {0: 8000, 1: 16000}
"""Sample rate for each AT+CPCMFRM value."""


class CallControl:
    """The single call of the emulator, following the sequences of sim7600.md section 3."""

    def __init__(self, ctx: ModemContext, audio: AudioStream) -> None:
        self._ctx = ctx
        self._audio = audio
        self.call: Call | None = None
        self.dial_outcome = DialOutcome()
        self.dtmf_sent = ""
        self._progress: asyncio.Task[None] | None = None

    def handlers(self) -> dict[str, Handler]:
        """AT commands of this family."""
        ctx = self._ctx
        return {
            "D": self._dial,
            "A": self._answer,
            "H": self._ath,
            "+CHUP": self._chup,
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
        """A call arrives: RING (+CLIP), +CLCC stat 4, then RING again every `ring_interval`."""
        if self.call is not None:
            raise RuntimeError("a call is already in progress")
        self.call = Call(number, number_kind, CallDirection.MOBILE_TERMINATED, CallStat.INCOMING)
        self._ring()
        self._report_stat(CallStat.INCOMING)
        self._progress = self._ctx.tasks.spawn(self._keep_ringing(ring_interval), "ringing")

    async def missed_call(self) -> None:
        """The caller gives up: +CLCC stat 6 and `MISSED_CALL: <hh:mmAM|PM> <number>`."""
        call = self._require(CallStat.INCOMING)
        self._end_progress()
        self._report_stat(CallStat.DISCONNECTED)
        self.call = None
        self._ctx.out.lines(f"MISSED_CALL: {self._ctx.clock.now():%I:%M%p} {call.number}")

    async def remote_answer(self) -> None:
        """The far end picks up a call the host placed."""
        self._require(CallStat.DIALING, CallStat.ALERTING)
        self._end_progress()
        self._connect()

    async def remote_hang_up(self) -> None:
        """The far end hangs up: END and NO CARRIER, or a missed / failed call before connect."""
        call = self._require()
        if call.stat is CallStat.INCOMING:
            await self.missed_call()
        elif call.connected_at is None:
            self._fail("NO CARRIER")
        else:
            self._disconnect_remotely()

    async def send_dtmf(self, digits: str) -> None:
        """The far end presses keys: `+RXDTMF: <c>` per digit."""
        self._require(CallStat.ACTIVE)
        if not set(digits) <= DTMF_CHARACTERS:
            raise ValueError(f"not DTMF digits: {digits!r}")
        for digit in digits:
            self._ctx.out.lines(f"+RXDTMF: {digit}", ending="\r\r\n")

    def network_lost(self) -> None:
        """Radio off (CFUN=0/4): a connected call ends as if the far end had hung up."""
        if self.call is None:
            return
        if self.call.connected_at is None:
            self._end_progress()
            self._report_stat(CallStat.DISCONNECTED)
            self.call = None
            self._ctx.out.lines("NO CARRIER")
        else:
            self._disconnect_remotely()

    def power_off(self) -> None:
        """A reboot drops the call without a word."""
        self._end_progress()
        self._audio.stop()
        self.call = None

    # AT commands ------------------------------------------------------------------------------

    async def _dial(self, cmd: AtCommand) -> Final:
        if not cmd.rest.endswith(";"):
            return "NO CARRIER"  # a data call: nothing to connect to over LTE
        number = cmd.rest[:-1].strip()
        if not number or not set(number) <= DIAL_CHARACTERS:
            raise PlainError
        self._ctx.sim.check_ready()
        self._ctx.check_registered()
        if self.call is not None:
            raise CmeError(3)
        self.call = Call(
            number, number_type(number), CallDirection.MOBILE_ORIGINATED, CallStat.DIALING
        )
        self._progress = self._ctx.tasks.spawn(self._far_end(self.dial_outcome), "far-end")
        return None

    async def _answer(self, cmd: AtCommand) -> Final:
        call = self.call
        if call is None or call.stat is not CallStat.INCOMING:
            return "NO CARRIER"
        self._end_progress()
        out = self._ctx.out
        if self._ctx.variants.ata_begin_first:
            out.lines("VOICE CALL: BEGIN")
            out.lines("OK")
        else:
            out.lines("OK")
            out.lines("VOICE CALL: BEGIN")
        self._mark_connected(call)
        self._report_stat(CallStat.ACTIVE)
        return NO_FINAL

    async def _ath(self, cmd: AtCommand) -> Final:
        if cmd.rest not in ("", "0"):
            raise PlainError
        if self._ctx.variants.ath_needs_cvhu0 and self._ctx.settings.cvhu != 0:
            return None  # CVHU=1: ATH is answered but leaves a voice call up
        return self._hang_up()

    async def _chup(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.TEST:
            return None
        if cmd.kind is not CommandKind.ACTION:
            raise PlainError
        return self._hang_up()

    async def _clcc(self, cmd: AtCommand) -> Final:
        if cmd.kind is CommandKind.ACTION:
            if self.call is not None:
                self._ctx.out.lines(self.call.clcc_line())
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
        if self.call is None or self.call.stat is not CallStat.ACTIVE:
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
        call = self.call
        if call is None or call.stat is not CallStat.ACTIVE:
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

    def _hang_up(self) -> Final:
        """AT+CHUP / ATH with an effect: OK and END in the variant's order, NO CARRIER optional."""
        call = self.call
        if call is None:
            return None
        self._end_progress()
        self._audio.stop()
        out = self._ctx.out
        variants = self._ctx.variants
        if variants.hangup_ok_first:
            out.lines("OK")
        self._report_stat(CallStat.DISCONNECTED)
        self.call = None
        if call.connected_at is not None:
            out.lines(end_line(self._loop_time() - call.connected_at, variants.end_format))
        if not variants.hangup_ok_first:
            out.lines("OK")
        if variants.hangup_no_carrier and call.connected_at is not None:
            out.lines("NO CARRIER")
        return NO_FINAL

    async def _far_end(self, outcome: DialOutcome) -> None:
        """After ATD's OK: +CLCC dialing, then what `outcome` says."""
        self._report_stat(CallStat.DIALING)
        if outcome.kind in ("busy", "no_carrier"):
            await asyncio.sleep(outcome.delay)
            self._fail("BUSY" if outcome.kind == "busy" else "NO CARRIER")
            return
        await asyncio.sleep(outcome.delay / 2)
        self._report_stat(CallStat.ALERTING)
        if outcome.kind == "none":
            return
        await asyncio.sleep(outcome.delay / 2)
        if outcome.kind == "no_answer":
            self._fail("NO ANSWER")
        else:
            self._progress = None
            self._connect()

    async def _keep_ringing(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self._ring()

    def _ring(self) -> None:
        call = self.call
        assert call is not None
        settings = self._ctx.settings
        out = self._ctx.out
        if settings.crc:
            out.lines("+CRING: VOICE", ending="\r\r\n")
        else:
            out.lines("RING")
        if settings.clip:
            out.lines(f'+CLIP: "{call.number}",{call.number_type},,,,0')

    def _connect(self) -> None:
        call = self.call
        assert call is not None
        self._ctx.out.lines("VOICE CALL: BEGIN")
        self._mark_connected(call)
        self._report_stat(CallStat.ACTIVE)

    def _mark_connected(self, call: Call) -> None:
        call.connected_at = self._loop_time()
        call.cpcmreg_refusals_left = self._ctx.variants.cpcmreg_refusals

    def _fail(self, result: str) -> None:
        """A placed call that never connected ends: +CLCC 6, optional END: 000000, the result."""
        self._end_progress()
        self._report_stat(CallStat.DISCONNECTED)
        self.call = None
        if self._ctx.variants.failed_dial_end:
            self._ctx.out.lines(end_line(0, self._ctx.variants.end_format))
        self._ctx.out.lines(result)

    def _disconnect_remotely(self) -> None:
        call = self.call
        assert call is not None
        assert call.connected_at is not None
        self._audio.stop()
        self._report_stat(CallStat.DISCONNECTED)
        self.call = None
        self._ctx.out.lines(
            end_line(self._loop_time() - call.connected_at, self._ctx.variants.end_format)
        )
        self._ctx.out.lines("NO CARRIER")

    def _report_stat(self, stat: CallStat) -> None:
        """Enter `stat`; with AT+CLCC=1 every change of state is reported as a +CLCC URC."""
        assert self.call is not None
        self.call.stat = stat
        if self._ctx.settings.clcc:
            self._ctx.out.lines(self.call.clcc_line())

    def _require(self, *stats: CallStat) -> Call:
        if self.call is None or (stats and self.call.stat not in stats):
            state = "no call" if self.call is None else self.call.stat.name
            raise RuntimeError(f"not possible with {state}")
        return self.call

    def _end_progress(self) -> None:
        """Stop ringing or the far end's pending action, unless that is what is running now."""
        task, self._progress = self._progress, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()
