"""The TCP front door, like ser2net in raw mode (loopback only)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from urllib.parse import urlsplit

import pytest

from sim7600_emulator import Sim7600Emulator, test_signal
from tests.helpers import until

from .conftest import FAST, HostFactory
from .host import HostPort

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def tcp_emu() -> AsyncGenerator[Sim7600Emulator]:
    emu = Sim7600Emulator(variants=FAST, audio_speed=10)
    await emu.start_tcp()
    yield emu
    await emu.stop()


async def test_at_over_tcp(tcp_emu: Sim7600Emulator) -> None:
    assert tcp_emu.at_url.startswith("socket://127.0.0.1:")
    at = await HostPort.open_tcp(tcp_emu.at_url)
    try:
        assert await at.command("AT+CGMM") == b"AT+CGMM\r\r\nSIMCOM_SIM7600G-H\r\n\r\nOK\r\n"
    finally:
        at.close()


async def test_a_second_client_is_turned_away(tcp_emu: Sim7600Emulator) -> None:
    first = await HostPort.open_tcp(tcp_emu.at_url)
    second = await HostPort.open_tcp(tcp_emu.at_url)
    try:
        await second.wait_until(lambda: second.eof)
        assert await first.command("AT") == b"AT\r\r\nOK\r\n"
    finally:
        first.close()
        second.close()
    await asyncio.sleep(0.02)
    third = await HostPort.open_tcp(tcp_emu.at_url)
    try:
        assert await third.command("AT") == b"AT\r\r\nOK\r\n"
    finally:
        third.close()


async def test_call_audio_over_tcp(tcp_emu: Sim7600Emulator) -> None:
    at = await HostPort.open_tcp(tcp_emu.at_url)
    audio = await HostPort.open_tcp(tcp_emu.audio_url)
    try:
        await asyncio.sleep(0.02)
        await tcp_emu.incoming_call("+4915551000001")
        await at.expect(b"RING\r\n")
        await at.command("ATA")
        await at.command("AT+CPCMREG=1")
        await audio.wait_until(lambda: len(audio.data) >= 20 * 320)
        await at.command("AT+CPCMREG=0")
        await audio.wait_until(lambda: len(audio.data) >= len(tcp_emu.audio_sent))
        assert audio.data == test_signal(0, len(audio.data) // 2)
        audio.write(b"\x05\x00" * 160)
        await until(lambda: len(tcp_emu.audio_received) >= 320)
        assert tcp_emu.audio_received == b"\x05\x00" * 160
    finally:
        at.close()
        audio.close()


async def test_drop_and_restore_listen_on_the_same_port(tcp_emu: Sim7600Emulator) -> None:
    url = tcp_emu.at_url
    at = await HostPort.open_tcp(url)
    await tcp_emu.drop_port("at")
    await at.wait_until(lambda: at.eof)
    at.close()
    parts = urlsplit(url)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(parts.hostname, parts.port)
    await tcp_emu.restore_port("at")
    assert tcp_emu.at_url == url
    again = await HostPort.open_tcp(url)
    try:
        assert await again.command("AT") == b"AT\r\r\nOK\r\n"
    finally:
        again.close()


async def test_pty_and_tcp_are_two_doors_to_one_modem(
    tcp_emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    await tcp_emu.start_pty()
    pty = open_host(tcp_emu.at_path)
    tcp = await HostPort.open_tcp(tcp_emu.at_url)
    try:
        await asyncio.sleep(0.02)
        await tcp.command("ATE0")
        assert await pty.expect(b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
        await tcp_emu.incoming_call("+4915551000001")
        assert await pty.expect(b"RING\r\n") == b"\r\nRING\r\n"
        assert await tcp.expect(b"RING\r\n") == b"\r\nRING\r\n"
    finally:
        tcp.close()
