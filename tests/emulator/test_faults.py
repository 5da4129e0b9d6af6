"""Ports that vanish and return, reboots and resets (sim7600.md sections 1 and 9)."""

from __future__ import annotations

import asyncio

import pytest

from sim7600_emulator import Sim7600Emulator, Variants
from tests.helpers import until

from .conftest import EmulatorFactory, HostFactory
from .host import link_target

BOOT = b"\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n"
"""What the module says on the AT port as it boots."""


async def test_dropped_pty_gives_eof_and_returns_behind_the_same_link(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    link = emu.at_link
    assert link.endswith(
        "/usb-SimTech__Incorporated_SimTech__Incorporated_0123456789ABCDEF-if02-port0"
    )
    assert emu.audio_link.endswith("-if04-port0")
    assert link_target(link) == emu.at_path
    at = open_host(link)
    await emu.drop_port("at")
    await at.wait_until(lambda: at.eof)
    assert link_target(link) is None
    assert link_target(emu.audio_link) == emu.audio_path
    await emu.restore_port("at")
    assert link_target(link) == emu.at_path
    again = open_host(link)
    assert await again.command("AT") == b"AT\r\r\nOK\r\n"


async def test_drop_both_and_restore(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    audio = open_host(emu.audio_link)
    await emu.drop_port("both")
    await audio.wait_until(lambda: audio.eof)
    await emu.restore_port("both")
    audio = open_host(emu.audio_link)
    audio.write(b"\x00\x01")
    await until(lambda: len(emu.audio_received) >= 2)
    assert emu.audio_received == b"\x00\x01"


async def test_reboot_resets_settings_and_keeps_sms(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    at = open_host(emu.at_path)
    for command in ("ATE0", "AT+CMEE=2", "AT+CLIP=1", "AT+CLCC=1"):
        await at.command(command)
    await emu.deliver_sms("+4915551000001", "kept")
    await emu.incoming_call("+4915551000001")
    await at.command("ATA")
    await at.command("AT+CPCMREG=1")
    await at.settle()
    await emu.reboot()
    assert await at.expect(BOOT) == BOOT
    assert emu.call is None
    settings = emu.settings
    assert (settings.echo, settings.cmee, settings.clip, settings.clcc) == (True, 0, 0, 0)
    assert await at.command("AT+CPCMREG?") == b"AT+CPCMREG?\r\r\n+CPCMREG: 0\r\n\r\nOK\r\n"
    assert emu.sms_storage[0].message.text == "kept"


async def test_reboot_without_rdy_and_with_a_pin(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(boot_rdy=False, boot_delay=0.01))
    at = open_host(emu.at_path)
    emu.set_sim("pin")
    await emu.reboot()
    assert await at.expect(b"\r\n+CPIN: SIM PIN\r\n") == b"\r\n+CPIN: SIM PIN\r\n"


async def test_commands_during_boot_are_lost(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = open_host(emu.at_path)
    reboot = asyncio.ensure_future(emu.reboot())
    await asyncio.sleep(0.01)
    at.send("AT+CSQ")
    await reboot
    assert await at.expect(BOOT) == BOOT
    assert emu.commands == []


@pytest.mark.parametrize("command", ["AT+CRESET", "AT+CFUN=1,1"])
async def test_reset_reenumerates_the_ports(
    emu: Sim7600Emulator, open_host: HostFactory, command: str
) -> None:
    at = open_host(emu.at_link)
    assert await at.command(command) == f"{command}\r\r\nOK\r\n".encode()
    await at.wait_until(lambda: at.eof)
    assert link_target(emu.at_link) is None
    async with asyncio.timeout(1):
        while link_target(emu.at_link) is None:  # back after boot_delay
            await asyncio.sleep(0.005)
    fresh = open_host(emu.at_link)
    assert await fresh.expect(b"PB DONE\r\n") == (
        b"\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n"
    )
    assert link_target(emu.at_link) == emu.at_path
    assert await fresh.command("AT") == b"AT\r\r\nOK\r\n"


async def test_garbage_on_the_audio_port(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    audio = open_host(emu.audio_path)
    await emu.send_garbage(b"\x7f" * 7, port="audio")
    assert await audio.expect(b"\x7f" * 7) == b"\x7f" * 7
    assert [entry.port for entry in emu.transcript] == ["audio"]
