"""A small Wyoming speech-to-text server around pocketsphinx, for offline STT.

The development stack (`scripts/run`) starts it and adds HA's `wyoming` integration for it,
so voicemail transcripts (and Assist over a call) work without any internet access. The
model is the en-US acoustic model, language model and dictionary that the `pocketsphinx`
wheel ships (`pocketsphinx.get_model_path()`): nothing is downloaded, ever. pocketsphinx has
a cp313 wheel and no cp314 one, and the server is a separate process that HA reaches over
TCP, so it runs from the Python 3.13 venv whichever Home Assistant the stack runs.

    python scripts/wyoming_stt.py --uri tcp://127.0.0.1:10300

Protocol (Wyoming 1.5): `describe` → `info` with one ASR program and its English model;
`transcribe` (optional), `audio-start`, `audio-chunk`s, `audio-stop` → `transcript`. Audio of
any rate, width and channel count is converted to the model's 16 kHz 16-bit mono (HA's
wyoming STT sends that already). Decoding runs in a worker thread, one utterance at a time
(one decoder: loading the model takes longer than decoding a short message), so the event
loop keeps serving other connections.

It is a development and test engine: pocketsphinx's small US English model gets the gist of
clear speech, not every word.
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial
import io
import logging
import threading

from pocketsphinx import Decoder, Segmenter
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler, AsyncServer

_LOGGER = logging.getLogger("wyoming_stt")

ATTRIBUTION = Attribution(name="CMU Sphinx", url="https://github.com/cmusphinx/pocketsphinx")
RATE, WIDTH, CHANNELS = 16000, 2, 1
LANGUAGES = ["en"]


class Recognizer:
    """pocketsphinx's default en-US model behind a lock: one recording at a time.

    pocketsphinx's own voice activity detector (``Segmenter``) cuts the audio into spoken
    segments first and only those are decoded: on silence alone the decoder would make up
    a word, and a long message with pauses decodes better phrase by phrase.
    """

    def __init__(self) -> None:
        self._decoder = Decoder(samprate=RATE, loglevel="FATAL")
        self._lock = threading.Lock()

    def transcribe(self, pcm: bytes) -> str:
        """The words heard in 16 kHz 16-bit mono ``pcm`` (blocking: run it in a thread)."""
        words = []
        with self._lock:
            for segment in Segmenter(sample_rate=RATE).segment(io.BytesIO(pcm)):
                self._decoder.start_utt()
                self._decoder.process_raw(segment.pcm, full_utt=True)
                self._decoder.end_utt()
                if (hypothesis := self._decoder.hyp()) is not None and hypothesis.hypstr:
                    words.append(hypothesis.hypstr.strip())
        return " ".join(words)


def info() -> Info:
    """What `describe` answers."""
    return Info(
        asr=[
            AsrProgram(
                name="pocketsphinx",
                description="CMU PocketSphinx (offline, for development)",
                attribution=ATTRIBUTION,
                installed=True,
                version=None,
                models=[
                    AsrModel(
                        name="en-us",
                        description="PocketSphinx US English (bundled with the wheel)",
                        attribution=ATTRIBUTION,
                        installed=True,
                        version=None,
                        languages=LANGUAGES,
                    )
                ],
            )
        ]
    )


class SttHandler(AsyncEventHandler):  # type: ignore[misc]  # wyoming has no types
    """One client connection: collect an utterance's audio, answer with its transcript."""

    def __init__(
        self,
        recognizer: Recognizer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.recognizer = recognizer
        self.converter = AudioChunkConverter(rate=RATE, width=WIDTH, channels=CHANNELS)
        self.audio = bytearray()

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(info().event())
        elif Transcribe.is_type(event.type) or AudioStart.is_type(event.type):
            if AudioStart.is_type(event.type):
                self.converter = AudioChunkConverter(rate=RATE, width=WIDTH, channels=CHANNELS)
            self.audio.clear()
        elif AudioChunk.is_type(event.type):
            self.audio += self.converter.convert(AudioChunk.from_event(event)).audio
        elif AudioStop.is_type(event.type):
            pcm = bytes(self.audio)
            self.audio.clear()
            text = await asyncio.to_thread(self.recognizer.transcribe, pcm)
            _LOGGER.debug("Transcribed %.1f s of audio", len(pcm) / (RATE * WIDTH))
            await self.write_event(Transcript(text=text).event())
        return True


async def serve(uri: str) -> None:
    recognizer = await asyncio.to_thread(Recognizer)
    server = AsyncServer.from_uri(uri)
    _LOGGER.info("Wyoming pocketsphinx STT on %s", uri)
    await server.run(partial(SttHandler, recognizer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default="tcp://127.0.0.1:10300")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="wyoming_stt: %(message)s")
    asyncio.run(serve(args.uri))


if __name__ == "__main__":
    main()
