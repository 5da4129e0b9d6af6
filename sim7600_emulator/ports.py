"""The module's USB serial functions the host talks to, each reachable over a pty and TCP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import os
from pathlib import Path
from typing import Literal

from .pty_link import PtyLink
from .tcp_link import TcpLink

PortName = Literal["at", "audio", "nmea"]
Direction = Literal["host->modem", "modem->host"]

BY_ID_PREFIX = "usb-SimTech__Incorporated_SimTech__Incorporated_0123456789ABCDEF"
"""How udev names the module under /dev/serial/by-id (the serial really is 0123456789ABCDEF)."""


@dataclass(frozen=True)
class TranscriptEntry:
    """Bytes that crossed a port, stamped with the event loop's clock."""

    time: float
    port: PortName
    direction: Direction
    data: bytes


class ModemPort:
    """One serial function (NMEA on interface 01, AT on 02, audio on 04) and its front doors.

    A pty and a TCP listener may both be open; the module's output goes to each and the host's
    input from either reaches the same place. drop()/restore() model USB re-enumeration.
    """

    def __init__(
        self,
        name: PortName,
        interface: int,
        transcript: list[TranscriptEntry],
        on_data: Callable[[bytes], None],
    ) -> None:
        self.name = name
        self.link_name = f"{BY_ID_PREFIX}-if{interface:02d}-port0"
        self._transcript = transcript
        self._on_data = on_data
        self._room = asyncio.Event()
        self.pty: PtyLink | None = None
        self.tcp: TcpLink | None = None
        self._link_dir: Path | None = None
        self._tcp_address: tuple[str, int] | None = None

    @property
    def link_path(self) -> Path | None:
        """The by-id style symlink to the current pty, when a pty front door is configured."""
        return None if self._link_dir is None else self._link_dir / self.link_name

    @property
    def is_up(self) -> bool:
        """Whether any front door is open right now (false between drop() and restore())."""
        return self.pty is not None or self.tcp is not None

    def open_pty(self, link_dir: Path) -> None:
        """Open a pty pair and point the by-id symlink in `link_dir` at its slave."""
        self._link_dir = link_dir
        self._open_pty()

    async def open_tcp(self, host: str, port: int) -> None:
        """Listen on host:port (0 = any free port; restore() reuses the number it got)."""
        tcp = TcpLink(self._received, self._room.set)
        await tcp.listen(host, port)
        self.tcp = tcp
        self._tcp_address = (tcp.host, tcp.port)

    def send(self, data: bytes) -> None:
        """Send AT output: queued for each front door, lost only while the port is down."""
        if not self.is_up:
            return
        self._record("modem->host", data)
        for link in self._links():
            link.send(data)

    def offer(self, data: bytes) -> bool:
        """Send a whole audio frame to each front door with room for it; False if none had."""
        taken = False
        for link in self._links():
            if link.has_room:
                link.send(data)
                taken = True
        if taken:
            self._record("modem->host", data)
        return taken

    async def wait_room(self) -> None:
        """Wait until some front door could take a frame at once."""
        while not any(link.has_room for link in self._links()):
            self._room.clear()
            await self._room.wait()

    async def drop(self) -> None:
        """Vanish like a USB device: close pty master and symlink, TCP client and listener."""
        if self.pty is not None:
            self.pty.close()
            self.pty = None
            if (link := self.link_path) is not None:
                link.unlink(missing_ok=True)
        if self.tcp is not None:
            await self.tcp.close()
            self.tcp = None

    async def restore(self) -> None:
        """Come back: a new pty (the symlink follows it) and TCP on the same port number."""
        if self._link_dir is not None and self.pty is None:
            self._open_pty()
        if self._tcp_address is not None and self.tcp is None:
            await self.open_tcp(*self._tcp_address)

    async def close(self) -> None:
        """Close every front door for good."""
        await self.drop()
        self._link_dir = None
        self._tcp_address = None

    def _open_pty(self) -> None:
        assert self._link_dir is not None
        self.pty = PtyLink(self._received, self._room.set)
        link = self._link_dir / self.link_name
        staging = link.with_name(link.name + ".new")
        staging.unlink(missing_ok=True)
        staging.symlink_to(self.pty.path)
        os.replace(staging, link)
        self._room.set()

    def _links(self) -> list[PtyLink | TcpLink]:
        return [link for link in (self.pty, self.tcp) if link is not None]

    def _received(self, data: bytes) -> None:
        self._record("host->modem", data)
        self._on_data(data)

    def _record(self, direction: Direction, data: bytes) -> None:
        time = asyncio.get_running_loop().time()
        self._transcript.append(TranscriptEntry(time, self.name, direction, data))
