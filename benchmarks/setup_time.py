"""Benchmark 6a: config-entry setup time against the emulator.

From ``hass.config_entries.async_setup`` to its return, which in HA 2025.4 includes the
forwarded platform setups (every entity added): port open, modem initialisation (about
25 AT commands), SMS sweep, device and entities. The entry is unloaded between runs; the
first setup in a fresh process (imports included) is measured by the clean process of
benchmark 7.
"""

from __future__ import annotations

import time

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .harness import make_entry, remove, unload
from .host import EmulatorHost
from .stats import Result, percentile


async def run(hass: HomeAssistant, host: EmulatorHost, count: int) -> Result:
    """Median and max of ``count`` setups (one warm-up first)."""
    result = Result("6 Setup and loop health")
    entry = make_entry(host.at, host.audio)
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    samples: list[float] = []
    try:
        for attempt in range(count + 1):
            start = time.perf_counter()
            await hass.config_entries.async_setup(entry.entry_id)
            elapsed = time.perf_counter() - start
            if entry.state is not ConfigEntryState.LOADED:
                raise RuntimeError(f"setup failed: {entry.state}")
            if attempt:
                samples.append(elapsed)
            await unload(hass, entry)
    finally:
        await remove(hass, entry)
    median = percentile(samples, 50)
    result.data = {"median_s": median, "max_s": max(samples), "n": len(samples)}
    result.row(
        f"config-entry setup, median of {len(samples)}",
        f"{median * 1000:.0f} ms (max {max(samples) * 1000:.0f} ms)",
        "≤ 0.5 s",
        median <= 0.5,
    )
    return result
