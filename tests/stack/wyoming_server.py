"""One of the dev stack's Wyoming servers (scripts/wyoming_*.py) in a subprocess, for a test,
and what an STT server hears in some audio, asked as HA's wyoming integration asks.

Started as scripts/devstack.py starts it (this Python, `--uri tcp://127.0.0.1:PORT`) on a
free port, and awaited until it accepts connections, as HA's `wyoming` integration would
reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import sys

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient

from scripts import devstack


@contextlib.asynccontextmanager
async def wyoming_server(script: Path, *args: str, timeout: float) -> AsyncIterator[int]:
    """Run ``script`` with ``args``; yields its port once it listens (within ``timeout``
    seconds: loading a model takes a while), terminates and reaps it after."""
    port = devstack.free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--uri", f"tcp://{devstack.HOST}:{port}", *args
    )
    try:
        async with asyncio.timeout(timeout):
            while True:
                if process.returncode is not None:
                    pytest.fail(f"{script.name} exited with {process.returncode}")
                try:
                    _, writer = await asyncio.open_connection(devstack.HOST, port)
                except OSError:
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def transcribe(port: int, pcm: bytes, rate: int) -> str:
    """What the STT server on ``port`` hears in 16-bit mono ``pcm`` at ``rate``."""
    async with AsyncTcpClient(devstack.HOST, port) as client:
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
                    return str(Transcript.from_event(event).text)
