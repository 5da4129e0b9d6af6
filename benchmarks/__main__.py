"""``python -m benchmarks``: run every benchmark and print the table.

Options: ``--quick`` (shorter runs, for a smoke test; not what BENCHMARKS.md records),
``--json PATH`` (every figure), ``--write-doc PATH`` (replace the results section of
BENCHMARKS.md between its ``bench:results`` markers).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import logging
import os
from pathlib import Path
import platform
import subprocess
import sys
import time
from typing import Any

from . import (
    ROOT,
    assist,
    at_overhead,
    footprint,
    gnss_overhead,
    playback,
    recording,
    setup_time,
    sms_latency,
    urc_latency,
    voice,
)
from .doc import SECTION, machine_lines, table, write_doc
from .harness import Heartbeat, running_hass
from .host import EmulatorHost
from .stats import Result

STALL_PHASES = ("1", "2", "3a", "3b", "4")


@dataclass(frozen=True)
class Plan:
    """How long each benchmark runs."""

    urc_repetitions: int = 1000
    urc_blocks: int = 10
    sms_messages: int = 1000
    record_seconds: float = 60.0
    drain_seconds: float = 600.0
    play_seconds: float = 60.0
    at_round_trips: int = 2000
    at_blocks: int = 8
    setups: int = 20
    idle_reference_seconds: float = 10.0
    clean_idle_seconds: float = 20.0
    import_runs: int = 5
    voice_latency_runs: int = 50
    voice_cpu_seconds: float = 120.0
    voice_long_seconds: float = 600.0
    gnss_seconds: float = 2.0
    gnss_rounds: int = 15
    assist_seconds: float = 30.0
    assist_turns: int = 40


QUICK = Plan(
    urc_repetitions=200,
    urc_blocks=4,
    sms_messages=100,
    record_seconds=10.0,
    drain_seconds=120.0,
    play_seconds=10.0,
    at_round_trips=500,
    at_blocks=4,
    setups=5,
    idle_reference_seconds=3.0,
    clean_idle_seconds=5.0,
    import_runs=3,
    voice_latency_runs=20,
    voice_cpu_seconds=30.0,
    voice_long_seconds=60.0,
    gnss_seconds=0.5,
    gnss_rounds=3,
    assist_seconds=5.0,
    assist_turns=8,
)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    from homeassistant.const import __version__ as ha_version

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    # Inside the Python 3.14 root a worktree's git directory is out of reach: then the
    # commit comes from BENCH_COMMIT (scripts/with-ha passes the environment on).
    commit = git("rev-parse", "--short", "HEAD")
    if commit == "unknown":
        commit = os.environ.get("BENCH_COMMIT", commit)
    elif git("status", "--porcelain", "--", "custom_components"):
        commit += " (modified)"
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "home_assistant": ha_version,
        "kernel": platform.release(),
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


async def clean_process(plan: Plan) -> dict[str, Any]:
    """Run :mod:`benchmarks.clean_process` and return what it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.clean_process",
        "--record-seconds",
        str(plan.record_seconds),
        "--idle-seconds",
        str(plan.clean_idle_seconds),
        "--floor-seconds",
        str(plan.record_seconds / 3),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError("benchmarks.clean_process failed")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def stall_rows(result: Result, beat: Heartbeat) -> None:
    """The loop-health rows: the longest stall during benchmarks 1-4, and its cause."""
    phases = [phase for phase in STALL_PHASES if phase in beat.worst]
    worst_phase = max(phases, key=lambda phase: beat.worst[phase].wall_ns)
    worst = beat.worst[worst_phase]
    busy_phase = max(phases, key=lambda phase: beat.worst_busy[phase].cpu_ns)
    busy = beat.worst_busy[busy_phase]
    idle = beat.worst.get("idle")
    over = sum(beat.over_10ms.get(phase, 0) for phase in phases)
    result.data["stalls"] = {
        phase: {
            "worst_wall_ms": beat.worst[phase].wall_ns / 1e6,
            "worst_wall_cpu_ms": beat.worst[phase].cpu_ns / 1e6,
            "worst_busy_cpu_ms": beat.worst_busy[phase].cpu_ns / 1e6,
            "over_10ms": beat.over_10ms.get(phase, 0),
        }
        for phase in (*phases, "idle")
        if phase in beat.worst
    }
    result.data["heartbeat_ticks"] = beat.ticks
    result.row(
        "longest loop stall during 1-4 (1 ms heartbeat, wall clock)",
        f"{worst.wall_ns / 1e6:.1f} ms in {worst_phase}, loop thread on CPU "
        f"{worst.cpu_ns / 1e6:.1f} ms of it; {over} gaps > 10 ms in all"
        + (f"; idle HA, nothing running: {idle.wall_ns / 1e6:.1f} ms" if idle else ""),
        "≤ 10 ms",
        worst.wall_ns <= 10_000_000,
    )
    result.row(
        "longest gap with the loop thread running (work on the loop)",
        f"{busy.cpu_ns / 1e6:.1f} ms CPU in a {busy.wall_ns / 1e6:.1f} ms gap, in {busy_phase}",
        "≤ 10 ms",
        busy.cpu_ns <= 10_000_000,
    )


