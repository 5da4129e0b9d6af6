"""The one place that opens serial ports.

A port is named by a pyserial URL: a device path (``/dev/ttyUSB2``,
``/dev/serial/by-id/...``), ``socket://host:port`` (ser2net raw) or
``rfc2217://host:port`` (ser2net telnet). Device paths and raw sockets go through
``pyserial-asyncio-fast``, which opens, flushes and closes in the executor. pyserial's
RFC 2217 client has no file descriptor to watch, so it gets a reader thread of its own.
Swapping the serial library later (HA core is moving to ``serialx``) touches this module
only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from typing import Any, Protocol

import serial
import serial.rfc2217
import serial_asyncio_fast

from .errors import PortClosedError, PortOpenError

_LOGGER = logging.getLogger(__name__)

BAUDRATE = 115200  # Ignored by the USB modem, required by pyserial.
_READ_SIZE = 4096


class SerialPort:
    """A byte stream to one modem port.

    ``read`` returns the next chunk and raises :class:`PortClosedError` once the port is
    gone (EOF, I/O error, or closed by us), so a vanished USB device or a dropped ser2net
    connection can never leave a reader hanging.
    """

    def __init__(self, url: str, reader: asyncio.StreamReader, writer: _Writer) -> None:
        self.url = url
        self._reader = reader
        self._writer = writer
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the port was closed by us or by the other side."""
        return self._closed or self._writer.is_closing()

    async def read(self) -> bytes:
        """Return the next chunk of bytes from the port."""
        if self._closed:
            raise PortClosedError("The port is closed")
        try:
            data = await self._reader.read(_READ_SIZE)
        except (OSError, serial.SerialException) as err:
            raise PortClosedError("The port failed") from err
        if not data:
            raise PortClosedError("The port closed")
        return data

    def write(self, data: bytes) -> None:
        """Queue bytes for the port without blocking."""
        if self.closed:
            raise PortClosedError("The port is closed")
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait until the write buffer is below its high-water mark."""
        try:
            await self._writer.drain()
        except (OSError, serial.SerialException, RuntimeError) as err:
            raise PortClosedError("The port failed") from err

    async def close(self) -> None:
        """Close the port; closing happens in the executor and is safe to repeat."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        with contextlib.suppress(OSError, serial.SerialException, RuntimeError):
            await self._writer.wait_closed()


class _Writer(Protocol):
    """The writing half a :class:`SerialPort` needs; ``asyncio.StreamWriter`` fits."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


async def open_port(url: str) -> SerialPort:
    """Open ``url`` and return a connected :class:`SerialPort`."""
    opener = (
        _open_rfc2217
        if url.startswith("rfc2217://")
        else _open_socket
        if url.startswith("socket://")
        else _open_device
    )
    try:
        reader, writer = await opener(url)
    except (OSError, serial.SerialException, ValueError) as err:
        raise PortOpenError("The port could not be opened") from err
    return SerialPort(url, reader, writer)


async def _open_socket(url: str) -> tuple[asyncio.StreamReader, _Writer]:
    """ser2net raw TCP: pyserial-asyncio-fast hands it to asyncio's own socket transport."""
    return await serial_asyncio_fast.open_serial_connection(url=url, baudrate=BAUDRATE)


class _UnpluggableTransport(serial_asyncio_fast.SerialTransport):
    """pyserial-asyncio-fast's transport, for a device that may vanish at any time.

    Its stock error path hands a failed write to the loop's exception handler, which Home
    Assistant logs as an unhandled error. A USB modem that is unplugged, or re-enumerates
    after a reset, is an expected event here: the transport is just aborted, and the
    reader sees the port closed and the supervisor reconnects.

    It also fixes a bug of pyserial-asyncio-fast 0.16: once a partial write (a full
    audio port) has been flushed from the buffer, the writer callback stays registered,
    and every later "writable" event trips ``assert data`` in ``_write_ready`` on the
    empty buffer, over and over.
    """

    def _write_ready(self) -> None:
        if self._write_buffer:
            super()._write_ready()
        if not self._write_buffer:
            self._remove_writer()

    def _fatal_error(
        self, exc: BaseException, message: str = "Fatal error on serial transport"
    ) -> None:
        if isinstance(exc, OSError):  # serial.SerialException is an OSError too
            self._abort(exc)
            return
        super()._fatal_error(exc, message)


