"""Is the caller speaking? Frame energy on the call's PCM, for voicemail.

A voicemail ends when the caller "stays silent for S seconds", and a message that holds
nothing but silence is not kept. Both only need to tell speech from the quiet of a phone
line, not words from noise, so the measure is the plain RMS level of each 20 ms frame in
dBFS (``audioop.rms``: C speed, no dependency) against a fixed threshold, not a model.

The default threshold, -45 dBFS, was measured (``tests/sim7600/test_voicemail.py`` makes
the same material and checks these margins): espeak-ng speech converted to 8 kHz with sox
has its frames' median at -26 dBFS and 76 % of its frames above -45 dBFS, its longest
pause between words 0.34 s; the same speech 20 dB quieter still has 46 % of its frames
above -45 dBFS and pauses of at most 0.54 s. Line noise from sox's white and pink noise
generators at 1 % of full scale (seeded, ``sox -R``) has its frames' median at -53 and
-55 dBFS and its loudest frame at -51.6 and -47.8 dBFS, below the threshold by 2.8 dB or
more; the emulator's far end is digital silence once it has spoken. Noise above the
threshold (brown noise at 1 % of full scale reaches -41.5 dBFS, a loud room) never reads
as silence, so such a message runs to its maximum length rather than being cut: that is
the side to fail on, since a quiet caller cut off loses the message. The threshold is an
option for lines that need another.

One loud frame (a click) does not count as speech: speech starts after
:data:`ONSET_FRAMES` frames in a row above the threshold.
"""

from __future__ import annotations

import math

import audioop

from .pcm import FRAME_SECONDS, SAMPLE_WIDTH, Whole, frame_bytes

DEFAULT_THRESHOLD_DBFS = -45.0
MIN_THRESHOLD_DBFS = -70.0
MAX_THRESHOLD_DBFS = -20.0
ONSET_FRAMES = 2  # 40 ms above the threshold in a row is speech
_FULL_SCALE = 32768.0


def level_dbfs(pcm: bytes) -> float:
    """The RMS level of 16-bit PCM in dBFS (``-inf`` for digital silence)."""
    rms = audioop.rms(pcm, SAMPLE_WIDTH) if pcm else 0
    return 20 * math.log10(rms / _FULL_SCALE) if rms else -math.inf


class SpeechActivity:
    """Follow a stream frame by frame: how long it has been silent, how much was speech.

    Fed arbitrary chunks of whole samples; it cuts them into 20 ms frames itself, so the
    figures do not depend on how the port's reads happened to split the stream.
    """

    def __init__(self, sample_rate: int, threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS) -> None:
        if not MIN_THRESHOLD_DBFS <= threshold_dbfs <= MAX_THRESHOLD_DBFS:  # refuses NaN too
            raise ValueError("threshold out of range")
        self.sample_rate = sample_rate
        self.threshold_dbfs = threshold_dbfs
        self.speech_frames = 0  # frames judged speech, in all
        self.silent_frames = 0  # frames since the last speech (or the start)
        self._threshold_rms = _FULL_SCALE * 10 ** (threshold_dbfs / 20)
        self._frames = Whole(frame_bytes(sample_rate))
        self._loud_run = 0

    @property
    def speech_seconds(self) -> float:
        """How much of the stream was speech."""
        return round(self.speech_frames * FRAME_SECONDS, 3)

    @property
    def silent_seconds(self) -> float:
        """How long the stream has been silent, up to now."""
        return round(self.silent_frames * FRAME_SECONDS, 3)

    def feed(self, pcm: bytes) -> None:
        """Account for the next whole samples of the stream."""
        data, size = self._frames.take(pcm), self._frames.size
        for offset in range(0, len(data), size):
            self._frame(data[offset : offset + size])

    def _frame(self, frame: bytes) -> None:
        if audioop.rms(frame, SAMPLE_WIDTH) > self._threshold_rms:
            self._loud_run += 1
            if self._loud_run == ONSET_FRAMES:
                # The frames before this one were speech too: take them back from silence.
                self.speech_frames += ONSET_FRAMES - 1
                self.silent_frames = 0
            if self._loud_run >= ONSET_FRAMES:
                self.speech_frames += 1
                return
        else:
            self._loud_run = 0
        self.silent_frames += 1
