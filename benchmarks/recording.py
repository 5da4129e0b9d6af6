"""Benchmark 3: recording fidelity (real time) and drain rate (accelerated).

(a) The emulator streams its deterministic test signal in real time (20 ms frames, 8 kHz
16-bit mono = 16 000 B/s) from its own process; HA records it with ``callstack.record``.
The WAV must be one gapless, sample-exact slice of what the emulator sent, and the emulator
must have dropped no frame (it drops a frame when the host has not drained the port). CPU
is this process's user+system time (every thread: HA, the driver, the executor's file
writes) over the recording, minus the idle cost of the same process without a call; it is
measured in :mod:`benchmarks.clean_process`, a fresh HA process without the 1 ms
heartbeat of this one.

(b) The emulator pushes PCM as fast as the pseudo-terminal takes it (``--audio-speed 0``)
and HA records a long stretch; the drain rate is audio seconds per wall-clock second.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.callstack.sim7600.audio import READ_HOLD_SECONDS

from .calls import answered_call
from .harness import DOMAIN
from .host import EmulatorHost
from .stats import Result

BYTES_PER_SECOND = 16_000  # 8 kHz, 16-bit mono
HELD_READ_MARGIN = 4 * READ_HOLD_SECONDS
"""While recording, the bridge reads the audio port only every READ_HOLD_SECONDS: PCM sent
before the emulator's ``clear`` may still sit in the kernel's buffer. After this wait it has
been read (and dropped: no recording yet), so a recording holds only PCM sent after it."""


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _record(hass: HomeAssistant, seconds: float, filename: str) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "record",
        {"duration": seconds, "filename": filename},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def real_time(hass: HomeAssistant, host: EmulatorHost, seconds: float) -> Result:
    """3a: ``seconds`` of real-time PCM recorded through HA (CPU: see clean_process)."""
    result = Result("3a Recording, real time")
    async with answered_call(hass, host):
        await asyncio.sleep(0.5)  # the stream is flowing
        await host.request("clear")
        await asyncio.sleep(HELD_READ_MARGIN)  # PCM sent before the clear is read by now
        dropped_before = (await host.request("status"))["audio"]["frames_dropped"]
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        response = await _record(hass, seconds, "bench-realtime.wav")
        wall = time.perf_counter() - wall0
        cpu = _cpu_seconds() - cpu0
        compare = await host.request("compare_recording", path=response["path"])
    dropped = compare["frames_dropped"] - dropped_before
    audio_seconds = compare["recorded_bytes"] / BYTES_PER_SECOND
    result.data = {
        "audio_seconds": audio_seconds,
        "wall_seconds": wall,
        # With the 1 ms heartbeat running: not the figure with the target (clean_process).
        "cpu_per_audio_second_with_heartbeat": cpu / audio_seconds,
        "compare": compare,
        "frames_dropped": dropped,
    }
    result.row(
        f"frames lost in {audio_seconds:.0f} s of audio",
        f"{dropped} dropped by the emulator",
        "0",
        dropped == 0,
    )
    result.row(
        "WAV vs the PCM the emulator sent",
        "sample-exact, gapless"
        if compare["exact"]
        else f"NOT exact: {compare['mismatched_samples']} samples differ",
        "sample-exact",
        bool(compare["exact"]),
    )
    return result


async def drain(hass: HomeAssistant, host: EmulatorHost, seconds: float) -> Result:
    """3b: record ``seconds`` of audio pushed as fast as the PTY allows."""
    result = Result("3b Recording, drain")
    async with answered_call(hass, host):
        await asyncio.sleep(0.2)
        await host.request("clear")
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        response = await _record(hass, seconds, "bench-drain.wav")
        wall = time.perf_counter() - wall0
        cpu = _cpu_seconds() - cpu0
        compare = await host.request("compare_recording", path=response["path"])
    audio_seconds = compare["recorded_bytes"] / BYTES_PER_SECOND
    multiple = audio_seconds / wall
    result.data = {
        "audio_seconds": audio_seconds,
        "wall_seconds": wall,
        "bytes_per_second": compare["recorded_bytes"] / wall,
        "multiple": multiple,
        "ha_process_cpu_share": cpu / wall,
        "compare": compare,
    }
    result.row(
        f"sustained drain, {audio_seconds:.0f} s of audio in {wall:.2f} s",
        f"{multiple:.0f}x real time ({compare['recorded_bytes'] / wall / 1e6:.2f} MB/s), "
        + ("sample-exact" if compare["exact"] else "NOT sample-exact")
        + f"; the HA process used {cpu / wall * 100:.0f} % of a core meanwhile",
        "≥ 100x",
        multiple >= 100 and compare["exact"],
    )
    return result
