"""The modem facade: one object per SIM7600 that the Home Assistant layer talks to.

``Modem.connect`` opens the AT port, initialises the modem and reads its identity, SIM,
network and call state, then keeps it current from URCs. Only the signal figures, which
have no URC, are polled. If the AT port fails or stops answering, a supervisor reconnects
with exponential backoff and jitter, re-runs the initialisation and reconciles the call
state; subscribers see :class:`ConnectionChanged` both ways.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
import dataclasses
from dataclasses import asdict, dataclass, replace
import functools
import logging
from pathlib import Path
import random
from typing import Any

from . import ivr, validate
from .audio import REGISTER_TIMEOUT, AudioBridge, PlaybackResult, RecordingResult, SilenceEnd
from .audio_source import AudioSource
from .calls import CallTracker, DialResult, HangUpTarget
from .errors import (
    AtCommandError,
    AtTimeoutError,
    AudioBridgeNotRunningError,
    CallStateError,
    CmeError,
    ModemClosedError,
    NotAModemError,
    PortClosedError,
    Sim7600Error,
    SimPinError,
    SimPukRequiredError,
    UnsupportedModemError,
)
from .events import ConnectionChanged, ModemEvent, StateChanged
from .executor import AtExecutor
from .gnss import GnssService
from .ivr import (
    AlarmRequest,
    AlarmResult,
    DtmfEnd,
    DtmfRequest,
    DtmfResult,
    KeyListener,
    Prompt,
)
from .model import (
    BridgeState,
    CallInfo,
    CallState,
    ModemIdentity,
    ModemSnapshot,
    RegistrationStatus,
    SimStatus,
)
from .network import (
    bare_digits,
    best_registration,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_spic,
    registration_status,
    sim_status,
    strip_prefix,
)
from .sms import SendResult, SmsService
from .sms_state import SmsJournal
from .transport import open_port
from .urc import (
    BootStage,
    CallerId,
    CallListEntry,
    CallTerminated,
    CallWaiting,
    DtmfReceived,
    MissedCall,
    Registration,
    Ring,
    SimState,
    SmsPdu,
    SmsStorageFull,
    SmsStored,
    Urc,
    UssdResponse,
    VoiceCallBegin,
    VoiceCallEnd,
    parse_call_list,
    parse_registration,
)
from .ussd import UssdResult, UssdService

_LOGGER = logging.getLogger(__name__)

_CALL_URCS = (
    Ring,
    CallerId,
    CallWaiting,
    CallListEntry,
    VoiceCallBegin,
    VoiceCallEnd,
    CallTerminated,
    MissedCall,
    DtmfReceived,
)
# Settings the driver relies on; the modem forgets them on reboot.
_INIT_REQUIRED = ("ATE0", "AT+CMEE=1")
_INIT_OPTIONAL = (
    "AT+CLIP=1",  # caller ID after RING
    "AT+CVHU=0",  # let ATH end voice calls too
    "AT+CLCC=1",  # +CLCC URCs on every call state change
    # +CCWA URC for a waiting call (off after power-up). Only the presentation: whether
    # the network offers call waiting at all stays the subscriber's setting.
    "AT+CCWA=1",
    "AT+CREG=1",
    "AT+CGREG=1",
    "AT+CEREG=1",
    'AT+CSCS="GSM"',  # USSD text as plain characters, not hex
)
_CME_SIM_NOT_INSERTED = 10
_WATCHDOG_ATTEMPTS = 3
_RADIO_OFF_SECONDS = 2.0
_BOOT_BANNER_WINDOW = 30.0  # a PB DONE this soon after a handled boot or unlock is expected
_BOOT_WAIT = 20.0  # after RDY, set up again at PB DONE or after this long at the latest


@dataclass(frozen=True, slots=True)
class ModemConfig:
    """How to reach and run one modem."""

    at_url: str
    audio_url: str | None = None
    pin: str | None = None
    sample_rate: int = 8000
    signal_interval: float = 60.0
    command_timeout: float = 5.0
    reconnect_min: float = 1.0
    # Kept short so the modem is back within seconds of its port returning; a failed open
    # of a missing device costs next to nothing.
    reconnect_max: float = 8.0
    audio_speed: float = 1.0  # >1 only against an accelerated emulator
    sms_part_timeout: float = 24 * 3600.0  # deliver an incomplete multipart SMS after this
    # Seconds without registration before the radio is cycled (AT+CFUN=0/1); 0 = never.
    registration_watchdog: float = 0.0
    gnss: bool = False  # switch the GNSS receiver on and follow the position
    nmea_url: str | None = None  # the NMEA port; without it the position is polled
    gnss_interval: float = 10.0  # seconds between AT+CGPSINFO polls (no NMEA port)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What :func:`probe` found on a port."""

    identity: ModemIdentity
    sim: SimStatus
    gnss: bool = False  # the modem answered AT+CGPS?


