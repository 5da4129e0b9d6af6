"""The one place that opens serial ports.

A port is named by a URL as ``serialx`` reads it: a device path (``/dev/ttyUSB2``,
``/dev/serial/by-id/...``), ``socket://host:port`` (ser2net raw) or ``rfc2217://host:port``
(ser2net telnet). serialx opens, configures and closes device paths in the executor and
speaks RFC 2217 natively on the loop, so every kind of port is one asyncio transport with no
thread of its own. Swapping the serial library touches this module only.

serialx logs every chunk it reads or writes at DEBUG. On a phone line those chunks are
modem lines (the PIN, numbers, SMS text) and call audio, so the records serialx makes for
*our* ports carry byte counts instead (:func:`.redact.redact_log_argument`). Ours are told
apart by a context variable set while we open, write to and close a port: asyncio copies the
context into every callback registered meanwhile (the port's read and write callbacks, its
close task), so other serialx users in the same Home Assistant keep their full records.

The port's one consumer either registers callbacks with :meth:`SerialPort.receive` and sees
every chunk inside the transport's read callback, or pulls chunks with :meth:`SerialPort.read`.
A consumer that resolves a future in the callback (the AT executor with a final result code)
resumes its waiter in the very next loop iteration, as a bare ``StreamReader.readline()``
would; a reader task pulling in between adds one iteration to every reply. Pulling suits
consumers whose latency does not matter (NMEA sentences).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import contextvars
import logging

import serialx
from serialx.platforms.serial_rfc2217 import RFC2217SerialTransport
from serialx.platforms.serial_rfc2217.types import (
    Rfc2217Command,
    SetLinestateMaskCmd,
    SetModemstateMaskCmd,
)

from .errors import PortClosedError, PortOpenError
from .redact import redact_log_argument

BAUDRATE = 115200  # Ignored by the USB modem, required by the serial layer.

_OPEN_ERRORS = (OSError, serialx.SerialException, ValueError, TimeoutError)
_PULL_LIMIT = 64 * 1024  # bytes kept for read() before the port stops reading (as asyncio)
_OUR_PORT: contextvars.ContextVar[bool] = contextvars.ContextVar("callstack_port", default=False)


@contextlib.contextmanager
def _as_our_port() -> Iterator[None]:
    """Mark serialx work done inside (and callbacks it registers) as one of our ports'."""
    token = _OUR_PORT.set(True)
    try:
        yield
    finally:
        _OUR_PORT.reset(token)


