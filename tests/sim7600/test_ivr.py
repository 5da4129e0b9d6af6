"""DTMF menus and alarm calls through the emulator: the far end keys in while we play."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.callstack.sim7600.audio_source import PcmSource
from custom_components.callstack.sim7600.calls import DialResult
from custom_components.callstack.sim7600.errors import (
    AudioBridgeLostError,
    AudioBridgeNotRunningError,
    CallStateError,
    InvalidArgumentError,
    ModemClosedError,
)
from custom_components.callstack.sim7600.ivr import (
    AlarmRequest,
    AlarmResult,
    DtmfEnd,
    DtmfRequest,
    DtmfResult,
    Prompt,
)
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import Sim7600Emulator, test_signal
from tests.conftest import FAST_AUDIO
from tests.helpers import until

from .conftest import CALLER, config_for

BYTES_PER_SECOND = 16000


def prompt_of(modem: Modem, seconds: float) -> tuple[Prompt, bytes]:
    """A prompt that plays ``seconds`` of the test signal (at FAST_AUDIO speed)."""
    pcm = test_signal(0, int(seconds * 8000))
    return (lambda: modem.play(PcmSource(pcm, 8000))), pcm


def wall(seconds: float) -> float:
    """Wall-clock time of ``seconds`` of audio on the accelerated bridge."""
    return seconds / FAST_AUDIO


async def test_a_key_during_the_prompt_stops_it_and_counts(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    prompt, pcm = prompt_of(in_call, 400.0)  # 20 s of wall time: a loaded machine cannot outrun it
    emulator.press_keys("42", after="audio", delay=0.2, gap=0.1)
    result = await in_call.collect_dtmf(DtmfRequest(max_digits=2, timeout=5), prompt)
    assert result == DtmfResult("42", DtmfEnd.MAX_DIGITS)
    assert not in_call.audio.busy
    # What the driver wrote is still crossing the PTY: wait for it, then for anything more.
    # (A frame whose drain the stop cancelled is written but not counted: one at most.)
    written = in_call.audio.stats.frames_out * in_call.audio.frame_bytes
    await until(lambda: len(emulator.audio_received) >= written)
    await asyncio.sleep(0.2)  # 200 frames of wall time at this speed
    played = len(emulator.audio_received)
    assert written <= played <= written + in_call.audio.frame_bytes  # stopped for good
    assert 0 < played < len(pcm) * 3 / 4  # cut short
    assert bytes(emulator.audio_received) == pcm[:played]  # what played was the prompt


async def test_the_terminator_ends_the_input_and_is_not_part_of_it(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    emulator.press_keys("12#9", delay=0.05, gap=0.05)
    result = await in_call.collect_dtmf(DtmfRequest(max_digits=8, terminator="#"))
    assert result == DtmfResult("12", DtmfEnd.TERMINATOR)


async def test_without_terminator_hash_is_a_digit(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    emulator.press_keys("1#", delay=0.05, gap=0.05)
    result = await in_call.collect_dtmf(DtmfRequest(max_digits=2, terminator=None))
    assert result == DtmfResult("1#", DtmfEnd.MAX_DIGITS)


async def test_inter_digit_timeout_ends_a_half_typed_number(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    loop = asyncio.get_running_loop()
    emulator.press_keys("7", delay=0.05)
    started = loop.time()
    result = await in_call.collect_dtmf(
        DtmfRequest(max_digits=4, timeout=10, inter_digit_timeout=0.3)
    )
    assert result == DtmfResult("7", DtmfEnd.TIMEOUT)
    assert 0.3 <= loop.time() - started < 5


async def test_first_digit_timeout_counts_from_the_end_of_the_prompt(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    loop = asyncio.get_running_loop()
    prompt, pcm = prompt_of(in_call, 10.0)
    started = loop.time()
    result = await in_call.collect_dtmf(DtmfRequest(timeout=0.3), prompt)
    assert result == DtmfResult("", DtmfEnd.TIMEOUT)
    assert loop.time() - started >= wall(10.0) + 0.3
    await until(lambda: len(emulator.audio_received) >= len(pcm))
    assert bytes(emulator.audio_received) == pcm  # played whole: nobody pressed a key


async def test_call_ending_returns_the_digits_so_far(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    emulator.press_keys("5", delay=0.05)
    collecting = asyncio.ensure_future(in_call.collect_dtmf(DtmfRequest(max_digits=4)))
    await until(lambda: in_call.audio.running)
    await asyncio.sleep(0.3)
    await emulator.remote_hang_up()
    assert await collecting == DtmfResult("5", DtmfEnd.CALL_ENDED)


async def test_call_ending_during_the_prompt(emulator: Sim7600Emulator, in_call: Modem) -> None:
    prompt, _ = prompt_of(in_call, 60.0)
    collecting = asyncio.ensure_future(in_call.collect_dtmf(DtmfRequest(), prompt))
    await until(lambda: in_call.audio.busy)
    await emulator.remote_hang_up()
    assert await collecting == DtmfResult("", DtmfEnd.CALL_ENDED)
    assert not in_call.audio.busy


async def test_collecting_needs_a_call(modem: Modem) -> None:
    with pytest.raises(CallStateError):
        await modem.collect_dtmf(DtmfRequest())


@pytest.mark.parametrize(
    "request_args",
    [
        {"max_digits": 0},
        {"max_digits": 65},
        {"timeout": 0},
        {"inter_digit_timeout": float("nan")},
        {"terminator": "x"},
        {"terminator": "##"},
    ],
)
def test_impossible_dtmf_requests_are_refused(request_args: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        DtmfRequest(**request_args)  # type: ignore[arg-type]


async def test_alarm_call_acknowledged(emulator: Sim7600Emulator, modem: Modem) -> None:
    message, _ = prompt_of(modem, 20.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    emulator.press_keys("51", after="audio", delay=0.2, gap=0.2)  # 5 does not acknowledge
    result = await modem.alarm_call(CALLER, message, AlarmRequest(3, "1"), timeout=10)
    assert result == AlarmResult(DialResult.ANSWERED, True, "1", 1)
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert "AT+CHUP" in emulator.commands
    assert emulator.call is None


async def test_alarm_acknowledged_in_the_pause_after_the_message(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    message, pcm = prompt_of(modem, 4.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    alarm = asyncio.ensure_future(
        modem.alarm_call(CALLER, message, AlarmRequest(1, "#*", pause=2.0))
    )
    # The whole message reached the far end, so the key comes in the pause by construction.
    await until(lambda: len(emulator.audio_received) >= len(pcm), timeout=10)
    await emulator.send_dtmf("#")
    assert await alarm == AlarmResult(DialResult.ANSWERED, True, "#", 1)
    assert bytes(emulator.audio_received) == pcm


async def test_alarm_not_acknowledged_plays_every_repeat_then_hangs_up(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    message, pcm = prompt_of(modem, 2.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    emulator.press_keys("9", after="audio", delay=0.02)  # not an acknowledge digit
    result = await modem.alarm_call(CALLER, message, AlarmRequest(3, "1", pause=0.1))
    assert result == AlarmResult(DialResult.ANSWERED, False, None, 3)
    await until(lambda: len(emulator.audio_received) >= len(pcm) * 3)
    assert bytes(emulator.audio_received) == pcm * 3
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert "AT+CHUP" in emulator.commands


async def test_alarm_callee_hangs_up_without_acknowledging(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    message, _ = prompt_of(modem, 60.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    alarm = asyncio.ensure_future(modem.alarm_call(CALLER, message, AlarmRequest(3, "1")))
    await until(lambda: modem.audio.busy)
    await emulator.remote_hang_up()
    assert await alarm == AlarmResult(DialResult.ANSWERED, False, None, 1)
    assert "AT+CHUP" not in emulator.commands


@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        ("no_answer", DialResult.NO_ANSWER),
        ("busy", DialResult.BUSY),
        ("no_carrier", DialResult.FAILED),
    ],
)
async def test_alarm_call_not_answered_plays_nothing(
    emulator: Sim7600Emulator, modem: Modem, outcome: str, result: DialResult
) -> None:
    message, _ = prompt_of(modem, 2.0)
    emulator.set_dial_outcome(outcome, delay=0.05)  # type: ignore[arg-type]
    assert await modem.alarm_call(CALLER, message, AlarmRequest(2, "1")) == AlarmResult(
        result, False, None, 0
    )
    assert emulator.audio_received == b""


async def test_alarm_call_times_out_when_nobody_answers(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    message, _ = prompt_of(modem, 2.0)
    emulator.set_dial_outcome("none")
    result = await modem.alarm_call(CALLER, message, AlarmRequest(), timeout=0.5)
    assert result == AlarmResult(DialResult.TIMEOUT, False, None, 0)


async def test_alarm_call_needs_an_audio_port(emulator: Sim7600Emulator) -> None:
    modem = Modem(config_for(emulator, audio_url=None))
    await modem.connect()
    try:
        message, _ = prompt_of(modem, 1.0)
        with pytest.raises(AudioBridgeNotRunningError):
            await modem.alarm_call(CALLER, message, AlarmRequest())
        assert not any(command.startswith("ATD") for command in emulator.commands)
    finally:
        await modem.close()


async def test_a_prompt_that_cannot_play_fails_the_menu(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    """The audio port dies mid-prompt: an error, not a menu that pretends it was heard."""
    prompt, _ = prompt_of(in_call, 60.0)
    collecting = asyncio.ensure_future(in_call.collect_dtmf(DtmfRequest(), prompt))
    await until(lambda: in_call.audio.busy)
    await emulator.drop_port("audio")
    with pytest.raises(AudioBridgeLostError):
        await collecting
    assert not in_call.audio.busy


async def test_a_prompt_waits_for_call_audio_to_start(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    """Right after the answer PCM is not on yet (AT+CPCMREG lags): the prompt waits for it."""
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    assert not modem.audio.running
    prompt, pcm = prompt_of(modem, 2.0)
    result = await modem.collect_dtmf(DtmfRequest(timeout=0.2), prompt)
    assert result == DtmfResult("", DtmfEnd.TIMEOUT)
    await until(lambda: len(emulator.audio_received) >= len(pcm))
    assert bytes(emulator.audio_received) == pcm


async def test_a_cancelled_alarm_call_hangs_up(emulator: Sim7600Emulator, modem: Modem) -> None:
    """An automation stopped mid-call must not leave the callee on a silent line."""
    message, _ = prompt_of(modem, 60.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    alarm = asyncio.ensure_future(modem.alarm_call(CALLER, message, AlarmRequest(3, "1")))
    await until(lambda: modem.audio.busy)
    alarm.cancel()
    with pytest.raises(asyncio.CancelledError):
        await alarm
    assert "AT+CHUP" in emulator.commands
    await until(lambda: emulator.call is None)
    assert not modem.audio.busy


async def test_a_waiting_caller_who_gives_up_does_not_end_the_alarm_call(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    message, _ = prompt_of(modem, 60.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    alarm = asyncio.ensure_future(modem.alarm_call(CALLER, message, AlarmRequest(3, "1")))
    await until(lambda: modem.audio.busy)
    await emulator.incoming_call("+4915550000002")
    await until(lambda: modem.snapshot.waiting_call is not None)
    await emulator.missed_call(2)
    await until(lambda: modem.snapshot.waiting_call is None)
    assert not alarm.done()
    await emulator.send_dtmf("1")
    assert await alarm == AlarmResult(DialResult.ANSWERED, True, "1", 1)


async def test_close_ends_a_menu_at_once(emulator: Sim7600Emulator, in_call: Modem) -> None:
    """An unload in the middle of a prompt: ModemClosedError, not a result."""
    prompt, _ = prompt_of(in_call, 600.0)
    menu = asyncio.ensure_future(in_call.collect_dtmf(DtmfRequest(), prompt))
    await until(lambda: in_call.audio.busy)
    await in_call.close()
    async with asyncio.timeout(1):
        with pytest.raises(ModemClosedError):
            await menu


async def test_close_ends_an_alarm_call_at_once(emulator: Sim7600Emulator, modem: Modem) -> None:
    message, _ = prompt_of(modem, 600.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    alarm = asyncio.ensure_future(modem.alarm_call(CALLER, message, AlarmRequest(3, "1")))
    await until(lambda: modem.audio.busy)
    await modem.close()
    async with asyncio.timeout(1):
        with pytest.raises(ModemClosedError):
            await alarm
