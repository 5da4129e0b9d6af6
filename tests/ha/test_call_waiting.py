"""A second caller during a call, through Home Assistant: the ``waiting`` event, the call
state's attributes, and the ``answer`` / ``hang_up`` actions that take or reject the call."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
import voluptuous as vol

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import EVENT_CALL  # noqa: E402
from custom_components.callstack.sim7600.errors import AtTimeoutError  # noqa: E402
from sim7600_emulator import CallStat, Sim7600Emulator  # noqa: E402

from .fixtures import (  # noqa: E402
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)


def call_state(hass: HomeAssistant) -> Any:
    return state_of(hass, "sensor", "call_state")


def stats(emulator: Sim7600Emulator) -> list[tuple[int, CallStat]]:
    return [(call.id, call.stat) for call in emulator.calls]


async def second_caller(hass: HomeAssistant, emulator: Sim7600Emulator) -> str:
    """During the answered call from caller 0, caller 1 calls; the sensor shows it waits."""
    number = emulator.identity.callers[1]
    await emulator.incoming_call(number)
    await wait_until(
        hass, lambda: call_state(hass).attributes.get("waiting") is True, what="waiting"
    )
    return number


async def test_a_waiting_call_is_an_event_and_an_attribute(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """The second caller fires ``waiting`` (bus and event entity) with the number; the call
    state stays ``active`` with ``waiting: true``, and the audio bridge keeps running while
    the waiting caller gives up."""
    events = async_capture_events(hass, EVENT_CALL)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    number = await second_caller(hass, emulator)

    state = call_state(hass)
    assert state.state == "active"
    assert state.attributes["on_hold"] is False
    await wait_until(hass, lambda: events[-1].data["type"] == "waiting", what="the bus event")
    assert events[-1].data["number"] == number
    assert events[-1].data["direction"] == "inbound"
    entity = state_of(hass, "event", "call")
    assert entity.attributes["event_type"] == "waiting"
    assert entity.attributes["number"] == number

    await emulator.missed_call(2)
    await wait_until(hass, lambda: events[-1].data["type"] == "missed", what="missed")
    assert events[-1].data["number"] == number
    state = call_state(hass)
    assert state.state == "active"
    assert state.attributes["waiting"] is False
    assert state_of(hass, "binary_sensor", "audio_bridge").state == "on"
    assert [event.data["type"] for event in events] == ["incoming", "answered", "waiting", "missed"]

    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass).state == "idle", what="idle")


async def test_hang_up_the_waiting_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """``target: waiting`` rejects the waiting caller and leaves the call in progress."""
    events = async_capture_events(hass, EVENT_CALL)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    number = await second_caller(hass, emulator)
    before = len(emulator.commands)
    await call_action(hass, "hang_up", {"target": "waiting"})
    await wait_until(hass, lambda: events[-1].data["type"] == "ended", what="ended")
    assert (events[-1].data["number"], events[-1].data["reason"]) == (number, "rejected")
    assert "AT+CHLD=0" in emulator.commands[before:]
    assert stats(emulator) == [(1, CallStat.ACTIVE)]
    await wait_until(
        hass, lambda: call_state(hass).attributes["waiting"] is False, what="no call waiting"
    )
    assert call_state(hass).state == "active"

    err = await action_error(hass, "hang_up", {"target": "waiting"})
    assert_translated_error(err, HomeAssistantError, "no_waiting_call", emulator)
    err = await action_error(hass, "hang_up", {"target": "held"})
    assert_translated_error(err, HomeAssistantError, "no_held_call", emulator)
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass).state == "idle", what="idle")


async def test_answer_the_waiting_call_then_end_the_held_one(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """``answer`` during a call takes the waiting call and holds the first one
    (AT+CHLD=2); ``hang_up`` with ``target: held`` ends the call on hold."""
    events = async_capture_events(hass, EVENT_CALL)
    first = emulator.identity.callers[0]
    await answered_call(hass, emulator, first)
    number = await second_caller(hass, emulator)
    before = len(emulator.commands)
    await call_action(hass, "answer")
    await wait_until(
        hass, lambda: call_state(hass).attributes.get("on_hold") is True, what="on hold"
    )
    assert "AT+CHLD=2" in emulator.commands[before:]
    assert call_state(hass).state == "active"
    assert events[-1].data["type"] == "answered"
    assert events[-1].data["number"] == number
    assert stats(emulator) == [(1, CallStat.HELD), (2, CallStat.ACTIVE)]

    await call_action(hass, "hang_up", {"target": "held"})
    await wait_until(
        hass, lambda: call_state(hass).attributes.get("on_hold") is False, what="no call held"
    )
    assert "AT+CHLD=11" in emulator.commands[before:]
    assert (events[-1].data["type"], events[-1].data["number"]) == ("ended", first)
    assert call_state(hass).state == "active"
    await call_action(hass, "hang_up", {"target": "all"})
    await wait_until(hass, lambda: call_state(hass).state == "idle", what="idle")
    assert emulator.calls == []


async def test_the_held_call_is_left_for_the_user_to_resume(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """When the call taken ends, the call on hold stays on hold (state ``held``) until
    ``answer`` resumes it."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    await second_caller(hass, emulator)
    await call_action(hass, "answer")
    await wait_until(
        hass, lambda: call_state(hass).attributes.get("on_hold") is True, what="on hold"
    )
    await emulator.remote_hang_up(2)
    await wait_until(hass, lambda: call_state(hass).state == "held", what="held")
    assert stats(emulator) == [(1, CallStat.HELD)]
    await call_action(hass, "answer")
    await wait_until(hass, lambda: call_state(hass).state == "active", what="resumed")
    assert stats(emulator) == [(1, CallStat.ACTIVE)]
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass).state == "idle", what="idle")


