"""Starting and stopping leaves nothing behind: no fd, socket, symlink or temporary directory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from sim7600_emulator import Sim7600Emulator

from .conftest import FAST
from .host import HostPort


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.usefixtures("socket_enabled")
async def test_stop_releases_everything() -> None:
    before = open_fds()
    emu = Sim7600Emulator(variants=FAST, audio_speed=10)
    await emu.start_pty()
    await emu.start_tcp()
    link_dir = Path(emu.at_link).parent
    host = HostPort.open_pty(emu.at_path)
    tcp = await HostPort.open_tcp(emu.audio_url)
    await emu.incoming_call("+4915551000001", ring_interval=10)
    assert await host.command("ATA") == b"\r\nRING\r\nATA\r\r\nVOICE CALL: BEGIN\r\n\r\nOK\r\n"
    await host.command("AT+CPCMREG=1")
    await tcp.wait_until(lambda: len(tcp.data) >= 3200)
    await emu.stop()
    await emu.stop()  # idempotent
    await host.wait_until(lambda: host.eof)
    await tcp.wait_until(lambda: tcp.eof)
    host.close()
    tcp.close()
    await asyncio.sleep(0)  # let the transport close its socket
    assert not link_dir.exists()
    with pytest.raises(RuntimeError):
        _ = emu.at_path
    assert open_fds() == before


async def test_context_manager_stops() -> None:
    async with Sim7600Emulator(variants=FAST) as emu:
        await emu.start_pty()
        link_dir = Path(emu.at_link).parent
        with pytest.raises(RuntimeError, match="already"):
            await emu.start_pty()
    assert not link_dir.exists()
    with pytest.raises(RuntimeError, match="start_pty"):
        _ = emu.at_link
