"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custom_components.callstack.sim7600.modem import Modem

# The interpreter whose Home Assistant the stack tests (tests/stack, tests/browser) start:
# CALLSTACK_STACK_PYTHON when set (scripts/with-ha newest points it at HA 2026.11.0, which the
# newest test plugin cannot import), else the tests' own.
STACK_PYTHON = os.environ.get("CALLSTACK_STACK_PYTHON") or sys.executable


async def until(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` is true: URCs and state changes arrive asynchronously."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def recorded(modem: Modem, seconds: float, timeout: float = 10.0) -> None:
    """Wait until the recording in progress holds ``seconds`` of the far end's audio.

    Stream time, not wall time: at the emulator's speed a fixed sleep is a few frames
    on a loaded machine, so tests that need "the caller spoke for a while" wait for it.
    """

    def enough() -> bool:
        recording = modem.audio._recording
        return recording is not None and recording.samples >= seconds * modem.audio.sample_rate

    await until(enough, timeout)
