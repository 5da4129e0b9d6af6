"""The dev stack's offline TTS: a Wyoming server around espeak-ng, spoken to as HA's
`wyoming` integration speaks to it (wyoming's own client, over TCP)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from scripts import devstack
from tests.stack.wyoming_server import wyoming_server


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[int]:
    async with wyoming_server(devstack.TTS_SCRIPT, "--languages", "en,de", timeout=20) as port:
        yield port


async def test_describe_lists_espeak_voices(server: int) -> None:
    async with AsyncTcpClient("127.0.0.1", server) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
    assert event is not None
    info = Info.from_event(event)
    program = info.tts[0]
    assert program.name == "espeak-ng"
    assert {language for voice in program.voices for language in voice.languages} == {"de", "en"}
    assert program.voices[0].name == "de"
    assert "en-us" in {voice.name for voice in program.voices}


@pytest.mark.parametrize("voice", [None, SynthesizeVoice(language="de-DE")])
async def test_synthesize_streams_speech(server: int, voice: SynthesizeVoice | None) -> None:
    async with AsyncTcpClient("127.0.0.1", server) as client:
        await client.write_event(Synthesize("The smoke alarm went off", voice=voice).event())
        start = AudioStart.from_event(await client.read_event())
        audio = b""
        while True:
            event = await client.read_event()
            assert event is not None
            if AudioStop.is_type(event.type):
                break
            audio += AudioChunk.from_event(event).audio
    assert (start.rate, start.width, start.channels) == (22050, 2, 1)
    seconds = len(audio) / 2 / 22050
    assert 1.0 < seconds < 5.0
    assert (
        max(
            abs(int.from_bytes(audio[i : i + 2], "little", signed=True))
            for i in range(0, len(audio), 2)
        )
        > 3000
    )
