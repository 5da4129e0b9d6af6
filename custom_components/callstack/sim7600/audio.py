"""The PCM audio bridge: call audio over the modem's USB audio port.

While a call is connected the SIM7600 streams the far end's voice as raw signed 16-bit LE
mono PCM (8 kHz: 320 bytes per 20 ms) on its audio port, and plays what the host writes
there into the call. The stream must be switched on with ``AT+CPCMREG=1`` on every call,
after ``VOICE CALL: BEGIN``; the modem may refuse for a while, so it is retried within a
bound. The PCM is taken in the port's read callback and fanned out to recordings; while no
audio is played and the stream runs in real time, the port is read only every
:data:`READ_HOLD_SECONDS`, so the loop wakes a few times a second rather than at every
20 ms frame.

Recording fails closed: it refuses before creating a file when the bridge is not
running, writes through a temporary file, and never returns an empty WAV as a result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
import math
from pathlib import Path

from .errors import (
    AtCommandError,
    AudioBridgeLostError,
    AudioBridgeNotRunningError,
    AudioBusyError,
    InvalidArgumentError,
    PortClosedError,
    PortError,
    RecordingEmptyError,
    Sim7600Error,
    WavFormatError,
)
from .executor import Execute
from .model import BridgeState
from .transport import SerialPort, open_port
from .wav import SAMPLE_WIDTH, WavAudio, WavWriter, read_wav

_LOGGER = logging.getLogger(__name__)

FRAME_SECONDS = 0.02  # the modem's 20 ms cadence
MAX_RECORD_SECONDS = 3600.0
REGISTER_TIMEOUT = 12.0  # how long to keep asking AT+CPCMREG=1 after connect
REGISTER_RETRY = 0.5
_FLUSH_SECONDS = 0.5  # how often recorded PCM goes to the file (a thread hop each time)
STALL_SECONDS = 2.0  # no PCM for this long during a call: the stream has stalled
_PLAYBACK_DRAIN_TIMEOUT = 2.0
READ_HOLD_SECONDS = 0.2
"""How long the audio port is left unread after each chunk while nothing is played: the
kernel gathers ten 20 ms frames meanwhile (3.2 KB at 8 kHz, 6.4 KB at 16 kHz; a pty holds
about 20 KB, a USB serial port 64 KB) and the loop wakes a tenth as often. Recording CPU per
audio second on the benchmark machine (20 s runs): 0.50 % of a core reading at once, 0.41 %
holding 60 ms, 0.36 % holding 100 ms, 0.20 % holding 200 ms with 0.5 s file flushes."""
_TAIL_SECONDS = 0.02
"""A recording ended by a key press or by the call's end ends this much later, with reads
no longer held, so the audio the kernel gathered meanwhile is in it."""
_BACKLOG_FACTOR = 1.5
"""A stream that has delivered this many times what real time allows is draining a backlog
(or comes from an accelerated emulator): it is read at once, as fast as it comes."""


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """A finished recording; ``ended_by`` is ``duration``, ``dtmf``, ``call_ended`` or
    ``closed`` (the modem was closed)."""

    path: Path
    duration: float
    ended_by: str
    sample_rate: int
    samples: int


@dataclass(frozen=True, slots=True)
class PlaybackResult:
    """A finished playback; ``ended_by`` is ``finished``, ``call_ended`` or ``closed``."""

    duration: float
    frames: int
    ended_by: str


class _Recording:
    """Collects PCM for one recording and says when and why it ended."""

    def __init__(self, samples_wanted: int, stop_on_dtmf: bool, skip: int) -> None:
        self.samples_wanted = samples_wanted
        self.stop_on_dtmf = stop_on_dtmf
        self.buffer = bytearray()
        self.samples = 0
        self._odd = b""
        # Bytes to drop first so the recording starts on a sample boundary of the
        # stream: a read can end in the middle of a sample.
        self._skip = skip
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.ending = False  # ends after its tail (_TAIL_SECONDS)

    def feed(self, data: bytes) -> None:
        if self.ended.done():
            return
        if self._skip:
            data, self._skip = data[self._skip :], max(0, self._skip - len(data))
        data = self._odd + data
        whole = len(data) - len(data) % SAMPLE_WIDTH
        self._odd = data[whole:]
        take = min(whole // SAMPLE_WIDTH, self.samples_wanted - self.samples)
        self.buffer += data[: take * SAMPLE_WIDTH]
        self.samples += take
        if self.samples >= self.samples_wanted:
            self.ended.set_result("duration")

    def end(self, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)

    def fail(self, err: Exception) -> None:
        if not self.ended.done():
            self.ended.set_exception(err)


class AudioBridge:
    """Run the PCM stream of the call on the line, record it and play into it."""

    def __init__(
        self,
        url: str | None,
        execute: Execute,
        on_change: Callable[[], None],
        *,
        sample_rate: int = 8000,
        speed: float = 1.0,
    ) -> None:
        self.url = url
        self._execute = execute
        self._on_change = on_change
        self.sample_rate = sample_rate
        self.speed = speed  # >1 only for tests and benchmarks against an accelerated emulator
        self.state = BridgeState.STOPPED if url else BridgeState.UNAVAILABLE
        self.error: str | None = None
        self._port: SerialPort | None = None
        self._recording: _Recording | None = None
        self._playing = False
        self._lifecycle = asyncio.Lock()
        self._stream_bytes = 0  # bytes read since PCM was switched on
        self._stream_start = 0.0  # loop time at which PCM was switched on
        self.stats = BridgeStats()

    @property
    def running(self) -> bool:
        """Whether PCM is flowing."""
        return self.state is BridgeState.RUNNING

    @property
    def busy(self) -> bool:
        """Whether audio is being played into the call."""
        return self._playing

    @property
    def frame_bytes(self) -> int:
        """Bytes in one 20 ms frame at the current rate."""
        return int(self.sample_rate * FRAME_SECONDS) * SAMPLE_WIDTH

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Switch PCM on for the connected call and open the audio port.

        Start and stop run one at a time (``_lifecycle``): the ``AT+CPCMREG=0`` of the
        previous call must reach the modem before the ``=1`` of the next one, or the new
        call's stream would be switched off as soon as it began.
        """
        if self.url is None or self.state in (BridgeState.STARTING, BridgeState.RUNNING):
            return
        self._set(BridgeState.STARTING, None)
        async with self._lifecycle:
            if not self._starting():
                return  # the call ended before the previous one was cleaned up
            await self._close_port()  # a port left over from a failed (stalled) stream
            # Open before switching PCM on: opening flushes the port's input, and a flush
            # in the middle of the stream could cut a sample in half.
            try:
                port = await open_port(self.url)
            except PortError:
                self._set(BridgeState.FAILED, "port_unavailable")
                return
            registered = self._starting() and await self._register()
            if not registered or not self._starting():
                await port.close()
                if registered:  # the call ended while PCM was being switched on
                    await self._unregister()
                return
            self._port = port
            self._stream_bytes = 0  # PCM starts now, on a sample boundary
            self._stream_start = asyncio.get_running_loop().time()
            port.receive(self._on_pcm, self._on_port_lost)
            self.stats.sessions += 1
            self._set(BridgeState.RUNNING, None)

    async def _register(self) -> bool:
        """``AT+CPCMREG=1``, retried while the modem refuses (it can lag after connect);
        True once PCM is on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REGISTER_TIMEOUT
        while self._starting():
            try:
                await self._execute("AT+CPCMREG=1", timeout=5.0)
            except AtCommandError:
                if loop.time() >= deadline:
                    self._set(BridgeState.FAILED, "refused")
                    return False
                await asyncio.sleep(REGISTER_RETRY)
            except Sim7600Error:
                self._set(BridgeState.FAILED, "modem_unavailable")
                return False
            else:
                return True
        return False

    def _starting(self) -> bool:
        # A method, not an inline test: the state changes while start() awaits.
        return self.state is BridgeState.STARTING

    async def stop(self) -> None:
        """The call ended: close the port, switch PCM off, end recordings normally.

        A failure stays visible after the call (the HA layer raises a repairs issue for
        it) until the port works again: at the next call or :meth:`check_port`.
        """
        if self.state in (BridgeState.STOPPED, BridgeState.UNAVAILABLE):
            return
        # A bridge still starting cleans up after itself when it sees it was stopped.
        registered = self.state is BridgeState.RUNNING or self.error in ("port_lost", "stalled")
        if self.state is not BridgeState.FAILED:
            self._set(BridgeState.STOPPED, None)
        if self._end_recording("call_ended"):
            await asyncio.sleep(_TAIL_SECONDS)  # the port stays open until the tail is read
        async with self._lifecycle:
            await self._close_port()
            if registered:
                await self._unregister()

    async def close(self) -> None:
        """Stop without talking to the modem (it is going away)."""
        if self._end_recording("call_ended"):
            await asyncio.sleep(_TAIL_SECONDS)
        if self.state is not BridgeState.UNAVAILABLE:
            self.state = BridgeState.STOPPED
        await self._close_port()

    async def check_port(self) -> None:
        """Between calls, see whether a failed audio port is back, so the failure (and the
        repairs issue the HA layer shows for it) clears without waiting for a call."""
        if self.url is None or self.state is not BridgeState.FAILED:
            return
        try:
            port = await open_port(self.url)
        except PortError:
            return
        await port.close()
        if self.state is BridgeState.FAILED:
            self._set(BridgeState.STOPPED, None)

    async def _unregister(self) -> None:
        # Some firmware rejects plain "=0" (shared/sim7600.md section 4): fall back to "=0,1".
        for command in ("AT+CPCMREG=0", "AT+CPCMREG=0,1"):
            try:
                await self._execute(command, timeout=5.0)
            except AtCommandError:
                continue
            except Sim7600Error:
                return
            return

    async def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            await port.close()

    def _on_pcm(self, data: bytes) -> None:
        """A chunk of the far end's PCM (called in the port's read callback)."""
        self.stats.bytes_in += len(data)
        self.stats.reads += 1
        self._stream_bytes += len(data)
        if self._recording is not None:
            self._recording.feed(data)
        if self._port is not None:
            self._port.hold_reads(READ_HOLD_SECONDS if self._may_hold_reads() else 0.0)

    def _may_hold_reads(self) -> bool:
        """A recording needs the audio only by its next flush to the file, so reads may
        wait, unless audio is being played (then the port is read at once) or the stream
        is ahead of real time (a backlog, or an accelerated emulator: drain it at once)."""
        if self._playing or (self._recording is not None and self._recording.ending):
            return False
        elapsed = asyncio.get_running_loop().time() - self._stream_start
        if elapsed < READ_HOLD_SECONDS:
            return False  # too early to tell the stream's rate
        real_time = elapsed * self.sample_rate * SAMPLE_WIDTH
        return self._stream_bytes <= real_time * _BACKLOG_FACTOR

    def _on_port_lost(self, _err: PortClosedError) -> None:
        if self.state is BridgeState.RUNNING:
            _LOGGER.warning("The audio port was lost during a call")
            self._set(BridgeState.FAILED, "port_lost")
            if self._recording is not None:
                self._recording.fail(AudioBridgeLostError("The audio port was lost"))

    def _set(self, state: BridgeState, error: str | None) -> None:
        if state is self.state and error == self.error:
            return
        self.state = state
        self.error = error
        self._on_change()

    # ---- recording --------------------------------------------------------------------

    async def confirm_registered(self) -> None:
        """Another call became the active one (``AT+CHLD``): whether PCM survives such a
        swap is not documented (``shared/sim7600.md`` section 11), so read
        ``AT+CPCMREG?`` and switch PCM on again if the modem turned it off."""
        if not self.running:
            return
        async with self._lifecycle:
            try:
                lines = await self._execute("AT+CPCMREG?", timeout=5.0)
                if not any(line.replace(" ", "") == "+CPCMREG:0" for line in lines):
                    return
                await self._execute("AT+CPCMREG=1", timeout=5.0)
            except Sim7600Error:
                _LOGGER.debug("Could not check call audio after a call swap")
                return
            self._stream_bytes = 0  # the stream starts again on a sample boundary
            self._stream_start = asyncio.get_running_loop().time()

    def call_ended(self) -> None:
        """The call being recorded ended, or went on hold, while another call keeps the
        bridge running: the recording ends as it would at the end of the call."""
        self._end_recording("call_ended")

    def dtmf(self, digit: str) -> None:
        """A DTMF digit arrived; it may end a recording."""
        del digit
        if self._recording is not None and self._recording.stop_on_dtmf:
            self._end_recording("dtmf")

    def _end_recording(self, reason: str) -> bool:
        """End the recording for ``reason`` once the audio held back in the kernel is read;
        True while that goes on (:data:`_TAIL_SECONDS`): the port must stay open meanwhile."""
        recording = self._recording
        if recording is None or recording.ended.done():
            return False
        if recording.ending:
            return True
        if self._port is None or not self._port.holding:
            recording.end(reason)
            return False
        recording.ending = True
        self._port.hold_reads(0.0)
        asyncio.get_running_loop().call_later(_TAIL_SECONDS, recording.end, reason)
        return True

    async def record(
        self,
        target: Path,
        duration: float,
        *,
        stop_on_dtmf: bool = False,
        overwrite: bool = False,
    ) -> RecordingResult:
        """Record the far end into the WAV file ``target``.

        Raises :class:`AudioBridgeNotRunningError` before touching the file system when no
        PCM is flowing, :class:`AudioBridgeLostError` (leaving no file) when the bridge
        fails midway and :class:`RecordingEmptyError` when not one sample arrived. The call
        ending midway is a normal end: what was recorded is returned.
        """
        if not isinstance(duration, int | float) or not math.isfinite(duration):
            raise InvalidArgumentError("The duration must be a finite number of seconds")
        if not 0 < duration <= MAX_RECORD_SECONDS:
            raise InvalidArgumentError("The duration must be above 0 and at most 3600 s")
        if not self.running:
            raise AudioBridgeNotRunningError("The audio bridge is not running")
        if self._recording is not None:
            raise AudioBusyError("A recording is already running")
        recording = _Recording(
            max(1, round(duration * self.sample_rate)),
            stop_on_dtmf,
            skip=self._stream_bytes % SAMPLE_WIDTH,
        )
        self._recording = recording
        writer: WavWriter | None = None
        try:
            # File work runs to its end even if the caller is cancelled meanwhile: a
            # temporary file created behind its back could not be removed otherwise.
            create = asyncio.ensure_future(WavWriter.create(target.parent, self.sample_rate))
            try:
                writer = await asyncio.shield(create)
            except asyncio.CancelledError:
                writer = await create
                raise
            ended_by = await self._pump(recording, writer)
            await writer.write(bytes(recording.buffer))
            recording.buffer.clear()
            if writer.frames == 0:
                raise RecordingEmptyError("No audio arrived")
            commit = asyncio.ensure_future(writer.commit(target, overwrite=overwrite))
            try:
                await asyncio.shield(commit)
            except asyncio.CancelledError:
                await commit  # the recording is in place; the caller just stopped waiting
                raise
        except BaseException:
            if writer is not None:
                await asyncio.shield(writer.discard())  # a no-op once committed
            raise
        finally:
            self._recording = None
        self.stats.recordings += 1
        return RecordingResult(
            path=target,
            duration=round(writer.frames / self.sample_rate, 3),
            ended_by=ended_by,
            sample_rate=self.sample_rate,
            samples=writer.frames,
        )

    async def _pump(self, recording: _Recording, writer: WavWriter) -> str:
        """Move buffered PCM to the file until the recording ends; return why it ended."""
        if not self.running:
            # The call ended while the file was being created.
            recording.fail(AudioBridgeNotRunningError("The audio bridge is not running"))
        loop = asyncio.get_running_loop()
        progress, last_samples = loop.time(), recording.samples
        while True:
            done, _ = await asyncio.wait((recording.ended,), timeout=_FLUSH_SECONDS)
            if recording.buffer:
                chunk = bytes(recording.buffer)
                recording.buffer.clear()
                await writer.write(chunk)
            if done:
                return recording.ended.result()
            if recording.samples != last_samples:
                progress, last_samples = loop.time(), recording.samples
            elif loop.time() - progress > STALL_SECONDS:
                # The modem stopped streaming mid-call (a known SIM7600 failure).
                _LOGGER.warning("Call audio stopped flowing; ending the recording")
                self._set(BridgeState.FAILED, "stalled")
                recording.fail(AudioBridgeLostError("Call audio stopped flowing"))

    # ---- playback ---------------------------------------------------------------------

    async def load(self, path: Path) -> WavAudio:
        """Read a WAV for playback in the executor and check it fits the bridge."""
        audio = await asyncio.get_running_loop().run_in_executor(None, read_wav, path)
        if audio.sample_rate != self.sample_rate:
            raise WavFormatError(f"Expected a 16-bit mono WAV at {self.sample_rate} Hz")
        if not audio.pcm:
            raise WavFormatError("The WAV file holds no audio")
        return audio

    async def play(self, audio: WavAudio) -> PlaybackResult:
        """Play PCM into the call in 20 ms frames paced by the loop's monotonic clock.

        Each frame's send time is computed from the start time, not from the previous
        frame, so scheduling jitter never accumulates into drift.
        """
        if not self.running or self._port is None:
            raise AudioBridgeNotRunningError("The audio bridge is not running")
        if self._playing:
            raise AudioBusyError("Audio is already playing")
        self._playing = True
        port = self._port
        loop = asyncio.get_running_loop()
        frame = self.frame_bytes
        interval = FRAME_SECONDS / self.speed
        frames = 0
        start = loop.time()
        try:
            for offset in range(0, len(audio.pcm), frame):
                delay = start + frames * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not self.running or self._port is not port:
                    if self.state is BridgeState.FAILED:
                        raise AudioBridgeLostError("The audio port was lost")
                    return PlaybackResult(frames * FRAME_SECONDS, frames, "call_ended")
                chunk = audio.pcm[offset : offset + frame]
                try:
                    port.write(chunk.ljust(frame, b"\0"))
                    async with asyncio.timeout(_PLAYBACK_DRAIN_TIMEOUT):
                        await port.drain()
                except (PortClosedError, TimeoutError) as err:
                    raise AudioBridgeLostError("The audio port stopped taking audio") from err
                frames += 1
                self.stats.frames_out += 1
        finally:
            self._playing = False
        return PlaybackResult(round(frames * FRAME_SECONDS, 3), frames, "finished")


@dataclass(slots=True)
class BridgeStats:
    """Counters for diagnostics."""

    sessions: int = 0
    bytes_in: int = 0
    reads: int = 0  # chunks taken from the audio port (fewer than frames: reads are held)
    frames_out: int = 0
    recordings: int = 0
