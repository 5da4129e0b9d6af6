"""A TCP port in the manner of ser2net raw mode: bytes pass unchanged, one client at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import socket


class TcpLink:
    """Listens on a fixed address; a second client is turned away while the first is connected."""

    def __init__(self, on_data: Callable[[bytes], None], on_room: Callable[[], None]) -> None:
        self._on_data = on_data
        self._on_room = on_room
        self._server: asyncio.Server | None = None
        self._client: asyncio.Transport | None = None
        self.host = ""
        self.port = 0

    @property
    def url(self) -> str:
        """The address as a pyserial URL."""
        return f"socket://{self.host}:{self.port}"

    @property
    def has_room(self) -> bool:
        """True when a client is connected and nothing is waiting in the socket's buffer."""
        return self._client is not None and self._client.get_write_buffer_size() == 0

    async def listen(self, host: str, port: int) -> None:
        """Start listening; port 0 picks a free port, which `port` then holds."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        self.host, self.port = sock.getsockname()[:2]
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _ClientProtocol(self), sock=sock)

    def send(self, data: bytes) -> None:
        """Send to the connected client; with nobody connected the bytes are lost, as in ser2net."""
        if self._client is not None:
            self._client.write(data)

    async def close(self) -> None:
        """Disconnect the client and stop listening."""
        if self._client is not None:
            self._client.abort()
            self._client = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _connected(self, transport: asyncio.Transport) -> bool:
        if self._client is not None:
            return False
        self._client = transport
        # Pause as soon as anything is buffered, so has_room and resume_writing track the kernel.
        transport.set_write_buffer_limits(high=0)
        self._on_room()
        return True

    def _disconnected(self, transport: asyncio.Transport) -> None:
        if self._client is transport:
            self._client = None


class _ClientProtocol(asyncio.Protocol):
    def __init__(self, link: TcpLink) -> None:
        self._link = link
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self._link._connected(transport):
            self._transport = transport
        else:
            transport.close()

    def data_received(self, data: bytes) -> None:
        if self._transport is not None:
            self._link._on_data(data)

    def resume_writing(self) -> None:
        self._link._on_room()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._link._disconnected(self._transport)
