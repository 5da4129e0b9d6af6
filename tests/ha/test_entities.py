"""Entities: snapshots of every platform, then how they follow calls, signal and the port."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, snapshot_platform
from syrupy.assertion import SnapshotAssertion

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_SIGNAL_INTERVAL,
    DOMAIN,
    EVENT_CALL,
    EVENT_DTMF,
)
from custom_components.callstack.event import (  # noqa: E402
    CALL_EVENT,
    DTMF_EVENT,
    SMS_EVENT,
)
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .fixtures import (  # noqa: E402
    EntryFactory,
    assert_translated_error,
    call_action,
    call_state,
    entity_id,
    entry_device,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "callstack"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.SENSOR,
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.MEDIA_PLAYER,
        Platform.NOTIFY,
    ],
)
async def test_platform_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    ha_snapshot: SnapshotAssertion,
    entry_factory: EntryFactory,
    only_platform: Callable[[Platform], Any],
    platform: Platform,
) -> None:
    """States and registry entries of each platform, and the device they belong to."""
    with only_platform(platform):
        entry = await entry_factory()
    await snapshot_platform(hass, entity_registry, ha_snapshot, entry.entry_id)
    assert entry_device(device_registry, entry.entry_id) == ha_snapshot(name="device")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_every_entity_has_its_own_readable_name(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, loaded_entry: Any
) -> None:
    """No two entities of a modem share a name (the notify and the SMS event entity did),
    and none carries the raw model string."""
    names = {
        entry.entity_id: hass.states.get(entry.entity_id).attributes["friendly_name"]
        for entry in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
    }
    assert len(set(names.values())) == len(names), names
    assert all(name.startswith("SIM7600G-H ") for name in names.values()), names
    assert names[entity_id(hass, "notify", "sms")] == "SIM7600G-H Send SMS"
    assert names[entity_id(hass, "event", "sms")] == "SIM7600G-H SMS received"


def test_every_event_type_has_its_icon() -> None:
    """The event entities' icon follows the last event's type (a missed call looks
    missed); each call event type has its own."""
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]["event"]
    for description in (CALL_EVENT, DTMF_EVENT, SMS_EVENT):
        by_type = icons[description.key]["state_attributes"]["event_type"]["state"]
        assert set(by_type) == set(description.event_types or ()), description.key
    call_icons = icons["call"]["state_attributes"]["event_type"]["state"].values()
    assert len(set(call_icons)) == len(CALL_EVENT.event_types or ())


async def test_audio_bridge_without_an_error_has_no_error_attribute(
    hass: HomeAssistant, loaded_entry: Any
) -> None:
    """An absent error is not shown as "Error: Unknown"."""
    attributes = state_of(hass, "binary_sensor", "audio_bridge").attributes
    assert "error" not in attributes
    assert attributes["state"] == "stopped"


async def test_ber_and_last_caller_sensors_disabled_by_default(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, loaded_entry: Any
) -> None:
    """The BER sensor (noise) and the Last caller sensor (a phone number as its state, so
    in the recorder's history) exist but are disabled until the user enables them."""
    disabled = [entity_id(hass, "sensor", key) for key in ("signal_quality", "last_caller")]
    for sensor in disabled:
        entry = entity_registry.async_get(sensor)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(sensor) is None
    entries = er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
    assert sorted(e.entity_id for e in entries if e.disabled_by is not None) == sorted(disabled)


async def test_incoming_call_answered_and_hung_up_remotely(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Any
) -> None:
    """Call state, call event entity, bus events and the audio bridge through one call."""
    bus_events = async_capture_events(hass, EVENT_CALL)
    number = emulator.identity.callers[0]
    call_event = entity_id(hass, "event", "call")
    bridge = entity_id(hass, "binary_sensor", "audio_bridge")
    assert hass.states.get(bridge).state == "off"

    await emulator.incoming_call(number)
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    state = hass.states.get(call_event)
    assert state.attributes["event_type"] == "incoming"
    assert state.attributes["number"] == number
    assert state.attributes["direction"] == "inbound"

    await call_action(hass, "answer")
    await wait_until(hass, lambda: call_state(hass) == "active", what="active")
    await wait_until(hass, lambda: hass.states.get(bridge).state == "on", what="bridge on")
    assert hass.states.get(bridge).attributes["state"] == "running"
    state = hass.states.get(call_event)
    assert state.attributes["event_type"] == "answered"
    assert state.attributes["number"] == number

    await emulator.remote_hang_up()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    await wait_until(hass, lambda: hass.states.get(bridge).state == "off", what="bridge off")
    state = hass.states.get(call_event)
    assert state.attributes["event_type"] == "ended"
    assert state.attributes["number"] == number
    assert state.attributes["direction"] == "inbound"
    assert state.attributes["reason"] == "remote_hang_up"
    assert isinstance(state.attributes["duration"], float)
    assert state.attributes["duration"] >= 0

    assert [event.data["type"] for event in bus_events] == ["incoming", "answered", "ended"]
    device_id = loaded_entry.runtime_data.device_id
    for event in bus_events:
        assert event.data["config_entry_id"] == loaded_entry.entry_id
        assert event.data["device_id"] == device_id
        assert event.data["number"] == number
        assert event.data["direction"] == "inbound"
    assert bus_events[-1].data["reason"] == "remote_hang_up"
    assert bus_events[-1].data["duration"] is not None


async def test_missed_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """A caller who gives up is a ``missed`` event with the number."""
    bus_events = async_capture_events(hass, EVENT_CALL)
    number = emulator.identity.callers[2]
    await emulator.incoming_call(number)
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await emulator.missed_call()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    state = state_of(hass, "event", "call")
    assert state.attributes["event_type"] == "missed"
    assert state.attributes["number"] == number
    assert state.attributes["direction"] == "inbound"
    assert [event.data["type"] for event in bus_events] == ["incoming", "missed"]
    assert bus_events[-1].data["config_entry_id"] == loaded_entry.entry_id


async def test_dtmf_received(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Keys the far end presses become DTMF events on the entity and the bus."""
    bus_events = async_capture_events(hass, EVENT_DTMF)
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await call_action(hass, "answer")
    await wait_until(hass, lambda: call_state(hass) == "active", what="active")

    await emulator.send_dtmf("4#")
    await wait_until(hass, lambda: len(bus_events) == 2, what="two DTMF events")
    assert [event.data["digit"] for event in bus_events] == ["4", "#"]
    for event in bus_events:
        assert event.data["config_entry_id"] == loaded_entry.entry_id
        assert event.data["device_id"] == loaded_entry.runtime_data.device_id
    state = state_of(hass, "event", "dtmf")
    assert state.attributes["event_type"] == "received"
    assert state.attributes["digit"] == "#"
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")


async def test_signal_strength_follows_the_modem(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """The initial CSQ, then a change picked up by the signal poll."""
    await emulator.set_signal(20)
    await entry_factory(options={CONF_SIGNAL_INTERVAL: 0.2})
    assert state_of(hass, "sensor", "signal_strength").state == "-73"
    await emulator.set_signal(25)
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "signal_strength").state == "-63",
        timeout=3,
        what="-63 dBm",
    )
    await emulator.set_signal(99)
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "signal_strength").state == "unknown",
        timeout=3,
        what="unknown signal",
    )


async def test_unavailable_while_the_at_port_is_gone(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    entity_registry: er.EntityRegistry,
) -> None:
    """Losing the AT port makes every entity but ``connected`` unavailable; it comes back.
    The New voicemail count stays: the messages are on disk, not in the modem.

    (The call buttons are unavailable anyway without a call.)"""
    entities = [
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if entry.disabled_by is None and entry.domain != "button"
    ]
    connected = entity_id(hass, "binary_sensor", "connected")
    voicemail = entity_id(hass, "sensor", "new_voicemail")
    others = [eid for eid in entities if eid not in (connected, voicemail)]
    assert len(others) == 13

    def all_unavailable() -> bool:
        return all(hass.states.get(eid).state == STATE_UNAVAILABLE for eid in others)

    def all_available() -> bool:
        return all(hass.states.get(eid).state != STATE_UNAVAILABLE for eid in others)

    assert all_available()
    await emulator.drop_port("at")
    await wait_until(hass, all_unavailable, timeout=5, what="entities unavailable")
    assert hass.states.get(connected).state == "off"
    assert hass.states.get(voicemail).state == "0"

    await emulator.restore_port("at")
    await wait_until(hass, all_available, timeout=10, what="entities available again")
    assert hass.states.get(connected).state == "on"
    assert call_state(hass) == "idle"
    assert state_of(hass, "sensor", "signal_strength").state == "-73"
    assert loaded_entry.runtime_data.modem.reconnects == 1


async def test_registration_follows_network_urcs(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Registration changes are pushed (+CEREG URCs), not polled."""
    assert state_of(hass, "sensor", "network_registration").state == "home"
    await emulator.set_registration(5)
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "network_registration").state == "roaming",
        what="roaming",
    )
    await emulator.set_registration(3)
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "network_registration").state == "denied",
        what="denied",
    )


