"""Benchmark 1: URC to Home Assistant bus event, against the phone_modem baseline.

The emulator (its own process) writes ``RING`` and ``+CLIP`` in one write and stamps the
clock right before it; the run ends when ``callstack_call`` (type ``incoming``) fires on
the bus of the running HA. ``MISSED_CALL`` then returns the call tracker to idle.

The baseline is the read loop of ``phone_modem`` (what HA's ``modem_callerid`` uses) on
the same pseudo-terminal, in the same HA process and loop: the same bytes, timed until its
incoming-call callback runs. ``phone_modem`` only understands the ``NMBR =``/``NAME =``
caller-ID lines of voice modems, so for a SIM7600 that callback (state ``ring``, fired on
the RING line) is the only thing it ever reports. Its ``initialize()`` also insists on
``AT+VCID=1``, which a SIM7600 rejects, so the benchmark opens its ``AioSerial`` and starts
its state machine (``_modem_sm``) the way ``initialize()`` would have. The two run in
alternating blocks, each with the port to itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aioserial import AioSerial
from homeassistant.core import HomeAssistant
from phone_modem import PhoneModem

from .harness import EVENT_CALL, EventWaiter, load, make_entry, unload
from .host import EmulatorHost
from .stats import Result, fmt_ms, summary_ms

GAP = 0.002  # idle time between two calls, so every URC finds the loop asleep


def ring_bytes(number: str) -> bytes:
    """RING and +CLIP exactly as the SIM7600 sends them after AT+CLIP=1."""
    return f'\r\nRING\r\n\r\n+CLIP: "{number}",145,,,,0\r\n'.encode()


def missed_bytes(number: str) -> bytes:
    """The URC that ends an unanswered call."""
    return f"\r\nMISSED_CALL: 10:00AM {number}\r\n".encode()


async def _callstack_block(
    hass: HomeAssistant, host: EmulatorHost, entry: Any, count: int
) -> list[int]:
    await load(hass, entry)
    waiter = EventWaiter(hass, EVENT_CALL)
    ring, missed = ring_bytes(host.caller), missed_bytes(host.caller)
    latencies: list[int] = []
    try:
        for _ in range(count):
            incoming = waiter.expect(lambda event: event.data["type"] == "incoming")
            written = await host.raw(ring)
            fired, _event = await asyncio.wait_for(incoming, 5)
            latencies.append(fired - written)
            ended = waiter.expect(lambda event: event.data["type"] == "missed")
            await host.raw(missed)
            await asyncio.wait_for(ended, 5)
            await asyncio.sleep(GAP)
    finally:
        waiter.close()
        await unload(hass, entry)
    return latencies


async def _baseline_block(host: EmulatorHost, count: int) -> list[int]:
    calls: list[int] = []
    changed = asyncio.Event()

    def incoming(state: str) -> None:  # what modem_callerid registers
        if state == PhoneModem.STATE_RING:
            calls.append(time.perf_counter_ns())
            changed.set()

    modem = PhoneModem(port=host.at, incomingcallback=incoming, retry=False)
    modem.ser = AioSerial(port=host.at)
    modem.state = PhoneModem.STATE_IDLE
    task = asyncio.get_running_loop().create_task(modem._modem_sm())
    ring = ring_bytes(host.caller)
    latencies: list[int] = []
    try:
        await asyncio.sleep(0.05)  # its reader thread is waiting in readline()
        for _ in range(count):
            changed.clear()
            seen = len(calls)
            written = await host.raw(ring)
            while len(calls) == seen:
                await asyncio.wait_for(changed.wait(), 5)
            latencies.append(calls[seen] - written)
            await asyncio.sleep(GAP)
    finally:
        serial = modem.ser
        modem.ser = None  # ends its loop; cancel_read wakes the reader thread
        serial.cancel_read()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        serial.close()
        for executor in (
            serial._read_executor,
            serial._write_executor,
            serial._cancel_read_executor,
            serial._cancel_write_executor,
        ):
            executor.shutdown(wait=False)
    return latencies


async def run(hass: HomeAssistant, host: EmulatorHost, repetitions: int, blocks: int) -> Result:
    """``repetitions`` calls each for Callstack and the baseline, in alternating blocks."""
    result = Result("1 URC → HA event")
    ours: list[int] = []
    baseline: list[int] = []
    per_block = max(1, repetitions // blocks)
    entry = make_entry(host.at, host.audio)  # unloaded between blocks, never removed
    for block in range(blocks):
        if block % 2 == 0:
            ours += await _callstack_block(hass, host, entry, per_block)
            baseline += await _baseline_block(host, per_block)
        else:
            baseline += await _baseline_block(host, per_block)
            ours += await _callstack_block(hass, host, entry, per_block)
    mine, theirs = summary_ms(ours), summary_ms(baseline)
    ratio50 = mine["p50"] / theirs["p50"]
    ratio99 = mine["p99"] / theirs["p99"]
    result.data = {"callstack": mine, "phone_modem": theirs, "ratio_p50": ratio50}
    result.data["ratio_p99"] = ratio99
    result.row(
        f"RING+CLIP → callstack_call, n={mine['n']}",
        f"p50 {fmt_ms(mine['p50'])}, p99 {fmt_ms(mine['p99'])}, max {fmt_ms(mine['max'])}",
        "p99 ≤ 2 ms",
        mine["p99"] <= 2.0,
    )
    result.row(
        f"baseline phone_modem RING → callback, n={theirs['n']}",
        f"p50 {fmt_ms(theirs['p50'])}, p99 {fmt_ms(theirs['p99'])}, max {fmt_ms(theirs['max'])}",
    )
    result.row(
        "ratio Callstack / phone_modem",
        f"p50 {ratio50:.2f}x, p99 {ratio99:.2f}x",
        "≤ 1x (not slower)",
        ratio50 <= 1.0 and ratio99 <= 1.0,
    )
    return result
