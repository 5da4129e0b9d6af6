"""Fixtures of the config flow tests (all prefixed ``flow_``).

The modem itself comes from the project's SIM7600 emulator; the tiny PTY responder here
only plays the devices the emulator cannot be: a port where nothing answers, and a modem
of another brand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
import contextlib
import os
from pathlib import Path
import tty
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
import pytest

from custom_components.callstack import unique_id

Replies = Callable[[str], list[str] | None]

# The installation's unique ID key in every Home Assistant test (see unique_id.py).
UNIQUE_ID_KEY = bytes(range(32))


def modem_unique_id(imei: str) -> str:
    """The unique ID a flow gives the modem with ``imei`` under the tests' key."""
    return unique_id.modem_unique_id(UNIQUE_ID_KEY, imei)


@pytest.fixture(autouse=True)
def unique_id_key(hass_storage: dict[str, Any]) -> bytes:
    """A known unique ID key in ``.storage``, so tests can name the IDs flows compute."""
    hass_storage[unique_id.STORAGE_KEY] = {
        "version": unique_id.STORAGE_VERSION,
        "minor_version": 1,
        "key": unique_id.STORAGE_KEY,
        "data": {"key": UNIQUE_ID_KEY.hex()},
    }
    return UNIQUE_ID_KEY


class FlowPtyResponder:
    """A PTY that answers each AT command line with the lines ``replies`` returns.

    ``replies(command)`` returns the lines to send (framed as ``\\r\\n<line>\\r\\n``), or
    None to stay silent. The slave side stays open here too, so the master never sees EIO
    when the code under test closes the port.
    """

    def __init__(self, replies: Replies) -> None:
        self._replies = replies
        self._master = -1
        self._slave = -1
        self._buffer = b""
        self.commands: list[str] = []
        self.path = ""

    def start(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        asyncio.get_running_loop().add_reader(self._master, self._on_readable)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return
        self._buffer += data
        while b"\r" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\r")
            command = line.strip(b"\n").decode(errors="replace").strip()
            if not command:
                continue
            self.commands.append(command)
            reply = self._replies(command)
            if reply is not None:
                os.write(self._master, b"".join(f"\r\n{item}\r\n".encode() for item in reply))

    def stop(self) -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
async def flow_pty_factory() -> AsyncGenerator[Callable[[Replies], FlowPtyResponder]]:
    """Start PTY responders on demand; all of them stop after the test."""
    started: list[FlowPtyResponder] = []

    def factory(replies: Replies) -> FlowPtyResponder:
        responder = FlowPtyResponder(replies)
        responder.start()
        started.append(responder)
        return responder

    yield factory
    for responder in started:
        responder.stop()


@pytest.fixture
async def flow_silent_port(
    flow_pty_factory: Callable[[Replies], FlowPtyResponder],
) -> FlowPtyResponder:
    """A serial port where nothing ever answers."""
    return flow_pty_factory(lambda command: None)


@pytest.fixture
async def flow_quectel_port(
    flow_pty_factory: Callable[[Replies], FlowPtyResponder],
) -> FlowPtyResponder:
    """A modem that answers AT but is not a SIMCom."""

    def replies(command: str) -> list[str]:
        if command.upper() == "AT+CGMI":
            return ["Quectel", "OK"]
        return ["OK"]

    return flow_pty_factory(replies)


@pytest.fixture
async def flow_broken_port(
    flow_pty_factory: Callable[[Replies], FlowPtyResponder],
) -> FlowPtyResponder:
    """Something that answers ``AT`` but refuses everything else."""
    return flow_pty_factory(lambda command: ["OK"] if command.upper() == "AT" else ["ERROR"])


@pytest.fixture
def flow_usb_component(hass: HomeAssistant) -> None:
    """Mark HA's usb component as set up, so a flow does not start its USB watchers."""
    hass.config.components.add("usb")


@pytest.fixture
def flow_mock_setup_entry() -> Generator[AsyncMock]:
    """Creating an entry in a flow test does not set the integration up.

    Every (re)load of an entry awaits the mock, so tests count reloads with it.
    """
    with patch(
        "custom_components.callstack.async_setup_entry", new=AsyncMock(return_value=True)
    ) as mock:
        yield mock


@pytest.fixture
def flow_fast_probe() -> Generator[None]:
    """Shorten the probe's per-command timeout: a silent port fails in about 0.6 s, not 6 s."""
    with patch("custom_components.callstack.config_flow.PROBE_COMMAND_TIMEOUT", 0.2):
        yield


@pytest.fixture
def flow_by_id_dir(tmp_path: Path) -> Path:
    """A stand-in for /dev/serial/by-id."""
    path = tmp_path / "by-id"
    path.mkdir()
    return path


@pytest.fixture
async def flow_emulator() -> AsyncGenerator[Any]:
    """The project's SIM7600 emulator on a PTY pair, with by-id style links."""
    from sim7600_emulator import Identity, Sim7600Emulator

    emulator = Sim7600Emulator(identity=Identity.seeded(0))
    await emulator.start_pty()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def flow_emulator_tcp(socket_enabled: None) -> AsyncGenerator[Any]:
    """A second emulator (another IMEI) served over TCP, as ser2net would."""
    from sim7600_emulator import Identity, Sim7600Emulator

    emulator = Sim7600Emulator(identity=Identity.seeded(1))
    await emulator.start_tcp()
    try:
        yield emulator
    finally:
        await emulator.stop()
