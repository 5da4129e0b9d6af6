"""The floor of each serial library for call audio: CPU of a bare read loop on the stream.

Run inside :mod:`benchmarks.clean_process` before Home Assistant starts: a call is set up
with plain AT commands (the driver's executor on the AT port, no HA, no audio bridge), then
the audio port is read for the same time by each library's own asyncio stream reader
(``reader.read(4096)`` in a loop: what a driver that reads every chunk at once pays), in
turn. The emulator streams in real time, 50 frames a second. The figure is the process CPU
per second of audio, net of the idle rate measured first; it tells whether serialx costs
more than the library before it on the path the recording target is about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import resource
import time
from typing import Any

import serial_asyncio_fast
import serialx

from custom_components.callstack.sim7600.executor import AtExecutor
from custom_components.callstack.sim7600.transport import BAUDRATE, open_port

from .host import EmulatorHost

Opener = Callable[[str], Awaitable[tuple[asyncio.StreamReader, Any]]]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _open_serialx(url: str) -> tuple[asyncio.StreamReader, Any]:
    return await serialx.open_serial_connection(url, baudrate=BAUDRATE)


async def _open_saf(url: str) -> tuple[asyncio.StreamReader, Any]:
    return await serial_asyncio_fast.open_serial_connection(url=url, baudrate=BAUDRATE)


LIBRARIES: dict[str, Opener] = {"serialx": _open_serialx, "serial_asyncio_fast": _open_saf}


async def _read_for(opener: Opener, url: str, seconds: float) -> tuple[float, int]:
    """CPU seconds and bytes of reading ``url`` for ``seconds``."""
    reader, writer = await opener(url)
    try:
        await asyncio.sleep(0.2)  # settle after the open
        received = 0
        loop = asyncio.get_running_loop()
        cpu0 = _cpu_seconds()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            received += len(await reader.read(4096))
        return _cpu_seconds() - cpu0, received
    finally:
        writer.close()
        await writer.wait_closed()


async def measure(host: EmulatorHost, seconds: float) -> dict[str, Any]:
    """Net CPU per audio second of each library's bare read loop, same call, same run."""
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    await asyncio.sleep(min(seconds, 5.0))
    idle = (_cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
    executor = AtExecutor(await open_port(host.at), lambda urc: None)
    executor.start()
    out: dict[str, Any] = {"idle_cpu_per_second": idle, "seconds": seconds}
    try:
        await executor.execute("ATE0")
        await host.request("ring", number=host.caller, interval=30.0)
        await asyncio.sleep(0.3)
        await executor.execute("ATA")
        await executor.execute("AT+CPCMREG=1")
        for name, opener in LIBRARIES.items():
            cpu, received = await _read_for(opener, host.audio, seconds)
            audio_seconds = received / 16_000
            out[name] = {
                "cpu_per_audio_s_net": max(0.0, cpu - idle * seconds) / audio_seconds,
                "audio_s": audio_seconds,
            }
        await executor.execute("AT+CPCMREG=0")
        await executor.execute("ATH")
    finally:
        await executor.close()
    return out
