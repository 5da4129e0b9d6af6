"""Fixtures for the emulator's own tests: an emulator on ptys and the host's end of its ports."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest

from sim7600_emulator import Sim7600Emulator, Variants

from .host import HostPort

FAST = Variants(boot_delay=0.05, sim_ready_delay=0.01, ussd_delay=0.01)
"""Short delays everywhere timing is not under test."""

EmulatorFactory = Callable[..., Awaitable[Sim7600Emulator]]
HostFactory = Callable[[str], HostPort]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: the emulator needs no Home Assistant instance per test."""


@pytest.fixture
async def make_emulator() -> AsyncGenerator[EmulatorFactory]:
    """Start emulators on ptys (fast variants, audio 10x unless given); all stopped afterwards."""
    created: list[Sim7600Emulator] = []

    async def make(**kwargs: Any) -> Sim7600Emulator:
        kwargs.setdefault("variants", FAST)
        kwargs.setdefault("audio_speed", 10.0)
        emu = Sim7600Emulator(**kwargs)
        created.append(emu)
        await emu.start_pty()
        return emu

    yield make
    for emu in created:
        await emu.stop()


@pytest.fixture
async def open_host() -> AsyncGenerator[HostFactory]:
    """Open pty slaves as the host; all closed afterwards."""
    opened: list[HostPort] = []

    def open_pty(path: str) -> HostPort:
        host = HostPort.open_pty(path)
        opened.append(host)
        return host

    yield open_pty
    for host in opened:
        host.close()


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Sim7600Emulator:
    """A default emulator on ptys."""
    return await make_emulator()


@pytest.fixture
async def at(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    """The host's end of the AT port."""
    return open_host(emu.at_path)
