"""The PCM audio bridge: call audio over the modem's USB audio port.

While a call is connected the SIM7600 streams the far end's voice as raw signed 16-bit LE
mono PCM (8 kHz: 320 bytes per 20 ms) on its audio port, and plays what the host writes
there into the call. The stream must be switched on with ``AT+CPCMREG=1`` on every call,
after ``VOICE CALL: BEGIN``; the modem may refuse for a while, so it is retried within a
bound. The PCM is taken in the port's read callback and fanned out to recordings; while no
audio is played and the stream runs in real time, the port is read only every
:data:`READ_HOLD_SECONDS`, so the loop wakes a few times a second rather than at every
20 ms frame. Playback streams an :class:`~.audio_source.AudioSource` in paced frames.
Caller audio streams (:meth:`AudioBridge.listen`, what Assist hears) get every read as it
comes: while a live one listens, reads are not held.

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

import audioop

from .audio_source import AudioSource, apply_gain
from .caller_audio import CallerAudio
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
)
from .executor import Execute
from .model import BridgeState
from .pcm import FRAME_SECONDS, SAMPLE_WIDTH, Whole, frame_bytes
from .silence import DEFAULT_THRESHOLD_DBFS, SpeechActivity
from .transport import SerialPort, open_port
from .wav import WavWriter

_LOGGER = logging.getLogger(__name__)

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
_PLAYOUT_SLACK_FRAMES = 3  # lateness the modem's playout buffer absorbs (60 ms)
MAX_GAIN = 4.0  # +12 dB; louder would clip most material
CHANNELS = ("caller", "both")
DTMF_DIGITS = "0123456789*#ABCD"


@dataclass(frozen=True, slots=True)
class SilenceEnd:
    """End a recording once the far end has been silent for ``seconds`` (voicemail);
    what counts as silent is :mod:`.silence`'s frame level below ``threshold_dbfs``."""

    seconds: float
    threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """A finished recording; ``ended_by`` is ``duration``, ``dtmf``, ``silence``,
    ``call_ended`` or ``closed`` (the modem was closed). ``speech_seconds`` is how much
    of it was speech, for a recording made with a :class:`SilenceEnd` (else None)."""

    path: Path
    duration: float
    ended_by: str
    sample_rate: int
    samples: int
    speech_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class PlaybackResult:
    """A finished playback; ``ended_by`` is ``finished``, ``call_ended``, ``stopped``
    (:meth:`AudioBridge.stop_playback`), ``replaced`` (another playback took over),
    ``max_length`` (cut at the source's maximum length) or ``closed`` (the modem was
    closed)."""

    duration: float
    frames: int
    ended_by: str


