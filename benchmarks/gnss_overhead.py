"""Benchmark 8: AT round trip with GNSS on vs off, in one run.

The driver's own ``Modem.execute("AT")`` (what every call and SMS command goes through)
against an emulator process of its own, started with the emulator's command line
(``python -m sim7600_emulator serve``), its receiver on and standing at a fixed place. One
modem stays connected; its GNSS service is started and stopped between short blocks:

- off: the service stopped (the receiver still runs on the modem; its NMEA goes nowhere);
- NMEA: the position pushed every second on the NMEA port (the preferred way);
- poll: no NMEA port, ``AT+CGPSINFO`` every second, sent only while the AT port is free.

A block starts once the service has done its first work (a sentence read, a poll sent)
and then sends round trips back to back for a few seconds, so several epochs or polls
fall inside it. A shared machine drifts by more than the 5 % looked for, so each round of
three blocks is compared within itself: the ratio is the median over rounds of (median of
the mode's block / median of the off block). Run alone with
``python -m benchmarks.gnss_overhead [--seconds S] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncGenerator
import contextlib
from dataclasses import asdict
import json
import logging
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

from custom_components.callstack.sim7600.modem import Modem, ModemConfig

from . import ROOT
from .stats import Result, fmt_ms, percentile

MODES = ("off", "nmea", "poll")
TARGET_RATIO = 1.05
POLL_INTERVAL = 1.0
FIX_TIMEOUT = 10.0  # seconds for the first sentence or poll of a block
# Berlin, 34 m: where the emulated modem stands.
POSITION = {"latitude": 52.520008, "longitude": 13.404954, "altitude": 34.0}


@contextlib.asynccontextmanager
async def emulator_process() -> AsyncGenerator[dict[str, Any]]:
    """``sim7600_emulator serve --pty`` with a control socket; yields its state (ports)."""
    with tempfile.TemporaryDirectory(prefix="callstack-gnss-bench-") as tmp:
        control = Path(tmp) / "ctl.sock"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim7600_emulator",
            "serve",
            "--pty",
            "--control",
            str(control),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            state: dict[str, Any] = json.loads(await proc.stdout.readline())
            await control_request(control, "gnss-position", POSITION)
            yield state
        finally:
            proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def control_request(control: Path, command: str, args: dict[str, Any]) -> Any:
    """One ``ctl`` request over the emulator's control socket."""
    reader, writer = await asyncio.open_unix_connection(str(control))
    try:
        writer.write(json.dumps({"command": command, "args": args}).encode() + b"\n")
        reply = json.loads(await reader.readline())
    finally:
        writer.close()
        await writer.wait_closed()
    if not reply.get("ok"):
        raise RuntimeError(f"{command}: {reply.get('error')}")
    return reply.get("result")


async def started(modem: Modem, mode: str, nmea_url: str) -> None:
    """Start the GNSS service in ``mode`` and wait until it has read or polled once."""
    gnss = modem.gnss
    gnss.nmea_url = nmea_url if mode == "nmea" else None
    before = (gnss.stats.sentences, gnss.stats.polls)
    gnss.start()
    async with asyncio.timeout(FIX_TIMEOUT):
        while (gnss.stats.sentences, gnss.stats.polls) == before:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def block(modem: Modem, seconds: float) -> list[int]:
    """Round trips back to back for ``seconds``."""
    samples: list[int] = []
    deadline = time.perf_counter_ns() + int(seconds * 1e9)
    while (start := time.perf_counter_ns()) < deadline:
        await modem.execute("AT")
        samples.append(time.perf_counter_ns() - start)
    return samples


Round = dict[str, list[int]]


async def measure(seconds: float, rounds: int) -> tuple[list[Round], dict[str, int]]:
    """``rounds`` rounds of one block per mode (``seconds`` each), in rotating order."""
    measured: list[Round] = []
    async with emulator_process() as state:
        modem = Modem(
            ModemConfig(
                at_url=state["at_link"],
                gnss=True,  # switches the receiver on at connect
                gnss_interval=POLL_INTERVAL,
                signal_interval=3600.0,
            )
        )
        await modem.connect(sweep_sms=False)
        try:
            await modem.gnss.close()
            for number in range(rounds):
                this: Round = {}
                for mode in MODES[number % 3 :] + MODES[: number % 3]:
                    if mode != "off":
                        await started(modem, mode, state["nmea_link"])
                    this[mode] = await block(modem, seconds)
                    await modem.gnss.close()
                measured.append(this)
            stats = asdict(modem.gnss.stats)
        finally:
            await modem.close()
        status = await control_request(Path(state["control"]), "status", {})
    return measured, {"epochs_sent": int(status["gnss"]["epochs_sent"]), **stats}


async def run(seconds: float, rounds: int) -> Result:
    """The table rows: each GNSS mode against off, p50 with the target, p99 beside it."""
    result = Result("8 GNSS on vs off")
    measured, extra = await measure(seconds, rounds)
    ms = {mode: [value / 1e6 for one in measured for value in one[mode]] for mode in MODES}
    off50, off99 = percentile(ms["off"], 50), percentile(ms["off"], 99)
    result.data = {
        mode: {
            "p50": percentile(values, 50),
            "p99": percentile(values, 99),
            "n": len(values),
        }
        for mode, values in ms.items()
    } | extra
    for mode, label in (("nmea", "NMEA port, pushed 1/s"), ("poll", "AT+CGPSINFO polled 1/s")):
        p50, p99 = percentile(ms[mode], 50), percentile(ms[mode], 99)
        paired = [percentile(one[mode], 50) / percentile(one["off"], 50) for one in measured]
        ratio = percentile(paired, 50)
        result.data[mode]["ratio_p50"] = ratio
        result.data[mode]["ratio_p50_rounds"] = paired
        result.data[mode]["ratio_p99"] = p99 / off99
        result.row(
            f"AT→OK through Modem.execute, GNSS on ({label}) vs off, "
            f"{len(measured)} rounds, n={len(ms[mode])} vs {len(ms['off'])}",
            f"p50 {fmt_ms(p50)} vs {fmt_ms(off50)}, median of paired ratios {ratio:.3f}x "
            f"(p99 {fmt_ms(p99)} vs {fmt_ms(off99)}: {p99 / off99:.2f}x)",
            f"≤ {TARGET_RATIO}x",
            ratio <= TARGET_RATIO,
        )
    return result


def main() -> None:
    """Entry point of ``python -m benchmarks.gnss_overhead``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gnss_overhead")
    parser.add_argument("--seconds", type=float, default=2.0, help="per block")
    parser.add_argument("--rounds", type=int, default=15, help="rounds of one block per mode")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    start = time.perf_counter()
    result = asyncio.run(run(args.seconds, args.rounds))
    for row in result.rows:
        print(f"| {result.name} | {row.metric} | {row.value} | {row.target} | {row.status} |")
    print(json.dumps(result.data, indent=2))
    print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
