"""Voice call sequences of sim7600.md section 3, byte for byte on the AT port."""

from __future__ import annotations

import asyncio
import re

import pytest

from sim7600_emulator import CallStat, DialOutcome, Sim7600Emulator, Variants
from sim7600_emulator.control import execute

from .conftest import FAST, EmulatorFactory, HostFactory
from .host import HostPort

NUMBER = "+4915551000001"
CLCC = '+CLCC: 1,{dir},{stat},0,0,"+4915551000001",145'


def without_rings(data: bytes) -> bytes:
    """`data` without the RING and +CLIP lines a ringing call keeps sending meanwhile."""
    return re.sub(rb'\r\n(RING|\+CLIP: "[^"]*",\d+,,,,0)\r\n', b"", data)


def clcc(direction: int, stat: int) -> bytes:
    return b"\r\n" + CLCC.format(dir=direction, stat=stat).encode() + b"\r\n"


async def quiet_host(emu: Sim7600Emulator, open_host: HostFactory, *setup: str) -> HostPort:
    """The AT port with echo off and `setup` commands done."""
    at = open_host(emu.at_path)
    for command in ("ATE0", *setup):
        assert (await at.command(command)).endswith(b"\r\nOK\r\n")
    return at


@pytest.fixture
async def at_clcc(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    return await quiet_host(emu, open_host, "AT+CLCC=1", "AT+CLIP=1", "AT+CVHU=0")


async def test_outbound_answered_then_remote_hang_up(
    emu: Sim7600Emulator, at_clcc: HostPort
) -> None:
    emu.set_dial_outcome("answer", delay=0.02)
    at_clcc.send(f"ATD{NUMBER};")
    assert await at_clcc.expect(b"VOICE CALL: BEGIN\r\n") == (
        b"\r\nOK\r\n" + clcc(0, 2) + clcc(0, 3) + b"\r\nVOICE CALL: BEGIN\r\n"
    )
    assert await at_clcc.expect(clcc(0, 0)) == clcc(0, 0)
    assert emu.call is not None
    assert emu.call.stat is CallStat.ACTIVE
    await emu.remote_hang_up()
    ended = clcc(0, 6) + b"\r\nVOICE CALL: END: 000000\r\n\r\nNO CARRIER\r\n"
    assert await at_clcc.expect(ended) == ended
    assert emu.call is None
    assert await at_clcc.command("AT+CLCC") == b"\r\nOK\r\n"


async def test_inbound_answered_begin_before_ok(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    await emu.incoming_call(NUMBER, ring_interval=0.03)
    clip = b'\r\n+CLIP: "+4915551000001",145,,,,0\r\n'
    assert await at_clcc.expect(clcc(1, 4)) == b"\r\nRING\r\n" + clip + clcc(1, 4)
    assert await at_clcc.expect(clip) == b"\r\nRING\r\n" + clip
    assert await at_clcc.command("AT+CLCC") == clcc(1, 4) + b"\r\nOK\r\n"
    at_clcc.send("ATA")
    assert await at_clcc.expect(b"OK\r\n") == b"\r\nVOICE CALL: BEGIN\r\n\r\nOK\r\n"
    assert await at_clcc.expect(clcc(1, 0)) == clcc(1, 0)
    assert await at_clcc.settle(0.08) == b""  # and no more RINGs


async def test_inbound_answered_ok_before_begin(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(ata_begin_first=False))
    at = await quiet_host(emu, open_host)
    await emu.incoming_call("015551000001", ring_interval=5)
    assert await at.expect(b"\r\nRING\r\n") == b"\r\nRING\r\n"
    at.send("ATA")
    assert await at.expect(b"BEGIN\r\n") == b"\r\nOK\r\n\r\nVOICE CALL: BEGIN\r\n"


async def test_inbound_missed(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    await emu.incoming_call(NUMBER, ring_interval=0.03)
    await at_clcc.expect(b"\r\nRING\r\n")
    await at_clcc.expect(b"\r\nRING\r\n")
    await emu.missed_call()
    tail = without_rings(await at_clcc.expect(b" +4915551000001\r\n"))
    assert re.fullmatch(
        re.escape(clcc(1, 6)) + rb"\r\nMISSED_CALL: \d\d:\d\d[AP]M \+4915551000001\r\n", tail
    )
    assert await at_clcc.settle(0.08) == b""
    assert emu.call is None


async def test_clip_off_and_crc_on(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = await quiet_host(emu, open_host, "AT+CRC=1")
    await emu.incoming_call("015551000001")
    assert await at.expect(b"\r\n+CRING: VOICE\r\r\n") == b"\r\n+CRING: VOICE\r\r\n"
    assert await at.command("AT+CHUP") == b"\r\nOK\r\n"  # CLIP off: no +CLIP came
    await at.command("AT+CRC=0")
    await at.command("AT+CLIP=1")
    await emu.incoming_call("015551000001")
    assert (
        await at.expect(b'\r\nRING\r\n\r\n+CLIP: "015551000001",129,,,,0\r\n')
        == b'\r\nRING\r\n\r\n+CLIP: "015551000001",129,,,,0\r\n'
    )


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (FAST, b"\r\nOK\r\n\r\nVOICE CALL: END: 000000\r\n"),
        (
            Variants(hangup_ok_first=False, hangup_no_carrier=True),
            b"\r\nVOICE CALL: END: 000000\r\n\r\nOK\r\n\r\nNO CARRIER\r\n",
        ),
        (Variants(end_format="bare"), b"\r\nOK\r\n\r\nVOICE CALL: END\r\n"),
    ],
)
async def test_local_hang_up_orders(
    make_emulator: EmulatorFactory, open_host: HostFactory, variants: Variants, expected: bytes
) -> None:
    emu = await make_emulator(variants=variants)
    at = await quiet_host(emu, open_host)
    await emu.incoming_call(NUMBER)
    await at.command("ATA")
    await at.settle()
    at.send("AT+CHUP")
    assert await at.expect(expected[-12:]) == expected
    assert emu.call is None


async def test_end_duration_in_seconds_or_hhmmss(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    emu.set_dial_outcome("none")
    await at_clcc.command(f"ATD{NUMBER};")
    await emu.remote_answer()
    assert emu.call is not None
    emu.call.connected_at = (emu.call.connected_at or 0) - 3725  # an hour, two minutes, five s
    await at_clcc.settle()
    await at_clcc.command("AT+CHUP")
    assert (
        await at_clcc.expect(clcc(0, 6) + b"\r\nVOICE CALL: END: 003725\r\n")
        == clcc(0, 6) + b"\r\nVOICE CALL: END: 003725\r\n"
    )


async def test_end_hhmmss_variant(make_emulator: EmulatorFactory, open_host: HostFactory) -> None:
    emu = await make_emulator(variants=Variants(end_format="hhmmss"))
    at = await quiet_host(emu, open_host)
    await emu.incoming_call(NUMBER)
    await at.command("ATA")
    assert emu.call is not None
    emu.call.connected_at = (emu.call.connected_at or 0) - 3725
    await emu.remote_hang_up()
    assert (
        await at.expect(b"\r\nVOICE CALL: END: 010205\r\n\r\nNO CARRIER\r\n")
        == b"\r\nVOICE CALL: END: 010205\r\n\r\nNO CARRIER\r\n"
    )


async def test_ath_needs_cvhu0(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = await quiet_host(emu, open_host)
    await emu.incoming_call(NUMBER)
    await at.command("ATA")
    assert await at.command("ATH") == b"\r\nOK\r\n"
    assert emu.call is not None
    await at.command("AT+CVHU=0")
    assert await at.command("ATH") == b"\r\nOK\r\n"
    assert await at.expect(b"\r\nVOICE CALL: END: 000000\r\n") == b"\r\nVOICE CALL: END: 000000\r\n"
    assert emu.call is None


async def test_ath_variant_ends_calls_without_cvhu(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(ath_needs_cvhu0=False))
    at = await quiet_host(emu, open_host)
    await emu.incoming_call(NUMBER)
    await at.command("ATA")
    await at.command("ATH")
    assert emu.call is None


async def test_reject_incoming_call(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    await emu.incoming_call(NUMBER, ring_interval=0.03)
    await at_clcc.expect(clcc(1, 4))
    assert without_rings(await at_clcc.command("AT+CHUP")) == b"\r\nOK\r\n"
    assert await at_clcc.expect(clcc(1, 6)) == clcc(1, 6)
    assert await at_clcc.settle(0.08) == b""  # and the ringing has stopped
    assert emu.call is None


@pytest.mark.parametrize(
    ("kind", "result", "alerting"),
    [
        ("busy", "BUSY", False),
        ("no_answer", "NO ANSWER", True),
        ("no_carrier", "NO CARRIER", False),
    ],
)
@pytest.mark.parametrize("failed_dial_end", [False, True])
async def test_outbound_failures(
    make_emulator: EmulatorFactory,
    open_host: HostFactory,
    kind: str,
    result: str,
    alerting: bool,
    failed_dial_end: bool,
) -> None:
    emu = await make_emulator(variants=Variants(failed_dial_end=failed_dial_end))
    at = await quiet_host(emu, open_host, "AT+CLCC=1")
    emu.dial_outcome = DialOutcome(kind, 0.02)  # type: ignore[arg-type]
    at.send(f"ATD{NUMBER};")
    expected = b"\r\nOK\r\n" + clcc(0, 2) + (clcc(0, 3) if alerting else b"") + clcc(0, 6)
    if failed_dial_end:
        expected += b"\r\nVOICE CALL: END: 000000\r\n"
    expected += f"\r\n{result}\r\n".encode()
    assert await at.expect(f"{result}\r\n".encode()) == expected
    assert emu.call is None


async def test_dial_outcome_none_waits_for_remote_answer(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    at = await quiet_host(emu, open_host)
    emu.set_dial_outcome("none", delay=0.02)
    await at.command(f"ATD{NUMBER};")
    assert await at.settle(0.1) == b""
    assert emu.call is not None
    assert emu.call.stat is CallStat.ALERTING
    await emu.remote_answer()
    assert await at.expect(b"\r\nVOICE CALL: BEGIN\r\n") == b"\r\nVOICE CALL: BEGIN\r\n"


async def test_remote_hang_up_before_answer(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = await quiet_host(emu, open_host)
    emu.set_dial_outcome("none", delay=0)
    await at.command(f"ATD{NUMBER};")
    await emu.remote_hang_up()
    assert await at.expect(b"\r\nNO CARRIER\r\n") == b"\r\nNO CARRIER\r\n"


async def test_dial_errors(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = await quiet_host(emu, open_host, "AT+CMEE=1")
    assert await at.command(f"ATD{NUMBER}") == b"\r\nNO CARRIER\r\n"
    assert await at.command("ATDabc;") == b"\r\nERROR\r\n"
    await emu.set_registration(2)
    assert await at.command(f"ATD{NUMBER};") == b"\r\n+CME ERROR: 30\r\n"
    await emu.set_registration(1)
    emu.set_dial_outcome("none")
    await at.command(f"ATD{NUMBER};")
    assert await at.command(f"ATD{NUMBER};") == b"\r\n+CME ERROR: 3\r\n"


async def test_ata_without_a_call(at: HostPort) -> None:
    assert await at.command("ATA") == b"ATA\r\r\nNO CARRIER\r\n"


async def test_dtmf_both_ways(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    at = await quiet_host(emu, open_host, "AT+CMEE=1")
    assert await at.command("AT+VTS=1") == b"\r\n+CME ERROR: 3\r\n"
    with pytest.raises(RuntimeError):
        await emu.send_dtmf("1")
    await emu.incoming_call(NUMBER)
    await at.command("ATA")
    await at.settle()
    await emu.send_dtmf("5#")
    assert (
        await at.expect(b"\r\n+RXDTMF: 5\r\r\n\r\n+RXDTMF: #\r\r\n")
        == b"\r\n+RXDTMF: 5\r\r\n\r\n+RXDTMF: #\r\r\n"
    )
    for command in ("AT+VTS=1", 'AT+VTS="2"', "AT+VTS=#,5", 'AT+VTS="AB"'):
        assert await at.command(command) == b"\r\nOK\r\n"
    assert await at.command("AT+VTS=X") == b"\r\n+CME ERROR: 50\r\n"
    assert await at.command("AT+VTS=1,0") == b"\r\n+CME ERROR: 50\r\n"
    assert emu.dtmf_sent == "12#AB"
    assert await at.command("AT+VTD=3") == b"\r\nOK\r\n"
    assert await at.command("AT+VTD?") == b"\r\n+VTD: 3\r\n\r\nOK\r\n"
    assert await at.command("AT+DDET=1,0,0,0") == b"\r\nOK\r\n"


async def test_clcc_forms_and_call_settings(at: HostPort) -> None:
    assert await at.command("AT+CLCC=?") == b"AT+CLCC=?\r\r\n+CLCC: (0-1)\r\n\r\nOK\r\n"
    assert await at.command("AT+CLCC") == b"AT+CLCC\r\r\nOK\r\n"
    assert await at.command("AT+CLCC=1") == b"AT+CLCC=1\r\r\nOK\r\n"
    assert await at.command("AT+CLCC?") == b"AT+CLCC?\r\r\n+CLCC: 1\r\n\r\nOK\r\n"
    assert await at.command("AT+CLIP?") == b"AT+CLIP?\r\r\n+CLIP: 0,1\r\n\r\nOK\r\n"
    assert await at.command("AT+COLP=1") == b"AT+COLP=1\r\r\nOK\r\n"
    assert await at.command("AT+CLVL=5") == b"AT+CLVL=5\r\r\nOK\r\n"
    assert await at.command("AT+CLVL=6") == b"AT+CLVL=6\r\r\nERROR\r\n"
    assert await at.command("AT+CMUT?") == b"AT+CMUT?\r\r\n+CMUT: 0\r\n\r\nOK\r\n"


async def test_incoming_call_while_busy_is_refused(emu: Sim7600Emulator) -> None:
    await emu.incoming_call(NUMBER)
    with pytest.raises(RuntimeError):
        await emu.incoming_call(NUMBER)


async def test_far_end_presses_planned_keys_after_answer(
    emu: Sim7600Emulator, at_clcc: HostPort
) -> None:
    emu.press_keys("12", delay=0.1, gap=0.05)  # armed before the call exists
    emu.set_dial_outcome("answer", delay=0.02)
    at_clcc.send(f"ATD{NUMBER};")
    await at_clcc.expect(b"VOICE CALL: BEGIN\r\n")
    assert emu.call is not None
    connected = emu.call.connected_at  # the emulator's own clock: a loaded host reads late
    assert connected is not None
    await at_clcc.expect(b"+RXDTMF: 1\r\r\n")
    assert asyncio.get_running_loop().time() - connected >= 0.1
    await at_clcc.expect(b"+RXDTMF: 2\r\r\n")


async def test_far_end_presses_keys_once_the_host_plays_audio(
    emu: Sim7600Emulator, at_clcc: HostPort, open_host: HostFactory
) -> None:
    audio = open_host(emu.audio_path)
    await emu.incoming_call(NUMBER)
    await at_clcc.command("ATA")
    emu.press_keys("5", after="audio", delay=0.05)
    audio.write(bytes(320))  # silence does not count as the prompt starting
    assert b"RXDTMF" not in await at_clcc.settle(0.2)
    audio.write(b"\x01\x00" * 160)
    await at_clcc.expect(b"+RXDTMF: 5\r\r\n")


async def test_planned_keys_die_with_their_call(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    await emu.incoming_call(NUMBER)
    await at_clcc.command("ATA")
    emu.press_keys("9", delay=0.2)
    await emu.remote_hang_up()
    await emu.incoming_call(NUMBER)
    await at_clcc.command("ATA")
    assert b"RXDTMF" not in await at_clcc.settle(0.4)
    with pytest.raises(ValueError, match="DTMF"):
        emu.press_keys("X")


async def test_ctl_keys_arms_a_plan(emu: Sim7600Emulator, at_clcc: HostPort) -> None:
    reply = await execute(
        emu, {"command": "keys", "args": {"digits": "7#", "after": None, "delay": 0.05}}
    )
    assert reply == {"ok": True, "result": None}
    await emu.incoming_call(NUMBER)
    await at_clcc.command("ATA")
    await at_clcc.expect(b"+RXDTMF: 7\r\r\n")
    await at_clcc.expect(b"+RXDTMF: #\r\r\n")
    refused = await execute(emu, {"command": "keys", "args": {"digits": "Z"}})
    assert refused["ok"] is False
