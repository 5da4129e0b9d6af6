"""Recovery: lost and returning ports, modem restarts, stuck commands, the audio port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from custom_components.callstack.sim7600 import modem as modem_module
from custom_components.callstack.sim7600.events import (
    CallEvent,
    ConnectionChanged,
    SmsReceived,
)
from custom_components.callstack.sim7600.model import BridgeState, CallState
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import Identity, Sim7600Emulator, Variants
from tests.helpers import until

from .conftest import Recorder, config_for

CALLER = "+4915550000001"


async def answered(emulator: Sim7600Emulator, modem: Modem) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    await until(lambda: modem.snapshot.call_state is CallState.ACTIVE)


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "tcp"])
async def test_at_port_lost_and_back(
    request: pytest.FixtureRequest, emulator: Sim7600Emulator, tcp: bool
) -> None:
    if tcp:
        request.getfixturevalue("socket_enabled")
        await emulator.start_tcp()
    events = Recorder()
    modem = Modem(config_for(emulator, tcp=tcp))
    modem.subscribe(events)
    await modem.connect()
    try:
        loop = asyncio.get_running_loop()
        dropped = loop.time()
        await emulator.drop_port("at")
        await until(lambda: not modem.connected, timeout=5)
        assert loop.time() - dropped < 5
        await asyncio.sleep(1.0)  # a while without the port: several failed reconnects
        returned = loop.time()
        await emulator.restore_port("at")
        await until(lambda: modem.connected, timeout=10)
        assert loop.time() - returned < 10
        assert events.of(ConnectionChanged) == [ConnectionChanged(False), ConnectionChanged(True)]
        assert await modem.execute("AT+CSQ") == ["+CSQ: 20,99"]
        assert modem.reconnects == 1
    finally:
        await modem.close()


async def test_the_by_id_link_is_followed_to_a_new_device(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    await emulator.drop_port("at")
    await until(lambda: not modem.connected)
    await emulator.restore_port("at")  # a new pseudo-terminal behind the same by-id link
    await until(lambda: modem.connected, timeout=10)
    assert modem.config.at_url == emulator.at_link


async def test_modem_that_stops_answering_is_reconnected(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    emulator.hang_command("AT", times=3)  # every command: the modem is wedged
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017, PT011 - timeouts, then "not connected"
            await modem.execute("AT+CSQ", timeout=0.2)
    await until(lambda: ConnectionChanged(False) in events.events)
    await until(lambda: modem.connected, timeout=10)


@pytest.mark.parametrize("rdy", [True, False], ids=["rdy", "banner-without-rdy"])
async def test_modem_restart_mid_call_is_re_initialised(identity: Identity, rdy: bool) -> None:
    events = Recorder()
    async with Sim7600Emulator(identity, Variants(boot_rdy=rdy), audio_speed=20) as emulator:
        await emulator.start_pty()
        modem = Modem(config_for(emulator))
        modem.subscribe(events)
        await modem.connect()
        try:
            await answered(emulator, modem)
            await emulator.reboot()
            await until(lambda: modem.snapshot.call_state is CallState.IDLE)
            assert events.of(CallEvent)[-1].reason == "connection_lost"
            await until(lambda: emulator.settings.clip and not emulator.settings.echo, timeout=5)
            assert modem.connected  # the port stayed open: no reconnect
            assert modem.reconnects == 0
            # Caller ID works again, so the settings were restored.
            await emulator.incoming_call(CALLER, ring_interval=0.5)
            await until(lambda: events.of(CallEvent)[-1].kind == "incoming")
            assert events.of(CallEvent)[-1].number == CALLER
            await emulator.missed_call()
        finally:
            await modem.close()


@pytest.mark.parametrize("rdy", [True, False], ids=["rdy", "banner-without-rdy"])
async def test_a_modem_restart_ends_the_command_it_lost(identity: Identity, rdy: bool) -> None:
    """A restart forgets the command the modem was working on (here the SMS sweep's
    ``AT+CMGL``, 30 s timeout): the driver ends it at the banner and sets the modem up
    again at once, instead of leaving the line blocked until that command times out."""
    async with Sim7600Emulator(identity, Variants(boot_rdy=rdy)) as emulator:
        await emulator.start_pty()
        modem = Modem(config_for(emulator))
        await modem.connect()
        try:
            emulator.hang_command("AT+CMGL")
            sweeping = asyncio.create_task(modem.sweep_sms())
            await emulator.wait_for_command("AT+CMGL")
            booted = len(emulator.commands)
            await emulator.reboot()
            async with asyncio.timeout(5):
                await sweeping
                await emulator.wait_for_command("ATE0", after=booted)
            await until(lambda: emulator.settings.clip and not emulator.settings.echo, timeout=5)
        finally:
            await modem.close()


async def test_pin_unlock_banner_is_not_a_restart(identity: Identity) -> None:
    async with Sim7600Emulator(identity) as emulator:
        emulator.set_sim("pin")
        await emulator.start_pty()
        modem = Modem(config_for(emulator, pin=identity.pin))
        await modem.connect()
        try:
            commands_after_connect = len(emulator.commands)
            await asyncio.sleep(0.5)  # +CPIN: READY, SMS DONE, PB DONE arrive now
            assert not any(
                command == "ATE0" for command in emulator.commands[commands_after_connect:]
            )
        finally:
            await modem.close()


async def test_sms_stored_while_disconnected_arrive_after_reconnect(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.drop_port("at")
    await until(lambda: not modem.connected)
    await emulator.deliver_sms(CALLER, "sent while you were away")
    await emulator.restore_port("at")
    await until(lambda: events.of(SmsReceived), timeout=10)
    assert [event.message.text for event in events.of(SmsReceived)] == ["sent while you were away"]
    await until(lambda: len(emulator.sms_storage) == 0)  # deleted once journalled


async def test_audio_port_missing_at_start_clears_when_it_returns(
    emulator: Sim7600Emulator, tmp_path: Path
) -> None:
    await emulator.drop_port("audio")
    modem = Modem(config_for(emulator, signal_interval=0.2))
    await modem.connect()
    try:
        await answered(emulator, modem)
        await until(lambda: modem.snapshot.bridge is BridgeState.FAILED)
        assert modem.snapshot.bridge_error == "port_unavailable"
        await modem.hang_up()
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
        await asyncio.sleep(0.5)
        assert modem.snapshot.bridge is BridgeState.FAILED  # still visible between calls
        await emulator.restore_port("audio")
        await until(lambda: modem.snapshot.bridge is BridgeState.STOPPED, timeout=5)
        assert modem.snapshot.bridge_error is None
        await answered(emulator, modem)
        await until(lambda: modem.audio.running)
        result = await modem.record(tmp_path / "ok.wav", 0.2)
        assert result.samples == 1600
        await modem.hang_up()
    finally:
        await modem.close()


async def test_close_mid_call_and_mid_recording_leaves_nothing_behind(
    emulator: Sim7600Emulator, tmp_path: Path
) -> None:
    modem = Modem(config_for(emulator))
    await modem.connect()
    await answered(emulator, modem)
    await until(lambda: modem.audio.running)
    recording = asyncio.ensure_future(modem.record(tmp_path / "cut.wav", 30))
    await asyncio.sleep(0.1)
    await modem.close()
    result = await recording
    assert result.ended_by == "closed"  # what was recorded before the close is kept
    assert [path.name for path in tmp_path.iterdir()] == ["cut.wav"]
    assert not modem.connected


@pytest.fixture
def quick_radio_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modem_module, "_RADIO_OFF_SECONDS", 0.05)


@pytest.mark.usefixtures("quick_radio_cycle")
async def test_watchdog_cycles_the_radio_when_the_network_is_lost(
    emulator: Sim7600Emulator,
) -> None:
    modem = Modem(config_for(emulator, signal_interval=0.05, registration_watchdog=1.0))
    await modem.connect()
    try:
        await emulator.set_registration(2)  # searching: the modem lost the network
        await emulator.wait_for_command("AT+CFUN=0", timeout=5)
        await emulator.wait_for_command("AT+CFUN=1", timeout=5)
        await emulator.set_registration(1)  # the cycle helped
        await until(lambda: modem.snapshot.registration.registered)
        assert modem.radio_cycles == 1
        assert not modem.snapshot.network_stuck
        assert modem.snapshot.call_state is CallState.IDLE
    finally:
        await modem.close()


@pytest.mark.usefixtures("quick_radio_cycle")
async def test_watchdog_gives_up_after_three_cycles_and_says_so(
    emulator: Sim7600Emulator,
) -> None:
    modem = Modem(config_for(emulator, signal_interval=0.05, registration_watchdog=0.1))
    await modem.connect()
    try:
        await emulator.set_registration(3)  # denied, and it stays that way
        await until(lambda: modem.snapshot.network_stuck, timeout=10)
        assert modem.radio_cycles == 3
        await asyncio.sleep(0.5)
        assert modem.radio_cycles == 3  # left alone now
        await emulator.set_registration(1)
        await until(lambda: not modem.snapshot.network_stuck, timeout=5)
    finally:
        await modem.close()


async def test_watchdog_is_off_by_default(emulator: Sim7600Emulator) -> None:
    modem = Modem(config_for(emulator, signal_interval=0.05))
    await modem.connect()
    try:
        await emulator.set_registration(2)
        await asyncio.sleep(0.5)
        assert not any(command.startswith("AT+CFUN=") for command in emulator.commands)
    finally:
        await modem.close()


async def test_a_failed_set_up_after_reconnect_is_retried(emulator: Sim7600Emulator) -> None:
    """One unanswered command while setting the modem up again must not end the retries."""
    modem = Modem(config_for(emulator, command_timeout=0.3))
    await modem.connect()
    try:
        await emulator.drop_port("at")
        await until(lambda: not modem.connected)
        emulator.hang_command("AT+COPS?")  # the first re-initialisation times out here
        await emulator.restore_port("at")
        await until(lambda: modem.connected, timeout=10)
        assert emulator.commands.count("AT+COPS?") >= 2
    finally:
        await modem.close()


async def test_a_sim_that_becomes_ready_later_gets_sms_set_up(
    emulator: Sim7600Emulator, events: Recorder
) -> None:
    emulator.set_sim("absent")
    modem = Modem(config_for(emulator))
    modem.subscribe(events)
    await modem.connect()
    try:
        assert "AT+CNMI=2,1,0,1,0" not in emulator.commands
        await emulator.deliver_sms(CALLER, "waiting on the SIM")
        emulator.set_sim("ready")
        await emulator.send_garbage(b"\r\n+CPIN: READY\r\n")  # the SIM reports in
        await until(lambda: "AT+CNMI=2,1,0,1,0" in emulator.commands)
        await until(lambda: events.of(SmsReceived))
        await until(lambda: modem.snapshot.identity.imsi == emulator.identity.imsi)
    finally:
        await modem.close()