async def _open_device(url: str) -> tuple[asyncio.StreamReader, _Writer]:
    """Open a device path in the executor (as pyserial-asyncio-fast does) on our transport."""
    loop = asyncio.get_running_loop()
    device = await loop.run_in_executor(
        None, functools.partial(serial.serial_for_url, url, baudrate=BAUDRATE)
    )
    reader = asyncio.StreamReader(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = _UnpluggableTransport(loop, protocol, device)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def _open_rfc2217(url: str) -> tuple[asyncio.StreamReader, _Writer]:
    loop = asyncio.get_running_loop()
    # pyserial sets DTR and RTS on open and waits up to 3 s for each SET_CONTROL answer;
    # ser2net sends none when the device has no modem-control lines (a pty, for one) and the
    # open fails. DTR and RTS are still sent; only their acknowledgement is not awaited.
    client_url = url + ("&" if "?" in url else "?") + "ign_set_control"
    opening = loop.run_in_executor(
        None, lambda: _Rfc2217Client(client_url, baudrate=BAUDRATE, timeout=0.05)
    )
    try:
        port: Any = await asyncio.shield(opening)
    except asyncio.CancelledError:
        # The open goes on in the executor: close what it opens, or its reader thread and
        # the ser2net connection (ser2net takes one client per port) outlive us.
        with contextlib.suppress(Exception):
            await loop.run_in_executor(None, (await opening).close)
        raise
    reader = asyncio.StreamReader(loop=loop)
    writer = _ThreadedWriter(loop, port, reader)
    return reader, writer


class _Rfc2217Client(serial.rfc2217.Serial):  # type: ignore[misc]
    """pyserial's RFC 2217 client without the receive purge its ``open`` does.

    That purge empties the client's byte queue until it finds it empty: with PCM streaming
    in faster than it dequeues, that never happens and ``open`` hangs in the executor. And
    it discards an arbitrary byte count: an odd one shifts every later PCM sample by a byte.
    ``socket://`` keeps every byte too.
    """

    def reset_input_buffer(self) -> None:
        """Keep every received byte (see the class docstring)."""


class _ThreadedWriter:
    """Bridge pyserial's blocking RFC 2217 client to asyncio.

    A reader thread polls the port with a short timeout and feeds the stream reader on the
    loop; writes go through the executor. ``close`` stops and joins the thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, port: Any, reader: asyncio.StreamReader):
        self._loop = loop
        self._port = port
        self._reader = reader
        self._closing = False
        self._pending: list[asyncio.Future[None]] = []
        self._thread = threading.Thread(
            target=self._read_loop, name="callstack-rfc2217", daemon=True
        )
        self._thread.start()

    def _read_loop(self) -> None:
        while not self._closing:
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except (OSError, serial.SerialException):
                if not self._closing:
                    lost = PortClosedError("The RFC 2217 connection failed")
                    self._loop.call_soon_threadsafe(self._reader.set_exception, lost)
                return
            if data:
                self._loop.call_soon_threadsafe(self._reader.feed_data, data)
        self._loop.call_soon_threadsafe(self._reader.feed_eof)

    def write(self, data: bytes) -> None:
        future = self._loop.run_in_executor(None, self._port.write, data)
        self._pending.append(future)
        future.add_done_callback(self._pending.remove)

    async def drain(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    async def wait_closed(self) -> None:
        stopping = self._loop.run_in_executor(None, self._stop)
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            # Modem.close cancels a task closing the port (the bridge stopping after a call):
            # finish, or the client threads outlive the driver (a fraction of a second).
            await stopping
            raise

    def _stop(self) -> None:
        self._thread.join()
        self._port.close()
