"""Voicemail in the driver: answering, recording a message and judging whether it holds one.

A message is an ordinary recording of the far end (:meth:`Modem.record`, the same
fail-closed machinery as ``callstack.record``) with voicemail's ends: the caller hangs up,
presses the end key (``#``), stays silent for a while (:mod:`.silence`), or the maximum
length is reached. A recording that holds nothing but silence and is shorter than
:attr:`MessageRules.min_seconds` is no message (a caller who hung up at the greeting, or
waited without a word for the silence to end it): it is deleted, and the result says so.
A long recording judged silent is kept all the same, since a caller quieter than the
threshold would otherwise lose a real message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import logging
import math
import os
from pathlib import Path

from .audio import SilenceEnd
from .audio_source import PcmSource, tone
from .errors import (
    AudioBridgeError,
    AudioBridgeNotRunningError,
    CallStateError,
    InvalidArgumentError,
    RecordingEmptyError,
    Sim7600Error,
)
from .events import CallEvent, ModemEvent
from .model import CallInfo, CallState
from .modem import Modem
from .silence import DEFAULT_THRESHOLD_DBFS, MAX_THRESHOLD_DBFS, MIN_THRESHOLD_DBFS
from .validate import same_subscriber

_LOGGER = logging.getLogger(__name__)

DTMF_KEYS = "0123456789*#"


class MessageEnd(StrEnum):
    """How a voicemail recording ended."""

    HANG_UP = "hang_up"  # the caller hung up (or the call went away)
    KEY = "key"  # the caller pressed the end key
    SILENCE = "silence"  # the caller stayed silent for MessageRules.silence_seconds
    MAX_LENGTH = "max_length"  # MessageRules.max_seconds reached
    CLOSED = "closed"  # the modem was closed (Home Assistant stopping, the entry unloading)


_ENDS = {
    "call_ended": MessageEnd.HANG_UP,
    "dtmf": MessageEnd.KEY,
    "silence": MessageEnd.SILENCE,
    "duration": MessageEnd.MAX_LENGTH,
    "closed": MessageEnd.CLOSED,
}


@dataclass(frozen=True, slots=True)
class MessageRules:
    """When a message ends and when it counts as one."""

    max_seconds: float = 120.0
    silence_seconds: float = 5.0
    threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS
    min_seconds: float = 10.0  # a silent recording shorter than this is no message
    end_key: str = "#"  # "" for none

    def __post_init__(self) -> None:
        for value, low, high in (
            (self.max_seconds, 1.0, 3600.0),
            (self.silence_seconds, 0.5, 600.0),
            (self.threshold_dbfs, MIN_THRESHOLD_DBFS, MAX_THRESHOLD_DBFS),
            (self.min_seconds, 0.0, 3600.0),
        ):
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidArgumentError("Voicemail settings must be finite numbers")
            if not low <= value <= high:
                raise InvalidArgumentError("A voicemail setting is out of range")
        if len(self.end_key) > 1 or (self.end_key and self.end_key not in DTMF_KEYS):
            raise InvalidArgumentError("The end key must be one DTMF key or none")


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """A finished voicemail recording; ``path`` is None when it was no message (``kept``
    False: nothing but silence, or not one sample before the caller hung up)."""

    path: Path | None
    duration: float
    speech_seconds: float
    ended_by: MessageEnd

    @property
    def kept(self) -> bool:
        """Whether a message was kept."""
        return self.path is not None


def is_empty(duration: float, speech_seconds: float, rules: MessageRules) -> bool:
    """The verdict: nothing but silence, and shorter than ``rules.min_seconds``."""
    return speech_seconds == 0 and duration < rules.min_seconds


async def record_message(modem: Modem, target: Path, rules: MessageRules) -> RecordedMessage:
    """Record the caller into ``target`` (a new file) until one of voicemail's ends.

    Raises what :meth:`Modem.record` raises when there is no audio to record (the bridge
    not running, lost midway); a recording that ends before its first sample is an empty
    message, not an error.
    """
    try:
        result = await modem.record(
            target,
            rules.max_seconds,
            stop_digits=rules.end_key,
            end_on_silence=SilenceEnd(rules.silence_seconds, rules.threshold_dbfs),
        )
    except RecordingEmptyError:
        ended_by = MessageEnd.CLOSED if modem.closing else MessageEnd.HANG_UP
        return RecordedMessage(None, 0.0, 0.0, ended_by)
    speech = result.speech_seconds or 0.0
    ended_by = _ENDS[result.ended_by]
    if is_empty(result.duration, speech, rules):
        await asyncio.get_running_loop().run_in_executor(None, _remove, target)
        return RecordedMessage(None, result.duration, speech, ended_by)
    return RecordedMessage(target, result.duration, speech, ended_by)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# ---- answering: the voicemail engine ------------------------------------------------------

BEEP_HZ = 1000.0
BEEP_SECONDS = 0.4
STOP_HANG_UP_TIMEOUT = 3.0
_WITHHELD_MARKERS = ("", "anonymous", "unknown", "restricted", "private")


class CallerFilter(StrEnum):
    """Which callers voicemail answers."""

    ALL = "all"
    KNOWN = "known"  # only the numbers in AnswerRules.known_numbers
    NOT_WITHHELD = "not_withheld"  # every caller who shows a number


@dataclass(frozen=True, slots=True)
class AnswerRules:
    """When voicemail answers a call."""

    answer_after: float = 20.0  # seconds of ringing
    callers: CallerFilter = CallerFilter.ALL
    known_numbers: frozenset[str] = frozenset()  # compact; matched as Assist's callers are
    beep: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.answer_after, int | float) or not 0 <= self.answer_after <= 300:
            raise InvalidArgumentError("Voicemail answers after 0 to 300 seconds of ringing")

    def accepts(self, number: str | None) -> bool:
        """Whether a call from ``number`` (None: withheld) is voicemail's to answer."""
        withheld = (number or "").strip().lower() in _WITHHELD_MARKERS
        match self.callers:
            case CallerFilter.ALL:
                return True
            case CallerFilter.NOT_WITHHELD:
                return not withheld
            case CallerFilter.KNOWN:
                # A withheld marker has no digits: same_subscriber never matches it.
                return any(same_subscriber(number, known) for known in self.known_numbers)