async def test_modem_restart_during_a_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Any
) -> None:
    """The modem reboots mid-call: the call ends, the bridge stops, the modem is set up
    again and works."""
    bus_events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await call_action(hass, "answer")
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor", "audio_bridge").state == "on",
        what="bridge on",
    )
    before = len(emulator.commands)
    await emulator.reboot()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    await wait_until(
        hass, lambda: "AT+CNMI=2,1,0,1,0" in emulator.commands[before:], what="re-initialised"
    )
    assert state_of(hass, "binary_sensor", "audio_bridge").state == "off"
    assert bus_events[-1].data["type"] == "ended"
    assert bus_events[-1].data["reason"] == "connection_lost"
    emulator.set_dial_outcome("busy")
    response = await call_action(
        hass, "dial", {"number": emulator.identity.callers[1]}, return_response=True
    )
    assert response == {"result": "busy"}
    assert state_of(hass, "binary_sensor", "connected").state == "on"


# ---- Answer / Hang up buttons, Last caller ---------------------------------------------


def button_state(hass: HomeAssistant, key: str) -> str:
    return str(state_of(hass, "button", key).state)


async def press(hass: HomeAssistant, key: str) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id(hass, "button", key)}, blocking=True
    )


async def test_buttons_are_available_only_when_they_can_act(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Any
) -> None:
    """Idle: both greyed out (Home Assistant does not even pass a press of an unavailable
    entity on). Ringing: Answer answers. In a call: Hang up ends it."""
    assert button_state(hass, "answer") == STATE_UNAVAILABLE
    assert button_state(hass, "hang_up") == STATE_UNAVAILABLE
    await press(hass, "hang_up")
    assert "AT+CHUP" not in emulator.commands

    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    assert button_state(hass, "answer") != STATE_UNAVAILABLE
    assert button_state(hass, "hang_up") != STATE_UNAVAILABLE
    await press(hass, "answer")
    await wait_until(hass, lambda: call_state(hass) == "active", what="active")
    assert "ATA" in emulator.commands
    assert button_state(hass, "answer") == STATE_UNAVAILABLE

    await press(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    assert "AT+CHUP" in emulator.commands
    assert emulator.call is None
    assert button_state(hass, "hang_up") == STATE_UNAVAILABLE


async def test_hang_up_button_rejects_a_ringing_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    bus_events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await press(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    assert bus_events[-1].data["reason"] == "rejected"


async def test_a_press_that_lost_the_race_raises_the_translated_error(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """The caller gives up between the dashboard showing Answer and the press arriving."""
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    answer = entity_id(hass, "button", "answer")
    (platform,) = [p for p in async_get_platforms(hass, DOMAIN) if p.domain == "button"]
    button = platform.entities[answer]
    await emulator.missed_call()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    with pytest.raises(HomeAssistantError) as excinfo:
        await button.async_press()
    assert_translated_error(excinfo.value, HomeAssistantError, "no_incoming_call", emulator)
    assert "ATA" not in emulator.commands


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_last_caller_follows_incoming_calls(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Answered or missed, the last inbound caller's number; outgoing calls leave it."""
    first, second = emulator.identity.callers[0], emulator.identity.callers[1]
    assert state_of(hass, "sensor", "last_caller").state == "unknown"
    await emulator.incoming_call(first)
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "last_caller").state == first, what="first"
    )
    await emulator.missed_call()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    await emulator.incoming_call(second)
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "last_caller").state == second, what="second"
    )
    await emulator.missed_call()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    emulator.set_dial_outcome("busy")
    await call_action(hass, "dial", {"number": first}, return_response=True)
    assert state_of(hass, "sensor", "last_caller").state == second


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_answer_button_takes_a_waiting_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Any
) -> None:
    """During a call, a second caller makes Answer available again: it takes the waiting
    call (holding the first), as ``callstack.answer`` does; Last caller names them."""
    first, second = emulator.identity.callers[0], emulator.identity.callers[1]
    await emulator.incoming_call(first)
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await press(hass, "answer")
    await wait_until(hass, lambda: call_state(hass) == "active", what="active")
    assert button_state(hass, "answer") == STATE_UNAVAILABLE
    await emulator.incoming_call(second)
    await wait_until(
        hass, lambda: button_state(hass, "answer") != STATE_UNAVAILABLE, what="answerable"
    )
    assert state_of(hass, "sensor", "last_caller").state == second
    await press(hass, "answer")
    await wait_until(hass, lambda: "AT+CHLD=2" in emulator.commands, what="the swap")
    await call_action(hass, "hang_up", {"target": "all"})
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
