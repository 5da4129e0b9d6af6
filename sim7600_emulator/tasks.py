"""Bookkeeping for the emulator's background tasks, so stop() can leave none behind."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import logging
from typing import Any

_LOGGER = logging.getLogger(__name__)


class TaskSet:
    """Every task the emulator starts: ringing, far-end progress, PCM pacing, delayed URCs."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Start `coro` now; a failure is logged rather than lost, since nobody awaits it."""
        task = asyncio.get_running_loop().create_task(coro, name=f"sim7600-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Emulator task %s failed", task.get_name(), exc_info=error)

    async def cancel_all(self) -> None:
        """Cancel every task and wait for each to finish (tasks may spawn others on the way)."""
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
