"""A connected call with the audio bridge running, through HA's own actions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from typing import Any

from homeassistant.core import HomeAssistant

from .harness import DOMAIN, EVENT_CALL, EventWaiter, load, make_entry, unload
from .host import EmulatorHost


@contextlib.asynccontextmanager
async def answered_call(
    hass: HomeAssistant, host: EmulatorHost, entry: Any = None
) -> AsyncGenerator[Any]:
    """Load an entry for ``host`` (unless ``entry`` is loaded already), ring, answer with
    ``callstack.answer`` and wait for PCM.

    Yields the loaded config entry; the far end hangs up and the entry is unloaded after
    (not removed: removal is not what any benchmark measures, and HA spends several ms of
    loop time on it).
    """
    if entry is None:
        entry = make_entry(host.at, host.audio)
        await load(hass, entry)
    waiter = EventWaiter(hass, EVENT_CALL)
    try:
        incoming = waiter.expect(lambda event: event.data["type"] == "incoming")
        await host.request("ring", number=host.caller, interval=30.0)
        await asyncio.wait_for(incoming, 5)
        await hass.services.async_call(DOMAIN, "answer", {}, blocking=True)
        modem = entry.runtime_data.modem
        async with asyncio.timeout(15):
            while not modem.audio.running:  # noqa: ASYNC110 - the driver has no event for it
                await asyncio.sleep(0.01)
        yield entry
    finally:
        waiter.close()
        with contextlib.suppress(Exception):
            await host.request("hangup")
        await asyncio.sleep(0.2)
        await unload(hass, entry)
