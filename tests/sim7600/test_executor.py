"""The AT executor against the emulator: results, errors, URCs in replies, timeouts, prompt."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.callstack.sim7600.errors import (
    AtCommandError,
    AtTimeoutError,
    CmeError,
    CmsError,
    InvalidArgumentError,
    PortClosedError,
)
from custom_components.callstack.sim7600.executor import NO_REPLY, AtExecutor
from custom_components.callstack.sim7600.transport import open_port
from custom_components.callstack.sim7600.urc import Ring, Urc, UssdResponse
from sim7600_emulator import Sim7600Emulator


async def executor_for(url: str, urcs: list[Urc]) -> AtExecutor:
    executor = AtExecutor(await open_port(url), urcs.append)
    executor.start()
    return executor


@pytest.fixture(params=["pty", "tcp"])
async def url(request: pytest.FixtureRequest, emulator: Sim7600Emulator) -> str:
    """The AT port, as a device path and as a ser2net-style socket URL."""
    if request.param == "pty":
        return emulator.at_link
    request.getfixturevalue("socket_enabled")
    await emulator.start_tcp()
    return emulator.at_url


async def test_replies_and_echo(url: str) -> None:
    urcs: list[Urc] = []
    executor = await executor_for(url, urcs)
    try:
        assert await executor.execute("AT") == []  # echo is on: "AT\r" is dropped
        await executor.execute("ATE0")
        assert await executor.execute("AT+CSQ") == ["+CSQ: 20,99"]
        assert (await executor.execute("ATI"))[0].startswith("Manufacturer:")
    finally:
        await executor.close()


async def test_error_codes_become_typed_exceptions(emulator: Sim7600Emulator) -> None:
    executor = await executor_for(emulator.at_link, [])
    try:
        with pytest.raises(AtCommandError) as plain:
            await executor.execute("AT+NOSUCH")
        assert type(plain.value) is AtCommandError
        await executor.execute("AT+CMEE=1")
        emulator.set_sim("absent")
        with pytest.raises(CmeError) as cme:
            await executor.execute("AT+CIMI")
        assert cme.value.code == 10
        await executor.execute("AT+CMEE=2")
        with pytest.raises(CmeError) as text:
            await executor.execute("AT+CIMI")
        assert text.value.code == 10  # "SIM not inserted" mapped back to its number
        emulator.set_sim("ready")
        with pytest.raises(CmsError) as cms:
            await executor.execute("AT+CMGD=99")
        assert cms.value.code == 321
    finally:
        await executor.close()


async def test_urc_in_the_middle_of_a_reply_goes_to_the_urc_handler(
    emulator: Sim7600Emulator,
) -> None:
    urcs: list[Urc] = []
    executor = await executor_for(emulator.at_link, urcs)
    try:
        await executor.execute("ATE0")
        emulator.hang_command("AT+CSQ")
        command = asyncio.ensure_future(executor.execute("AT+CSQ", timeout=0.5))
        await emulator.wait_for_command("AT+CSQ")
        await emulator.incoming_call("+4915550000001", ring_interval=10)
        with pytest.raises(AtTimeoutError):
            await command
        assert Ring() in urcs
    finally:
        await emulator.missed_call()
        await executor.close()


async def test_a_timed_out_command_does_not_wedge_the_next(emulator: Sim7600Emulator) -> None:
    executor = await executor_for(emulator.at_link, [])
    try:
        await executor.execute("ATE0")
        emulator.hang_command("AT+COPS?")
        with pytest.raises(AtTimeoutError):
            await executor.execute("AT+COPS?", timeout=0.3)
        assert await executor.execute("AT+CSQ") == ["+CSQ: 20,99"]
        assert executor.stats.timeouts == 1
        assert executor.stats.resyncs == 1
    finally:
        await executor.close()


async def test_garbage_bytes_are_survived(emulator: Sim7600Emulator) -> None:
    executor = await executor_for(emulator.at_link, [])
    try:
        await executor.execute("ATE0")
        await emulator.send_garbage(b"\xff\xfe\x00\x1b[31m\r\n+CLIP: broken\r\n" + b"x" * 9000)
        await emulator.send_garbage(b"\r\n")
        assert await executor.execute("AT+CSQ") == ["+CSQ: 20,99"]
    finally:
        await executor.close()


async def test_a_registration_urc_without_a_status_is_survived(
    emulator: Sim7600Emulator,
) -> None:
    """A ``+CxREG`` line with no status field (seen by the URC property test) is ignored;
    it used to raise in the reader, which took the port for dead and reconnected."""
    executor = await executor_for(emulator.at_link, [])
    try:
        await executor.execute("ATE0")
        await emulator.send_garbage(b'\r\n+CREG: ",\r\n')
        assert await executor.execute("AT+CSQ") == ["+CSQ: 20,99"]
        assert executor.alive
    finally:
        await executor.close()


async def test_control_characters_never_reach_the_modem(emulator: Sim7600Emulator) -> None:
    executor = await executor_for(emulator.at_link, [])
    try:
        for bad in ("ATD123;\rATH", "AT\n", "AT\x1a", "AT\x1b"):
            with pytest.raises(InvalidArgumentError):
                await executor.execute(bad)
        with pytest.raises(InvalidArgumentError):
            await executor.execute("AT+CMGS=5", payload=b"00\x1a11")
        assert emulator.commands == []
    finally:
        await executor.close()


async def test_a_vanished_port_fails_the_command_in_flight(emulator: Sim7600Emulator) -> None:
    lost: list[Exception] = []
    executor = AtExecutor(await open_port(emulator.at_link), lambda urc: None, lost.append)
    executor.start()
    try:
        emulator.hang_command("AT+CSQ")
        command = asyncio.ensure_future(executor.execute("AT+CSQ", timeout=5))
        await emulator.wait_for_command("AT+CSQ")
        await emulator.drop_port("at")
        with pytest.raises(PortClosedError):
            await command
        assert len(lost) == 1
        assert not executor.alive
        with pytest.raises(PortClosedError):
            await executor.execute("AT")
    finally:
        await executor.close()


async def test_three_timeouts_in_a_row_mark_the_port_dead(emulator: Sim7600Emulator) -> None:
    lost: list[Exception] = []
    executor = AtExecutor(await open_port(emulator.at_link), lambda urc: None, lost.append)
    executor.start()
    try:
        emulator.hang_command("AT", times=10)
        for _ in range(3):  # the 2nd and 3rd time out in the resync "AT" already
            with pytest.raises(AtTimeoutError):
                await executor.execute("AT+CSQ", timeout=0.2)
        assert len(lost) == 1
        assert isinstance(lost[0], AtTimeoutError)
        assert not executor.alive
    finally:
        await executor.close()


async def test_a_cancelled_command_does_not_wedge_the_next(emulator: Sim7600Emulator) -> None:
    executor = await executor_for(emulator.at_link, [])
    try:
        await executor.execute("ATE0")
        emulator.hang_command("AT+COPS?")
        command = asyncio.ensure_future(executor.execute("AT+COPS?", timeout=5))
        await emulator.wait_for_command("AT+COPS?")
        command.cancel()
        with pytest.raises(asyncio.CancelledError):
            await command
        assert await executor.execute("AT+CSQ") == ["+CSQ: 20,99"]
        assert executor.stats.resyncs == 1
        assert executor.stats.timeouts == 0
    finally:
        await executor.close()


async def test_a_no_reply_command_leaves_its_answer_to_the_urc_handler(
    emulator: Sim7600Emulator,
) -> None:
    """The network's +CUSD can come before the OK of AT+CUSD=1: it is a URC, not a reply."""
    urcs: list[Urc] = []
    executor = await executor_for(emulator.at_link, urcs)
    try:
        await executor.execute("ATE0")
        emulator.hang_command("AT+CUSD")  # the test plays the modem's answer itself
        command = asyncio.ensure_future(executor.execute('AT+CUSD=1,"*100#",15', prefix=NO_REPLY))
        await emulator.wait_for_command("AT+CUSD")
        await emulator.send_garbage(b'\r\n+CUSD: 0,"Balance 5.00",15\r\n\r\nOK\r\n')
        assert await command == []
        assert urcs == [UssdResponse(0, "Balance 5.00", 15)]
    finally:
        await executor.close()
