"""The module's USB PCM function: the far end's voice out, the host's voice in, 20 ms frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import itertools

from .far_end_turns import Turns
from .far_end_voice import Voice
from .pcm_signal import test_signal
from .ports import ModemPort
from .tasks import TaskSet

FRAME_SECONDS = 0.02
MAX_LAG_SECONDS = 1.0
"""How far behind the stream catches up after a stall of the event loop; older frames are lost."""


class AudioStream:
    """Streams the far end's voice (test_signal unless a scenario set `voice`) to the host while
    AT+CPCMREG=1 is in force; records what comes back.

    Frames are paced by the loop's monotonic clock against absolute due times, so the cadence does
    not drift; a late frame is sent at once. The module never waits for the host: a frame that does
    not fit is dropped and counted (`frames_dropped`). With speed 0 frames go out as fast as the
    host drains them and none is dropped.
    """

    def __init__(self, port: ModemPort, tasks: TaskSet, speed: float) -> None:
        if speed < 0:
            raise ValueError("audio_speed must be >= 0")
        self._port = port
        self._tasks = tasks
        self._speed = speed
        self._task: asyncio.Task[None] | None = None
        self.rate: int | None = None
        self.last_rate = 8000  # of the latest stream, for saving what the host played
        self.voice: Voice | Turns | None = None
        # With a voice that does not loop: seconds of silence after it, then `on_spoken` runs
        # (the emulator hangs the far end up), once per stream.
        self.hang_up_after: float | None = None
        self.on_spoken: Callable[[], None] | None = None
        self._silent_after = 0
        self._spoken = False
        self._stream_samples = 0  # samples streamed since this stream started
        self.received_marks: list[tuple[int, int]] = []
        self.sent = bytearray()
        self.received = bytearray()
        self.received_times: list[tuple[float, int]] = []
        self.frames_sent = 0
        self.frames_dropped = 0
        self.bytes_received = 0
        self._audio_waiters: list[asyncio.Future[None]] = []

    @property
    def active(self) -> bool:
        """Whether the module is streaming (AT+CPCMREG=1 accepted and not yet turned off)."""
        return self._task is not None

    def start(self, rate: int) -> None:
        """Start a fresh stream at sample 0 of the test signal."""
        self.stop()
        self.rate = self.last_rate = rate
        self._stream_samples = 0
        self._silent_after = 0
        self._spoken = False
        if self.voice is not None:
            self.voice.restart(rate)
        test_signal(0, 0, rate)  # build the signal's tables now, not on the stream's clock
        self._task = self._tasks.spawn(self._stream(rate), "pcm")

    def stop(self) -> None:
        """Stop streaming (AT+CPCMREG=0, call end, reboot)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.rate = None

    def host_wrote(self, data: bytes) -> None:
        """Bytes the host wrote on the audio port: what the far end would hear."""
        self.received += data
        self.bytes_received += len(data)
        self.received_times.append((asyncio.get_running_loop().time(), len(data)))
        self.received_marks.append((self._stream_samples, len(data)))
        if isinstance(self.voice, Turns):
            self.voice.heard(len(data))  # a far end that takes turns waits for the reply
        if self._audio_waiters and data.strip(b"\0"):
            waiters, self._audio_waiters = self._audio_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def next_host_audio(self) -> None:
        """Return when the host next writes audio that is not silence (a prompt starts)."""
        waiter = asyncio.get_running_loop().create_future()
        self._audio_waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._audio_waiters:
                self._audio_waiters.remove(waiter)

    def set_voice(self, voice: Voice | Turns | None) -> None:
        """Speak `voice` from now on (None: back to the test signal)."""
        if voice is not None:
            voice.restart(self.rate or self.last_rate)
        self.voice = voice

    async def _stream(self, rate: int) -> None:
        samples = int(rate * FRAME_SECONDS)
        if self._speed:
            frames = self._paced_frames(FRAME_SECONDS / self._speed)
        else:
            frames = self._drained_frames()
        async for frame in frames:
            voice = self.voice
            if voice is None:
                pcm = test_signal(frame * samples, samples, rate)
            else:
                pcm = voice.take(samples)
                if voice.finished:
                    self._after_voice(samples, rate)
            self._emit(pcm)

    def _after_voice(self, samples: int, rate: int) -> None:
        """The voice has said everything: count the silence after it, then hang up."""
        if self.hang_up_after is None or self.on_spoken is None or self._spoken:
            return
        self._silent_after += samples
        if self._silent_after >= self.hang_up_after * rate:
            self._spoken = True
            self.on_spoken()

    async def _paced_frames(self, period: float) -> AsyncIterator[int]:
        """Frame numbers at their due times. A late frame goes out at once, but the loop always
        yields in between; frames more than MAX_LAG_SECONDS late are skipped and count as dropped.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        max_lag = int(MAX_LAG_SECONDS / period)
        frame = 0
        while True:
            delay = start + frame * period - loop.time()
            await asyncio.sleep(max(delay, 0))
            overdue = int((loop.time() - start) / period) - frame
            if overdue > max_lag:
                self.frames_dropped += overdue - max_lag
                frame += overdue - max_lag
            yield frame
            frame += 1

    async def _drained_frames(self) -> AsyncIterator[int]:
        """Frame numbers as fast as the host takes them (audio_speed 0)."""
        for frame in itertools.count():
            await asyncio.sleep(0)  # let the host run between frames
            await self._port.wait_room()
            yield frame

    def _emit(self, frame: bytes) -> None:
        if self._port.offer(frame):
            self.sent += frame
            self.frames_sent += 1
            self._stream_samples += len(frame) // 2
        else:
            self.frames_dropped += 1