async def run_all(plan: Plan) -> tuple[list[Result], dict[str, Any]]:
    """Every benchmark, in order; returns the results and the raw figures."""
    results: dict[str, Result] = {}
    async with running_hass() as hass:
        beat = Heartbeat()
        beat.start()
        beat.set_phase("idle")
        await asyncio.sleep(plan.idle_reference_seconds)
        async with EmulatorHost() as host:
            for phase, name, job in (
                (
                    "1",
                    "urc",
                    urc_latency.run(hass, host, plan.urc_repetitions, plan.urc_blocks),
                ),
                ("2", "sms", sms_latency.run(hass, host, plan.sms_messages)),
                ("3a", "record", recording.real_time(hass, host, plan.record_seconds)),
            ):
                beat.set_phase(phase)
                results[name] = await _timed(job, name)
        async with EmulatorHost(audio_speed=0) as drained:
            beat.set_phase("3b")
            results["drain"] = await _timed(
                recording.drain(hass, drained, plan.drain_seconds), "drain"
            )
        async with EmulatorHost() as host:
            beat.set_phase("4")
            results["play"] = await _timed(playback.run(hass, host, plan.play_seconds), "play")
            beat.set_phase("after")
            await beat.stop()
            async with EmulatorHost(tcp=True) as tcp:
                results["at"] = await _timed(
                    at_overhead.run(host, tcp, plan.at_round_trips, plan.at_blocks), "at"
                )
            results["setup"] = await _timed(setup_time.run(hass, host, plan.setups), "setup")
        results["gnss"] = await _timed(
            gnss_overhead.run(plan.gnss_seconds, plan.gnss_rounds), "gnss"
        )
        stall_rows(results["setup"], beat)
        _log("benchmark voice (8a-8c)")
        voice_results = await voice.run(
            hass,
            runs=plan.voice_latency_runs,
            cpu_seconds_of_audio=plan.voice_cpu_seconds,
            long_seconds=plan.voice_long_seconds,
        )
    # In an HA of its own: the voice stack it sets up is not part of the figures above.
    results["assist"] = await _timed(
        assist.run_alone(plan.assist_seconds, plan.assist_turns), "assist"
    )
    _log("clean process: memory, first setup, CPU of call audio")
    clean = await clean_process(plan)
    _log("import times")
    imports = await footprint.import_times(plan.import_runs)
    _add_clean_rows(results, clean, imports)
    order = ("urc", "sms", "record", "drain", "play", "at", "setup", "footprint", "gnss")
    ordered = [results[name] for name in order] + voice_results + [results["assist"]]
    return ordered, {"clean_process": clean, "imports": imports}


