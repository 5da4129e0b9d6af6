"""Fixtures for driver tests: a connected driver against the emulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
import contextlib
from dataclasses import dataclass, field

import pytest

from custom_components.callstack.sim7600.events import ModemEvent
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem, ModemConfig
from sim7600_emulator import Identity, Sim7600Emulator
from tests.conftest import FAST_AUDIO
from tests.helpers import until

CALLER = "+4915550000001"  # the far end of the driver tests' calls


@dataclass
class Recorder:
    """Collects what the driver publishes."""

    events: list[ModemEvent] = field(default_factory=list)

    def __call__(self, event: ModemEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def config_for(emu: Sim7600Emulator, *, tcp: bool = False, **options: object) -> ModemConfig:
    """A driver configuration that reaches ``emu`` over its PTY links or TCP URLs."""
    settings: dict[str, object] = {
        "at_url": emu.at_url if tcp else emu.at_link,
        "audio_url": emu.audio_url if tcp else emu.audio_link,
        "audio_speed": FAST_AUDIO,
        "reconnect_min": 0.1,
        "reconnect_max": 0.5,
    }
    return ModemConfig(**(settings | options))  # type: ignore[arg-type]


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
async def modem(emulator: Sim7600Emulator, events: Recorder) -> AsyncGenerator[Modem]:
    """A driver connected to the emulator over pseudo-terminals."""
    driver = Modem(config_for(emulator))
    driver.subscribe(events)
    await driver.connect()
    try:
        yield driver
    finally:
        await driver.close()


async def answer(emulator: Sim7600Emulator, modem: Modem) -> None:
    """Ring, answer, and wait until PCM flows."""
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    await until(lambda: modem.audio.running)


@pytest.fixture
async def in_call(emulator: Sim7600Emulator, modem: Modem) -> Modem:
    """The ``modem`` in an answered call whose audio flows (accelerated)."""
    await answer(emulator, modem)
    return modem


@contextlib.asynccontextmanager
async def real_time_call(identity: Identity) -> AsyncIterator[tuple[Sim7600Emulator, Modem]]:
    """An emulator streaming call audio at real speed and a driver in an answered call with
    it (what read holds and pacing are tested on: the accelerated stream is never held)."""
    async with Sim7600Emulator(identity, audio_speed=1.0) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu, audio_speed=1.0))
        await modem.connect()
        try:
            await answer(emu, modem)
            yield emu, modem
        finally:
            await modem.close()
