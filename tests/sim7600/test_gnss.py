"""GNSS through the emulator: switched on, pushed over NMEA or polled, fix lost and back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
from pathlib import Path
import wave

import pytest

from custom_components.callstack.sim7600 import gnss as gnss_module
from custom_components.callstack.sim7600.events import SmsReceived
from custom_components.callstack.sim7600.executor import AtExecutor
from custom_components.callstack.sim7600.model import CallState, FixType, GnssState
from custom_components.callstack.sim7600.modem import Modem, probe
from custom_components.callstack.sim7600.transport import open_port
from sim7600_emulator import GnssPosition, GnssTrack, Sim7600Emulator, Variants, test_signal
from tests.helpers import until

from .conftest import Recorder, config_for

GNSS = Variants(gnss_epoch=0.05, gnss_cold_start=0.3, boot_delay=0.05, sim_ready_delay=0.01)
HOME = GnssPosition(52.520008, 13.404954, 34.0)


@pytest.fixture
async def gnss_emulator() -> AsyncGenerator[Sim7600Emulator]:
    emu = Sim7600Emulator(variants=GNSS, audio_speed=20.0)
    await emu.start_pty()
    emu.set_gnss_track(GnssTrack.fixed(HOME.latitude, HOME.longitude, HOME.altitude))
    try:
        yield emu
    finally:
        await emu.stop()


async def connected(emu: Sim7600Emulator, **options: object) -> Modem:
    modem = Modem(config_for(emu, gnss=True, **options))
    await modem.connect()
    return modem


def fix_of(modem: Modem) -> GnssState:
    return modem.snapshot.gnss


async def test_nmea_port_pushes_the_position(gnss_emulator: Sim7600Emulator) -> None:
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link)
    try:
        assert gnss_emulator.gnss_on
        assert fix_of(modem).supported
        assert fix_of(modem).fix is FixType.NONE  # the cold start takes a while
        await until(lambda: fix_of(modem).fix is FixType.FIX_3D)
        state = fix_of(modem)
        assert state.source == "nmea"
        assert state.position is not None
        assert state.position.latitude == pytest.approx(HOME.latitude, abs=1e-6)
        assert state.position.longitude == pytest.approx(HOME.longitude, abs=1e-6)
        assert state.position.altitude == HOME.altitude
        assert (state.satellites_in_use, state.satellites_in_view, state.hdop) == (7, 10, 0.9)
        assert not any(command.startswith("AT+CGPSINFO") for command in gnss_emulator.commands)
    finally:
        await modem.close()


async def test_without_nmea_port_the_position_is_polled(gnss_emulator: Sim7600Emulator) -> None:
    modem = await connected(gnss_emulator, gnss_interval=0.1)
    try:
        await until(lambda: fix_of(modem).fix is FixType.FIX_3D)
        state = fix_of(modem)
        assert state.source == "poll"
        assert state.position is not None
        assert state.position.latitude == pytest.approx(HOME.latitude, abs=1e-6)
        assert state.satellites_in_use is None  # +CGPSINFO does not tell
        assert "AT+CGPSINFO" in gnss_emulator.commands
    finally:
        await modem.close()


@pytest.mark.parametrize("nmea", [True, False], ids=["nmea", "poll"])
async def test_fix_lost_then_recovered_keeps_the_last_position(
    gnss_emulator: Sim7600Emulator, nmea: bool
) -> None:
    options: dict[str, object] = {"gnss_interval": 0.1}
    if nmea:
        options["nmea_url"] = gnss_emulator.nmea_link
    modem = await connected(gnss_emulator, **options)
    try:
        await until(lambda: fix_of(modem).position is not None)
        gnss_emulator.set_gnss_sky(visible=False)
        await until(lambda: fix_of(modem).fix is FixType.NONE)
        state = fix_of(modem)
        assert state.position is None
        assert state.last_position is not None
        assert state.last_position.latitude == pytest.approx(HOME.latitude, abs=1e-6)
        gnss_emulator.set_gnss_sky(visible=True)
        await until(lambda: fix_of(modem).position is not None)
    finally:
        await modem.close()


async def test_a_moving_track_is_followed(gnss_emulator: Sim7600Emulator) -> None:
    gnss_emulator.set_gnss_track(GnssTrack.line(HOME, speed_kmh=72.0, course=0.0))
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link)
    try:
        await until(lambda: fix_of(modem).position is not None)
        first = fix_of(modem).position
        assert first is not None
        await until(
            lambda: (
                (position := fix_of(modem).position) is not None
                and position.latitude > first.latitude + 0.0005
            )
        )
        position = fix_of(modem).position
        assert position is not None
        assert position.speed == pytest.approx(72.0, abs=0.2)
        assert position.course == 0.0
        assert position.longitude == pytest.approx(HOME.longitude, abs=1e-6)
    finally:
        await modem.close()


async def test_gnss_is_switched_on_again_after_a_modem_restart(
    gnss_emulator: Sim7600Emulator,
) -> None:
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link)
    try:
        await until(lambda: fix_of(modem).position is not None)
        await gnss_emulator.reboot()
        await until(lambda: gnss_emulator.gnss_on, timeout=10)
        assert gnss_emulator.commands.count("AT+CGPS=1") == 2
        await until(lambda: fix_of(modem).position is not None, timeout=5)
    finally:
        await modem.close()


async def test_a_slow_answer_after_a_restart_does_not_leave_gnss_off(
    gnss_emulator: Sim7600Emulator,
) -> None:
    """The modem had GNSS at set-up; after a restart its ``AT+CGPS?`` times out once. That
    says nothing about the receiver, which a restart switched off: it is switched on again
    and the fix comes back, instead of GNSS staying off until the next restart."""
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link)
    try:
        await until(lambda: fix_of(modem).position is not None)
        gnss_emulator.hang_command("AT+CGPS?")
        await gnss_emulator.reboot()
        await until(lambda: gnss_emulator.gnss_on, timeout=40)
        await until(lambda: fix_of(modem).position is not None, timeout=10)
        assert modem.gnss.supported is True
    finally:
        await modem.close()


async def test_an_engine_already_running_is_not_started_twice(
    gnss_emulator: Sim7600Emulator,
) -> None:
    first = await connected(gnss_emulator)
    await first.close()
    second = await connected(gnss_emulator)
    try:
        assert gnss_emulator.commands.count("AT+CGPS=1") == 1  # AT+CGPS=1 when on: ERROR
        assert fix_of(second).supported
    finally:
        await second.close()


async def test_option_off_leaves_gnss_alone_but_tells_support(
    gnss_emulator: Sim7600Emulator,
) -> None:
    modem = Modem(config_for(gnss_emulator))
    await modem.connect()
    try:
        assert fix_of(modem) == GnssState(supported=True)
        assert not gnss_emulator.gnss_on
    finally:
        await modem.close()


async def test_a_modem_without_gnss() -> None:
    async with Sim7600Emulator(variants=Variants(gnss=False, boot_delay=0.05)) as emu:
        await emu.start_pty()
        assert (await probe(emu.at_link)).gnss is False
        modem = Modem(config_for(emu, gnss=True, nmea_url=emu.nmea_link))
        await modem.connect()
        try:
            assert fix_of(modem).supported is False
            assert fix_of(modem).source is None
            assert modem.diagnostics()["gnss"]["nmea_opens"] == 0
        finally:
            await modem.close()


async def test_probe_tells_gnss_support(gnss_emulator: Sim7600Emulator) -> None:
    assert (await probe(gnss_emulator.at_link)).gnss is True


async def poll_when_idle(executor: AtExecutor) -> list[str]:
    """What the GNSS service does: try, and try again while the port is busy."""
    while (lines := await executor.execute_if_idle("AT+CGPSINFO", 2.0)) is None:
        await asyncio.sleep(gnss_module.IDLE_RETRY)
    return lines


async def test_a_poll_never_goes_ahead_of_a_command_waiting(
    gnss_emulator: Sim7600Emulator,
) -> None:
    """A call command that queues while an SMS is being sent goes before the GNSS poll that
    queued earlier."""
    gnss_emulator.sms_send_delay = 2.0  # the CLCC below must queue behind it, loaded or not
    executor = AtExecutor(await open_port(gnss_emulator.at_link), lambda urc: None)
    executor.start()
    try:
        await executor.execute("ATE0")
        await executor.execute("AT+CMGF=1")
        sending = asyncio.create_task(
            executor.execute('AT+CMGS="+4915550000001"', payload=b"hi", timeout=5)
        )
        await gnss_emulator.wait_for_command("AT+CMGS")
        poll = asyncio.create_task(poll_when_idle(executor))
        await asyncio.sleep(0.05)
        call = asyncio.create_task(executor.execute("AT+CLCC"))
        await asyncio.gather(sending, poll, call)
        order = [c for c in gnss_emulator.commands if c.startswith(("AT+CLCC", "AT+CGPSINFO"))]
        assert order == ["AT+CLCC", "AT+CGPSINFO"]
    finally:
        await executor.close()


async def test_coordinates_never_reach_the_log(
    gnss_emulator: Sim7600Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.callstack")
    modem = await connected(gnss_emulator, gnss_interval=0.05)
    try:
        await until(lambda: fix_of(modem).position is not None)
        await asyncio.sleep(0.2)
    finally:
        await modem.close()
    text = caplog.text + repr(modem.diagnostics())
    assert "+CGPSINFO" in caplog.text  # the polls were logged, redacted
    for secret in ("5231.2", "01324.2", "52.52", "13.40"):
        assert secret not in text


@pytest.mark.parametrize("nmea", [True, False], ids=["nmea", "poll"])
async def test_gnss_on_while_a_call_records_and_an_sms_burst_arrives(
    gnss_emulator: Sim7600Emulator, tmp_path: Path, nmea: bool
) -> None:
    """No PCM frame lost, every SMS delivered exactly once, the position kept current."""
    options: dict[str, object] = {"gnss_interval": 0.05}  # polls as often as it can
    if nmea:
        options["nmea_url"] = gnss_emulator.nmea_link
    events = Recorder()
    modem = Modem(config_for(gnss_emulator, gnss=True, **options))
    modem.subscribe(events)
    await modem.connect()
    try:
        await until(lambda: fix_of(modem).position is not None)
        await gnss_emulator.incoming_call("+4915550000001", ring_interval=0.5)
        await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
        await modem.answer()
        await until(lambda: modem.audio.running)
        recording = asyncio.ensure_future(modem.record(tmp_path / "call.wav", 2.0))
        texts = [f"burst {n}" for n in range(12)]
        for text in texts:
            await gnss_emulator.deliver_sms("+4915550000002", text)
            await asyncio.sleep(0.01)
        result = await recording
        await until(lambda: len(events.of(SmsReceived)) >= len(texts), timeout=10)
        await asyncio.sleep(0.3)  # a duplicate would arrive by now
        assert sorted(event.message.text for event in events.of(SmsReceived)) == sorted(texts)
        with wave.open(str(result.path), "rb") as wav:
            pcm = wav.readframes(wav.getnframes())
        assert result.samples == 16000
        offset = bytes(gnss_emulator.audio_sent).find(pcm)
        assert offset >= 0
        assert pcm == test_signal(offset // 2, 16000)  # sample-exact: no frame lost
        assert gnss_emulator.audio_frames_dropped == 0
        assert fix_of(modem).position is not None
        if not nmea:
            assert gnss_emulator.commands.count("AT+CGPSINFO") > 3
    finally:
        await modem.close()


async def test_a_lost_nmea_port_falls_back_to_polling_until_it_returns(
    gnss_emulator: Sim7600Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gnss_module, "NMEA_RETRY_SECONDS", 0.1)
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link, gnss_interval=0.1)
    try:
        await until(lambda: fix_of(modem).position is not None)
        assert fix_of(modem).source == "nmea"
        await gnss_emulator.drop_port("nmea")
        await until(lambda: fix_of(modem).source == "poll" and fix_of(modem).position is not None)
        assert "AT+CGPSINFO" in gnss_emulator.commands
        await gnss_emulator.restore_port("nmea")
        await until(lambda: fix_of(modem).source == "nmea" and fix_of(modem).position is not None)
        assert modem.diagnostics()["gnss"]["nmea_opens"] == 2
    finally:
        await modem.close()


async def test_an_nmea_port_gone_silent_means_no_fix(
    gnss_emulator: Sim7600Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver stopped behind our back (AT+CGPS=0 from another port): the last sentences
    said there was a fix, but silence for STALE_SECONDS drops it."""
    monkeypatch.setattr(gnss_module, "STALE_SECONDS", 0.3)
    modem = await connected(gnss_emulator, nmea_url=gnss_emulator.nmea_link)
    try:
        await until(lambda: fix_of(modem).position is not None)
        gnss_emulator.stop_gnss()
        await until(lambda: fix_of(modem).fix is FixType.NONE)
        assert fix_of(modem).last_position is not None
        assert modem.gnss.stats.stale >= 1
    finally:
        await modem.close()
