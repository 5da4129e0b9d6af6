"""The dev stack's offline STT: a Wyoming server around pocketsphinx's bundled en-US model,
spoken to as HA's `wyoming` integration speaks to it (wyoming's own client, over TCP), with
real speech (espeak-ng's Klatt voice through the phone's 8 kHz band)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import subprocess
import sys
import wave

import pytest

# The engine: pocketsphinx ships a cp313 wheel with its model; on Python 3.14 scripts/setup
# builds it from its sdist (g++, python3.14-dev).
pytest.importorskip(
    "pocketsphinx",
    reason="pocketsphinx is not installed in this Python (no cp314 wheel: scripts/setup builds "
    "it from its sdist, which needs g++ and python3.14-dev)",
)
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from scripts import devstack
from tests.stack.wyoming_server import wyoming_server


def spoken(folder: Path, text: str, rate: int) -> bytes:
    """``text`` said by espeak-ng, band-limited to a call's 8 kHz, delivered at ``rate``."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us+klatt", "-s", "120", "-w", str(folder / "said.wav"), text],
        check=True,
        capture_output=True,
    )
    for name, to in (("call.wav", 8000), ("out.wav", rate)):
        source = folder / ("said.wav" if name == "call.wav" else "call.wav")
        subprocess.run(
            ["sox", str(source), "-r", str(to), "-b", "16", "-c", "1", str(folder / name)],
            check=True,
            capture_output=True,
        )
    with wave.open(str(folder / "out.wav"), "rb") as wav:
        return wav.readframes(wav.getnframes())


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[int]:
    async with wyoming_server(devstack.STT_SCRIPT, timeout=30) as port:
        yield port


async def transcribe(port: int, pcm: bytes, rate: int) -> str:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
        for offset in range(0, len(pcm), 2048):
            chunk = AudioChunk(rate=rate, width=2, channels=1, audio=pcm[offset : offset + 2048])
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        async with asyncio.timeout(30):
            while True:
                event = await client.read_event()
                assert event is not None
                if Transcript.is_type(event.type):
                    return Transcript.from_event(event).text


async def test_describe_offers_the_bundled_english_model(server: int) -> None:
    async with AsyncTcpClient("127.0.0.1", server) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
    assert event is not None
    program = Info.from_event(event).asr[0]
    assert program.name == "pocketsphinx"
    assert program.installed
    assert [model.languages for model in program.models] == [["en"]]


async def test_speech_over_a_call_is_transcribed(server: int, tmp_path: Path) -> None:
    """At 16 kHz, what HA's wyoming STT sends."""
    text = await transcribe(server, spoken(tmp_path, "one two three four five", 16000), 16000)
    assert text == "one two three four five"


async def test_other_rates_are_converted(server: int, tmp_path: Path) -> None:
    """The call's own 8 kHz, converted by wyoming's linear interpolation: most words
    survive (a client that cares upsamples properly first, as Callstack does)."""
    text = await transcribe(server, spoken(tmp_path, "one two three four five", 8000), 8000)
    assert "three four five" in text


async def test_silence_is_an_empty_transcript_and_the_server_serves_on(
    server: int, tmp_path: Path
) -> None:
    assert await transcribe(server, bytes(32000), 16000) == ""
    text = await transcribe(server, spoken(tmp_path, "please call me back", 16000), 16000)
    assert "call me back" in text


async def test_a_sentences_model_hears_the_commands_the_general_one_misses(
    socket_enabled: None, tmp_path: Path
) -> None:
    """The general model hears espeak-ng's "turn on the kitchen light" as something else
    ("kitchen i"); Assist's server, with the dev config's sentences, hears it."""
    pcm = spoken(tmp_path, devstack.ASSIST_QUESTION, 16000)
    async with wyoming_server(devstack.STT_SCRIPT, timeout=30) as general:
        assert await transcribe(general, pcm, 16000) != devstack.ASSIST_QUESTION
    sentences = devstack.DEFAULT_CONFIG / devstack.ASSIST_SENTENCES
    async with wyoming_server(
        devstack.STT_SCRIPT, "--sentences", str(sentences), timeout=30
    ) as commands:
        async with AsyncTcpClient("127.0.0.1", commands) as client:
            await client.write_event(Describe().event())
            event = await client.read_event()
        assert event is not None
        assert Info.from_event(event).asr[0].name == "pocketsphinx-commands"
        assert await transcribe(commands, pcm, 16000) == devstack.ASSIST_QUESTION


def test_a_sentence_with_a_word_the_dictionary_lacks_is_refused(tmp_path: Path) -> None:
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("# comment\nturn on the flurbix\n")
    done = subprocess.run(
        [sys.executable, str(devstack.STT_SCRIPT), "--sentences", str(sentences)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "not in pocketsphinx's dictionary: flurbix" in done.stderr
