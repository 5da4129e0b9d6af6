"""The dev stack's offline STT: a Wyoming server around pocketsphinx's bundled en-US model,
spoken to as HA's `wyoming` integration speaks to it (wyoming's own client, over TCP), with
speech as a call carries it (data/*.wav: espeak-ng 1.51's Klatt voices band-limited to 8 kHz
by SoX, made once). The recordings are kept rather than made at test time because
pocketsphinx's general model on synthetic speech swings with any change to the samples:
espeak-ng 1.52 (the Python 3.14 root's) speaks these sentences slightly differently and
SoX's dither is random on every run, and either turned "one two three four five" into
"love to read or i am" now and then."""

from __future__ import annotations

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
from wyoming.audio import AudioChunk, AudioChunkConverter
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from custom_components.callstack.sim7600.resample import upsample
from scripts import devstack
from tests.stack.wyoming_server import transcribe, wyoming_server

DATA = Path(__file__).parent / "data"


def spoken(text: str, rate: int = 16000) -> bytes:
    """``text`` as a call carried it (data/), delivered at ``rate``: 16 kHz the way Callstack
    sends a call's audio to HA (its half-band upsampler), or another rate via wyoming's own
    converter."""
    with wave.open(str(DATA / (text.replace(" ", "-") + ".wav")), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        pcm = upsample(wav.readframes(wav.getnframes()))
    if rate == 16000:
        return pcm
    converter = AudioChunkConverter(rate=rate, width=2, channels=1)
    return bytes(converter.convert(AudioChunk(rate=16000, width=2, channels=1, audio=pcm)).audio)


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[int]:
    async with wyoming_server(devstack.STT_SCRIPT, timeout=30) as port:
        yield port


async def test_describe_offers_the_bundled_english_model(server: int) -> None:
    async with AsyncTcpClient("127.0.0.1", server) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
    assert event is not None
    program = Info.from_event(event).asr[0]
    assert program.name == "pocketsphinx"
    assert program.installed
    assert [model.languages for model in program.models] == [["en"]]


async def test_speech_over_a_call_is_transcribed(server: int) -> None:
    """At 16 kHz, what HA's wyoming STT sends."""
    text = await transcribe(server, spoken("one two three four five"), 16000)
    assert text == "one two three four five"


async def test_other_rates_are_converted(server: int) -> None:
    """Audio at 48 kHz is brought to the model's 16 kHz by the server (wyoming's converter)."""
    text = await transcribe(server, spoken("one two three four five", 48000), 48000)
    assert text == "one two three four five"


async def test_silence_is_an_empty_transcript_and_the_server_serves_on(server: int) -> None:
    assert await transcribe(server, bytes(32000), 16000) == ""
    text = await transcribe(server, spoken("please call me back"), 16000)
    assert "call me back" in text


async def test_a_sentences_model_hears_the_commands_the_general_one_misses(
    socket_enabled: None,
) -> None:
    """The general model hears the dev stack caller's "turn on the kitchen light" as "turn on
    the kitchen i"; Assist's server, with the dev config's sentences, hears it."""
    pcm = spoken(devstack.ASSIST_QUESTION)
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