class Modem:
    """A connected SIM7600: state, events and the operations the HA layer exposes."""

    def __init__(self, config: ModemConfig, sms_journal: SmsJournal | None = None) -> None:
        self.config = config
        self._executor: AtExecutor | None = None
        self._subscribers: list[Callable[[ModemEvent], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_close: set[Callable[[], None]] = set()  # ends a wait when the modem closes
        self._supervisor: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closing = False
        self._lost = asyncio.Event()
        self._initialising = False
        self._sweep_on_initialise = True
        self._reinit: asyncio.Task[None] | None = None
        self._boot_timer: asyncio.TimerHandle | None = None
        self._last_boot_handled = -_BOOT_BANNER_WINDOW
        self._pin_rejected = False
        self.pin_attempts_left: int | None = None
        self.connected = False
        self.identity = ModemIdentity()
        self.sim: SimStatus | None = None
        self._registration: dict[str, RegistrationStatus] = {}
        self.operator: str | None = None
        self.technology: str | None = None
        self.signal_dbm: int | None = None
        self.ber: int | None = None
        self.reconnects = 0
        self.radio_cycles = 0
        self.network_stuck = False  # the watchdog cycled the radio and it did not help
        self._failed_cycles = 0
        self._unregistered_since: float | None = None
        self.calls = CallTracker(self.execute, self._emit, self._call_changed)
        self._talking_to: tuple[str, float | None] | None = None  # the active call
        self.audio = AudioBridge(
            config.audio_url,
            self.execute,
            self._changed,
            sample_rate=config.sample_rate,
            speed=config.audio_speed,
        )
        self.sms = SmsService(
            self.execute,
            self._emit,
            self._changed,
            sms_journal,
            max_part_age=config.sms_part_timeout,
        )
        self.ussd = UssdService(self.execute, self._emit)
        self.gnss = GnssService(
            self.execute,
            self._execute_if_idle,
            self._changed,
            enabled=config.gnss,
            nmea_url=config.nmea_url,
            poll_interval=config.gnss_interval,
        )

    # ---- state ------------------------------------------------------------------------

    @property
    def snapshot(self) -> ModemSnapshot:
        """The current state as one immutable value."""
        return ModemSnapshot(
            connected=self.connected,
            identity=self.identity,
            sim=self.sim,
            registration=best_registration(*self._registration.values()),
            operator=self.operator,
            technology=self.technology,
            signal_dbm=self.signal_dbm,
            ber=self.ber,
            call_state=self.calls.state,
            call=self.calls.call,
            waiting_call=self.calls.waiting_call,
            held_call=self.calls.held_call,
            bridge=self.audio.state,
            bridge_error=self.audio.error,
            playing=self.audio.busy,
            sms_storage_full=self.sms.storage_full,
            last_sms_received=self.sms.last_received,
            network_stuck=self.network_stuck,
            gnss=self.gnss.state,
        )

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` has begun (what ends now ends ``closed``)."""
        return self._closing

    def subscribe(self, callback: Callable[[ModemEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event; returns the function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def diagnostics(self) -> dict[str, Any]:
        """Counters for the diagnostics download (no private data)."""
        executor = self._executor
        return {
            "reconnects": self.reconnects,
            "radio_cycles": self.radio_cycles,
            "executor": asdict(executor.stats) if executor is not None else None,
            "audio": {
                "state": self.audio.state.value,
                "error": self.audio.error,
                **asdict(self.audio.stats),
            },
            "pin_rejected": self._pin_rejected,
            "sms": {
                "received": self.sms.received,
                "duplicates": self.sms.duplicates,
                "undecodable": self.sms.undecodable,
                "held_groups": len(self.sms.reassembler),
            },
            "gnss": {
                "supported": self.gnss.supported,
                "enabled": self.gnss.state.enabled,
                "source": self.gnss.state.source,
                "fix": self.gnss.state.fix.value,
                **asdict(self.gnss.stats),
            },
        }

    # ---- lifecycle --------------------------------------------------------------------

    async def connect(self, *, sweep_sms: bool = True) -> None:
        """Open the AT port and initialise; raises if the modem cannot be reached.

        A SIM that needs a PIN is unlocked with the configured PIN once; a rejected PIN
        raises :class:`SimPinError` and is never sent again by this object.

        SMS stored on the SIM are delivered during connect unless ``sweep_sms`` is False:
        a caller whose listeners subscribe only after connecting (Home Assistant adds its
        entities then) calls :meth:`sweep_sms` once they listen, so no message is
        delivered to nobody. Reconnects always sweep.
        """
        self._sweep_on_initialise = sweep_sms
        await self._open_and_initialise()
        self._sweep_on_initialise = True
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name="callstack supervisor"
        )

    async def close(self) -> None:
        """Close both ports and cancel every task; safe to call twice.

        Whatever waits on the modem ends at once with :class:`ModemClosedError`: a USSD
        answer, a DTMF collection, a dial's outcome, and every command in flight or
        queued (the one in flight with what the modem had answered, so a confirmed SMS
        still counts as sent).
        """
        self._closing = True
        closed = ModemClosedError()
        if self._executor is not None:
            # Before any task is cancelled: one that frees the line must not let a queued
            # command out to the modem.
            self._executor.refuse(closed)
        self.ussd.close()
        for end in list(self._on_close):
            end()
        if self._boot_timer is not None:
            self._boot_timer.cancel()
            self._boot_timer = None
        for task in (self._supervisor, self._poller, *self._tasks):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(task for task in (self._supervisor, self._poller, *self._tasks) if task is not None),
            return_exceptions=True,
        )
        await self.calls.close()
        await self.audio.close()
        await self.gnss.close()
        if self._executor is not None:
            await self._executor.close(closed)
        self.connected = False

    async def _open_and_initialise(self) -> None:
        port = await open_port(self.config.at_url)
        executor = AtExecutor(port, self._on_urc, self._on_lost)
        executor.start()
        self._executor = executor
        self._lost.clear()
        try:
            await self._initialise()
        except BaseException:
            self._executor = None
            await executor.close()
            raise
        self.connected = True
        self._start_poller()
        self.gnss.start()
        self._changed()

    async def _initialise(self) -> None:
        self._initialising = True
        try:
            await _handshake(self._run_init)
            for command in _INIT_OPTIONAL:
                await self._quiet(command)
            if self.audio.url is not None:
                frm = 1 if self.config.sample_rate == 16000 else 0
                await self._quiet(f"AT+CPCMFRM={frm}")
            self.identity = await _read_identity(self.execute)
            await self._read_sim()
            await self.refresh_network()
            if self.sim is SimStatus.READY:
                await self.sms.initialise(sweep=self._sweep_on_initialise)
            self.calls.reconcile(parse_call_list(await self.execute("AT+CLCC")))
            await self.gnss.initialise()
        finally:
            self._initialising = False

    async def _run_init(self, command: str) -> list[str]:
        return await self.execute(command, timeout=2.0)

    async def _read_sim(self) -> None:
        self.sim = await _read_sim_status(self.execute)
        if self.sim is SimStatus.PIN_REQUIRED and self.config.pin and not self._pin_rejected:
            await self.unlock_sim(self.config.pin)
        if self.sim is SimStatus.READY and self.identity.imsi is None:
            self.identity = replace(
                self.identity,
                imsi=bare_digits(await self._quiet("AT+CIMI")),
                iccid=bare_digits(await self._quiet("AT+CICCID"), "+ICCID:"),
            )

    async def unlock_sim(self, pin: str) -> None:
        """Send the SIM PIN once. Raises :class:`SimPinError` with the attempts left."""
        pin = validate.pin(pin)
        try:
            await self.execute(f'AT+CPIN="{pin}"', timeout=10.0)
        except CmeError as err:
            self._pin_rejected = True
            self.pin_attempts_left = parse_spic(await self._quiet("AT+SPIC"))
            self.sim = await _read_sim_status(self.execute)
            self._changed()
            if self.sim is SimStatus.PUK_REQUIRED:
                raise SimPukRequiredError("The SIM is blocked and needs its PUK") from err
            raise SimPinError(self.pin_attempts_left) from err
        self._pin_rejected = False
        self.sim = SimStatus.READY
        # The SIM now prints its boot banner; that is not a modem restart.
        self._last_boot_handled = asyncio.get_running_loop().time()
        self._changed()

    async def refresh_network(self) -> None:
        """Read registration, operator and signal (used at start and by the slow poll)."""
        for domain in ("CREG", "CEREG"):
            for line in await self._quiet(f"AT+{domain}?"):
                if (registration := parse_registration(line)) is not None:
                    self._registration[domain] = registration_status(registration.stat)
        if (operator := parse_cops(await self._quiet("AT+COPS?"))) is not None:
            self.operator, self.technology = operator.name, operator.technology
        await self._refresh_signal()

    async def _refresh_signal(self) -> None:
        if (signal := parse_csq(await self._quiet("AT+CSQ"))) is not None:
            self.signal_dbm, self.ber = signal.dbm, signal.ber
            self._changed()

    async def _quiet(self, command: str) -> list[str]:
        return await _refusal_is_empty(self.execute, command)

    def _start_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(
                self._poll(), name="callstack signal poll"
            )

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.config.signal_interval)
            await self.sms.expire()
            with contextlib.suppress(Sim7600Error):
                await self._refresh_signal()
            if self.calls.state is CallState.IDLE:
                await self.audio.check_port()
                with contextlib.suppress(Sim7600Error):
                    await self._watch_registration()

    async def _watch_registration(self) -> None:
        """Cycle the radio when the modem answers but has lost the network for too long.

        This is the ``AT+CFUN`` cycle users of GSM integrations otherwise do by hand. After
        :data:`_WATCHDOG_ATTEMPTS` cycles that did not bring the network back the modem is
        flagged ``network_stuck`` (a repairs issue) and left alone until it registers.
        """
        limit = self.config.registration_watchdog
        if limit <= 0 or self.sim is not SimStatus.READY:
            return
        now = asyncio.get_running_loop().time()
        if self.snapshot.registration.registered:
            self._unregistered_since = None
            if self._failed_cycles or self.network_stuck:
                self._failed_cycles = 0
                self.network_stuck = False
                self._changed()
            return
        if self._unregistered_since is None:
            self._unregistered_since = now
            return
        if now - self._unregistered_since < limit or self.network_stuck:
            return
        _LOGGER.warning("No network for %.0f s; restarting the modem's radio", limit)
        self.radio_cycles += 1
        self._failed_cycles += 1
        self._unregistered_since = now
        await self.execute("AT+CFUN=0", timeout=20.0)
        await asyncio.sleep(_RADIO_OFF_SECONDS)
        await self.execute("AT+CFUN=1", timeout=20.0)
        # The SIM powers up again and prints its boot banner: not a modem restart.
        self._last_boot_handled = asyncio.get_running_loop().time()
        if self._failed_cycles >= _WATCHDOG_ATTEMPTS:
            self.network_stuck = True
            self._changed()

    # ---- reconnecting -----------------------------------------------------------------

    def _on_lost(self, err: Sim7600Error) -> None:
        del err
        if self._closing:
            return
        self._lost.set()
        if not self.connected:
            return  # a reconnect attempt failed: the supervisor is already on it
        _LOGGER.info("Lost the connection to the modem; reconnecting")
        self.connected = False
        self.calls.connection_lost()
        self._spawn(self.audio.close())
        self._emit(ConnectionChanged(False))
        self._changed()

    async def _supervise(self) -> None:
        """Reconnect whenever the port is lost, until it works again, whatever fails."""
        while True:
            await self._lost.wait()
            delay = self.config.reconnect_min
            while True:
                await self._drop_executor()
                try:
                    await self._open_and_initialise()
                    break
                except Exception as err:
                    if not isinstance(err, Sim7600Error):
                        _LOGGER.exception("Unexpected error while reconnecting")
                    _LOGGER.debug("Reconnect failed; next try in about %.0f s", delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.config.reconnect_max)
            self.reconnects += 1
            _LOGGER.info("Reconnected to the modem")
            self._emit(ConnectionChanged(True))

    async def _drop_executor(self) -> None:
        executor, self._executor = self._executor, None
        if self._poller is not None:
            self._poller.cancel()
        if executor is not None:
            await executor.close()

    # ---- commands ---------------------------------------------------------------------

    async def execute(
        self,
        command: str,
        *,
        timeout: float | None = None,
        payload: bytes | None = None,
        prefix: str | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> list[str]:
        """Run one AT command on the AT port (see :meth:`AtExecutor.execute`)."""
        if self._closing:
            raise ModemClosedError()
        executor = self._executor
        if executor is None or not executor.alive:
            raise PortClosedError("The modem is not connected")
        return await executor.execute(
            command,
            timeout=timeout if timeout is not None else self.config.command_timeout,
            payload=payload,
            prefix=prefix,
            before_send=before_send,
        )

    async def _execute_if_idle(self, command: str, timeout: float) -> list[str] | None:
        """Run a background query only if no other command runs (None: busy, not sent)."""
        executor = self._executor
        if executor is None or not executor.alive:
            raise PortClosedError("The modem is not connected")
        return await executor.execute_if_idle(command, timeout=timeout)

    async def dial(self, number: str, timeout: float = 60.0) -> DialResult:
        """Place a call and wait for its outcome (:class:`ModemClosedError` if the modem
        closes first: the outcome is then unknown, not a failed call)."""
        result = await self.calls.dial(number, timeout)
        if self._closing:
            raise ModemClosedError()
        return result

    async def answer(self) -> None:
        """Answer the ringing call, or take the waiting (else held) call, holding the
        active one."""
        await self.calls.answer()

    async def hang_up(self, target: HangUpTarget = HangUpTarget.ACTIVE) -> None:
        """End, reject or cancel a call (see :meth:`CallTracker.hang_up`)."""
        await self.calls.hang_up(target)

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send DTMF tones into the active call."""
        await self.calls.send_dtmf(digits, duration_ms)

    async def record(
        self,
        target: Path,
        duration: float,
        *,
        stop_digits: str = "",
        overwrite: bool = False,
        channels: str = "caller",
        end_on_silence: SilenceEnd | None = None,
    ) -> RecordingResult:
        """Record the far end of the active call (fails closed; see :meth:`AudioBridge.record`
        for how it ends); ``channels="both"`` adds what we play as the right channel.

        A recording the modem's closing cuts short is kept and ends ``closed``.
        """
        if self.calls.state is not CallState.ACTIVE:
            raise AudioBridgeNotRunningError("No call is active")
        result = await self.audio.record(
            target,
            duration,
            stop_digits=stop_digits,
            overwrite=overwrite,
            channels=channels,
            end_on_silence=end_on_silence,
        )
        return replace(result, ended_by="closed") if self._closing else result

    async def play(
        self, source: AudioSource, *, gain: float = 1.0, replace: bool = False
    ) -> PlaybackResult:
        """Play ``source`` into the active call, paced to real time (see
        :meth:`AudioBridge.play`: takes ownership of the source, raises
        :class:`MediaError` before sending anything when it cannot be played); ended
        ``closed`` if the modem closes first."""
        if self.calls.state is not CallState.ACTIVE:
            await source.aclose()
            raise AudioBridgeNotRunningError("No call is active")
        result = await self.audio.play(source, gain=gain, replace=replace)
        return dataclasses.replace(result, ended_by="closed") if self._closing else result

    def stop_playback(self) -> None:
        """Stop what is playing into the call (no frame is written after this)."""
        self.audio.stop_playback()

    async def send_sms(
        self, number: str, text: str, *, request_delivery_report: bool = False
    ) -> SendResult:
        """Send an SMS (split and encoded as needed)."""
        return await self.sms.send(number, text, request_delivery_report=request_delivery_report)

    async def send_ussd(self, code: str, timeout: float = 30.0) -> UssdResult:
        """Send a USSD code (or the reply to an open session) and wait for the answer."""
        return await self.ussd.send(code, timeout)

    async def sweep_sms(self) -> None:
        """Deliver the SMS stored on the SIM (see :meth:`connect`); if the modem drops
        meanwhile, the sweep after the reconnect delivers them."""
        if self.sim is not SimStatus.READY:
            return
        try:
            await self.sms.sweep()
        except Sim7600Error:
            _LOGGER.debug("SMS sweep interrupted; the next connection sweeps again")

    async def cancel_ussd(self) -> None:
        """End an open USSD session."""
        await self.ussd.cancel()

    async def collect_dtmf(self, request: DtmfRequest, prompt: Prompt | None = None) -> DtmfResult:
        """Collect the digits the far end presses (IVR menus, PINs) in the active call.

        ``prompt`` plays first and stops at the first key (barge-in); that key counts.
        The end of this call is a normal end (``call_ended``) with the digits so far; a
        waiting caller who gives up meanwhile is not.
        """
        if self.calls.state is not CallState.ACTIVE:
            raise CallStateError("No call is active")
        with KeyListener(self.subscribe, self._on_close, self._call_ends(self.calls.call)) as keys:
            if prompt is not None and not await self.wait_for_audio():
                return DtmfResult("", DtmfEnd.CALL_ENDED)
            return await ivr.collect(keys, request, prompt)

    async def alarm_call(
        self, number: str, message: Prompt, request: AlarmRequest, timeout: float = 60.0
    ) -> AlarmResult:
        """Dial ``number``; once answered, play ``message`` until it is acknowledged or has
        played ``request.repeat`` times, then hang up. A call that is not answered returns
        its dial result with nothing played."""
        if self.audio.url is None:
            raise AudioBridgeNotRunningError("No audio port is configured")
        with KeyListener(self.subscribe, self._on_close) as keys:
            result = await self.dial(number, timeout)
            if result is not DialResult.ANSWERED:
                return AlarmResult(result, False, None, 0)
            keys.follow(self._call_ends(self.calls.call))
            try:
                if not await self.wait_for_audio():
                    return AlarmResult(result, False, None, 0)
                digit, plays = await ivr.announce(keys, request, message)
            finally:
                await self._hang_up_if_connected()
        return AlarmResult(result, digit is not None, digit, plays)

    def _call_ends(self, call: CallInfo | None) -> Callable[[], bool]:
        """Whether a call event means ``call`` is over (not a waiting caller's)."""
        following = _call_key(call)
        return lambda: _call_key(self.calls.call) != following

    async def wait_for_audio(self) -> bool:
        """Wait for PCM to flow in the call that has just connected (``AT+CPCMREG`` can
        lag); False if the call ended first. Raises :class:`AudioBridgeNotRunningError`
        when the bridge cannot run (no audio port, the port failed, PCM never started) and
        :class:`ModemClosedError` when the modem closes meanwhile."""
        changed = asyncio.Event()
        unsubscribe = self.subscribe(lambda event: changed.set())
        self._on_close.add(changed.set)
        try:
            async with asyncio.timeout(REGISTER_TIMEOUT + self.config.command_timeout):
                while not self.audio.running and not self._closing:
                    if self.calls.state is not CallState.ACTIVE:
                        return False
                    if self.audio.state in (BridgeState.FAILED, BridgeState.UNAVAILABLE):
                        raise AudioBridgeNotRunningError("The audio bridge is not running")
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise AudioBridgeNotRunningError("Call audio did not start") from None
        finally:
            self._on_close.discard(changed.set)
            unsubscribe()
        if self._closing:
            raise ModemClosedError()
        return True

    async def _hang_up_if_connected(self) -> None:
        """End the alarm call (the active one) unless the callee already has."""
        if self.calls.state is CallState.IDLE or self._closing:
            return
        try:
            await self.hang_up()
        except CallStateError:
            pass  # the callee hung up meanwhile
        except Sim7600Error as err:
            _LOGGER.warning("Could not hang up after the alarm call: %s", type(err).__name__)

    # ---- events -----------------------------------------------------------------------

    def _on_urc(self, urc: Urc) -> None:
        if isinstance(urc, _CALL_URCS):
            self.calls.handle(urc)
            if isinstance(urc, DtmfReceived):
                self.audio.dtmf(urc.digit)
        elif isinstance(urc, SmsStored | SmsPdu | SmsStorageFull):
            self._spawn(self.sms.handle(urc))
        elif isinstance(urc, UssdResponse):
            self.ussd.handle(urc)
        elif isinstance(urc, Registration):
            self._registration[urc.domain] = registration_status(urc.stat)
            self._changed()
        elif isinstance(urc, SimState):
            previous, self.sim = self.sim, sim_status(urc.state)
            if self.sim is SimStatus.READY and previous is not SimStatus.READY:
                self._sim_became_ready()
            self._changed()
        elif isinstance(urc, BootStage):
            self._boot_stage(urc.stage)

    def _boot_stage(self, stage: str) -> None:
        """Re-initialise a modem that restarted by itself.

        ``RDY`` says so plainly: the call ends at once, and the modem is set up again at
        ``PB DONE``, the last line of its boot banner, once SIM and SMS storage are ready
        (or after :data:`_BOOT_WAIT` if the banner never finishes, e.g. a PIN-locked SIM).
        A USB host often misses ``RDY``; then ``PB DONE`` alone says it, unless it follows
        our own PIN unlock or radio cycle.
        """
        if self._initialising or (self._reinit is not None and not self._reinit.done()):
            return
        loop = asyncio.get_running_loop()
        if stage == "RDY":
            self._last_boot_handled = loop.time()
            self._modem_restarted()
            if self._boot_timer is not None:
                self._boot_timer.cancel()
            self._boot_timer = loop.call_later(_BOOT_WAIT, self._start_reinitialise)
        elif stage == "PB DONE":
            if self._boot_timer is not None:
                self._start_reinitialise()
            elif loop.time() - self._last_boot_handled >= _BOOT_BANNER_WINDOW:
                self._last_boot_handled = loop.time()
                self._modem_restarted()
                self._start_reinitialise()

    def _modem_restarted(self) -> None:
        _LOGGER.info("The modem restarted; setting it up again")
        if self._executor is not None:
            # It forgot the command it was answering: do not let that block the line (and
            # the set-up) until its timeout, up to a minute for an SMS.
            self._executor.interrupt(PortClosedError("The modem restarted"))
        self.calls.connection_lost()
        self._spawn(self.audio.close())

    def _start_reinitialise(self) -> None:
        if self._boot_timer is not None:
            self._boot_timer.cancel()
            self._boot_timer = None
        self._reinit = asyncio.get_running_loop().create_task(self._reinitialise())
        self._tasks.add(self._reinit)
        self._reinit.add_done_callback(self._task_done)

    def _sim_became_ready(self) -> None:
        """A SIM that was busy, locked or absent at set-up is ready now: set up SMS (and
        sweep what is stored), which set-up had to skip."""
        booting = self._boot_timer is not None or (
            self._reinit is not None and not self._reinit.done()
        )
        if self.connected and not self._initialising and not booting:
            self._spawn(self._sim_ready())

    async def _sim_ready(self) -> None:
        await self._read_sim()
        await self.sms.initialise()

    async def _reinitialise(self) -> None:
        await self.audio.close()
        try:
            await self._initialise()
        except Sim7600Error as err:
            _LOGGER.warning("Could not initialise the modem after its restart; reconnecting")
            self._on_lost(err)  # half-initialised is not connected: start afresh
        self._changed()

    def _call_changed(self) -> None:
        state = self.calls.state
        talking_to = _call_key(self.calls.call) if state is CallState.ACTIVE else None
        if talking_to != self._talking_to:
            if self._talking_to is not None:
                # The active call ended, went on hold or was swapped for another: what
                # was being recorded of it ends, even if the bridge runs on.
                self.audio.call_ended()
            if talking_to is not None and self.audio.running:
                self._spawn(self.audio.confirm_registered())  # a swap, or a call resumed
            self._talking_to = talking_to
        if state is CallState.ACTIVE and not self.audio.running:
            self._spawn(self.audio.start())
        elif state is CallState.IDLE:
            # PCM goes off only when no call is left: a held call keeps the bridge.
            self._spawn(self.audio.stop())
        self._changed()

    def _changed(self) -> None:
        self._emit(StateChanged())

    def _emit(self, event: ModemEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Subscriber failed on %s", type(event).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        """Forget a finished helper task; a driver error in one (the port went away
        under it) is expected and already handled by the supervisor."""
        self._tasks.discard(task)
        if task.cancelled():
            return
        if (err := task.exception()) is not None:
            if not isinstance(err, Sim7600Error):
                _LOGGER.error("Unexpected error in a modem task", exc_info=err)
            else:
                _LOGGER.debug("Modem task stopped: %s", type(err).__name__)


def _call_key(call: CallInfo | None) -> tuple[str, float | None] | None:
    """What tells one connected call from another (its number may be learnt late)."""
    return None if call is None else (call.direction, call.started)


async def _handshake(run: Callable[[str], Awaitable[list[str]]]) -> None:
    """Make sure something answers AT, then apply the settings the parser relies on."""
    for attempt in range(3):
        try:
            await run("AT")
            break
        except AtTimeoutError:
            if attempt == 2:
                raise NotAModemError("Nothing answered AT on this port") from None
    for command in _INIT_REQUIRED:
        await run(command)


async def _refusal_is_empty(
    execute: Callable[..., Awaitable[list[str]]], command: str
) -> list[str]:
    """Run a command whose refusal (an optional setting, an unknown figure) is no error:
    the modem answering ERROR just means nothing to read."""
    try:
        return await execute(command)
    except AtCommandError:
        return []


async def _read_identity(execute: Callable[..., Awaitable[list[str]]]) -> ModemIdentity:
    read = functools.partial(_refusal_is_empty, execute)
    return ModemIdentity(
        manufacturer=strip_prefix(await read("AT+CGMI"), "+CGMI:"),
        model=strip_prefix(await read("AT+CGMM"), "+CGMM:"),
        firmware=strip_prefix(await read("AT+CGMR"), "+CGMR:"),
        imei=bare_digits(await read("AT+CGSN"), "+CGSN:"),
    )


async def _read_sim_status(execute: Callable[..., Awaitable[list[str]]]) -> SimStatus:
    try:
        status: SimStatus | None = parse_cpin(await execute("AT+CPIN?"))
    except CmeError as err:
        return SimStatus.NOT_INSERTED if err.code == _CME_SIM_NOT_INSERTED else SimStatus.ERROR
    except AtCommandError:
        return SimStatus.ERROR
    return status or SimStatus.ERROR


async def probe(at_url: str, timeout: float = 2.0) -> ProbeResult:
    """Open ``at_url``, check a SIMCom modem answers, and read identity and SIM state.

    Used by the config flow before anything is stored. Raises :class:`PortError`,
    :class:`NotAModemError` or :class:`UnsupportedModemError`.
    """
    port = await open_port(at_url)
    executor = AtExecutor(port, lambda urc: None)
    executor.start()
    try:

        async def run(command: str) -> list[str]:
            return await executor.execute(command, timeout=timeout)

        await _handshake(run)
        identity = await _read_identity(run)
        if "SIMCOM" not in (identity.manufacturer or "").upper():
            raise UnsupportedModemError("The device on this port is not a SIMCom modem")
        sim = await _read_sim_status(run)
        gnss = True
        try:
            await run("AT+CGPS?")  # a modem without a GNSS receiver answers ERROR
        except (AtCommandError, AtTimeoutError):
            gnss = False
    except PortClosedError as err:
        raise NotAModemError("The port closed during the probe") from err
    finally:
        await executor.close()
    return ProbeResult(identity, sim, gnss)