class _RedactOurBytes(logging.Filter):
    """Byte counts instead of bytes in the records serialx makes for our ports."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _OUR_PORT.get() and isinstance(record.args, tuple):
            record.args = tuple(redact_log_argument(arg) for arg in record.args)
        return True


def _install_log_filter() -> None:
    # A logger's filters do not apply to its children's records: filter each of serialx's.
    redact = _RedactOurBytes()
    for name in list(logging.Logger.manager.loggerDict):
        if name == "serialx" or name.startswith("serialx."):
            logger = logging.getLogger(name)
            if not any(isinstance(known, _RedactOurBytes) for known in logger.filters):
                logger.addFilter(redact)


_install_log_filter()


class SerialPort(asyncio.Protocol):
    """A byte stream to one modem port (and the asyncio protocol of its transport).

    The consumer registered with :meth:`receive` gets every chunk, and its ``on_lost`` is
    called once if the port goes away (EOF, I/O error, a dropped ser2net connection) rather
    than being closed by us, so a vanished USB device can never leave a reader waiting.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.get_running_loop()
        self._transport: serialx.BaseSerialTransport | None = None
        self._on_data: Callable[[bytes], None] | None = None
        self._on_lost: Callable[[PortClosedError], None] | None = None
        self._early = bytearray()  # bytes read and not yet pulled, or before receive()
        self._reader: asyncio.Future[None] | None = None  # a read() waiting for bytes
        self._pull_paused = False
        self._lost: PortClosedError | None = None
        self._ours = False  # closed by us: no on_lost
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._hold = 0.0
        self._resume: asyncio.TimerHandle | None = None

    @property
    def closed(self) -> bool:
        """Whether the port was closed by us or by the other side."""
        return self._lost is not None

    def receive(
        self, on_data: Callable[[bytes], None], on_lost: Callable[[PortClosedError], None]
    ) -> None:
        """Deliver every chunk read from now on to ``on_data``, called in the read callback.

        ``on_lost`` is called (soon, never from inside this call) if the port is already gone,
        or later when it goes away without :meth:`close`.
        """
        self._on_data = on_data
        self._on_lost = on_lost
        if self._early:
            early, self._early = bytes(self._early), bytearray()
            self.data_received(early)
        self._resume_pulled()
        if self._lost is not None and not self._ours:
            self._loop.call_soon(on_lost, self._lost)

    @property
    def holding(self) -> bool:
        """Whether reading is held back right now (see :meth:`hold_reads`)."""
        return self._resume is not None

    async def read(self) -> bytes:
        """Every byte read since the last call (waiting for some); for a consumer that pulls
        instead of :meth:`receive`. Raises :class:`PortClosedError` once the port is gone
        and every byte it read has been returned."""
        while not self._early:
            if self._lost is not None:
                raise self._lost
            self._reader = self._loop.create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        data = bytes(self._early)
        self._early.clear()
        self._resume_pulled()
        return data

    def _resume_pulled(self) -> None:
        """Read again after pausing for a consumer that had fallen behind."""
        if self._pull_paused and self._lost is None and self._transport is not None:
            self._pull_paused = False
            with _as_our_port():  # registers the read callback anew: in our context
                self._transport.resume_reading()

    def hold_reads(self, seconds: float) -> None:
        """After each chunk, leave the port unread for ``seconds`` (0: read at once again).

        The kernel keeps gathering bytes meanwhile, so a steady stream arrives in fewer,
        larger chunks: one wake-up of the loop per ``seconds`` instead of one per modem
        frame. Only for streams whose latency does not matter (recording call audio).
        """
        self._hold = seconds
        if not seconds and self._resume is not None:
            self._resume.cancel()
            self._resume_reading()

    def write(self, data: bytes) -> None:
        """Queue bytes for the port without blocking."""
        if self._lost is not None or self._transport is None:
            raise PortClosedError("The port is closed")
        token = _OUR_PORT.set(True)  # not _as_our_port(): this is every command's path
        try:
            self._transport.write(data)
        except (OSError, serialx.SerialException) as err:
            raise PortClosedError("The port failed") from err
        finally:
            _OUR_PORT.reset(token)

    async def drain(self) -> None:
        """Wait until the write buffer is below its high-water mark."""
        if self._write_paused and self._lost is None:
            waiter = self._loop.create_future()
            self._drain_waiters.append(waiter)
            try:
                await waiter
            finally:
                self._drain_waiters.remove(waiter)
        if self._lost is not None:
            raise self._lost

    async def close(self) -> None:
        """Close the port (device paths close in the executor); safe to repeat."""
        if self._ours:
            return
        self._ours = True
        self._lost = self._lost or PortClosedError("The port is closed")
        self._wake_drainers()
        self._wake_reader()
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._transport is not None:
            with _as_our_port():
                self._transport.close()
            with contextlib.suppress(OSError, serialx.SerialException):
                await self._transport.wait_closed()

    # ---- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """serialx connected the port."""
        assert isinstance(transport, serialx.BaseSerialTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        """Hand the chunk to the consumer, then hold reading if asked to."""
        if self._on_data is None:
            if not self._ours:
                self._early += data
                self._wake_reader()
                if len(self._early) > _PULL_LIMIT and not self._pull_paused:
                    assert self._transport is not None
                    self._pull_paused = True  # read() resumes: the consumer is behind
                    self._transport.pause_reading()
            return
        self._on_data(data)
        if self._hold and self._resume is None and self._lost is None:
            assert self._transport is not None
            self._transport.pause_reading()
            self._resume = self._loop.call_later(self._hold, self._resume_reading)

    def connection_lost(self, exc: Exception | None) -> None:
        """The port went away, or our close finished."""
        if self._lost is None:
            self._lost = PortClosedError("The port closed" if exc is None else "The port failed")
            if self._on_lost is not None:
                self._on_lost(self._lost)
        self._wake_drainers()
        self._wake_reader()

    def pause_writing(self) -> None:
        """The transport's write buffer is above its high-water mark."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The write buffer drained below its low-water mark."""
        self._write_paused = False
        self._wake_drainers()

    def _resume_reading(self) -> None:
        self._resume = None
        if self._lost is None and self._transport is not None:
            with _as_our_port():  # registers the read callback anew: in our context
                self._transport.resume_reading()

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def _wake_drainers(self) -> None:
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)


class _Rfc2217Transport(RFC2217SerialTransport):
    """serialx's RFC 2217 client, for access servers that never acknowledge state masks.

    serialx (1.11 to 1.15) waits for an acknowledgement of SET-MODEMSTATE-MASK and
    SET-LINESTATE-MASK before the port counts as open. ser2net 4.3 (Debian bookworm's)
    answers them with NOTIFY-MODEMSTATE and NOTIFY-LINESTATE instead, so every open timed
    out after 5 s (``tests/ser2net`` over ``rfc2217://``). Callstack reads neither state:
    the masks are sent and not waited for.
    """

    async def _send_and_wait(self, cmd: Rfc2217Command) -> Rfc2217Command:
        if isinstance(cmd, SetModemstateMaskCmd | SetLinestateMaskCmd):
            self._send_command(cmd)
            return cmd
        return await super()._send_and_wait(cmd)


async def open_port(url: str) -> SerialPort:
    """Open ``url`` and return a connected :class:`SerialPort`."""
    port = SerialPort(url)
    transport_cls = _Rfc2217Transport if url.startswith("rfc2217://") else None
    try:
        with _as_our_port():
            await serialx.create_serial_connection(
                asyncio.get_running_loop(),
                lambda: port,
                url,
                baudrate=BAUDRATE,
                transport_cls=transport_cls,
            )
    except _OPEN_ERRORS as err:
        raise PortOpenError("The port could not be opened") from err
    return port
