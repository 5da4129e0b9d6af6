"""DTMF menus (``collect_dtmf``) and alarm calls (``dial`` with a message) from Home
Assistant, through the emulator: the far end presses keys while the prompt plays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import CONF_AUDIO_PORT  # noqa: E402
from sim7600_emulator import Sim7600Emulator, test_signal  # noqa: E402

from .fixtures import (  # noqa: E402
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    call_state,
    far_end_heard,
    wait_until,
    write_wav,
)

pytest_plugins = ("tests.ha.fixtures",)

SPEED = 20  # the emulator's accelerated audio (tests/conftest.py FAST_AUDIO)


def write_prompt(folder: Path, name: str, seconds: float) -> bytes:
    """A 16-bit mono 8 kHz WAV of the test signal in ``folder``; returns its PCM."""
    pcm = test_signal(0, int(seconds * 8000))
    write_wav(folder / name, pcm)
    return pcm


@pytest.fixture
async def in_call(hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any) -> Any:
    """An answered incoming call, playback as fast as the emulator's audio."""
    loaded_entry.runtime_data.modem.audio.speed = SPEED
    await answered_call(hass, emulator, emulator.identity.callers[0])
    return loaded_entry


async def collect(hass: HomeAssistant, **data: Any) -> Any:
    return await call_action(hass, "collect_dtmf", data, return_response=True)


# ---- collect_dtmf ---------------------------------------------------------------------


async def test_menu_prompt_stops_at_the_first_key_which_counts(
    hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any, recordings: Path
) -> None:
    # 20 s on the clock at SPEED. The first key comes 0.2 s after the first audio (4 s of
    # it at SPEED), the second 3 s later (64 s of it): stopping at the first key plays far
    # less than 30 s, stopping at the second or at the end far more, with 1.3 s on the
    # clock to spare for a loaded machine.
    pcm = write_prompt(recordings, "menu.wav", 400.0)
    emulator.press_keys("42", after="audio", delay=0.2, gap=3.0)
    response = await collect(hass, media="menu.wav", max_digits=2)
    assert response == {"digits": "42", "ended_by": "max_digits"}
    played = len(emulator.audio_received)
    assert 0 < played < 30 * 8000 * 2  # cut at the first key
    assert bytes(emulator.audio_received) == pcm[:played]
    assert not in_call.runtime_data.modem.audio.busy


async def test_menu_terminator(
    hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any
) -> None:
    emulator.press_keys("12*9", delay=0.05, gap=0.05)
    response = await collect(hass, max_digits=8, terminator="*")
    assert response == {"digits": "12", "ended_by": "terminator"}


async def test_menu_inter_digit_timeout(
    hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any
) -> None:
    emulator.press_keys("7", delay=0.05)
    response = await collect(hass, max_digits=4, timeout=10, inter_digit_timeout=0.3)
    assert response == {"digits": "7", "ended_by": "timeout"}


async def test_menu_first_digit_timeout(
    hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any, recordings: Path
) -> None:
    pcm = write_prompt(recordings, "menu.wav", 4.0)
    response = await collect(hass, media="menu.wav", timeout=0.3)
    assert response == {"digits": "", "ended_by": "timeout"}
    assert await far_end_heard(hass, emulator, len(pcm)) == pcm  # nobody pressed: whole


async def test_menu_call_ends(hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any) -> None:
    emulator.press_keys("5", delay=0.05)
    hass.async_create_task(_hang_up_later(emulator))
    response = await collect(hass, max_digits=4, terminator="")
    assert response == {"digits": "5", "ended_by": "call_ended"}


async def _hang_up_later(emulator: Sim7600Emulator) -> None:
    await asyncio.sleep(0.4)
    await emulator.remote_hang_up()


