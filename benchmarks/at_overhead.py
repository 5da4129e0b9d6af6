"""Benchmark 5: AT round trip through the driver's executor vs raw serial I/O.

Ours: ``AtExecutor.execute("AT")`` on a port from the driver's ``open_port`` (what every
command of the integration goes through: lock, prefix routing, URC split, timeout). Raw:
``serial_asyncio_fast.open_serial_connection`` on the same URL, ``write(b"AT\\r")`` and
``readline()`` until ``OK``: the floor any asyncio driver on that library pays. Both run
on HA's loop in this process against the same emulator process, with echo off, in
alternating blocks that each open the port afresh (two readers cannot share one port).
"""

from __future__ import annotations

import asyncio
import time

import serial_asyncio_fast

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


async def _raw(url: str, count: int) -> list[int]:
    reader, writer = await serial_asyncio_fast.open_serial_connection(url=url, baudrate=BAUDRATE)
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


async def measure(url: str, count: int, blocks: int) -> tuple[list[int], list[int]]:
    """``count`` round trips each way, in alternating blocks."""
    ours: list[int] = []
    raw: list[int] = []
    per_block = max(1, count // blocks)
    for block in range(blocks):
        if block % 2 == 0:
            ours += await _ours(url, per_block)
            raw += await _raw(url, per_block)
        else:
            raw += await _raw(url, per_block)
            ours += await _ours(url, per_block)
        await asyncio.sleep(0.05)
    return ours, raw


async def run(pty: EmulatorHost, tcp: EmulatorHost, count: int, blocks: int) -> Result:
    """The PTY figure is the one with the target; TCP (ser2net raw) is shown beside it."""
    result = Result("5 AT round trip")
    for name, url, has_target in (("PTY", pty.at, True), ("TCP", tcp.at, False)):
        ours, raw = await measure(url, count, blocks)
        ours_ms = [value / 1e6 for value in ours]
        raw_ms = [value / 1e6 for value in raw]
        ratio = percentile(ours_ms, 50) / percentile(raw_ms, 50)
        ratio99 = percentile(ours_ms, 99) / percentile(raw_ms, 99)
        result.data[name] = {
            "ours_p50": percentile(ours_ms, 50),
            "ours_p99": percentile(ours_ms, 99),
            "raw_p50": percentile(raw_ms, 50),
            "raw_p99": percentile(raw_ms, 99),
            "ratio_p50": ratio,
            "ratio_p99": ratio99,
            "n": len(ours),
        }
        result.row(
            f"{name}: AT→OK, executor vs raw serial_asyncio_fast, n={len(ours)} each",
            f"p50 {fmt_ms(percentile(ours_ms, 50))} vs {fmt_ms(percentile(raw_ms, 50))}: "
            f"{ratio:.2f}x (p99 {fmt_ms(percentile(ours_ms, 99))} vs "
            f"{fmt_ms(percentile(raw_ms, 99))}: {ratio99:.2f}x)",
            "≤ 1.3x raw" if has_target else "",
            ratio <= 1.3 if has_target else None,
        )
    return result
