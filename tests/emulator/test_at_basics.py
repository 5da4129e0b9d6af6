"""Line protocol, echo, identity answers and error reporting (sim7600.md section 2)."""

from __future__ import annotations

import asyncio
import re

import pytest

from sim7600_emulator import Sim7600Emulator, Variants

from .conftest import EmulatorFactory, HostFactory
from .host import HostPort


async def test_echo_returns_the_command_and_cr_until_ate0(at: HostPort) -> None:
    assert await at.command("AT") == b"AT\r\r\nOK\r\n"
    assert await at.command("ATE0") == b"ATE0\r\r\nOK\r\n"
    assert await at.command("AT") == b"\r\nOK\r\n"
    assert await at.command("ATE1") == b"\r\nOK\r\n"
    assert await at.command("at") == b"at\r\r\nOK\r\n"


async def test_crlf_terminated_lines_and_pipelined_commands(at: HostPort) -> None:
    at.write(b"ATE0\r\nAT+CSQ\r\nAT+CGMM\r\n")
    assert await at.expect(b"SIMCOM_SIM7600G-H\r\n\r\nOK\r\n") == (
        b"ATE0\r\r\nOK\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\nSIMCOM_SIM7600G-H\r\n\r\nOK\r\n"
    )
    assert await at.settle() == b""


async def test_ati_lists_identity_with_the_imei(emu: Sim7600Emulator, at: HostPort) -> None:
    at.send("ATE0")
    await at.final()
    assert await at.command("ATI") == (
        b"\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7600G-H\r\n"
        b"Revision: LE20B04SIM7600G22\r\nIMEI: " + emu.identity.imei.encode() + b"\r\n"
        b"+GCAP: +CGSM\r\n\r\nOK\r\n"
    )


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("AT+CGMI", "SIMCOM INCORPORATED"),
        ("AT+CGMM", "SIMCOM_SIM7600G-H"),
        ("AT+CGMR", "+CGMR: LE20B04SIM7600G22"),
        ("AT+CSUB", "+CSUB: B04V03"),
        ("AT+GMR", "+GMR: LE20B04SIM7600G22"),
    ],
)
async def test_identity_commands(at: HostPort, command: str, line: str) -> None:
    assert await at.command(command) == f"{command}\r\r\n{line}\r\n\r\nOK\r\n".encode()


async def test_pii_commands_answer_bare_lines(emu: Sim7600Emulator, at: HostPort) -> None:
    identity = emu.identity
    assert await at.command("AT+CGSN") == f"AT+CGSN\r\r\n{identity.imei}\r\n\r\nOK\r\n".encode()
    assert await at.command("AT+CIMI") == f"AT+CIMI\r\r\n{identity.imsi}\r\n\r\nOK\r\n".encode()
    assert await at.command("AT+CICCID") == (
        f"AT+CICCID\r\r\n+ICCID: {identity.iccid}\r\n\r\nOK\r\n".encode()
    )
    assert await at.command("AT+CNUM") == (
        f'AT+CNUM\r\r\n+CNUM: "","{identity.msisdn}",145\r\n\r\nOK\r\n'.encode()
    )


async def test_cnum_variant_answers_only_ok(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(cnum_reports_number=False))
    at = open_host(emu.at_path)
    assert await at.command("AT+CNUM") == b"AT+CNUM\r\r\nOK\r\n"
    assert await at.command("AT+GMR") == b"AT+GMR\r\r\n+GMR: LE20B04SIM7600G22\r\n\r\nOK\r\n"


async def test_gmx_variant_leaves_v250_aliases_unknown(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(gmx_commands=False))
    at = open_host(emu.at_path)
    assert await at.command("AT+GMI") == b"AT+GMI\r\r\nERROR\r\n"


async def test_cmee_selects_plain_numeric_or_text_errors(at: HostPort) -> None:
    at.send("ATE0")
    await at.final()
    assert await at.command("AT+CMEE?") == b"\r\n+CMEE: 0\r\n\r\nOK\r\n"
    assert await at.command("AT+VTS=1") == b"\r\nERROR\r\n"
    await at.command("AT+CMEE=1")
    assert await at.command("AT+VTS=1") == b"\r\n+CME ERROR: 3\r\n"
    await at.command("AT+CMEE=2")
    assert await at.command("AT+VTS=1") == b"\r\n+CME ERROR: operation not allowed\r\n"
    assert await at.command("AT+CMEE=7") == b"\r\n+CME ERROR: incorrect parameters\r\n"


