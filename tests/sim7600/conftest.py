"""Fixtures for driver tests: a connected driver against the emulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import pytest

from custom_components.callstack.sim7600.events import ModemEvent
from custom_components.callstack.sim7600.modem import Modem, ModemConfig
from sim7600_emulator import Sim7600Emulator
from tests.conftest import FAST_AUDIO


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
