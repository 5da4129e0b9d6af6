"""SIM unlocking, registration, signal and power (sim7600.md section 8)."""

from __future__ import annotations

import pytest

from sim7600_emulator import Sim7600Emulator

from .conftest import HostFactory
from .host import HostPort


@pytest.fixture
async def quiet(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    at = open_host(emu.at_path)
    await at.command("ATE0")
    await at.command("AT+CMEE=1")
    return at


async def test_correct_pin_unlocks_with_the_sim_banner(
    emu: Sim7600Emulator, quiet: HostPort
) -> None:
    emu.set_sim("pin")
    assert await quiet.command("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    assert await quiet.command("AT+CIMI") == b"\r\n+CME ERROR: 11\r\n"
    assert await quiet.command(f'AT+CPIN="{emu.identity.pin}"') == b"\r\nOK\r\n"
    assert await quiet.expect(b"PB DONE\r\n") == (
        b"\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n"
    )
    assert await quiet.command("AT+CPIN?") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    assert await quiet.command('AT+CPIN="1234"') == b"\r\n+CME ERROR: 3\r\n"


async def test_wrong_pins_lead_to_puk_and_puk_sets_a_new_pin(
    emu: Sim7600Emulator, quiet: HostPort
) -> None:
    emu.set_sim("pin")
    await quiet.command("AT+CMEE=2")
    for remaining in (2, 1, 0):
        assert await quiet.command('AT+CPIN="00000000"') == (
            b"\r\n+CME ERROR: incorrect password\r\n"
        )
        assert emu.sim.pin_attempts == remaining
    assert await quiet.command("AT+CPIN?") == b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
    assert await quiet.command("AT+SPIC") == b"\r\n+SPIC: 0,10,3,10\r\n\r\nOK\r\n"
    assert await quiet.command(f'AT+CPIN="{emu.identity.pin}"') == (
        b"\r\n+CME ERROR: SIM PUK required\r\n"
    )
    assert await quiet.command('AT+CPIN="11111111","4321"') == (
        b"\r\n+CME ERROR: incorrect password\r\n"
    )
    assert emu.sim.puk_attempts == 9
    assert await quiet.command(f'AT+CPIN="{emu.identity.puk}","4321"') == b"\r\nOK\r\n"
    await quiet.expect(b"PB DONE\r\n")
    assert emu.sim.pin == "4321"
    assert emu.sim.state == "ready"


async def test_absent_sim(emu: Sim7600Emulator, quiet: HostPort) -> None:
    emu.set_sim("absent")
    assert await quiet.command("AT+CPIN?") == b"\r\n+CME ERROR: 10\r\n"
    assert await quiet.command("AT+CIMI") == b"\r\n+CME ERROR: 10\r\n"
    await quiet.command("AT+CMEE=2")
    assert await quiet.command("AT+CPIN?") == b"\r\n+CME ERROR: SIM not inserted\r\n"
    assert await quiet.command("AT+CEREG?") == b"\r\n+CEREG: 0,0\r\n\r\nOK\r\n"


async def test_signal_quality(emu: Sim7600Emulator, quiet: HostPort) -> None:
    assert await quiet.command("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    await emu.set_signal(16)
    assert await quiet.command("AT+CSQ") == b"\r\n+CSQ: 16,99\r\n\r\nOK\r\n"
    await emu.set_signal(99, 99)
    assert await quiet.command("AT+CSQ") == b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    with pytest.raises(ValueError, match="rssi"):
        await emu.set_signal(40)


async def test_registration_reads_and_urcs(emu: Sim7600Emulator, quiet: HostPort) -> None:
    assert await quiet.command("AT+CREG?") == b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"
    await quiet.command("AT+CEREG=2")
    assert await quiet.command("AT+CEREG?") == (
        b'\r\n+CEREG: 2,1,"3F29","055A7817",7\r\n\r\nOK\r\n'
    )
    await quiet.command("AT+CREG=1")
    await emu.set_registration(5, cs_stat=3)
    roaming = b'\r\n+CREG: 3\r\n\r\n+CEREG: 5,"3F29","055A7817",7\r\n'
    assert await quiet.expect(roaming) == roaming
    assert await quiet.command("AT+CGREG?") == b"\r\n+CGREG: 0,5\r\n\r\nOK\r\n"
    await emu.set_registration(2)
    searching = b"\r\n+CREG: 2\r\n\r\n+CEREG: 2\r\n"
    assert await quiet.expect(searching) == searching
    await emu.set_registration(1, tech="WCDMA")
    home_on_wcdma = b"\r\n+CREG: 1\r\n\r\n+CEREG: 0\r\n"  # no LTE: no EPS
    assert await quiet.expect(home_on_wcdma) == home_on_wcdma
    assert await quiet.command("AT+CNSMOD?") == b"\r\n+CNSMOD: 0,4\r\n\r\nOK\r\n"


async def test_operator_and_serving_cell(emu: Sim7600Emulator, quiet: HostPort) -> None:
    assert await quiet.command("AT+COPS?") == b'\r\n+COPS: 0,0,"Callstack Test",7\r\n\r\nOK\r\n'
    emu.operator = "T-Mobile EIOTCLUB"
    await quiet.command("AT+COPS=3,2")
    assert await quiet.command("AT+COPS?") == b'\r\n+COPS: 0,2,"00101",7\r\n\r\nOK\r\n'
    assert await quiet.command("AT+CPSI?") == (
        b"\r\n+CPSI: LTE,Online,001-01,0x3F29,89815063,125,EUTRAN-BAND12,5035,2,2,"
        b"-196,-1167,-730,7\r\n\r\nOK\r\n"
    )
    assert await quiet.command("AT+CNSMOD?") == b"\r\n+CNSMOD: 0,8\r\n\r\nOK\r\n"
    await emu.set_registration(2)
    assert await quiet.command("AT+CPSI?") == b"\r\n+CPSI: NO SERVICE,Online\r\n\r\nOK\r\n"
    assert await quiet.command("AT+COPS?") == b"\r\n+COPS: 0\r\n\r\nOK\r\n"


async def test_cfun_powers_radio_and_sim(emu: Sim7600Emulator, quiet: HostPort) -> None:
    await quiet.command("AT+CEREG=1")
    assert await quiet.command("AT+CFUN=0") == b"\r\nOK\r\n"
    radio_off = b"\r\n+SIMCARD: NOT AVAILABLE\r\n\r\n+CEREG: 0\r\n"
    assert await quiet.expect(radio_off) == radio_off
    assert await quiet.command("AT+CFUN?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"
    assert await quiet.command("AT+CPIN?") == b"\r\n+CME ERROR: 10\r\n"
    assert await quiet.command("AT+CFUN=1") == b"\r\nOK\r\n"
    assert await quiet.expect(b"+CEREG: 1\r\n") == (
        b"\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n\r\n+CEREG: 1\r\n"
    )


async def test_cfun4_ends_a_call(emu: Sim7600Emulator, quiet: HostPort) -> None:
    await emu.incoming_call("+4915551000001")
    await quiet.command("ATA")
    await quiet.settle()
    await quiet.command("AT+CFUN=4")
    ended = b"\r\nVOICE CALL: END: 000000\r\n\r\nNO CARRIER\r\n"
    assert await quiet.expect(ended) == ended
    assert emu.call is None
