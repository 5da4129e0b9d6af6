"""The far end holds a conversation: WAV files spoken in turn.

A `Turns` voice speaks its utterances one after another, each when its cue comes:

* `reply` (the default): after the host's reply to the previous one has ended, i.e. the
  host played audio into the call and then was quiet for `gap` seconds of stream time. The
  first utterance waits for the host's first sound too (Assist's "speak now" prompt), so a
  two-turn conversation with a voice assistant needs no commands at all.
* `ctl`: only when `say_next()` is called (the `say-next` control command).

Between utterances the far end is silent. Leading and trailing quiet is trimmed off each
file, so `spoken` (when each utterance's first and last sample went to the host, in
`time.perf_counter_ns()`) marks the speech itself: what the benchmarks time an answer from.
Time runs on the stream's own sample clock, so an accelerated emulator keeps the same
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import time

import audioop

from .far_end_voice import SAMPLE_WIDTH, Voice, read_pcm

_QUIET_RMS = 100  # below this (about -50 dBFS) a 10 ms window is not speech
CUES = ("reply", "ctl")


def trimmed(pcm: bytes, rate: int) -> bytes:
    """`pcm` without its leading and trailing quiet (10 ms windows)."""
    window = rate // 100 * SAMPLE_WIDTH
    loud = [
        offset
        for offset in range(0, len(pcm), window)
        if audioop.rms(pcm[offset : offset + window], SAMPLE_WIDTH) >= _QUIET_RMS
    ]
    if not loud:
        return pcm
    return pcm[loud[0] : loud[-1] + window]


@dataclass
class Utterance:
    """One file's speech at the stream's rate, and when it was spoken."""

    label: str
    voice: Voice
    started_ns: int | None = None
    ended_ns: int | None = None


class Turns:
    """Utterances spoken in turn (see the module docstring); `AudioStream` speaks it as it
    speaks a `Voice`, and tells it what the host played."""

    def __init__(self, paths: list[Path], *, cue: str = "reply", gap: float = 0.6) -> None:
        if cue not in CUES:
            raise ValueError(f"the cue is one of {', '.join(CUES)}")
        if not paths:
            raise ValueError("turns need at least one WAV file")
        self.utterances: list[Utterance] = []
        for path in paths:
            pcm, rate = read_pcm(path)
            self.utterances.append(Utterance(path.name, Voice(trimmed(pcm, rate), rate)))
        self.cue = cue
        self.gap = gap
        self.label = "turns: " + ", ".join(utterance.label for utterance in self.utterances)
        self._rate = 8000
        self._clock = 0  # samples taken so far
        self._current = -1  # the utterance being spoken (-1: none yet)
        self._speaking = False
        self._heard_since = False  # the host played something since the last utterance
        self._last_heard = 0  # the clock when it last did

    # ---- what AudioStream calls ----------------------------------------------------------

    def restart(self, rate: int) -> None:
        """A new stream (a new call): the conversation starts over."""
        self._rate = rate
        for utterance in self.utterances:
            utterance.voice.restart(rate)
            utterance.started_ns = utterance.ended_ns = None
        self._clock = 0
        self._current = -1
        self._speaking = False
        self._heard_since = False

    def heard(self, count: int) -> None:
        """The host played `count` bytes into the call (its prompt or its answer)."""
        if count and not self._speaking:
            self._heard_since = True
            self._last_heard = self._clock

    @property
    def finished(self) -> bool:
        """Every utterance has been spoken."""
        return not self._speaking and self._current >= len(self.utterances) - 1

    def take(self, samples: int) -> bytes:
        """The next `samples` samples: the current utterance, else silence."""
        if not self._speaking and self.cue == "reply" and self._reply_over():
            self.say_next()
        self._clock += samples
        if not self._speaking:
            return bytes(samples * SAMPLE_WIDTH)
        utterance = self.utterances[self._current]
        now = time.perf_counter_ns()
        if utterance.started_ns is None:
            utterance.started_ns = now
        pcm = utterance.voice.take(samples)
        if utterance.voice.finished:
            utterance.ended_ns = now
            self._speaking = False
            self._heard_since = False
        return pcm

    # ---- cues ------------------------------------------------------------------------------

    def _reply_over(self) -> bool:
        quiet = self._clock - self._last_heard
        return self._heard_since and quiet >= self.gap * self._rate

    def say_next(self) -> str | None:
        """Start the next utterance now (the `say-next` command); its label, or None when
        every utterance has been spoken."""
        if self._speaking or self._current >= len(self.utterances) - 1:
            return None
        self._current += 1
        self._speaking = True
        return self.utterances[self._current].label

    @property
    def spoken(self) -> list[dict[str, int | str | None]]:
        """Each utterance and when its first and last sample went to the host."""
        return [
            {"label": u.label, "started_ns": u.started_ns, "ended_ns": u.ended_ns}
            for u in self.utterances
        ]
