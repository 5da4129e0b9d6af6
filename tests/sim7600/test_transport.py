"""The transport over a bare pseudo-terminal: back-pressure, a device that vanishes, pushed
chunks and held reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import logging
import os
import pty
import tty

import pytest
import serialx

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


class Consumer:
    """What a driver service registers with ``SerialPort.receive``."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.lost: list[PortClosedError] = []
        self.changed = asyncio.Event()

    def on_data(self, data: bytes) -> None:
        self.chunks.append(data)
        self.changed.set()

    def on_lost(self, err: PortClosedError) -> None:
        self.lost.append(err)
        self.changed.set()

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not done():
                self.changed.clear()
                await self.changed.wait()

    @property
    def received(self) -> bytes:
        return b"".join(self.chunks)


async def test_a_vanished_device_ends_the_port_quietly(pty_pair: tuple[int, str]) -> None:
    """The consumer hears of it once; no write is accepted after; nothing reaches the loop's
    exception handler (pyserial-asyncio-fast needed a transport subclass for that; serialx
    does not report EIO/ENXIO there)."""
    master, path = pty_pair
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    port = await open_port(path)
    consumer = Consumer()
    try:
        port.receive(consumer.on_data, consumer.on_lost)
        os.write(master, b"OK\r\n")
        await consumer.until(lambda: consumer.received == b"OK\r\n")
        os.close(master)  # unplugged
        await consumer.until(lambda: bool(consumer.lost))
        assert port.closed
        with pytest.raises(PortClosedError):
            port.write(b"AT\r")
        with pytest.raises(PortClosedError):
            await port.drain()
        assert len(consumer.lost) == 1
        assert errors == []
    finally:
        await port.close()
        loop.set_exception_handler(None)


async def test_closing_the_port_ourselves_is_not_a_loss(pty_pair: tuple[int, str]) -> None:
    _, path = pty_pair
    port = await open_port(path)
    consumer = Consumer()
    port.receive(consumer.on_data, consumer.on_lost)
    await port.close()
    await port.close()  # safe to repeat
    await asyncio.sleep(0)
    assert port.closed
    assert consumer.lost == []
    with pytest.raises(PortClosedError):
        port.write(b"AT\r")


async def test_bytes_read_before_the_consumer_registers_are_kept(
    pty_pair: tuple[int, str],
) -> None:
    master, path = pty_pair
    port = await open_port(path)
    try:
        os.write(master, b"RDY\r\n")
        await asyncio.sleep(0.1)  # read by the transport, nobody to hand it to yet
        consumer = Consumer()
        port.receive(consumer.on_data, consumer.on_lost)
        os.write(master, b"OK\r\n")
        await consumer.until(lambda: len(consumer.received) == 9)
        assert consumer.received == b"RDY\r\nOK\r\n"
    finally:
        await port.close()


async def test_held_reads_gather_a_stream_into_fewer_chunks(pty_pair: tuple[int, str]) -> None:
    """While reads are held, what arrives during the hold comes in one chunk after it; with
    the hold off again, every write is its own chunk. No byte is lost or reordered."""
    master, path = pty_pair
    port = await open_port(path)
    consumer = Consumer()

    def on_data(data: bytes) -> None:
        consumer.on_data(data)
        if data == b"frame-1":
            # Arrive while the port is held: after this callback, before the hold ends.
            os.write(master, b"frame-2")
            os.write(master, b"frame-3")

    try:
        port.hold_reads(0.2)
        port.receive(on_data, consumer.on_lost)
        os.write(master, b"frame-1")
        await consumer.until(lambda: len(consumer.received) == 21)
        assert consumer.chunks == [b"frame-1", b"frame-2frame-3"]

        port.hold_reads(0)
        for frame in (b"frame-4", b"frame-5"):
            os.write(master, frame)
            await consumer.until(lambda frame=frame: consumer.chunks[-1] == frame)  # type: ignore[misc]
        assert consumer.chunks[2:] == [b"frame-4", b"frame-5"]
    finally:
        await port.close()


async def test_a_pulling_consumer_reads_everything_then_hears_of_the_loss(
    pty_pair: tuple[int, str],
) -> None:
    """``read()`` instead of ``receive()`` (the NMEA port): every byte, then PortClosedError
    once the device is gone; a read waiting when we close the port ends too."""
    master, path = pty_pair
    port = await open_port(path)
    try:
        os.write(master, b"$GPGGA,1*00\r\n")
        received = b""
        while len(received) < 13:
            received += await port.read()
        assert received == b"$GPGGA,1*00\r\n"
        os.close(master)  # unplugged
        with pytest.raises(PortClosedError):
            async with asyncio.timeout(5):
                await port.read()
    finally:
        await port.close()

    other_master, other_slave = pty.openpty()
    tty.setraw(other_slave)
    other = await open_port(os.ttyname(other_slave))
    os.close(other_slave)
    try:
        waiting = asyncio.ensure_future(other.read())
        await asyncio.sleep(0.05)
        await other.close()
        with pytest.raises(PortClosedError):
            await waiting
    finally:
        os.close(other_master)


async def test_a_pulling_consumer_that_falls_behind_loses_nothing(
    pty_pair: tuple[int, str],
) -> None:
    """Past 64 KiB unread the port stops reading (the kernel, then the writer, wait), and
    reading again resumes it: every byte arrives, in order."""
    master, path = pty_pair
    port = await open_port(path)
    payload = bytes(range(256)) * 512  # 128 KiB
    os.set_blocking(master, False)

    async def write_all() -> None:
        sent = 0
        while sent < len(payload):
            try:
                sent += os.write(master, payload[sent:])
            except BlockingIOError:  # the pty is full: the port is not reading
                await asyncio.sleep(0.005)

    writing = asyncio.ensure_future(write_all())
    try:
        await asyncio.sleep(0.3)  # nobody reads meanwhile
        received = b""
        async with asyncio.timeout(10):
            while len(received) < len(payload):
                received += await port.read()
            await writing
        assert received == payload
    finally:
        writing.cancel()
        await port.close()


async def test_serialx_logs_only_byte_counts_for_our_ports(
    pty_pair: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    """serialx logs every chunk at DEBUG: for our ports the records show byte counts; another
    serialx user in the same process keeps its full records."""
    caplog.set_level(logging.DEBUG)
    master, path = pty_pair
    port = await open_port(path)
    consumer = Consumer()
    try:
        port.receive(consumer.on_data, consumer.on_lost)
        port.write(b'AT+CPIN="97531"\r')
        os.write(master, b'\r\n+CLIP: "+15557654321",145\r\n')
        await consumer.until(lambda: b"145" in consumer.received)
        assert b"97531" in await drain_master(master, 16)
    finally:
        await port.close()
    assert "97531" not in caplog.text
    assert "7654321" not in caplog.text
    assert "Received <" in caplog.text
    assert "writing <16 bytes>" in caplog.text

    other_master, other_slave = pty.openpty()
    tty.setraw(other_slave)
    other_path = os.ttyname(other_slave)
    os.close(other_slave)
    try:
        reader, writer = await serialx.open_serial_connection(other_path, baudrate=115200)
        os.write(other_master, b"ZIGBEE-FRAME")
        assert await reader.readexactly(12) == b"ZIGBEE-FRAME"
        writer.close()
        await writer.wait_closed()
    finally:
        os.close(other_master)
    assert "ZIGBEE-FRAME" in caplog.text


async def test_a_missing_device_cannot_be_opened() -> None:
    with pytest.raises(PortOpenError):
        await open_port("/dev/serial/by-id/usb-SimTech-nothing-if02-port0")
