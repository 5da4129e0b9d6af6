"""Shared fixtures for the Callstack test suite."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
import contextlib

import pytest

import custom_components.callstack  # noqa: F401  (HA must find our custom_components first)
from sim7600_emulator import Identity, Sim7600Emulator

# Audio runs this many times faster than real time where cadence is not what a test checks.
FAST_AUDIO = 20.0


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components/ in every test."""


@pytest.fixture
def identity() -> Identity:
    """The emulator's seeded identities (IMEI, IMSI, numbers, PIN) that must never leak."""
    return Identity.seeded(0)


@contextlib.asynccontextmanager
async def pty_emulator(
    identity: Identity, audio_speed: float = FAST_AUDIO
) -> AsyncIterator[Sim7600Emulator]:
    """A SIM7600 emulator reachable over pseudo-terminals, stopped on the way out."""
    emu = Sim7600Emulator(identity=identity, audio_speed=audio_speed)
    await emu.start_pty()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def emulator(identity: Identity) -> AsyncGenerator[Sim7600Emulator]:
    """A SIM7600 emulator reachable over pseudo-terminals, audio accelerated."""
    async with pty_emulator(identity) as emu:
        yield emu