async def test_cmee_default_is_a_variant(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(cmee_default=2))
    at = open_host(emu.at_path)
    assert await at.command("AT+CMEE?") == b"AT+CMEE?\r\r\n+CMEE: 2\r\n\r\nOK\r\n"


async def test_unknown_and_malformed_commands_are_plain_errors(
    emu: Sim7600Emulator, at: HostPort
) -> None:
    await at.command("AT+CMEE=2")
    assert await at.command("AT+FOO") == b"AT+FOO\r\r\nERROR\r\n"
    assert await at.command('AT+CSCS="GSM') == b'AT+CSCS="GSM\r\r\nERROR\r\n'
    assert await at.command("AT+CPIN??") == b"AT+CPIN??\r\r\nERROR\r\n"
    assert await at.command("ATE5") == b"ATE5\r\r\nERROR\r\n"
    assert await at.command("xxAT") == b"xxAT\r\r\nOK\r\n"  # the module hunts for "AT"
    assert emu.commands[1:] == ["AT+FOO", 'AT+CSCS="GSM', "AT+CPIN??", "ATE5", "AT"]


async def test_lines_without_at_are_echoed_and_ignored(emu: Sim7600Emulator, at: HostPort) -> None:
    at.send("hello")
    assert await at.command("AT") == b"hello\rAT\r\r\nOK\r\n"
    assert emu.commands == ["AT"]


async def test_commands_and_transcript_are_recorded(emu: Sim7600Emulator, at: HostPort) -> None:
    await at.command("at+csq")
    assert emu.commands == ["at+csq"]
    host_bytes = b"".join(
        e.data for e in emu.transcript if e.port == "at" and e.direction == "host->modem"
    )
    modem_bytes = b"".join(
        e.data for e in emu.transcript if e.port == "at" and e.direction == "modem->host"
    )
    assert host_bytes == b"at+csq\r"
    assert modem_bytes == b"at+csq\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    times = [entry.time for entry in emu.transcript]
    assert times == sorted(times)


async def test_wait_for_command_sees_past_and_future_commands(
    emu: Sim7600Emulator, at: HostPort
) -> None:
    await at.command("AT+CSQ")
    assert await emu.wait_for_command("at+csq") == "AT+CSQ"
    waiter = asyncio.ensure_future(emu.wait_for_command("AT+CSQ", after=len(emu.commands)))
    await asyncio.sleep(0.02)
    assert not waiter.done()
    at.send("AT+CSQ")
    assert await waiter == "AT+CSQ"
    with pytest.raises(TimeoutError):
        await emu.wait_for_command("AT+NEVER", timeout=0.05)


async def test_hang_command_gives_no_answer_at_all(emu: Sim7600Emulator, at: HostPort) -> None:
    emu.hang_command("AT+CSQ", times=2)
    at.send("AT+CSQ")
    at.send("at+csq")
    assert await at.command("AT+CSQ") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert emu.commands == ["AT+CSQ", "at+csq", "AT+CSQ"]


async def test_delay_final_holds_back_only_the_result_code(
    emu: Sim7600Emulator, at: HostPort
) -> None:
    emu.delay_final("AT+CSQ", 0.3)
    at.send("AT+CSQ")
    assert await at.expect(b"+CSQ: 20,99\r\n") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n"
    assert await at.settle(0.1) == b""
    assert await at.expect(b"OK\r\n", timeout=1) == b"\r\nOK\r\n"
    assert await at.command("AT+CSQ") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"  # once


async def test_send_garbage_reaches_the_host_verbatim(emu: Sim7600Emulator, at: HostPort) -> None:
    await emu.send_garbage(b"\x00\xff\r\nOK\r")
    assert await at.expect(b"OK\r") == b"\x00\xff\r\nOK\r"


async def test_clock_reports_network_time_or_the_unsynced_epoch(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    synced = open_host((await make_emulator()).at_path)
    reply = await synced.command("AT+CCLK?")
    # yy/MM/dd,hh:mm:ss+08: network time is UTC+2, the zone counted in quarter hours
    assert re.fullmatch(
        rb'AT\+CCLK\?\r\r\n\+CCLK: "\d\d/\d\d/\d\d,\d\d:\d\d:\d\d\+08"\r\n\r\nOK\r\n', reply
    )
    emu = await make_emulator(variants=Variants(clock_unsynced=True, boot_delay=0.01))
    unsynced = open_host(emu.at_path)
    assert b'+CCLK: "80/01/06,00:00:0' in await unsynced.command("AT+CCLK?")
