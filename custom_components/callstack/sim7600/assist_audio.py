"""What Assist hears on a call, and the tone that tells the caller to speak (no HA here).

HA's speech-to-text and its voice activity detection take 16 kHz only; the call is 8 kHz.
:class:`CallerVoice` turns the bridge's caller stream (:mod:`.caller_audio`) into 16 kHz
chunks (the half-band :class:`~.resample.Upsampler`, never sample repetition) and marks
each chunk speech or not with :class:`SpeechDetector`, so one pass over the audio serves
three jobs of the HA layer: feeding the pipeline, noticing a caller who stays silent, and
barge-in (the caller speaking over the answer stops it).

:class:`SpeechDetector` runs pymicro-vad (the model HA's own pipeline uses, pinned by both
supported HA versions) on 10 ms chunks, and calls it speech only after
``min_speech`` seconds of consecutive speech frames: a click, a cough or the echo of our
own prompt tone must not cut the answer off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pymicro_vad import MicroVad

from .audio_source import tone
from .caller_audio import AudioFrame, CallerAudio, DtmfPress
from .pcm import SAMPLE_WIDTH, Whole
from .resample import Upsampler

STT_RATE = 16000
_VAD_CHUNK = STT_RATE // 100 * SAMPLE_WIDTH  # 10 ms at 16 kHz: what MicroVad takes
SPEECH_THRESHOLD = 0.5
MIN_SPEECH_SECONDS = 0.06


class SpeechDetector:
    """Is the caller speaking? pymicro-vad over 16 kHz PCM of any chunk length."""

    def __init__(
        self, threshold: float = SPEECH_THRESHOLD, min_speech: float = MIN_SPEECH_SECONDS
    ) -> None:
        self._vad = MicroVad()
        self._threshold = threshold
        self._needed = max(1, round(min_speech / 0.01))
        self._run = 0  # consecutive 10 ms chunks above the threshold
        self._chunks = Whole(_VAD_CHUNK)

    def process(self, pcm: bytes) -> bool:
        """Feed 16 kHz PCM; True if speech (``min_speech`` of it in a row) is going on at
        any point of this chunk."""
        data = self._chunks.take(pcm)
        speech = False
        for offset in range(0, len(data), _VAD_CHUNK):
            probability = self._vad.Process10ms(data[offset : offset + _VAD_CHUNK])
            # MicroVad answers < 0 while it fills its own window: not speech.
            self._run = self._run + 1 if probability >= self._threshold else 0
            speech = speech or self._run >= self._needed
        return speech

    def reset(self) -> None:
        """Forget the run of speech (a new turn starts)."""
        self._run = 0


@dataclass(frozen=True, slots=True)
class VoiceChunk:
    """20 ms of the caller at 16 kHz, and whether the detector heard speech in it
    (always False while detection is off)."""

    pcm: bytes
    speech: bool
    received: float  # loop time the 8 kHz frame arrived


class CallerVoice:
    """The caller's stream at 16 kHz with speech marked; DTMF presses pass through."""

    def __init__(self, stream: CallerAudio, rate: int) -> None:
        if rate not in (8000, STT_RATE):
            raise ValueError("The bridge runs at 8000 or 16000 Hz")
        self._stream = stream
        self._upsampler = Upsampler() if rate != STT_RATE else None
        self.detector = SpeechDetector()
        # Off while HA's pipeline listens (its own VAD runs then; one is enough), on while
        # an answer plays (barge-in): pymicro-vad is most of this path's cost.
        self.detect = True

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> VoiceChunk | DtmfPress:
        item = await anext(self._stream)
        if isinstance(item, DtmfPress):
            return item
        return self.convert(item)

    def convert(self, frame: AudioFrame) -> VoiceChunk:
        """One frame to 16 kHz, marked (the async iterator does this for each frame)."""
        pcm = self._upsampler.process(frame.pcm) if self._upsampler else frame.pcm
        return VoiceChunk(pcm, self.detect and self.detector.process(pcm), frame.received)

    @property
    def live(self) -> bool:
        """Whether the caller's frames must come as they arrive (see ``CallerAudio.live``)."""
        return self._stream.live

    @live.setter
    def live(self, live: bool) -> None:
        self._stream.live = live

    def clear(self) -> None:
        """Drop the audio queued so far (what arrived while the prompt played)."""
        self._stream.clear()
        self.detector.reset()

    def close(self) -> None:
        """Stop listening."""
        self._stream.close()


def prompt_tone(rate: int) -> bytes:
    """The "speak now" cue: two short rising beeps (660 then 880 Hz, 90 ms each, 5 ms
    ramps, -12 dBFS), 16-bit mono PCM at ``rate``."""
    return _notes(rate, (660.0, 880.0), 0.09)


def chime(rate: int) -> bytes:
    """Before an announcement (HA's "preannounce"): two falling notes (784 then 523 Hz,
    150 ms each, 5 ms ramps, -12 dBFS), unlike the rising "speak now" prompt."""
    return _notes(rate, (784.0, 523.0), 0.15)


def _notes(rate: int, frequencies: tuple[float, ...], seconds: float) -> bytes:
    gap = bytes(round(0.03 * rate) * SAMPLE_WIDTH)
    return b"".join(
        tone(rate, frequency, seconds, amplitude=8192, fade=0.005) + gap
        for frequency in frequencies
    )
