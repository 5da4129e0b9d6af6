"""Several calls at once (sim7600.md section 11): +CCWA, the whole +CLCC list, AT+CHLD."""

from __future__ import annotations

import re

import pytest

from sim7600_emulator import CallStat, Sim7600Emulator, Variants
from sim7600_emulator.control import execute

from .conftest import EmulatorFactory, HostFactory
from .host import HostPort
from .test_calls import quiet_host

FIRST = "+4915551000001"
SECOND = "+4915551000002"


def clcc(index: int, direction: int, stat: int) -> bytes:
    number = FIRST if index == 1 else SECOND
    return f'\r\n+CLCC: {index},{direction},{stat},0,0,"{number}",145\r\n'.encode()


def stats(emu: Sim7600Emulator) -> list[tuple[int, CallStat]]:
    return [(call.id, call.stat) for call in emu.calls]


async def one_call(emu: Sim7600Emulator, at: HostPort) -> None:
    """Call 1 from FIRST, answered; the host's buffer emptied (the list after the OK
    waited for when +CLCC URCs are on: a late one would open the test's next read)."""
    await emu.incoming_call(FIRST, ring_interval=5)
    await at.command("ATA")
    if emu.settings.clcc:
        await at.expect(clcc(1, 1, 0))


@pytest.fixture
async def host(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    """Echo off, +CLCC and +CCWA URCs on, as the driver sets the module up."""
    return await quiet_host(emu, open_host, "AT+CLCC=1", "AT+CCWA=1", "AT+CVHU=0")


async def test_a_second_caller_waits_with_ccwa_and_the_whole_list(
    emu: Sim7600Emulator, host: HostPort
) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    waiting = f'\r\n+CCWA: "{SECOND}",145,1\r\n'.encode() + clcc(1, 1, 0) + clcc(2, 1, 5)
    assert await host.expect(waiting) == waiting
    assert await host.command("AT+CLCC") == clcc(1, 1, 0) + clcc(2, 1, 5) + b"\r\nOK\r\n"
    assert emu.call is not None
    assert emu.call.id == 1  # the active call stays in the foreground
    with pytest.raises(RuntimeError):
        await emu.incoming_call(FIRST)  # one waiting call at a time


async def test_ccwa_urc_only_when_the_host_enabled_it(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    at = await quiet_host(emu, open_host)  # +CCWA presentation is off after power-up
    await one_call(emu, at)
    await emu.incoming_call(SECOND)
    assert await at.settle() == b""
    assert stats(emu) == [(1, CallStat.ACTIVE), (2, CallStat.WAITING)]


async def test_ccwa_forms_and_the_network_service(emu: Sim7600Emulator, at: HostPort) -> None:
    assert await at.command("AT+CCWA?") == b"AT+CCWA?\r\r\n+CCWA: 0\r\n\r\nOK\r\n"
    assert await at.command("AT+CCWA=?") == b"AT+CCWA=?\r\r\n+CCWA: (0-1)\r\n\r\nOK\r\n"
    assert await at.command("AT+CCWA=1,2") == b"AT+CCWA=1,2\r\r\n+CCWA: 1,1\r\n\r\nOK\r\n"
    assert await at.command("AT+CCWA=1,0,1") == b"AT+CCWA=1,0,1\r\r\nOK\r\n"
    assert emu.call_waiting is False
    assert await at.command("AT+CCWA?") == b"AT+CCWA?\r\r\n+CCWA: 1\r\n\r\nOK\r\n"
    at.take()
    await one_call(emu, at)
    await emu.incoming_call(SECOND)  # the service is off: the caller hears busy
    assert await at.settle() == b""
    assert len(emu.calls) == 1
    assert await at.command("AT+CCWA=1,1") == b"AT+CCWA=1,1\r\r\nOK\r\n"
    assert emu.call_waiting is True


async def test_the_waiting_caller_gives_up_and_the_first_call_stays(
    emu: Sim7600Emulator, host: HostPort
) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.expect(clcc(2, 1, 5))
    await emu.missed_call()
    tail = await host.expect(f" {SECOND}\r\n".encode())
    assert re.fullmatch(
        re.escape(clcc(1, 1, 0) + clcc(2, 1, 6)) + rb"\r\nMISSED_CALL: \d\d:\d\d[AP]M \+\d+\r\n",
        tail,
    )
    assert stats(emu) == [(1, CallStat.ACTIVE)]
    assert emu.status()["audio"]["streaming"] is False  # never switched on in this test


@pytest.mark.parametrize(
    ("variants", "expected_tail"),
    [
        (
            Variants(waiting_gone_urcs=True, waiting_missed_call=False),
            b"\r\nVOICE CALL: END: 000000\r\n\r\nNO CARRIER\r\n",
        ),
        (Variants(waiting_missed_call=False), b""),
    ],
    ids=["end-and-no-carrier", "list-only"],
)
async def test_what_a_waiting_caller_who_gives_up_leaves(
    make_emulator: EmulatorFactory,
    open_host: HostFactory,
    variants: Variants,
    expected_tail: bytes,
) -> None:
    emu = await make_emulator(variants=variants)
    at = await quiet_host(emu, open_host, "AT+CLCC=1")
    await one_call(emu, at)
    await emu.incoming_call(SECOND)
    await at.expect(clcc(2, 1, 5))
    await emu.missed_call(2)
    gone = clcc(1, 1, 0) + clcc(2, 1, 6) + expected_tail
    assert await at.expect(gone) == gone
    assert stats(emu) == [(1, CallStat.ACTIVE)]


async def test_chld_0_rejects_the_waiting_call(emu: Sim7600Emulator, host: HostPort) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    assert await host.command("AT+CHLD=0") == b"\r\nOK\r\n"
    rejected = clcc(1, 1, 0) + clcc(2, 1, 6)
    assert await host.expect(rejected) == rejected
    assert stats(emu) == [(1, CallStat.ACTIVE)]
    assert await host.command("AT+CMEE=1") == b"\r\nOK\r\n"
    assert await host.command("AT+CHLD=0") == b"\r\n+CME ERROR: 3\r\n"  # nothing waits or holds


async def test_chld_2_holds_the_active_call_and_takes_the_waiting_one(
    emu: Sim7600Emulator, host: HostPort
) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    assert await host.command("AT+CHLD=2") == b"\r\nOK\r\n"
    swapped = b"\r\nVOICE CALL: BEGIN\r\n" + clcc(1, 1, 1) + clcc(2, 1, 0)
    assert await host.expect(swapped) == swapped
    assert emu.call is not None
    assert emu.call.id == 2
    # Swap back and forth: bare AT+CHLD is AT+CHLD=2.
    assert await host.command("AT+CHLD") == b"\r\nOK\r\n"
    back = clcc(1, 1, 0) + clcc(2, 1, 1)
    assert await host.expect(back) == back
    # 2X: talk to X, hold the rest.
    assert await host.command("AT+CHLD=22") == b"\r\nOK\r\n"
    forth = clcc(1, 1, 1) + clcc(2, 1, 0)
    assert await host.expect(forth) == forth
    # The active far end hangs up: the held call stays held until the host retrieves it.
    await emu.remote_hang_up()
    ended = clcc(1, 1, 1) + clcc(2, 1, 6) + b"\r\nVOICE CALL: END: 000000\r\n\r\nNO CARRIER\r\n"
    assert await host.expect(ended) == ended
    assert stats(emu) == [(1, CallStat.HELD)]
    assert await host.command("AT+CHLD=2") == b"\r\nOK\r\n"
    assert await host.expect(clcc(1, 1, 0)) == clcc(1, 1, 0)


async def test_chld_1_ends_the_active_call_and_takes_the_other(
    emu: Sim7600Emulator, host: HostPort
) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    assert await host.command("AT+CHLD=1") == b"\r\nOK\r\n"
    taken = (
        clcc(1, 1, 6)
        + clcc(2, 1, 5)
        + b"\r\nVOICE CALL: END: 000000\r\n\r\nVOICE CALL: BEGIN\r\n"
        + clcc(2, 1, 0)
    )
    assert await host.expect(taken) == taken
    assert stats(emu) == [(2, CallStat.ACTIVE)]


async def test_chld_1x_ends_one_call(emu: Sim7600Emulator, host: HostPort) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    await host.command("AT+CHLD=2")
    await host.settle()
    assert await host.command("AT+CHLD=11") == b"\r\nOK\r\n"  # the held call
    ended = clcc(1, 1, 6) + clcc(2, 1, 0) + b"\r\nVOICE CALL: END: 000000\r\n"
    assert await host.expect(ended) == ended
    assert stats(emu) == [(2, CallStat.ACTIVE)]
    assert await host.command("AT+CMEE=1") == b"\r\nOK\r\n"
    assert await host.command("AT+CHLD=17") == b"\r\n+CME ERROR: 3\r\n"  # no call 7
    assert await host.command("AT+CHLD=3") == b"\r\n+CME ERROR: 4\r\n"  # no conferences
    assert await host.command("AT+CHLD=9") == b"\r\n+CME ERROR: 50\r\n"
    assert await host.command("AT+CHLD=?") == b"\r\n+CHLD: (0,1,1x,2,2x,3,4)\r\n\r\nOK\r\n"


async def test_a_waiting_call_rings_when_the_active_call_ends(
    emu: Sim7600Emulator, host: HostPort
) -> None:
    await host.command("AT+CLIP=1")
    await emu.incoming_call(FIRST, ring_interval=5)
    await host.settle()
    await host.command("ATA")
    await emu.incoming_call(SECOND, ring_interval=0.03)
    await host.expect(clcc(2, 1, 5))
    await emu.remote_hang_up(1)
    data = await host.expect(b"RING\r\n")
    assert data == (
        clcc(1, 1, 6)
        + clcc(2, 1, 5)
        + b"\r\nVOICE CALL: END: 000000\r\n\r\nNO CARRIER\r\n"
        + clcc(2, 1, 4)
        + b"\r\nRING\r\n"
    )
    assert stats(emu) == [(2, CallStat.INCOMING)]
    await host.expect(b"+CLIP")
    host.send("ATA")
    assert await host.expect(b"\r\nOK\r\n")
    assert stats(emu) == [(2, CallStat.ACTIVE)]


async def test_chup_ends_every_call(emu: Sim7600Emulator, host: HostPort) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    assert await host.command("AT+CHUP") == b"\r\nOK\r\n"
    ended = clcc(1, 1, 6) + clcc(2, 1, 6) + b"\r\nVOICE CALL: END: 000000\r\n"
    assert await host.expect(ended) == ended
    assert emu.calls == []


async def test_waiting_ring_variant(make_emulator: EmulatorFactory, open_host: HostFactory) -> None:
    emu = await make_emulator(variants=Variants(waiting_ring=True))
    at = await quiet_host(emu, open_host, "AT+CLIP=1")
    await one_call(emu, at)
    await emu.incoming_call(SECOND, ring_interval=0.03)
    assert (
        await at.expect(b",145,,,,0\r\n")
        == f'\r\nRING\r\n\r\n+CLIP: "{SECOND}",145,,,,0\r\n'.encode()
    )
    await at.expect(b"\r\nRING\r\n")  # and again
    await emu.missed_call()
    await at.expect(f" {SECOND}\r\n".encode())
    assert await at.settle(0.1) == b""  # the ringing stopped with it


async def test_radio_off_ends_every_call(emu: Sim7600Emulator, host: HostPort) -> None:
    await one_call(emu, host)
    await emu.incoming_call(SECOND)
    await host.settle()
    await host.command("AT+CFUN=4")
    await host.settle()
    assert emu.calls == []


async def test_control_commands_drive_a_waiting_call(emu: Sim7600Emulator, host: HostPort) -> None:
    """`ctl ring` during a call makes a waiting call; `missed --call 2` ends just that one."""
    await one_call(emu, host)
    reply = await execute(emu, {"command": "ring", "args": {"number": SECOND}})
    assert reply == {"ok": True, "result": None}
    status = (await execute(emu, {"command": "status"}))["result"]
    assert [(call["id"], call["stat"]) for call in status["calls"]] == [
        (1, "ACTIVE"),
        (2, "WAITING"),
    ]
    assert status["call"]["id"] == 1
    assert (await execute(emu, {"command": "missed", "args": {"call": 1}}))["ok"] is False
    assert (await execute(emu, {"command": "missed", "args": {"call": 2}}))["ok"] is True
    assert stats(emu) == [(1, CallStat.ACTIVE)]
    await execute(emu, {"command": "call-waiting", "args": {"state": "off"}})
    assert emu.call_waiting is False


@pytest.mark.parametrize("stops", [False, True])
async def test_pcm_across_a_swap(
    make_emulator: EmulatorFactory, open_host: HostFactory, stops: bool
) -> None:
    emu = await make_emulator(variants=Variants(chld_stops_pcm=stops))
    at = await quiet_host(emu, open_host)
    await one_call(emu, at)
    assert await at.command("AT+CPCMREG=1") == b"\r\nOK\r\n"
    await emu.incoming_call(SECOND)
    await at.command("AT+CHLD=2")
    await at.settle()  # VOICE CALL: BEGIN and the list follow the OK
    assert (
        await at.command("AT+CPCMREG?") == f"\r\n+CPCMREG: {int(not stops)}\r\n\r\nOK\r\n".encode()
    )
    await emu.remote_hang_up(2)
    await at.settle()
    assert (
        await at.command("AT+CPCMREG?") == f"\r\n+CPCMREG: {int(not stops)}\r\n\r\nOK\r\n".encode()
    )
    await at.command("AT+CHUP")
    await at.settle()
    assert await at.command("AT+CPCMREG?") == b"\r\n+CPCMREG: 0\r\n\r\nOK\r\n"
