"""Voicemail in the driver: recording a message and judging whether it holds one.

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
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import math
import os
from pathlib import Path

from .audio import SilenceEnd
from .errors import InvalidArgumentError, RecordingEmptyError
from .modem import Modem
from .silence import DEFAULT_THRESHOLD_DBFS, MAX_THRESHOLD_DBFS, MIN_THRESHOLD_DBFS

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
