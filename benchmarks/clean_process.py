"""A fresh HA process with no heartbeat: memory, cold setup and the CPU cost of call audio.

Run by the runner as ``python -m benchmarks.clean_process``; prints one JSON object.

* RSS (``VmRSS`` of ``/proc/self/status``) after HA has started with the platform
  integrations every installation loads anyway (sensor, binary_sensor, event, notify), and
  again after one Callstack entry is loaded against the emulator: the difference is what
  the integration, its driver, the modem object and its entities add.
* The first setup in this process: imports of the integration included.
* CPU (user+system of this process, all threads) with HA idle and the entry loaded, then
  over a real-time recording of a call; the net figure per second of audio is the
  recording's CPU minus the idle rate over the same wall time.
* After HA has stopped, the floor of each serial library on the same stream
  (:mod:`benchmarks.serial_floor`). There is no 1 ms heartbeat
  here: on this machine it alone costs several percent of a core, ten times the target.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from pathlib import Path
import resource
import time
from typing import Any

from homeassistant.setup import async_setup_component

from .calls import answered_call
from .harness import DOMAIN, load, make_entry, running_hass
from .host import EmulatorHost

PLATFORMS = ("sensor", "binary_sensor", "event", "notify")
BYTES_PER_SECOND = 16_000


def rss_kib() -> int:
    """Resident set size of this process in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_seconds() -> float:
    """User plus system CPU of this process (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def settled_rss(hass: Any) -> int:
    """RSS once pending work is done and garbage is collected."""
    await hass.async_block_till_done()
    await asyncio.sleep(1.0)
    gc.collect()
    return rss_kib()


async def measure(
    record_seconds: float, idle_seconds: float, floor_seconds: float
) -> dict[str, Any]:
    """Everything this process measures, as one dict."""
    out: dict[str, Any] = {}
    async with EmulatorHost() as host, running_hass() as hass:
        for domain in PLATFORMS:
            await async_setup_component(hass, domain, {})
        before = await settled_rss(hass)
        entry = make_entry(host.at, host.audio)
        start = time.perf_counter()
        await load(hass, entry)
        out["cold_setup_s"] = time.perf_counter() - start
        after = await settled_rss(hass)
        out["rss_before_kib"] = before
        out["rss_after_kib"] = after
        out["rss_increase_kib"] = after - before
        out["entities"] = len(hass.states.async_entity_ids())

        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(idle_seconds)
        idle_rate = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
        out["idle_cpu_per_second"] = idle_rate

        # Imported only now: it imports the driver (and serialx), which the first setup and
        # the memory figures above must pay for themselves.
        from .recording import HELD_READ_MARGIN

        async with answered_call(hass, host, entry):
            await asyncio.sleep(0.5)
            await host.request("clear")
            await asyncio.sleep(HELD_READ_MARGIN)  # PCM sent before the clear is read by now
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            response = await hass.services.async_call(
                DOMAIN,
                "record",
                {"duration": record_seconds, "filename": "bench-cpu.wav"},
                blocking=True,
                return_response=True,
            )
            wall = time.perf_counter() - wall0
            cpu = cpu_seconds() - cpu0
            assert isinstance(response, dict)
            compare = await host.request("compare_recording", path=response["path"])
        audio = compare["recorded_bytes"] / BYTES_PER_SECOND
        out.update(
            record_wall_s=wall,
            record_cpu_s=cpu,
            audio_s=audio,
            cpu_per_audio_s_gross=cpu / audio,
            cpu_per_audio_s_net=max(0.0, cpu - idle_rate * wall) / audio,
            compare=compare,
        )
    # After HA (the first setup above must pay the driver's imports): each serial library's
    # bare read loop on a call of its own.
    from . import serial_floor

    async with EmulatorHost() as host:
        out["serial_floor"] = await serial_floor.measure(host, floor_seconds)
    return out


def main() -> None:
    """Entry point of ``python -m benchmarks.clean_process``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.clean_process")
    parser.add_argument("--record-seconds", type=float, default=60.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--floor-seconds", type=float, default=20.0)
    args = parser.parse_args()
    result = asyncio.run(measure(args.record_seconds, args.idle_seconds, args.floor_seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
