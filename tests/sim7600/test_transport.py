"""The transport over a bare pseudo-terminal: back-pressure, and a device that vanishes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import os
import pty
import tty

import pytest

from custom_components.callstack.sim7600.errors import PortClosedError, PortOpenError
from custom_components.callstack.sim7600.transport import open_port


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    """A raw pseudo-terminal: the master fd (the "modem" side) and the slave's path."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    try:
        yield master, path
    finally:
        with contextlib.suppress(OSError):  # a test may have "unplugged" it already
            os.close(master)


async def drain_master(master: int, total: int) -> bytes:
    received = bytearray()
    loop = asyncio.get_running_loop()
    while len(received) < total:
        received += await loop.run_in_executor(None, os.read, master, 65536)
    return bytes(received)


async def test_a_full_port_is_flushed_without_loop_errors(pty_pair: tuple[int, str]) -> None:
    """More than the pty holds: the rest waits in the buffer, and once flushed nothing
    keeps firing (pyserial-asyncio-fast 0.16 asserted on its empty buffer here)."""
    master, path = pty_pair
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    port = await open_port(path)
    try:
        payload = bytes(range(256)) * 1024  # 256 KiB, far more than the pty buffer
        port.write(payload)
        received = await drain_master(master, len(payload))
        await port.drain()
        port.write(b"after")
        received += await drain_master(master, 5)
        await asyncio.sleep(0.05)  # let any stray "writable" callback run
        assert received == payload + b"after"
        assert errors == []
    finally:
        await port.close()
        loop.set_exception_handler(None)


async def test_a_vanished_device_ends_reads_and_writes_quietly(
    pty_pair: tuple[int, str],
) -> None:
    master, path = pty_pair
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    port = await open_port(path)
    try:
        os.write(master, b"OK\r\n")
        assert await port.read() == b"OK\r\n"
        read = asyncio.ensure_future(port.read())
        await asyncio.sleep(0.05)
        os.close(master)  # unplugged
        with pytest.raises(PortClosedError):
            await read
        assert port.closed
        with pytest.raises(PortClosedError):
            port.write(b"AT\r")
        assert errors == []
    finally:
        await port.close()
        loop.set_exception_handler(None)


async def test_a_missing_device_cannot_be_opened() -> None:
    with pytest.raises(PortOpenError):
        await open_port("/dev/serial/by-id/usb-SimTech-nothing-if02-port0")
