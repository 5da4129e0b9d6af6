"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` is true: URCs and state changes arrive asynchronously."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