async def test_hang_up_target_is_validated(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    with pytest.raises(vol.Invalid):
        await call_action(hass, "hang_up", {"target": "everyone"})
    err = await action_error(hass, "hang_up", {"target": "all"})
    assert_translated_error(err, HomeAssistantError, "no_call", emulator)


async def test_a_caller_who_rings_before_the_dial_goes_out_wins(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Issue 12 item 2 through the action: the dial waits behind a slow command, a caller
    rings meanwhile; ``dial`` fails with ``call_in_progress``, the caller is reported and
    nothing hangs up on them."""
    events = async_capture_events(hass, EVENT_CALL)
    modem = loaded_entry.runtime_data.modem
    caller, callee = emulator.identity.callers[0], emulator.identity.callers[1]
    emulator.hang_command("AT+COPS?")
    # It times out after 3 s: the RING must be through before then (1 s was short for a
    # loaded machine, and the dial went out once the command ended).
    busy = asyncio.ensure_future(modem.execute("AT+COPS?", timeout=3.0))
    await emulator.wait_for_command("AT+COPS?")
    dial = asyncio.ensure_future(call_action(hass, "dial", {"number": callee}))
    await asyncio.sleep(0.05)
    await emulator.incoming_call(caller)
    await wait_until(hass, lambda: call_state(hass).state == "incoming", what="incoming")
    with pytest.raises(AtTimeoutError):
        await busy
    with pytest.raises(HomeAssistantError) as excinfo:
        await dial
    assert_translated_error(excinfo.value, HomeAssistantError, "call_in_progress", emulator)
    assert [(event.data["type"], event.data["number"]) for event in events] == [
        ("incoming", caller)
    ]
    assert not [cmd for cmd in emulator.commands if cmd.startswith(("ATD", "AT+CHUP"))]
    assert stats(emulator) == [(1, CallStat.INCOMING)]
    await emulator.missed_call()
    await wait_until(hass, lambda: events[-1].data["type"] == "missed", what="missed")
