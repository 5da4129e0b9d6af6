"""The caller's side of a call as a stream: 20 ms PCM frames and DTMF presses, in order.

:meth:`AudioBridge.listen <.audio.AudioBridge.listen>` hands out a :class:`CallerAudio`
that the bridge's one reader task feeds; a consumer (Assist's speech-to-text, a voice
activity detector) iterates it. Why it is built the way it is:

* The reader never waits for a consumer: the modem streams in real time and a stalled
  read would lose audio for recordings too. So the queue is bounded (``max_frames``), and
  when a consumer falls behind the *oldest* audio frames are dropped and counted
  (:attr:`CallerAudio.dropped`): what the caller says now matters more than what they
  said a second ago.
* DTMF presses are never dropped, and keep their place among the frames: a digit pressed
  while the consumer lags is still seen, after the audio that came before it.
* Frames are whole 20 ms at the bridge rate and start on a sample boundary of the stream
  (a port read can end in the middle of a sample), each with the loop time it arrived.
* The stream ends (``StopAsyncIteration``) when the call ends or the bridge stops; a
  consumer that is done calls :meth:`CallerAudio.close` (or leaves ``async with``).
* A stream is *live* by default: the bridge reads the port as each frame comes. A consumer
  that has no use for the moment a frame arrives (Assist before the caller has started
  speaking) sets :attr:`CallerAudio.live` to False, and the bridge may then hold reads as
  it does for recordings (the same frames, a few at a time, up to
  :data:`~.audio.READ_HOLD_SECONDS` late, and a tenth of the loop's wake-ups); setting
  it back releases the frames the kernel holds at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from .pcm import Whole


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """20 ms of the caller's voice (16-bit mono PCM at the bridge rate)."""

    pcm: bytes
    received: float  # loop time the last of its bytes arrived


@dataclass(frozen=True, slots=True)
class DtmfPress:
    """The caller pressed ``digit`` (private: never logged)."""

    digit: str
    received: float


type CallerItem = AudioFrame | DtmfPress


class CallerAudio:
    """An async iterator of :class:`AudioFrame` and :class:`DtmfPress`; see the module."""

    def __init__(
        self,
        frame_bytes: int,
        *,
        max_frames: int,
        skip: int,
        on_close: Callable[[CallerAudio], None],
        on_live: Callable[[], None] | None = None,
    ) -> None:
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        self.frame_bytes = frame_bytes
        self.max_frames = max_frames
        self.dropped = 0  # audio frames lost because the consumer lagged
        self._items: deque[CallerItem] = deque()
        self._frames = 0  # audio frames in _items
        self._frames_in = Whole(frame_bytes)  # whole frames out of the port's reads
        self._skip = skip  # bytes to drop so frames start on a sample boundary
        self._ended = False
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        self._on_live = on_live
        self._live = True

    @property
    def live(self) -> bool:
        """Whether the consumer needs each frame as it comes (see the module docstring)."""
        return self._live

    @live.setter
    def live(self, live: bool) -> None:
        if live != self._live:
            self._live = live
            if self._on_live is not None:
                self._on_live()

    @property
    def ended(self) -> bool:
        """Whether no more items will come (what is queued can still be read)."""
        return self._ended

    # ---- the bridge's side ------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> None:
        """PCM as read from the port, any length."""
        if self._ended:
            return
        if self._skip:
            data, self._skip = data[self._skip :], max(0, self._skip - len(data))
        data, size = self._frames_in.take(data), self.frame_bytes
        for offset in range(0, len(data), size):
            self._push(AudioFrame(data[offset : offset + size], now))

    def dtmf(self, digit: str, now: float) -> None:
        """A DTMF press; kept whatever the queue holds."""
        if not self._ended:
            self._items.append(DtmfPress(digit, now))
            self._wake()

    def end(self) -> None:
        """No more items (the call ended, the bridge stopped)."""
        self._ended = True
        self._wake()

    def _push(self, frame: AudioFrame) -> None:
        self._items.append(frame)
        self._frames += 1
        if self._frames > self.max_frames:
            self._drop_oldest_frame()
        self._wake()

    def _drop_oldest_frame(self) -> None:
        for index, item in enumerate(self._items):
            if isinstance(item, AudioFrame):
                del self._items[index]
                self._frames -= 1
                self.dropped += 1
                return

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # ---- the consumer's side ----------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> CallerItem:
        while not self._items:
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if isinstance(item, AudioFrame):
            self._frames -= 1
        return item

    def clear(self) -> None:
        """Forget what is queued (audio from before a prompt); DTMF presses stay."""
        self._items = deque(item for item in self._items if isinstance(item, DtmfPress))
        self._frames = 0

    def close(self) -> None:
        """The consumer is done: the bridge stops feeding this stream."""
        self.end()
        self._items.clear()
        self._frames = 0
        self._on_close(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
