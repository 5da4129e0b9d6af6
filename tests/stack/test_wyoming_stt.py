"""The dev stack's offline STT: a Wyoming server around pocketsphinx's bundled en-US model,
spoken to as HA's `wyoming` integration speaks to it (wyoming's own client, over TCP), with
real speech (espeak-ng's Klatt voice through the phone's 8 kHz band)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import subprocess
import wave

import pytest

# The engine: pocketsphinx ships a cp313 wheel with its model and nothing for Python 3.14,
# so the offline STT server runs (and is tested) on Python 3.13 only.
pytest.importorskip(
    "pocketsphinx",
    reason="pocketsphinx has no wheel for this Python (cp313 only): the dev stack's offline "
    "STT runs on Python 3.13",
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
