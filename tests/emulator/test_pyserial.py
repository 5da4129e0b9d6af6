"""The ports work with the serial stack the integration uses (pyserial-asyncio-fast)."""

from __future__ import annotations

import asyncio

import pytest
import serial_asyncio_fast

from sim7600_emulator import Sim7600Emulator

from .conftest import FAST


async def exchange(url: str, line: bytes) -> bytes:
    reader, writer = await serial_asyncio_fast.open_serial_connection(url=url, baudrate=115200)
    try:
        writer.write(line)
        return await asyncio.wait_for(reader.readuntil(b"OK\r\n"), 2)
    finally:
        writer.close()


async def test_pyserial_over_the_pty_link(emu: Sim7600Emulator) -> None:
    assert await exchange(emu.at_link, b"AT+CGMM\r") == (
        b"AT+CGMM\r\r\nSIMCOM_SIM7600G-H\r\n\r\nOK\r\n"
    )


@pytest.mark.usefixtures("socket_enabled")
async def test_pyserial_socket_url() -> None:
    async with Sim7600Emulator(variants=FAST) as emu:
        await emu.start_tcp()
        assert await exchange(emu.at_url, b"AT\r") == b"AT\r\r\nOK\r\n"