class _Recording:
    """Collects PCM for one recording and says when and why it ended.

    With ``both`` the buffer is stereo: the far end on the left, what we played on the
    right. The right channel is placed on the incoming stream's own sample timeline
    (:meth:`played` gets the stream index a frame plays at), so left sample *i* and right
    sample *i* are what was heard and what was sent at the same moment; where nothing was
    played the right channel is silence. A played frame may land up to ``delay`` samples
    behind the newest far-end sample (the modem's playout buffer absorbs that much
    lateness), so stereo samples are only finalised ``delay`` samples behind, and all of
    them when the recording ends.
    """

    def __init__(
        self,
        samples_wanted: int,
        stop_digits: str,
        skip: int,
        *,
        both: bool = False,
        first: int = 0,
        delay: int = 0,
        activity: SpeechActivity | None = None,
        silence_frames: int = 0,
    ) -> None:
        self.samples_wanted = samples_wanted
        self.stop_digits = stop_digits
        self.activity = activity
        self._silence_frames = silence_frames
        self.both = both
        self.buffer = bytearray()
        self.samples = 0
        self._whole = Whole(SAMPLE_WIDTH)  # a read can end mid-sample
        self._delay = delay
        self._left = bytearray()  # far-end samples from stream index _base on, not final
        self._base = first
        self._right = bytearray()  # played samples from stream index _right_base on
        self._right_base = first
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
        data = self._whole.take(data)
        take = min(len(data) // SAMPLE_WIDTH, self.samples_wanted - self.samples)
        if self.both:
            self._left += data[: take * SAMPLE_WIDTH]
            self._finalise(len(self._left) // SAMPLE_WIDTH - self._delay)
        else:
            self.buffer += data[: take * SAMPLE_WIDTH]
        self.samples += take
        if self.samples >= self.samples_wanted:
            self.end("duration")
        elif self.activity is not None:
            self.activity.feed(data[: take * SAMPLE_WIDTH])
            if self.activity.silent_frames >= self._silence_frames:
                self.end("silence")

    def played(self, frame: bytes, at: int) -> None:
        """``frame`` was written to play from stream sample index ``at`` on."""
        if not self.both or self.ended.done():
            return
        if at < self._base:  # the part that would have played in the past is gone
            frame = frame[(self._base - at) * SAMPLE_WIDTH :]
            at = self._base
        if not self._right:
            self._right_base = max(self._right_base, at)
        end = self._right_base + len(self._right) // SAMPLE_WIDTH
        if at > end:
            self._right += bytes((at - end) * SAMPLE_WIDTH)
        elif at < end:  # overlaps what is queued: the newer frame wins
            del self._right[(at - self._right_base) * SAMPLE_WIDTH :]
        self._right += frame

    def _finalise(self, count: int) -> None:
        """Interleave the oldest ``count`` pending far-end samples with the right channel."""
        if count <= 0:
            return
        left = bytes(self._left[: count * SAMPLE_WIDTH])
        del self._left[: count * SAMPLE_WIDTH]
        lead = min(count, max(0, self._right_base - self._base))
        body = count - lead
        taken = bytes(self._right[: body * SAMPLE_WIDTH])
        del self._right[: body * SAMPLE_WIDTH]
        self._base += count
        self._right_base = max(self._right_base, self._base)
        right = bytes(lead * SAMPLE_WIDTH) + taken.ljust(body * SAMPLE_WIDTH, b"\0")
        self.buffer += audioop.add(
            audioop.tostereo(left, SAMPLE_WIDTH, 1, 0),
            audioop.tostereo(right, SAMPLE_WIDTH, 0, 1),
            SAMPLE_WIDTH,
        )

    def end(self, reason: str) -> None:
        if not self.ended.done():
            if self.both:
                self._finalise(len(self._left) // SAMPLE_WIDTH)
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
        self._listeners: set[CallerAudio] = set()
        self._playback: _Playback | None = None
        self._tx_cursor = 0  # stream sample index where the next played frame lands
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
        return self._playback is not None

    @property
    def frame_bytes(self) -> int:
        """Bytes in one 20 ms frame at the current rate."""
        return frame_bytes(self.sample_rate)

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
            self._tx_cursor = 0
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
        self._end_listeners()
        if self._end_recording("call_ended"):
            await asyncio.sleep(_TAIL_SECONDS)  # the port stays open until the tail is read
        async with self._lifecycle:
            await self._close_port()
            if registered:
                await self._unregister()

    async def close(self) -> None:
        """Stop without talking to the modem (it is going away)."""
        if self._playback is not None:
            self._playback.wake()
        if self._end_recording("call_ended"):
            await asyncio.sleep(_TAIL_SECONDS)
        if self.state is not BridgeState.UNAVAILABLE:
            self.state = BridgeState.STOPPED
        self._end_listeners()
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
        if self._listeners:
            now = asyncio.get_running_loop().time()
            for listener in tuple(self._listeners):
                listener.feed(data, now)
        self._apply_read_hold()

    def _apply_read_hold(self) -> None:
        """Hold the port's reads or not, as :meth:`_may_hold_reads` says now: after each
        chunk, and at once whenever something starts that needs current audio (a
        listener, a playback, a both-sides recording, a recording's tail), so what the
        kernel holds back arrives without waiting out the hold."""
        if self._port is not None:
            self._port.hold_reads(READ_HOLD_SECONDS if self._may_hold_reads() else 0.0)

    def _may_hold_reads(self) -> bool:
        """A recording needs the audio only by its next flush to the file, and a listener
        that is not live only in order, so reads may wait, unless a live listener takes
        it as it comes, audio is being played (then the
        port is read at once), a recording needs the stream position to be current, or
        the stream is ahead of real time (a backlog, or an accelerated emulator: drain it
        at once)."""
        recording = self._recording
        if any(listener.live for listener in self._listeners):
            return False  # a live listener (Assist) hears the caller with the least delay
        if self._playback is not None or (
            recording is not None and (recording.ending or recording.both)
        ):
            # A both-sides recording places what is played at the stream position reached
            # when it is written: that position must be current, not up to a hold behind.
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
            self._end_listeners()

    def _set(self, state: BridgeState, error: str | None) -> None:
        if state is self.state and error == self.error:
            return
        self.state = state
        self.error = error
        if state is not BridgeState.RUNNING and self._playback is not None:
            self._playback.wake()  # the call ended or the port failed: stop at once
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
        bridge running: the recording ends as it would at the end of the call, and so do
        caller audio streams."""
        self._end_recording("call_ended")
        self._end_listeners()

    def dtmf(self, digit: str) -> None:
        """A DTMF digit arrived; it may end a recording, and caller streams get it."""
        if self._recording is not None and digit in self._recording.stop_digits:
            self._end_recording("dtmf")
        if self._listeners:
            now = asyncio.get_running_loop().time()
            for listener in tuple(self._listeners):
                listener.dtmf(digit, now)

    # ---- caller audio streams ---------------------------------------------------------

    def listen(self, *, max_frames: int = 50) -> CallerAudio:
        """A stream of the caller's voice (20 ms frames) and DTMF presses from now on,
        until the call ends (see :mod:`.caller_audio`); at most ``max_frames`` frames
        wait for a slow consumer (the oldest go first). Reads are not held meanwhile,
        unless the stream is made not live."""
        if not self.running:
            raise AudioBridgeNotRunningError("The audio bridge is not running")
        stream = CallerAudio(
            self.frame_bytes,
            max_frames=max_frames,
            skip=self._stream_bytes % SAMPLE_WIDTH,
            on_close=self._forget_listener,
            on_live=self._apply_read_hold,
        )
        self._listeners.add(stream)
        self._apply_read_hold()
        return stream

    def _forget_listener(self, stream: CallerAudio) -> None:
        self._listeners.discard(stream)

    def _end_listeners(self) -> None:
        listeners, self._listeners = self._listeners, set()
        for listener in listeners:
            listener.end()

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
        self._apply_read_hold()
        asyncio.get_running_loop().call_later(_TAIL_SECONDS, recording.end, reason)
        return True

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
        """Record the far end into the WAV file ``target``; with ``channels="both"`` a
        stereo WAV, the far end left and what we played right (see :class:`_Recording`).

        It ends after ``duration`` seconds, when the call ends, when the far end presses
        one of ``stop_digits`` (:data:`DTMF_DIGITS`: any key), or once the far end has
        been silent as long as ``end_on_silence`` says.

        Raises :class:`AudioBridgeNotRunningError` before touching the file system when no
        PCM is flowing, :class:`AudioBridgeLostError` (leaving no file) when the bridge
        fails midway and :class:`RecordingEmptyError` when not one sample arrived. The call
        ending midway is a normal end: what was recorded is returned.
        """
        if not isinstance(duration, int | float) or not math.isfinite(duration):
            raise InvalidArgumentError("The duration must be a finite number of seconds")
        if not 0 < duration <= MAX_RECORD_SECONDS:
            raise InvalidArgumentError("The duration must be above 0 and at most 3600 s")
        if channels not in CHANNELS:
            raise InvalidArgumentError("channels must be caller or both")
        if not isinstance(stop_digits, str) or not set(stop_digits) <= set(DTMF_DIGITS):
            raise InvalidArgumentError("Stop digits are 0-9, *, # and A-D")
        activity = None
        if end_on_silence is not None:
            seconds = end_on_silence.seconds
            if not isinstance(seconds, int | float) or not 0 < seconds <= MAX_RECORD_SECONDS:
                raise InvalidArgumentError("The silence must last above 0 and at most 3600 s")
            try:
                activity = SpeechActivity(self.sample_rate, end_on_silence.threshold_dbfs)
            except ValueError as err:
                raise InvalidArgumentError("The silence threshold is out of range") from err
        if not self.running:
            raise AudioBridgeNotRunningError("The audio bridge is not running")
        if self._recording is not None:
            raise AudioBusyError("A recording is already running")
        skip = self._stream_bytes % SAMPLE_WIDTH
        recording = _Recording(
            max(1, round(duration * self.sample_rate)),
            stop_digits,
            skip=skip,
            both=channels == "both",
            first=(self._stream_bytes + skip) // SAMPLE_WIDTH,
            delay=_PLAYOUT_SLACK_FRAMES * self.frame_bytes // SAMPLE_WIDTH,
            activity=activity,
            silence_frames=(
                0 if end_on_silence is None else math.ceil(end_on_silence.seconds / FRAME_SECONDS)
            ),
        )
        self._recording = recording
        self._apply_read_hold()
        writer: WavWriter | None = None
        try:
            # File work runs to its end even if the caller is cancelled meanwhile: a
            # temporary file created behind its back could not be removed otherwise.
            create = asyncio.ensure_future(
                WavWriter.create(target.parent, self.sample_rate, 2 if recording.both else 1)
            )
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
            speech_seconds=None if activity is None else activity.speech_seconds,
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

    @property
    def gain(self) -> float | None:
        """The gain of the current playback, None when nothing plays."""
        return self._playback.gain if self._playback is not None else None

    def set_gain(self, gain: float) -> None:
        """Change the gain of the current playback from its next frame on."""
        if self._playback is not None:
            self._playback.gain = _check_gain(gain)

    def stop_playback(self) -> None:
        """Stop what is playing; no frame is written after this returns."""
        if self._playback is not None:
            self._playback.stop("stopped")

    async def play(
        self, source: AudioSource, *, gain: float = 1.0, replace: bool = False
    ) -> PlaybackResult:
        """Play ``source`` into the call in 20 ms frames paced by the loop's monotonic clock.

        Takes ownership of ``source``: it is started here if it was not (so a bad file
        raises :class:`MediaError` before any frame is sent) and always closed. Each
        frame's send time is computed from the start time, not from the previous frame, so
        scheduling jitter never accumulates into drift. ``replace`` stops a playback that
        is running (it returns ``replaced``) instead of raising :class:`AudioBusyError`.
        :meth:`stop_playback`, the call ending and cancelling the caller all stop it
        before the next frame; DTMF and recording carry on meanwhile.
        """
        try:
            gain = _check_gain(gain)
            if source.rate != self.sample_rate:
                raise InvalidArgumentError("The source does not have the bridge's rate")
            self._check_can_play(replace)
            await source.start()
            self._check_can_play(replace)
            while (current := self._playback) is not None:
                current.stop("replaced")
                await current.finished.wait()
            self._check_can_play(replace)
            playback = _Playback(gain)
            self._playback = playback
            self._apply_read_hold()
            self._on_change()
            try:
                return await self._pump_playback(source, playback)
            finally:
                # Released before the bridge says it is free: nothing of it outlives play.
                await source.aclose()
                self._playback = None
                playback.finished.set()
                self._on_change()
        finally:
            await source.aclose()  # a no-op when closed above

    def _check_can_play(self, replace: bool) -> None:
        if not self.running or self._port is None:
            raise AudioBridgeNotRunningError("The audio bridge is not running")
        if self._playback is not None and not replace:
            raise AudioBusyError("Audio is already playing")

    async def _pump_playback(self, source: AudioSource, playback: _Playback) -> PlaybackResult:
        port = self._port
        assert port is not None
        loop = asyncio.get_running_loop()
        frame_bytes = self.frame_bytes
        interval = FRAME_SECONDS / self.speed
        frames = 0
        start = loop.time()
        async for chunk in source:
            delay = start + frames * interval - loop.time()
            if delay > 0 and playback.stopped is None:
                await playback.wait(delay)
            if playback.stopped is not None:
                return playback.result(frames)
            if not self.running or self._port is not port:
                if self.state is BridgeState.FAILED:
                    raise AudioBridgeLostError("The audio port was lost")
                return PlaybackResult(round(frames * FRAME_SECONDS, 3), frames, "call_ended")
            frame = apply_gain(chunk.ljust(frame_bytes, b"\0"), playback.gain)
            try:
                port.write(frame)
                self._played(frame)
                async with asyncio.timeout(_PLAYBACK_DRAIN_TIMEOUT):
                    await port.drain()
            except (PortClosedError, TimeoutError) as err:
                raise AudioBridgeLostError("The audio port stopped taking audio") from err
            frames += 1
            self.stats.frames_out += 1
        ended_by = "max_length" if source.cut else "finished"
        return PlaybackResult(round(frames * FRAME_SECONDS, 3), frames, ended_by)

    def _played(self, frame: bytes) -> None:
        """Place a frame we wrote on the timeline of the incoming stream (both-sides
        recordings): it plays while the far end's samples from ``now`` on arrive, or right
        after the previous frame if that one still has samples to go."""
        now = self._stream_bytes // SAMPLE_WIDTH
        slack = _PLAYOUT_SLACK_FRAMES * len(frame) // SAMPLE_WIDTH
        # The modem buffers what we write, so a frame a little late still plays right
        # after the previous one; only a real underrun (the buffer ran dry) leaves a gap.
        at = self._tx_cursor if self._tx_cursor >= now - slack else now
        self._tx_cursor = at + len(frame) // SAMPLE_WIDTH
        if self._recording is not None:
            self._recording.played(frame, at)


def _check_gain(gain: float) -> float:
    if not isinstance(gain, int | float) or not math.isfinite(gain) or not 0 <= gain <= MAX_GAIN:
        raise InvalidArgumentError(f"The gain must be between 0 and {MAX_GAIN}")
    return float(gain)


class _Playback:
    """One running playback: its gain, why it was stopped, and a wake-up for stopping."""

    def __init__(self, gain: float) -> None:
        self.gain = gain
        self.stopped: str | None = None
        self.finished = asyncio.Event()
        self._wake: asyncio.Future[None] | None = None

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
        self.wake()

    def wake(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if woken (stop, call end)."""
        loop = asyncio.get_running_loop()
        self._wake = wake = loop.create_future()
        handle = loop.call_later(delay, _resolve, wake)
        try:
            await wake
        finally:
            handle.cancel()
            self._wake = None

    def result(self, frames: int) -> PlaybackResult:
        return PlaybackResult(round(frames * FRAME_SECONDS, 3), frames, self.stopped or "stopped")


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(slots=True)
class BridgeStats:
    """Counters for diagnostics."""

    sessions: int = 0
    bytes_in: int = 0
    reads: int = 0  # chunks taken from the audio port (fewer than frames: reads are held)
    frames_out: int = 0
    recordings: int = 0
