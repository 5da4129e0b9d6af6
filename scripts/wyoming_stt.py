"""A small Wyoming speech-to-text server around pocketsphinx, for offline STT.

The development stack (`scripts/run`) starts it and adds HA's `wyoming` integration for it,
so voicemail transcripts (and Assist over a call) work without any internet access. The
model is the en-US acoustic model, language model and dictionary that the `pocketsphinx`
wheel ships (`pocketsphinx.get_model_path()`): nothing is downloaded, ever. pocketsphinx has
a cp313 wheel and no cp314 one; the Python 3.14 environments build it from its sdist. The
server is a separate process that HA reaches over TCP.

    python scripts/wyoming_stt.py --uri tcp://127.0.0.1:10300
    python scripts/wyoming_stt.py --uri tcp://127.0.0.1:10301 --sentences SENTENCES.txt

With `--sentences FILE` (one sentence a line) it decodes with a language model made of just
those sentences (pocketsphinx's own `pocketsphinx.lm` builder) instead of the general English
one, and calls itself `pocketsphinx-commands`: a voice assistant's speech-to-text, the way
HA's own Speech-to-Phrase works. Why: the general model is made from general English text,
in which "kitchen light" is about 260 times less likely than "kitchen i" (its trigram
probabilities), and synthetic speech (espeak-ng's weak /l/ and word-final /t/, through an
8 kHz call) does not outweigh that: no espeak-ng voice, rate or pitch tried, nor any decoder
setting (language weight, insertion penalty, beams, silence and filler probabilities,
dither), made it hear "turn on the kitchen light". With the commands model it does. It hears
only those sentences' words, so it is for commands, not for voicemail messages.

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
from pathlib import Path
import tempfile
import threading

from pocketsphinx import Decoder, Segmenter
from pocketsphinx.lm import ArpaBoLM
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

    def __init__(self, sentences: list[str] | None = None) -> None:
        """The general English model, or with ``sentences`` a model of just those."""
        if sentences is None:
            self._decoder = Decoder(samprate=RATE, loglevel="FATAL")
        else:
            self._decoder = _commands_decoder(sentences)
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


def _commands_decoder(sentences: list[str]) -> Decoder:
    """A decoder whose language model holds only ``sentences`` (lower-cased words, each in
    the bundled dictionary: a word it cannot pronounce is refused by name)."""
    model = ArpaBoLM(text="\n".join(sentences), add_start=True, case="lower")
    model.compute()
    with tempfile.TemporaryDirectory() as folder:
        arpa = Path(folder) / "commands.arpa"
        model.write_file(str(arpa))
        decoder = Decoder(samprate=RATE, loglevel="FATAL", lm=str(arpa))
    words = {word for sentence in sentences for word in sentence.lower().split()}
    unknown = sorted(word for word in words if decoder.lookup_word(word) is None)
    if unknown:
        raise ValueError(f"not in pocketsphinx's dictionary: {', '.join(unknown)}")
    return decoder


def read_sentences(path: Path) -> list[str]:
    """The non-empty lines of ``path`` that are not comments (``#``)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def info(*, commands: bool = False) -> Info:
    """What `describe` answers (``commands``: the server has a sentences model)."""
    return Info(
        asr=[
            AsrProgram(
                name="pocketsphinx-commands" if commands else "pocketsphinx",
                description=(
                    "CMU PocketSphinx, the commands of a sentences file (offline, for development)"
                    if commands
                    else "CMU PocketSphinx (offline, for development)"
                ),
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
        description: Info,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.recognizer = recognizer
        self.description = description
        self.converter = AudioChunkConverter(rate=RATE, width=WIDTH, channels=CHANNELS)
        self.audio = bytearray()

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.description.event())
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


async def serve(uri: str, sentences: list[str] | None = None) -> None:
    recognizer = await asyncio.to_thread(Recognizer, sentences)
    description = info(commands=sentences is not None)
    server = AsyncServer.from_uri(uri)
    _LOGGER.info("Wyoming %s STT on %s", description.asr[0].name, uri)
    await server.run(partial(SttHandler, recognizer, description))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default="tcp://127.0.0.1:10300")
    parser.add_argument(
        "--sentences",
        type=Path,
        help="decode with a language model of just these sentences (one a line), for commands",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="wyoming_stt: %(message)s")
    sentences = None if args.sentences is None else read_sentences(args.sentences)
    if sentences == []:
        parser.error(f"{args.sentences} holds no sentence")
    try:
        asyncio.run(serve(args.uri, sentences))
    except ValueError as err:  # a word the dictionary lacks
        parser.error(f"{args.sentences}: {err}")


if __name__ == "__main__":
    main()
