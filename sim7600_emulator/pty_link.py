"""A pseudo-terminal pair standing in for one of the module's ttyUSB devices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import os
import tty

_LOGGER = logging.getLogger(__name__)

MAX_PENDING = 1 << 20
"""Bytes kept for a host that does not read; beyond this the output is lost, like a full FIFO."""


class PtyLink:
    """The host opens `path` (the slave); the emulator reads and writes the master without blocking.

    The emulator also keeps the slave open, so its reads never fail with EIO while the host has
    the device closed, the way a USB tty stays present whether or not anyone has it open.
    """

    def __init__(self, on_data: Callable[[bytes], None], on_room: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_data = on_data
        self._on_room = on_room
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._pending = bytearray()
        self._loop.add_reader(self._master, self._read)

    @property
    def has_room(self) -> bool:
        """True when everything sent so far has reached the kernel, so a frame can go out whole."""
        return not self._pending

    def send(self, data: bytes) -> None:
        """Queue `data`; the kernel takes what fits now and the rest when the host reads."""
        if self._pending:
            if len(self._pending) + len(data) > MAX_PENDING:
                _LOGGER.debug("%s: host is not reading, dropping %d bytes", self.path, len(data))
                return
            self._pending += data
            return
        written = self._write(data)
        if written < len(data):
            self._pending += data[written:]
            self._loop.add_writer(self._master, self._flush)

    def close(self) -> None:
        """Close both ends: the host's reads now return EOF and its writes fail with EIO."""
        self._loop.remove_reader(self._master)
        self._loop.remove_writer(self._master)
        os.close(self._master)
        os.close(self._slave)
        self._pending.clear()

    def _read(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            _LOGGER.debug("%s: read failed", self.path, exc_info=True)
            return
        if data:
            self._on_data(data)

    def _write(self, data: bytes | bytearray) -> int:
        try:
            return os.write(self._master, data)
        except (BlockingIOError, InterruptedError):
            return 0

    def _flush(self) -> None:
        del self._pending[: self._write(self._pending)]
        if not self._pending:
            self._loop.remove_writer(self._master)
            self._on_room()
