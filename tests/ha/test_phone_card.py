"""The phone card: served by the integration, fed by one websocket subscription.

The card itself is tested in a real browser (tests/browser); here the server side: the module
is served and loaded on every dashboard, and ``callstack/phone/subscribe`` pushes the call,
the caller's number, the last SMS (received and sent), signal and operator — following the
entry through a reload.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.callstack.card import CARD_FILE, CARD_URL
from custom_components.callstack.const import DOMAIN
from custom_components.callstack.message_log import MESSAGES_KEPT
from sim7600_emulator import Sim7600Emulator

from .fixtures import ENTRY_ID, TITLE, answered_call, call_action, wait_until

pytest_plugins = ("tests.ha.fixtures",)

CALLER = "+4915123456789"
SECOND_CALLER = "+4915177777777"


async def _next_state(client: Any, subscription: int) -> dict[str, Any]:
    message = await client.receive_json()
    assert message["id"] == subscription
    assert message["type"] == "event"
    return message["event"]


async def _subscribe(client: Any, **data: Any) -> tuple[int, dict[str, Any]]:
    await client.send_json_auto_id({"type": "callstack/phone/subscribe", **data})
    result = await client.receive_json()
    assert result["success"], result
    return result["id"], await _next_state(client, result["id"])


async def _state_where(client: Any, subscription: int, check: Any) -> dict[str, Any]:
    """The first pushed state that passes ``check`` (pushes come on every change)."""
    for _ in range(50):
        state = await _next_state(client, subscription)
        if check(state):
            return state
    raise AssertionError("no pushed state passed the check")


async def test_the_card_is_served_and_loaded_on_every_dashboard(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()

    response = await client.get(CARD_URL)
    assert response.status == 200
    assert await response.text() == CARD_FILE.read_text(encoding="utf-8")

    from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL

    (url,) = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_URL)]
    # The integration's version busts the browser cache after an update.
    assert url == f"{CARD_URL}?v=0.1.0"


async def test_without_a_frontend_nothing_is_served(hass: HomeAssistant) -> None:
    """Headless HA (no frontend): setup still succeeds, there is just no card."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert "frontend" not in hass.config.components


async def test_subscription_follows_a_call_from_ringing_to_the_end(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    subscription, state = await _subscribe(client)  # the only modem: no entry ID needed

    assert state["config_entry_id"] == ENTRY_ID
    assert state["title"] == TITLE
    assert state["loaded"] is True
    assert state["connected"] is True
    assert state["call"] == {
        "state": "idle",
        "direction": None,
        "number": None,
        "since": None,
        "waiting": None,
        "held": None,
    }
    assert state["operator"] == emulator.operator
    assert isinstance(state["signal_dbm"], int)
    assert state["messages"] == []

    await emulator.incoming_call(CALLER)
    state = await _state_where(client, subscription, lambda s: s["call"]["number"] == CALLER)
    assert state["call"]["state"] == "incoming"
    assert state["call"]["direction"] == "inbound"

    await call_action(hass, "answer")
    state = await _state_where(client, subscription, lambda s: s["call"]["state"] == "active")
    assert state["call"]["since"] is not None

    await call_action(hass, "hang_up")
    state = await _state_where(client, subscription, lambda s: s["call"]["state"] == "idle")
    assert state["call"]["number"] is None


async def test_withheld_caller_has_no_number(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client, config_entry_id=ENTRY_ID)
    await emulator.incoming_call("")
    state = await _state_where(client, subscription, lambda s: s["call"]["state"] == "incoming")
    assert state["call"]["number"] is None
    await call_action(hass, "hang_up")


async def test_received_and_sent_sms_are_listed_newest_first(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client, config_entry_id=ENTRY_ID)

    await emulator.deliver_sms(CALLER, "The parcel is at the door")
    state = await _state_where(client, subscription, lambda s: len(s["messages"]) == 1)
    (received,) = state["messages"]
    assert received["direction"] == "in"
    assert received["number"] == CALLER
    assert received["text"] == "The parcel is at the door"

    await call_action(hass, "send_sms", {"number": "+4915199999999", "message": "Thanks!"})
    state = await _state_where(client, subscription, lambda s: len(s["messages"]) == 2)
    sent, older = state["messages"]
    assert (sent["direction"], sent["number"], sent["text"]) == ("out", "+4915199999999", "Thanks!")
    assert older == received


async def test_only_the_newest_messages_are_kept(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    for index in range(MESSAGES_KEPT + 3):
        await call_action(hass, "send_sms", {"number": "+4915199999999", "message": f"n{index}"})
    messages = loaded_entry.runtime_data.messages.messages
    assert len(messages) == MESSAGES_KEPT
    assert messages[0].text == f"n{MESSAGES_KEPT + 2}"


async def test_subscription_survives_a_reload(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client, config_entry_id=ENTRY_ID)

    assert await hass.config_entries.async_unload(ENTRY_ID)
    state = await _state_where(client, subscription, lambda s: not s["loaded"])
    assert state == {"config_entry_id": ENTRY_ID, "title": TITLE, "loaded": False}

    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    await _state_where(client, subscription, lambda s: s["loaded"] and s["connected"])

    # Still live after the reload: a call shows up.
    await emulator.incoming_call(CALLER)
    await _state_where(client, subscription, lambda s: s["call"]["state"] == "incoming")
    await call_action(hass, "hang_up")


async def test_unknown_modem_is_a_translated_error(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, loaded_entry: MockConfigEntry
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "callstack/phone/subscribe", "config_entry_id": "no-such-entry"}
    )
    result = await client.receive_json()
    assert not result["success"]
    assert result["error"]["code"] == "not_found"
    assert result["error"]["translation_key"] == "entry_not_found"
    assert result["error"]["translation_domain"] == DOMAIN


async def test_a_call_in_progress_reports_since_when(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """A card opened mid-call gets the call's start, so its timer shows the real duration."""
    await answered_call(hass, emulator, CALLER)
    await wait_until(hass, lambda: loaded_entry.runtime_data.coordinator.data.call is not None)
    client = await hass_ws_client(hass)
    _, state = await _subscribe(client)
    assert state["call"]["state"] == "active"
    assert state["call"]["since"] is not None
    await call_action(hass, "hang_up")


async def test_a_waiting_caller_and_a_held_call_are_shown(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """Call waiting: the card sees the second caller, then the first call on hold."""
    await answered_call(hass, emulator, CALLER)
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client)

    await emulator.incoming_call(SECOND_CALLER)  # rings during the call: waiting
    state = await _state_where(client, subscription, lambda s: s["call"]["waiting"] is not None)
    assert state["call"]["number"] == CALLER
    assert state["call"]["waiting"] == {"number": SECOND_CALLER, "direction": "inbound"}

    await call_action(hass, "answer")  # holds the first call, takes the second
    state = await _state_where(client, subscription, lambda s: s["call"]["held"] is not None)
    assert state["call"]["number"] == SECOND_CALLER
    assert state["call"]["held"] == {"number": CALLER, "direction": "inbound"}
    assert state["call"]["waiting"] is None
    await call_action(hass, "hang_up", {"target": "all"})