def _add_clean_rows(
    results: dict[str, Result], clean: dict[str, Any], imports: dict[str, Any]
) -> None:
    record = results["record"]
    net = clean["cpu_per_audio_s_net"]
    exact = "sample-exact" if clean["compare"]["exact"] else "NOT exact"
    record.row(
        "CPU per second of call audio (fresh HA process, net of idle)",
        f"{net * 100:.2f} % of a core (gross {clean['cpu_per_audio_s_gross'] * 100:.2f} %, "
        f"idle HA {clean['idle_cpu_per_second'] * 100:.3f} %; "
        f"{clean['audio_s']:.0f} s, {exact})",
        "≤ 0.5 %",
        net <= 0.005,
    )
    floor = clean["serial_floor"]
    new, old = floor["serialx"], floor["serial_asyncio_fast"]
    record.row(
        f"floor: bare read loop per audio second, serialx vs serial_asyncio_fast "
        f"({floor['seconds']:.0f} s each, same call)",
        f"{new['cpu_per_audio_s_net'] * 100:.2f} % vs {old['cpu_per_audio_s_net'] * 100:.2f} %"
        f" of a core: {new['cpu_per_audio_s_net'] / old['cpu_per_audio_s_net']:.2f}x",
        "≤ 1x (not costlier)",
        new["cpu_per_audio_s_net"] <= old["cpu_per_audio_s_net"],
    )
    results["setup"].row(
        "first setup in a fresh process (imports included)",
        f"{clean['cold_setup_s'] * 1000:.0f} ms",
    )
    footprint_result = Result("7 Dependency cost")
    footprint_result.data = {"imports": imports, "memory": clean}
    footprint_result.row(
        f"import time, driver alone (median of {imports['runs']}, -X importtime)",
        f"{imports['driver_ms']:.0f} ms (with serialx, asyncio)",
    )
    footprint_result.row(
        "import time, serial library alone after asyncio: serialx vs serial_asyncio_fast",
        f"{imports['serialx_ms']:.0f} ms vs {imports['serial_asyncio_fast_ms']:.0f} ms: "
        f"{imports['serialx_ms'] / imports['serial_asyncio_fast_ms']:.2f}x",
    )
    footprint_result.row(
        "import time, integration + platforms on a loaded HA",
        f"{imports['integration_ms']:.0f} ms, of which Callstack's own modules "
        f"{imports['ours_self_ms']:.0f} ms",
    )
    footprint_result.row(
        f"RSS increase with one modem loaded ({clean['entities']} entities)",
        f"{clean['rss_increase_kib'] / 1024:.1f} MiB "
        f"({clean['rss_before_kib'] / 1024:.0f} → {clean['rss_after_kib'] / 1024:.0f} MiB)",
    )
    results["footprint"] = footprint_result


async def _timed(job: Any, name: str) -> Result:
    _log(f"benchmark {name}")
    start = time.perf_counter()
    result: Result = await job
    result.seconds = time.perf_counter() - start
    return result


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    """Entry point of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--write-doc", type=Path, help="update the results of BENCHMARKS.md")
    parser.add_argument(
        "--section",
        default=SECTION,
        help="which results section of the doc (bench:<section> markers): one per HA version",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    plan = QUICK if args.quick else Plan()
    command = os.environ.get("BENCH_COMMAND") or "python -m benchmarks " + " ".join(sys.argv[1:])
    facts = machine()
    start = time.perf_counter()
    results, extra = asyncio.run(run_all(plan))
    seconds = time.perf_counter() - start
    rows = [row for result in results for row in result.rows]
    markdown = table(rows)
    about = machine_lines(facts, command.strip(), seconds)
    print()
    print(about)
    print()
    print(markdown)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": facts,
                    "command": command,
                    "quick": args.quick,
                    "seconds": seconds,
                    "results": {r.name: {"data": r.data, "seconds": r.seconds} for r in results},
                    **extra,
                },
                indent=2,
                default=str,
            )
        )
    if args.write_doc:
        write_doc(args.write_doc, f"{about}\n\n{markdown}", args.section)


if __name__ == "__main__":
    main()
