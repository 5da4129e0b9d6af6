"""The host's side of an emulator port, as a driver would open it, with waiting helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
import re
from urllib.parse import urlsplit

FINAL = re.compile(
    rb"\r\n(OK|ERROR|NO CARRIER|BUSY|NO ANSWER|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*)\r\n"
)


def link_target(path: str) -> str | None:
    """Where a by-id style symlink points now, or None while it is absent."""
    try:
        return os.readlink(path)
    except FileNotFoundError:
        return None


class HostPort:
    """Collects everything the module sends; `pos` marks what the test has consumed."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.pos = 0
        self.eof = False
        self._changed = asyncio.Event()
        self._fd: int | None = None
        self._transport: asyncio.Transport | None = None

    @classmethod
    def open_pty(cls, path: str) -> HostPort:
        """Open a pty slave like a serial port (raw, non-blocking)."""
        host = cls()
        host._fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        asyncio.get_running_loop().add_reader(host._fd, host._read_fd)
        return host

    @classmethod
    async def open_tcp(cls, url: str) -> HostPort:
        """Connect to a socket://host:port URL."""
        host = cls()
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(
            lambda: _HostProtocol(host), parts.hostname, parts.port
        )
        host._transport = transport
        return host

    def pause_reading(self) -> None:
        """Stop reading the pty, as a stalled host would; the module's output backs up."""
        assert self._fd is not None
        asyncio.get_running_loop().remove_reader(self._fd)

    def resume_reading(self) -> None:
        assert self._fd is not None
        asyncio.get_running_loop().add_reader(self._fd, self._read_fd)

    def _read_fd(self) -> None:
        assert self._fd is not None
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
            asyncio.get_running_loop().remove_reader(self._fd)
        self.received(chunk)

    def received(self, chunk: bytes) -> None:
        self.data += chunk
        self._changed.set()

    def write(self, data: bytes) -> None:
        if self._fd is not None:
            os.write(self._fd, data)
        else:
            assert self._transport is not None
            self._transport.write(data)

    def send(self, line: str) -> None:
        """Send a command line terminated by CR."""
        self.write(line.encode("latin-1") + b"\r")

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def expect(self, pattern: bytes, timeout: float = 2.0) -> bytes:
        """Everything unread up to and including `pattern`."""
        await self.wait_until(lambda: self.data.find(pattern, self.pos) >= 0, timeout)
        end = self.data.find(pattern, self.pos) + len(pattern)
        chunk = bytes(self.data[self.pos : end])
        self.pos = end
        return chunk

    async def lines(self, count: int, timeout: float = 2.0) -> bytes:
        """Everything unread up to and including the ``count``-th CRLF, once it arrived:
        for a URC matched with a pattern (``\\r\\n+CMT: ,23\\r\\n<pdu>\\r\\n`` is three)."""
        return b"".join([await self.expect(b"\r\n", timeout) for _ in range(count)])

    async def final(self, timeout: float = 2.0) -> bytes:
        """Everything unread up to and including the next final result code."""
        await self.wait_until(lambda: FINAL.search(self.data, self.pos) is not None, timeout)
        match = FINAL.search(self.data, self.pos)
        assert match is not None
        chunk = bytes(self.data[self.pos : match.end()])
        self.pos = match.end()
        return chunk

    async def command(self, line: str, timeout: float = 2.0) -> bytes:
        """Send `line` and return echo, response and final result."""
        self.send(line)
        return await self.final(timeout)

    async def settle(self, seconds: float = 0.05) -> bytes:
        """Wait a little, then return (and consume) whatever arrived."""
        await asyncio.sleep(seconds)
        return self.take()

    def take(self) -> bytes:
        chunk = bytes(self.data[self.pos :])
        self.pos = len(self.data)
        return chunk

    def close(self) -> None:
        if self._fd is not None:
            if not self.eof:
                asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class _HostProtocol(asyncio.Protocol):
    def __init__(self, host: HostPort) -> None:
        self._host = host

    def data_received(self, data: bytes) -> None:
        self._host.received(data)

    def eof_received(self) -> bool:
        self._host.eof = True
        self._host.received(b"")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._host.eof = True
        self._host.received(b"")
