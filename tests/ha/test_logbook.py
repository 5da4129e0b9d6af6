"""The logbook reads like a phone's call log.

Real recorder and logbook: calls, key presses, SMS and USSD go through the emulator and
the integration onto the bus, the recorder stores them, and HA's own ``logbook/get_events``
returns what Activity and the device page show.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.callstack.const import CONF_LOGBOOK_MESSAGE_TEXT, DOMAIN
from custom_components.callstack.logbook import duration_words
from sim7600_emulator import Sim7600Emulator, UssdReply

from .fixtures import TITLE, EntryFactory, answered_call, call_action, state_of, wait_until

pytest_plugins = ("tests.ha.fixtures",)

CALLER = "+4915123456789"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Any, enable_custom_integrations: None) -> None:
    """The suite's autouse fixture, after the recorder: it must exist before ``hass``."""


@pytest.fixture
async def logbook(hass: HomeAssistant) -> AsyncGenerator[None]:
    """HA's recorder and logbook, as every install has them (its web server not listening:
    the logbook's frontend dependency would start it; HomeAssistantHTTP.start is what binds on
    every supported HA, and what the 2026.x test plugin patches itself)."""
    with patch("homeassistant.components.http.HomeAssistantHTTP.start"):
        assert await async_setup_component(hass, "logbook", {})
        await hass.async_block_till_done()
        yield


async def _entries(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    since: Any,
    device_id: str | None = None,
) -> list[dict[str, Any]]:
    """What the logbook shows since ``since`` (on one device's page when given)."""
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    query: dict[str, Any] = {"type": "logbook/get_events", "start_time": since.isoformat()}
    if device_id is not None:
        query["device_ids"] = [device_id]
    await client.send_json_auto_id(query)
    response = await client.receive_json()
    assert response["success"], response
    return [entry for entry in response["result"] if entry.get("domain") == DOMAIN]


async def test_a_day_of_calls_and_messages_in_words(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    since = dt_util.utcnow() - timedelta(seconds=1)
    entry = await entry_factory()

    await emulator.incoming_call(CALLER)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming")
    await emulator.missed_call()
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "idle")

    await answered_call(hass, emulator, CALLER)
    await emulator.send_dtmf("4")
    await wait_until(hass, lambda: state_of(hass, "event", "dtmf").state != "unknown")
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "idle")

    await emulator.deliver_sms(CALLER, "Dinner at eight")
    await wait_until(hass, lambda: state_of(hass, "event", "sms").state != "unknown")
    # A USSD request (AT+CUSD=1 turns the network's messages on), then the network's own.
    emulator.ussd_responses["*100#"] = UssdReply(0, "Menu")
    await call_action(hass, "send_ussd", {"code": "*100#"}, return_response=True)
    pushed = async_capture_events(hass, "callstack_ussd")
    await emulator.ussd_push(0, "Balance 5 EUR")
    await wait_until(hass, lambda: bool(pushed))

    entries = await _entries(hass, hass_ws_client, since)
    messages = [entry["message"] for entry in entries]
    assert messages[:3] == [
        f"incoming call from {CALLER}",
        f"missed call from {CALLER}",
        f"incoming call from {CALLER}",
    ]
    assert f"answered the call from {CALLER}" in messages
    assert "the caller pressed a key" in messages
    assert any(message.startswith(f"call with {CALLER} ended after ") for message in messages)
    assert f"SMS from {CALLER}" in messages
    assert "USSD reply" in messages
    # Each entry names the modem, and the modem's device page shows the same entries.
    assert {entry["name"] for entry in entries} == {TITLE}
    on_device_page = await _entries(hass, hass_ws_client, since, entry.runtime_data.device_id)
    assert [item["message"] for item in on_device_page] == messages
    # Nothing private unless asked: no message text, no USSD text, no digit.
    assert not [message for message in messages if "Dinner" in message or "Balance" in message]
    assert not [message for message in messages if "4" in message.replace(CALLER, "")]


