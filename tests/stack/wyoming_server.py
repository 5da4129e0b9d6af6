"""One of the dev stack's Wyoming servers (scripts/wyoming_*.py) in a subprocess, for a test.

Started as scripts/devstack.py starts it (this Python, `--uri tcp://127.0.0.1:PORT`) on a
free port, and awaited until it accepts connections, as HA's `wyoming` integration would
reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import sys

import pytest

from scripts import devstack


@contextlib.asynccontextmanager
async def wyoming_server(script: Path, *args: str, timeout: float) -> AsyncIterator[int]:
    """Run ``script`` with ``args``; yields its port once it listens (within ``timeout``
    seconds: loading a model takes a while), terminates and reaps it after."""
    port = devstack.free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--uri", f"tcp://{devstack.HOST}:{port}", *args
    )
    try:
        async with asyncio.timeout(timeout):
            while True:
                if process.returncode is not None:
                    pytest.fail(f"{script.name} exited with {process.returncode}")
                try:
                    _, writer = await asyncio.open_connection(devstack.HOST, port)
                except OSError:
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
