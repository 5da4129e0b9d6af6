"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
import sys

# The interpreter whose Home Assistant the stack tests (tests/stack, tests/browser) start:
# CALLSTACK_STACK_PYTHON when set (scripts/with-ha newest points it at HA 2026.11.0, which the
# newest test plugin cannot import), else the tests' own.
STACK_PYTHON = os.environ.get("CALLSTACK_STACK_PYTHON") or sys.executable


async def until(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` is true: URCs and state changes arrive asynchronously."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
