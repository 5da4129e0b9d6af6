"""The phone card: served by the integration, fed by one websocket subscription.

The card itself is tested in a real browser (tests/browser); here the server side: the module
is served and loaded on every dashboard, and ``callstack/phone/subscribe`` pushes the call,
the caller's number, the last SMS (received and sent), signal and operator, and the newest
voicemail messages while voicemail is on — following the entry through a reload. A voicemail
plays the way the card plays it: resolved through HA's media source to a signed URL.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.card import CARD_FILE, CARD_URL  # noqa: E402
from custom_components.callstack.const import (  # noqa: E402
    CONF_VOICEMAIL_ANSWER_AFTER,
    CONF_VOICEMAIL_ENABLED,
    DOMAIN,
)
from custom_components.callstack.message_log import MESSAGES_KEPT  # noqa: E402
from custom_components.callstack.websocket_api import VOICEMAIL_SHOWN  # noqa: E402
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .fixtures import (  # noqa: E402
    ENTRY_ID,
    TITLE,
    EntryFactory,
    answered_call,
    call_action,
    wait_until,
)
from .voicemail_helpers import box_of, leave_message  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)

CALLER = "+4915123456789"
SECOND_CALLER = "+4915177777777"
# Voicemail on, answering only after long enough that no test's call is answered by it.
VOICEMAIL_ON = {CONF_VOICEMAIL_ENABLED: True, CONF_VOICEMAIL_ANSWER_AFTER: 300}


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
    assert state["voicemail"] is None  # voicemail is off by default: the card shows none

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


async def test_voicemail_is_listed_and_plays_through_a_signed_url(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
) -> None:
    entry = await entry_factory(options=VOICEMAIL_ON)
    client = await hass_ws_client(hass)
    subscription, state = await _subscribe(client, config_entry_id=ENTRY_ID)
    assert state["voicemail"] == {"new": 0, "total": 0, "messages": []}

    message = await leave_message(hass, emulator, entry, seconds=1)
    state = await _state_where(client, subscription, lambda s: s["voicemail"]["total"] == 1)
    content_id = f"media-source://callstack/{ENTRY_ID}/{message.id}"
    assert state["voicemail"] == {
        "new": 1,
        "total": 1,
        "messages": [
            {
                "id": message.id,
                "media_content_id": content_id,
                "number": emulator.identity.callers[0],
                "received": message.received.isoformat(),
                "duration": 1.0,
                "transcript": None,
                "heard": False,
            }
        ],
    }

    # A transcript that arrives later is pushed too.
    await box_of(entry).store.async_update(replace(message, transcript="please call me back"))
    state = await _state_where(
        client, subscription, lambda s: s["voicemail"]["messages"][0]["transcript"] is not None
    )
    assert state["voicemail"]["messages"][0]["transcript"] == "please call me back"

    # Play, as the card does: HA's media source resolves it to a URL signed for this user,
    # which the browser's audio element fetches without a token; listening marks it heard.
    await client.send_json_auto_id(
        {"type": "media_source/resolve_media", "media_content_id": content_id}
    )
    pushed = []
    while (resolved := await client.receive_json())["type"] == "event":
        pushed.append(resolved["event"])  # the subscription's pushes come in between
    assert resolved["success"], resolved
    url = resolved["result"]["url"]
    assert url.startswith(f"/media/local/callstack/voicemail/{message.id}.wav?authSig=")
    assert resolved["result"]["mime_type"] == "audio/wav"
    heard = [s for s in pushed if s["voicemail"]["new"] == 0]
    state = (
        heard[0]
        if heard
        else await _state_where(client, subscription, lambda s: s["voicemail"]["new"] == 0)
    )
    assert state["voicemail"]["messages"][0]["heard"] is True

    response = await (await hass_client_no_auth()).get(url)
    assert response.status == 200
    body = await response.read()
    assert body[:4] == b"RIFF"
    assert body == (recordings / "voicemail" / message.filename).read_bytes()


async def test_only_the_newest_voicemail_is_listed(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
) -> None:
    entry = await entry_factory(options=VOICEMAIL_ON)
    left = [
        await leave_message(hass, emulator, entry, seconds=1) for _ in range(VOICEMAIL_SHOWN + 1)
    ]
    client = await hass_ws_client(hass)
    _, state = await _subscribe(client, config_entry_id=ENTRY_ID)
    voicemail = state["voicemail"]
    assert (voicemail["new"], voicemail["total"]) == (VOICEMAIL_SHOWN + 1, VOICEMAIL_SHOWN + 1)
    shown = [message["id"] for message in voicemail["messages"]]
    assert shown == [message.id for message in reversed(left[1:])]  # newest first


async def test_no_voicemail_is_shown_while_voicemail_is_off(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    recordings: Path,
    loaded_entry: MockConfigEntry,
) -> None:
    """Messages kept from when it was on stay in the media browser, not on the card."""
    await leave_message(hass, emulator, loaded_entry, seconds=1)
    client = await hass_ws_client(hass)
    _, state = await _subscribe(client, config_entry_id=ENTRY_ID)
    assert state["voicemail"] is None
