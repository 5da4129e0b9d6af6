"""Benchmark 2: ``+CMTI`` to ``callstack_sms_received``, single and 3-part messages.

The emulator stores each part and announces it with ``+CMTI``; the clock is stamped right
before the write of the last part's ``+CMTI``. The driver reads each part (``AT+CMGR``),
commits it to the SMS journal in HA's ``.storage`` (a real file write), deletes it
(``AT+CMGD``) and, once the group is complete, fires the event. Every part of every message
has its own text, so none is mistaken for a duplicate: the emulator's 8-bit references
come round again every 256 messages, the network's time stamp has whole seconds, and a
part with the sender, time stamp, reference, number and text of one already taken *is* a
repeat to the driver (a long Lorem ipsum after one numbered line made parts 2 and 3 of
message i + 256 repeats of message i's whenever 256 messages fitted into a second).
"""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant

from .harness import EVENT_SMS_RECEIVED, EventWaiter, load, make_entry, unload
from .host import EmulatorHost
from .stats import Result, fmt_ms, summary_ms

SINGLE = "Benchmark message {i}: the parcel is at the door, ring twice please."
# About 400 GSM characters: three parts of at most 153, each holding the message's number.
LONG = "Benchmark message {i} in three parts, lorem ipsum dolor sit amet. " * 6


async def _messages(
    hass: HomeAssistant, host: EmulatorHost, template: str, split: int | None, count: int
) -> list[int]:
    waiter = EventWaiter(hass, EVENT_SMS_RECEIVED)
    latencies: list[int] = []
    try:
        for i in range(count):
            text = template.format(i=i)
            received = waiter.expect(lambda event, text=text: event.data["text"] == text)
            reply = await host.request("sms", sender=host.caller, text=text, split=split)
            fired, event = await asyncio.wait_for(received, 10)
            if split and event.data["parts"] != split:
                raise RuntimeError(f"expected {split} parts, got {event.data['parts']}")
            latencies.append(fired - int(reply["t"]))
            if i % 200 == 199:
                await host.request("clear")  # keep the emulator's transcript small
    finally:
        waiter.close()
    return latencies


async def run(hass: HomeAssistant, host: EmulatorHost, count: int) -> Result:
    """``count`` single-part and ``count`` 3-part messages."""
    result = Result("2 +CMTI → SMS event")
    entry = make_entry(host.at, host.audio)
    await load(hass, entry)
    try:
        single = summary_ms(await _messages(hass, host, SINGLE, None, count))
        triple = summary_ms(await _messages(hass, host, LONG, 3, count))
    finally:
        await unload(hass, entry)
    result.data = {"single": single, "three_part": triple}
    for name, figures in (("single-part", single), ("3-part (last +CMTI)", triple)):
        result.row(
            f"{name} → callstack_sms_received, n={figures['n']}",
            f"p50 {fmt_ms(figures['p50'])}, p99 {fmt_ms(figures['p99'])}, "
            f"max {fmt_ms(figures['max'])}",
            "p99 ≤ 50 ms",
            figures["p99"] <= 50.0,
        )
    return result
