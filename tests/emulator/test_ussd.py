"""USSD through AT+CUSD (sim7600.md section 7)."""

from __future__ import annotations

import pytest

from sim7600_emulator import Sim7600Emulator, UssdReply

from .conftest import HostFactory
from .host import HostPort


@pytest.fixture
async def ussd_at(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    at = open_host(emu.at_path)
    await at.command("ATE0")
    return at


async def test_known_code_is_answered_after_ok(emu: Sim7600Emulator, ussd_at: HostPort) -> None:
    text = emu.identity.ussd_texts[0]
    emu.ussd_responses["*100#"] = UssdReply(0, text)
    assert await ussd_at.command('AT+CUSD=1,"*100#",15') == b"\r\nOK\r\n"
    assert await ussd_at.expect(b",15\r\n") == f'\r\n+CUSD: 0,"{text}",15\r\n'.encode()
    assert await ussd_at.command("AT+CUSD?") == b"\r\n+CUSD: 1\r\n\r\nOK\r\n"


async def test_ucs2_reply_and_hex_charset(emu: Sim7600Emulator, ussd_at: HostPort) -> None:
    emu.ussd_responses["*101#"] = UssdReply(0, "Баланс 5 €", dcs=72)
    emu.ussd_responses["*102#"] = UssdReply(0, "Hi@", dcs=15)
    await ussd_at.command('AT+CUSD=1,"*101#",15')
    hex_text = "Баланс 5 €".encode("utf-16-be").hex().upper()
    assert await ussd_at.expect(b",72\r\n") == f'\r\n+CUSD: 0,"{hex_text}",72\r\n'.encode()
    await ussd_at.command('AT+CSCS="HEX"')
    await ussd_at.command('AT+CUSD=1,"2A31303223",15')  # "*102#" in HEX
    assert await ussd_at.expect(b",15\r\n") == b'\r\n+CUSD: 0,"486900",15\r\n'


async def test_unknown_code_session_and_cancel(emu: Sim7600Emulator, ussd_at: HostPort) -> None:
    await ussd_at.command('AT+CUSD=1,"*999#"')
    assert await ussd_at.expect(b"+CUSD: 4\r\n") == b"\r\n+CUSD: 4\r\n"
    emu.ussd_responses["*200#"] = UssdReply(1, "1 Balance 2 Data")
    emu.ussd_responses["2"] = UssdReply(0, "Data left 3 GB")
    await ussd_at.command('AT+CUSD=1,"*200#",15')
    await ussd_at.expect(b'+CUSD: 1,"1 Balance 2 Data",15\r\n')
    await ussd_at.command('AT+CUSD=1,"2",15')
    await ussd_at.expect(b'+CUSD: 0,"Data left 3 GB",15\r\n')
    assert not emu.ussd_session_open
    await ussd_at.command('AT+CUSD=1,"*200#",15')
    await ussd_at.expect(b",15\r\n")
    assert emu.ussd_session_open
    assert await ussd_at.command("AT+CUSD=2") == b"\r\nOK\r\n"
    assert not emu.ussd_session_open
    assert await ussd_at.settle(0.05) == b""


async def test_network_push_needs_presentation(emu: Sim7600Emulator, ussd_at: HostPort) -> None:
    await emu.ussd_push(2, "Welcome")
    assert await ussd_at.settle() == b""
    await ussd_at.command("AT+CUSD=1")
    await emu.ussd_push(2, "Welcome")
    welcome = b'\r\n+CUSD: 2,"Welcome",15\r\n'
    assert await ussd_at.expect(welcome) == welcome
    await emu.ussd_push(2)
    assert await ussd_at.expect(b"\r\n+CUSD: 2\r\n") == b"\r\n+CUSD: 2\r\n"


async def test_ussd_needs_network(emu: Sim7600Emulator, ussd_at: HostPort) -> None:
    await ussd_at.command("AT+CMEE=1")
    await emu.set_registration(0)
    assert await ussd_at.command('AT+CUSD=1,"*100#",15') == b"\r\n+CME ERROR: 30\r\n"