async def test_menu_errors(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Bad input first, then device state; nothing reaches the modem or the call."""
    for data in (
        {"max_digits": 0},
        {"max_digits": 65},
        {"timeout": 0},
        {"inter_digit_timeout": 601},
        {"terminator": "x"},
        {"terminator": "#*"},
    ):
        err = await action_error(hass, "collect_dtmf", data, return_response=True)
        assert_translated_error(err, ServiceValidationError, "invalid_dtmf_request", emulator)
    err = await action_error(hass, "collect_dtmf", {}, return_response=True)
    assert_translated_error(err, HomeAssistantError, "no_active_call", emulator)

    await answered_call(hass, emulator, emulator.identity.callers[0])
    err = await action_error(hass, "collect_dtmf", {"media": "nope.wav"}, return_response=True)
    assert_translated_error(err, ServiceValidationError, "file_not_found", emulator)
    err = await action_error(hass, "collect_dtmf", {"message": "Press 1"}, return_response=True)
    assert_translated_error(err, HomeAssistantError, "tts_not_set_up", emulator)
    err = await action_error(
        hass, "collect_dtmf", {"message": "Press 1", "media": "x.wav"}, return_response=True
    )
    assert_translated_error(err, ServiceValidationError, "message_and_media", emulator)
    emulator.press_keys("3", delay=0.05)  # empty prompt fields are no prompt
    assert await collect(hass, message="", media="") == {"digits": "3", "ended_by": "max_digits"}
    assert emulator.audio_received == b""


# ---- alarm calls ----------------------------------------------------------------------


async def alarm(hass: HomeAssistant, emulator: Sim7600Emulator, **data: Any) -> Any:
    return await call_action(
        hass,
        "dial",
        {"number": emulator.identity.callers[1], "timeout": 10, **data},
        return_response=True,
    )


@pytest.fixture
async def alarm_ready(hass: HomeAssistant, loaded_entry: Any, recordings: Path) -> bytes:
    loaded_entry.runtime_data.modem.audio.speed = SPEED
    return write_prompt(recordings, "alarm.wav", 20.0)  # 1 s at SPEED


async def test_alarm_call_acknowledged(
    hass: HomeAssistant, emulator: Sim7600Emulator, alarm_ready: bytes
) -> None:
    emulator.set_dial_outcome("answer", delay=0.05)
    emulator.press_keys("91", after="audio", delay=0.2, gap=0.2)  # 9 does not acknowledge
    response = await alarm(hass, emulator, media="alarm.wav", acknowledge_digits="1")
    assert response == {"result": "answered", "acknowledged": True, "digit": "1", "plays": 1}
    await wait_until(hass, lambda: call_state(hass) == "idle", what="hung up")
    assert "AT+CHUP" in emulator.commands


async def test_alarm_call_not_acknowledged(
    hass: HomeAssistant, emulator: Sim7600Emulator, recordings: Path, loaded_entry: Any
) -> None:
    loaded_entry.runtime_data.modem.audio.speed = SPEED
    pcm = write_prompt(recordings, "short.wav", 2.0)
    emulator.set_dial_outcome("answer", delay=0.05)
    response = await alarm(hass, emulator, media="short.wav", repeat=2, acknowledge_digits="1")
    assert response == {"result": "answered", "acknowledged": False, "digit": None, "plays": 2}
    assert await far_end_heard(hass, emulator, 2 * len(pcm)) == pcm * 2
    await wait_until(hass, lambda: call_state(hass) == "idle", what="hung up")
    assert "AT+CHUP" in emulator.commands


@pytest.mark.parametrize(("outcome", "result"), [("no_answer", "no_answer"), ("busy", "busy")])
async def test_alarm_call_not_answered_or_busy(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    alarm_ready: bytes,
    outcome: str,
    result: str,
) -> None:
    emulator.set_dial_outcome(outcome, delay=0.05)  # type: ignore[arg-type]
    response = await alarm(hass, emulator, media="alarm.wav", acknowledge_digits="1")
    assert response == {"result": result, "acknowledged": False, "digit": None, "plays": 0}
    assert emulator.audio_received == b""


async def test_alarm_call_errors(
    hass: HomeAssistant, emulator: Sim7600Emulator, alarm_ready: bytes
) -> None:
    """Nothing is dialled for bad input or a message that cannot be played."""
    for data in ({"repeat": 0}, {"repeat": 21}, {"acknowledge_digits": "1x"}):
        err = await action_error(
            hass, "dial", {"number": emulator.identity.callers[1], "media": "alarm.wav", **data}
        )
        assert_translated_error(err, ServiceValidationError, "invalid_alarm", emulator)
    err = await action_error(
        hass, "dial", {"number": emulator.identity.callers[1], "media": "missing.wav"}
    )
    assert_translated_error(err, ServiceValidationError, "file_not_found", emulator)
    err = await action_error(
        hass, "dial", {"number": emulator.identity.callers[1], "message": "Fire!"}
    )
    assert_translated_error(err, HomeAssistantError, "tts_not_set_up", emulator)
    assert not any(command.startswith("ATD") for command in emulator.commands)


async def test_alarm_call_without_an_audio_port_is_refused_before_dialling(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: Any,
    recordings: Path,
) -> None:
    write_prompt(recordings, "alarm.wav", 1.0)
    await entry_factory(data={CONF_AUDIO_PORT: ""})
    err = await action_error(
        hass, "dial", {"number": emulator.identity.callers[1], "media": "alarm.wav"}
    )
    assert_translated_error(err, HomeAssistantError, "audio_bridge_not_running", emulator)
    assert not any(command.startswith("ATD") for command in emulator.commands)


async def test_unload_during_a_menu_ends_it_with_modem_closed(
    hass: HomeAssistant, emulator: Sim7600Emulator, in_call: Any
) -> None:
    """Not "timeout" or "call_ended": the modem went away under the menu."""
    task = hass.async_create_task(collect(hass, max_digits=4, timeout=120))
    await asyncio.sleep(0.2)
    assert not task.done()
    assert await hass.config_entries.async_unload(in_call.entry_id)
    async with asyncio.timeout(2):
        with pytest.raises(HomeAssistantError) as excinfo:
            await task
    assert_translated_error(excinfo.value, HomeAssistantError, "modem_closed", emulator)
