"""A small Wyoming text-to-speech server around Debian's espeak-ng, for offline TTS.

The development stack (`scripts/run`) starts it and adds HA's `wyoming` integration for it,
so `tts.speak`, `callstack.say` and the media player work without any internet access. It
is a separate process that HA reaches over TCP, so it runs from the Python 3.13 venv
whichever Home Assistant the stack runs.

    python scripts/wyoming_espeak.py --uri tcp://127.0.0.1:10200 [--espeak espeak-ng]

Protocol (Wyoming 1.5): `describe` → `info` with one TTS program and the espeak-ng voices of
the languages asked for (`--languages en,de`; English only by default); `synthesize` →
`audio-start`, `audio-chunk`s, `audio-stop`. The text goes to espeak-ng on stdin (never on
its command line); the voice name is checked against the list espeak-ng reported. espeak-ng
writes its WAV header before it knows the length (data size 0x7FFFF000), so only the format
is read from it and the rest is streamed as PCM.
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial
import logging
import shutil
import struct
import subprocess

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize

_LOGGER = logging.getLogger("wyoming_espeak")

ATTRIBUTION = Attribution(name="eSpeak NG", url="https://github.com/espeak-ng/espeak-ng")
CHUNK_BYTES = 4096
DEFAULT_VOICE = "en-us"


def list_voices(espeak: str, languages: set[str] | None) -> list[TtsVoice]:
    """The espeak-ng voices (``espeak-ng --voices``) of ``languages`` (None: all), each
    under its plain language code (``en-us`` → ``en``). HA's Wyoming TTS takes its
    default language from a set, so one language (the default, ``en``) keeps the default
    predictable."""
    listing = subprocess.run(
        [espeak, "--voices"], check=True, capture_output=True, text=True
    ).stdout
    voices = []
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        name, language = fields[1], fields[1].split("-")[0]
        if languages is None or language in languages:
            voices.append(
                TtsVoice(
                    name=name,
                    description=f"espeak-ng {fields[3].replace('_', ' ')}",
                    attribution=ATTRIBUTION,
                    installed=True,
                    version=None,
                    languages=[language],
                )
            )
    return voices


class EspeakHandler(AsyncEventHandler):  # type: ignore[misc]  # wyoming has no types
    """One client connection."""

    def __init__(
        self,
        espeak: str,
        info: Info,
        voices: dict[str, list[str]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.espeak = espeak
        self.info = info
        self.voices = voices

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.info.event())
        elif Synthesize.is_type(event.type):
            await self.synthesize(Synthesize.from_event(event))
        return True

    def _voice(self, synthesize: Synthesize) -> str:
        """The voice asked for by name, else the first one of the language asked for."""
        voice = synthesize.voice
        if voice is not None and voice.name is not None and voice.name in self.voices:
            return str(voice.name)
        if voice is not None and voice.language:
            language = voice.language.split("-")[0].split("_")[0].lower()
            for name, languages in self.voices.items():
                if language in languages:
                    return name
        return next(iter(self.voices), DEFAULT_VOICE)

    async def synthesize(self, synthesize: Synthesize) -> None:
        process = await asyncio.create_subprocess_exec(
            self.espeak,
            "--stdout",
            "-v",
            self._voice(synthesize),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(synthesize.text.encode())
        process.stdin.close()
        rate, width, channels = await read_format(process.stdout)
        await self.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        block = width * channels
        pending = b""
        while data := await process.stdout.read(CHUNK_BYTES):
            data = pending + data
            whole = len(data) - len(data) % block
            pending = data[whole:]
            await self.write_event(
                AudioChunk(audio=data[:whole], rate=rate, width=width, channels=channels).event()
            )
        await process.wait()
        await self.write_event(AudioStop().event())


async def read_format(stdout: asyncio.StreamReader) -> tuple[int, int, int]:
    """(rate, bytes per sample, channels) from the WAV header; stops at the data chunk."""
    riff = await stdout.readexactly(12)
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not write a WAV")
    rate, width, channels = 22050, 2, 1
    while True:
        chunk_id, size = struct.unpack("<4sI", await stdout.readexactly(8))
        if chunk_id == b"data":
            return rate, width, channels
        body = await stdout.readexactly(size + (size & 1))
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", body[2:8])
            width = struct.unpack("<H", body[14:16])[0] // 8


async def serve(uri: str, espeak: str, languages: set[str] | None) -> None:
    voices = await asyncio.to_thread(list_voices, espeak, languages)
    # The plain voice of a language first (en-us before en-us-nyc).
    voices.sort(key=lambda voice: (voice.languages[0], voice.name != "en-us", len(voice.name)))
    info = Info(
        tts=[
            TtsProgram(
                name="espeak-ng",
                description="eSpeak NG (offline, for development)",
                attribution=ATTRIBUTION,
                installed=True,
                version=None,
                voices=voices,
            )
        ]
    )
    server = AsyncServer.from_uri(uri)
    _LOGGER.info("Wyoming espeak-ng TTS on %s with %d voices", uri, len(voices))
    table = {voice.name: voice.languages for voice in voices}
    await server.run(partial(EspeakHandler, espeak, info, table))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default="tcp://127.0.0.1:10200")
    parser.add_argument("--espeak", default=shutil.which("espeak-ng") or "espeak-ng")
    parser.add_argument(
        "--languages", default="en", help="comma-separated language codes, or all (default en)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="wyoming_espeak: %(message)s")
    languages = None if args.languages == "all" else set(args.languages.split(","))
    asyncio.run(serve(args.uri, args.espeak, languages))


if __name__ == "__main__":
    main()
