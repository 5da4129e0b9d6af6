"""Benchmark 5: AT round trip through the driver's executor vs raw serial I/O.

Ours: ``AtExecutor.execute("AT")`` on a port from the driver's ``open_port`` (what every
command of the integration goes through: lock, prefix routing, URC split, timeout). Raw:
the library's own ``open_serial_connection`` on the same URL, ``write(b"AT\\r")`` and
``readline()`` until ``OK``: the floor any asyncio driver on that library pays. The raw
figure is taken for serialx (the driver's library, the target's reference) and for
``serial_asyncio_fast`` (the library before it), so the switch is judged on numbers. All run
on HA's loop in this process against the same emulator process, with echo off, in rotating
blocks that each open the port afresh (two readers cannot share one port).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import serial_asyncio_fast
import serialx

from custom_components.callstack.sim7600.executor import AtExecutor
from custom_components.callstack.sim7600.transport import BAUDRATE, open_port

from .host import EmulatorHost
from .stats import Result, fmt_ms, percentile


async def _ours(url: str, count: int) -> list[int]:
    port = await open_port(url)
    executor = AtExecutor(port, lambda urc: None)
    executor.start()
    samples: list[int] = []
    try:
        await executor.execute("ATE0")
        for _ in range(count):
            start = time.perf_counter_ns()
            await executor.execute("AT")
            samples.append(time.perf_counter_ns() - start)
    finally:
        await executor.close()
    return samples


async def _raw_serialx(url: str, count: int) -> list[int]:
    reader, writer = await serialx.open_serial_connection(url, baudrate=BAUDRATE)
    return await _raw(reader, writer, count)


async def _raw_saf(url: str, count: int) -> list[int]:
    reader, writer = await serial_asyncio_fast.open_serial_connection(url=url, baudrate=BAUDRATE)
    return await _raw(reader, writer, count)


async def _raw(reader: asyncio.StreamReader, writer: Any, count: int) -> list[int]:
    samples: list[int] = []

    async def command(line: bytes) -> None:
        writer.write(line)
        while (await reader.readline()).strip() not in (b"OK", b"ERROR"):
            pass

    try:
        await command(b"ATE0\r")
        for _ in range(count):
            start = time.perf_counter_ns()
            await command(b"AT\r")
            samples.append(time.perf_counter_ns() - start)
    finally:
        writer.close()
        await writer.wait_closed()
    return samples


WAYS = {"ours": _ours, "serialx": _raw_serialx, "saf": _raw_saf}


async def measure(url: str, count: int, blocks: int) -> dict[str, list[int]]:
    """``count`` round trips each way, in blocks whose order rotates."""
    samples: dict[str, list[int]] = {name: [] for name in WAYS}
    names = list(WAYS)
    per_block = max(1, count // blocks)
    for block in range(blocks):
        for name in names[block % 3 :] + names[: block % 3]:
            samples[name] += await WAYS[name](url, per_block)
            await asyncio.sleep(0.05)
    return samples


async def run(pty: EmulatorHost, tcp: EmulatorHost, count: int, blocks: int) -> Result:
    """The PTY figure is the one with the target; TCP (ser2net raw) is shown beside it."""
    result = Result("5 AT round trip")
    for name, url, has_target in (("PTY", pty.at, True), ("TCP", tcp.at, False)):
        samples = await measure(url, count, blocks)
        ms = {way: [value / 1e6 for value in values] for way, values in samples.items()}
        p50 = {way: percentile(values, 50) for way, values in ms.items()}
        p99 = {way: percentile(values, 99) for way, values in ms.items()}
        ratio, ratio99 = p50["ours"] / p50["serialx"], p99["ours"] / p99["serialx"]
        result.data[name] = {
            **{f"{way}_p50": value for way, value in p50.items()},
            **{f"{way}_p99": value for way, value in p99.items()},
            "ratio_p50": ratio,
            "ratio_p99": ratio99,
            "serialx_vs_saf_p50": p50["serialx"] / p50["saf"],
            "serialx_vs_saf_p99": p99["serialx"] / p99["saf"],
            "n": len(samples["ours"]),
        }
        result.row(
            f"{name}: AT→OK, executor vs raw serialx, n={len(samples['ours'])} each",
            f"p50 {fmt_ms(p50['ours'])} vs {fmt_ms(p50['serialx'])}: {ratio:.2f}x "
            f"(p99 {fmt_ms(p99['ours'])} vs {fmt_ms(p99['serialx'])}: {ratio99:.2f}x)",
            "≤ 1.1x raw" if has_target else "",
            ratio <= 1.1 if has_target else None,
        )
        result.row(
            f"{name}: raw serialx vs raw serial_asyncio_fast (the library before it)",
            f"p50 {fmt_ms(p50['serialx'])} vs {fmt_ms(p50['saf'])}: "
            f"{p50['serialx'] / p50['saf']:.2f}x (p99 {fmt_ms(p99['serialx'])} vs "
            f"{fmt_ms(p99['saf'])}: {p99['serialx'] / p99['saf']:.2f}x)",
            "≤ 1x (not slower)" if has_target else "",
            p50["serialx"] <= p50["saf"] if has_target else None,
        )
    return result