def beep_pcm(rate: int) -> bytes:
    """The beep before the recording: a 1 kHz tone with 10 ms fades (no clicks)."""
    return tone(rate, BEEP_HZ, BEEP_SECONDS, amplitude=8000, fade=0.01)


type Greeting = Callable[[], Awaitable[object]]
"""Plays the greeting into the call (returns when it has played, or the call ended)."""
type Prepare = Callable[[], Awaitable[Path | None]]
"""Where to record the next message (None: nowhere, so do not answer)."""
type Deliver = Callable[[RecordedMessage, str | None], Awaitable[None]]
"""Take a finished message (kept or not) and the caller's number."""


class VoicemailEngine:
    """Answer calls nobody answers, play the greeting and a beep, record, hang up.

    Voicemail never fights the user's own handling: it only acts on a call that is still
    ringing after ``answer_after`` seconds, checked again right before it answers. A call
    answered by anything else first (an automation, a button, a phone on the line), rejected
    or given up by the caller is left alone. While voicemail has the call, the user can
    still take over: hanging up ends it, and answering a waiting call puts this one on hold,
    which ends the recording like a hang-up.
    """

    def __init__(
        self,
        modem: Modem,
        answer: AnswerRules,
        rules: MessageRules,
        *,
        greeting: Greeting | None,
        prepare: Prepare,
        deliver: Deliver,
    ) -> None:
        self._modem = modem
        self._answer = answer
        self._rules = rules
        self._greeting = greeting
        self._prepare = prepare
        self._deliver = deliver
        self._pending: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.busy = False  # a voicemail call is in progress

    def start(self) -> None:
        """Follow the modem's calls."""
        self._unsubscribe = self._modem.subscribe(self._on_event)

    async def stop(self) -> None:
        """Stop following calls. A voicemail in progress is dropped (its unfinished
        recording is discarded: no half file, no message) and its call hung up, so the
        caller is not left on a line nobody listens to."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._pending = self._pending, None
        in_call = self.busy
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if in_call:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_HANG_UP_TIMEOUT):
                    await self._hang_up()

    def _on_event(self, event: ModemEvent) -> None:
        if not isinstance(event, CallEvent) or event.direction != "inbound":
            return
        if event.kind == "incoming" and self._pending is None and not self.busy:
            if not self._answer.accepts(event.number):
                return
            self._pending = asyncio.get_running_loop().create_task(
                self._take(event.number), name="callstack voicemail"
            )
            self._pending.add_done_callback(self._done)
        elif event.kind in ("answered", "ended", "missed") and self._pending and not self.busy:
            # Someone else answered the ringing call, or it stopped ringing: stand down.
            self._pending.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        if self._pending is task:
            self._pending = None
        if not task.cancelled() and (err := task.exception()) is not None:
            if isinstance(err, Sim7600Error):
                _LOGGER.warning("Voicemail stopped: %s", type(err).__name__)
            else:
                _LOGGER.error("Voicemail failed", exc_info=err)

    def _still_ringing(self, ringing: CallInfo | None) -> bool:
        return (
            self._modem.calls.state is CallState.INCOMING
            and self._modem.calls.call is not None
            and self._modem.calls.call.direction == "inbound"
            and ringing is not None
            and self._modem.calls.call.number == ringing.number
        )

    async def _take(self, number: str | None) -> None:
        ringing = self._modem.calls.call
        await asyncio.sleep(self._answer.answer_after)
        if not self._still_ringing(ringing):
            return  # answered, rejected or given up meanwhile: not voicemail's call
        if self._modem.audio.url is None:
            _LOGGER.warning("Voicemail needs the modem's audio port; the call is left ringing")
            return
        target = await self._prepare()
        if target is None or not self._still_ringing(ringing):
            return
        self.busy = True
        try:
            await self._run(number, target)
        finally:
            self.busy = False

    async def _run(self, number: str | None, target: Path) -> None:
        try:
            await self._modem.answer()
        except CallStateError:
            return  # someone else answered in the same instant: theirs
        try:
            audio = await self._modem.wait_for_audio()
        except AudioBridgeNotRunningError:
            audio = False
        if not audio:
            _LOGGER.warning(
                "Voicemail answered but the call audio did not start; hanging up, no message"
            )
            await self._hang_up()
            return
        await self._play_greeting()
        if self._modem.calls.state is not CallState.ACTIVE:
            await self._deliver(RecordedMessage(None, 0.0, 0.0, MessageEnd.HANG_UP), number)
            return
        try:
            message = await record_message(self._modem, target, self._rules)
        except AudioBridgeError as err:
            _LOGGER.warning("Voicemail could not record the message (%s)", type(err).__name__)
            await self._hang_up()
            return
        if message.ended_by in (MessageEnd.KEY, MessageEnd.SILENCE, MessageEnd.MAX_LENGTH):
            await self._hang_up()
        await self._deliver(message, number)

    async def _play_greeting(self) -> None:
        if self._greeting is not None:
            try:
                await self._greeting()
            except Sim7600Error as err:
                _LOGGER.warning(
                    "The voicemail greeting could not be played (%s)", type(err).__name__
                )
        if self._answer.beep and self._modem.calls.state is CallState.ACTIVE:
            rate = self._modem.audio.sample_rate
            with contextlib.suppress(Sim7600Error):
                await self._modem.play(PcmSource(beep_pcm(rate), rate))

    async def _hang_up(self) -> None:
        with contextlib.suppress(CallStateError, Sim7600Error):
            await self._modem.hang_up()
