"""Home Assistant in this process, the way pytest-homeassistant-custom-component builds it.

``running_hass`` yields a started ``HomeAssistant`` with a throw-away config directory,
custom integrations enabled and HA's ``usb`` component marked as loaded (its USB watcher is
discovery, not part of any path measured here; on a machine without ``/dev/bus/usb`` it
would poll every 5 s and add noise). ``Heartbeat`` is the loop-stall probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import tempfile
import time
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

# Only the namespace: importing the integration itself is part of what benchmark 7 measures.
import custom_components  # noqa: F401  (HA must find this repo's custom_components)

DOMAIN = "callstack"
CONF_AT_PORT = "device"  # const.CONF_AT_PORT, not imported (see above)
CONF_AUDIO_PORT = "serial_port"
EVENT_CALL = "callstack_call"
EVENT_SMS_RECEIVED = "callstack_sms_received"


@contextlib.asynccontextmanager
async def running_hass() -> AsyncGenerator[HomeAssistant]:
    """A running Home Assistant with its config and media folders in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="callstack-bench-") as tmp:
        config = Path(tmp)
        media = config / "media"
        media.mkdir()
        async with async_test_home_assistant(config_dir=str(config)) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # enable_custom_integrations
            hass.config.media_dirs = {"local": str(media)}
            hass.config.allowlist_external_dirs = {str(media)}
            hass.config.components.add("usb")
            try:
                yield hass
            finally:
                for entry in hass.config_entries.async_entries(DOMAIN):
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
                await hass.async_stop(force=True)


_entries: dict[tuple[str, str | None], MockConfigEntry] = {}


def make_entry(at: str, audio: str | None) -> MockConfigEntry:
    """The config entry for one emulator's ports, as the config flow would store it.

    One per pair of ports, reused by every benchmark on that emulator: the integration
    refuses to set up a second entry with a port another entry (loaded or not) has.
    """
    entry = _entries.get((at, audio))
    if entry is None:
        entry = _entries[at, audio] = MockConfigEntry(
            domain=DOMAIN,
            data={CONF_AT_PORT: at, CONF_AUDIO_PORT: audio},
            unique_id=f"callstack-bench-{len(_entries) + 1}",
            title="SIMCOM_SIM7600G-H",
        )
    return entry


async def load(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add ``entry`` if needed and set it up; raise if it did not load."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        raise RuntimeError(f"the config entry did not load: {entry.state}")


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload ``entry`` (its ports close)."""
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def remove(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and remove ``entry``."""
    await unload(hass, entry)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    _entries.pop((entry.data[CONF_AT_PORT], entry.data[CONF_AUDIO_PORT]), None)


class EventWaiter:
    """Futures resolved with ``perf_counter_ns()`` when a bus event matching a filter fires.

    The listener is a ``@callback``, so HA runs it synchronously inside ``bus.async_fire``:
    the stamp is taken at the moment the event fires, not when a task gets to run.
    """

    def __init__(self, hass: HomeAssistant, event_type: str) -> None:
        self._waiting: list[tuple[Callable[[Event], bool], asyncio.Future[tuple[int, Event]]]] = []
        self._unsub = hass.bus.async_listen(event_type, self._on_event)

    def expect(self, match: Callable[[Event], bool]) -> asyncio.Future[tuple[int, Event]]:
        """A future for the next event that ``match`` accepts."""
        future: asyncio.Future[tuple[int, Event]] = asyncio.get_running_loop().create_future()
        self._waiting.append((match, future))
        return future

    @callback
    def _on_event(self, event: Event) -> None:
        stamp = time.perf_counter_ns()
        for item in list(self._waiting):
            match, future = item
            if not future.done() and match(event):
                future.set_result((stamp, event))
                self._waiting.remove(item)
                return

    def close(self) -> None:
        """Stop listening."""
        self._unsub()


@dataclass
class Stall:
    """The longest late wake-up of one phase."""

    wall_ns: int = 0  # how late the heartbeat woke (the stall)
    cpu_ns: int = 0  # CPU time the loop's thread used in that gap
    at: float = 0.0  # perf_counter() when it ended


@dataclass
class Heartbeat:
    """A task that sleeps 1 ms at a time and records by how much each wake-up was late.

    A stall is the time between two wake-ups minus the 1 ms asked for. The loop thread's
    CPU time over the same gap (``time.thread_time``; the heartbeat runs on that thread)
    tells code that held the loop (CPU about equal to the gap) from a thread that was not
    running at all (the OS preempted it, or it waited for the GIL or a syscall).
    """

    interval: float = 0.001
    phase: str = "idle"
    ticks: int = 0
    worst: dict[str, Stall] = field(default_factory=dict)
    worst_busy: dict[str, Stall] = field(default_factory=dict)
    over_10ms: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="bench heartbeat")

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def set_phase(self, name: str) -> None:
        """Attribute the following stalls to ``name``."""
        self.phase = name
        self.worst.setdefault(name, Stall())
        self.worst_busy.setdefault(name, Stall())
        self.over_10ms.setdefault(name, 0)

    async def _run(self) -> None:
        interval_ns = int(self.interval * 1e9)
        last, last_cpu = time.perf_counter_ns(), time.thread_time_ns()
        while True:
            await asyncio.sleep(self.interval)
            now, cpu = time.perf_counter_ns(), time.thread_time_ns()
            stall = now - last - interval_ns
            used = cpu - last_cpu
            last, last_cpu = now, cpu
            self.ticks += 1
            phase = self.phase
            worst = self.worst.setdefault(phase, Stall())
            if stall > worst.wall_ns:
                self.worst[phase] = Stall(stall, used, now / 1e9)
            busy = self.worst_busy.setdefault(phase, Stall())
            if used > busy.cpu_ns:
                self.worst_busy[phase] = Stall(stall, used, now / 1e9)
            if stall > 10_000_000:
                self.over_10ms[phase] = self.over_10ms.get(phase, 0) + 1


def runtime_of(entry: MockConfigEntry) -> Any:
    """The loaded entry's runtime data (modem, coordinator)."""
    return entry.runtime_data