async def test_message_texts_only_when_the_user_opts_in(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    since = dt_util.utcnow() - timedelta(seconds=1)
    await entry_factory(options={CONF_LOGBOOK_MESSAGE_TEXT: True})
    await emulator.deliver_sms(CALLER, "Dinner at eight")
    await wait_until(hass, lambda: state_of(hass, "event", "sms").state != "unknown")
    # A USSD request (AT+CUSD=1 turns the network's messages on), then the network's own.
    emulator.ussd_responses["*100#"] = UssdReply(0, "Menu")
    await call_action(hass, "send_ussd", {"code": "*100#"}, return_response=True)
    pushed = async_capture_events(hass, "callstack_ussd")
    await emulator.ussd_push(0, "Balance 5 EUR")
    await wait_until(hass, lambda: bool(pushed))

    messages = [entry["message"] for entry in await _entries(hass, hass_ws_client, since)]
    assert f"SMS from {CALLER}: Dinner at eight" in messages
    assert "USSD reply: Balance 5 EUR" in messages


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"type": "incoming", "direction": "inbound", "number": None},
            "incoming call from a withheld number",
        ),
        (
            {"type": "waiting", "direction": "inbound", "number": CALLER},
            f"call waiting from {CALLER}",
        ),
        (
            {"type": "answered", "direction": "outbound", "number": CALLER},
            f"{CALLER} answered",
        ),
        (
            {"type": "ended", "direction": "outbound", "number": CALLER, "reason": "busy"},
            f"call to {CALLER} ended: the line was busy",
        ),
        (
            {"type": "ended", "direction": "inbound", "number": CALLER, "duration": 125.2},
            f"call with {CALLER} ended after 2 min 5 s",
        ),
        (
            {"type": "ended", "direction": "outbound", "number": None, "reason": "no_answer"},
            "call to the callee ended: nobody answered",
        ),
        # Assist over a call: each turn (no transcript, no number).
        ({"type": "assist_start", "pipeline_run_id": "01J"}, "Assist is listening to the caller"),
        ({"type": "assist_end", "outcome": "answered"}, "Assist answered"),
        ({"type": "assist_end", "outcome": "silence"}, "Assist heard nothing and hung up"),
        (
            {"type": "assist_end", "outcome": "no_speech"},
            "Assist heard nothing yet and listens on",
        ),
        # Numbers kept off the bus (the "Private data on bus events" option is off).
        ({"type": "incoming", "direction": "inbound"}, "incoming call from a caller"),
        (
            {"type": "ended", "direction": "inbound", "duration": 61},
            "call with a caller ended after 1 min 1 s",
        ),
    ],
)
async def test_each_call_event_in_words(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    loaded_entry: MockConfigEntry,
    data: dict[str, Any],
    message: str,
) -> None:
    since = dt_util.utcnow() - timedelta(seconds=1)
    hass.bus.async_fire("callstack_call", {"config_entry_id": loaded_entry.entry_id, **data})
    (entry,) = await _entries(hass, hass_ws_client, since)
    assert entry["message"] == message


async def test_delivery_reports_in_words(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    loaded_entry: MockConfigEntry,
) -> None:
    since = dt_util.utcnow() - timedelta(seconds=1)
    for delivered, status in ((True, 0), (False, 70)):
        hass.bus.async_fire(
            "callstack_sms_delivery",
            {
                "config_entry_id": loaded_entry.entry_id,
                "reference": 3,
                "delivered": delivered,
                "status": status,
            },
        )
    messages = [entry["message"] for entry in await _entries(hass, hass_ws_client, since)]
    assert messages == ["SMS delivered", "SMS not delivered (status 70)"]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.4, "0 s"), (59.6, "1 min"), (61, "1 min 1 s"), (3600, "1 h 0 min"), (7384, "2 h 3 min")],
)
def test_durations_as_people_say_them(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words
