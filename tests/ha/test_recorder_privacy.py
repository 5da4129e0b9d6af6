"""Privacy in the recorder's database, read back from the real recorder (SQLite).

Calls with caller ID, DTMF digits, SMS and USSD texts go through the emulator while the
recorder runs; then the states, state attributes and events tables are read for the
private values. The entities never let them in. The bus events carry them for
automations unless the user turns "Private data on bus events" off, or excludes the
events from the recorder with the README's snippet.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import (
    EventData,
    Events,
    EventTypes,
    StateAttributes,
    States,
    StatesMeta,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_BUS_EVENT_PRIVATE_DATA,
    CONF_VOICEMAIL_STT,
    DOMAIN,
    EVENT_CALL,
    EVENT_DTMF,
    EVENT_SMS_RECEIVED,
    EVENT_USSD,
    EVENT_VOICEMAIL,
)
from sim7600_emulator import Sim7600Emulator, UssdReply  # noqa: E402

from .fixtures import DEVICE_SLUG, EntryFactory, state_of, wait_until  # noqa: E402
from .voicemail_helpers import StubStt, add_stt, leave_message  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)
# Voicemail writes its messages into a media folder of each test's own, and transcribes
# them with an STT engine that hears a private text.
pytestmark = pytest.mark.usefixtures("media_dir", "stt_engine")
STT_ENGINE = "stt.stub_stt"
VOICEMAIL_STT = {CONF_VOICEMAIL_STT: STT_ENGINE}


@pytest.fixture
async def stt_engine(hass: HomeAssistant, emulator: Sim7600Emulator) -> str:
    engine_id = await add_stt(hass, StubStt(emulator.identity.sms_bodies[0]))
    assert engine_id == STT_ENGINE
    return engine_id


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The suite's autouse fixture of this name, with the recorder set up before ``hass``
    and before the fixtures that use it (HA 2026.10 refuses a recorder set up later)."""


DIGITS = "7319"
PRIVATE_EVENTS = [EVENT_CALL, EVENT_DTMF, EVENT_SMS_RECEIVED, EVENT_USSD, EVENT_VOICEMAIL]
# Home Assistant records every action call with its data (number and text of send_sms).
CALL_SERVICE = "call_service"
# The README's snippet (Privacy), as the recorder's configuration.
README_EXCLUDE = {"exclude": {"event_types": [*PRIVATE_EVENTS, CALL_SERVICE]}}


def test_the_readme_snippet_is_the_one_tested() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\nrecorder:\n", 1)[1].split("```", 1)[0]
    listed = re.findall(r"^\s+- ([a-z_]+)", block, re.MULTILINE)
    assert listed == README_EXCLUDE["exclude"]["event_types"]


async def private_traffic(hass: HomeAssistant, emulator: Sim7600Emulator) -> None:
    """A call from a caller with ID, DTMF digits pressed, SMS in and out, USSD, and a
    voicemail with its transcript."""
    identity = emulator.identity
    # A voicemail with a transcript (a private text) from the STT engine the options name.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.options[CONF_VOICEMAIL_STT] == STT_ENGINE
    await leave_message(hass, emulator, entry, seconds=1)
    await emulator.incoming_call(identity.callers[0], ring_interval=0.3)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming")
    await hass.services.async_call(DOMAIN, "answer", {}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "active")
    await emulator.send_dtmf(DIGITS)
    await wait_until(
        hass, lambda: state_of(hass, "event", "dtmf").attributes.get("digit") == DIGITS[-1]
    )
    await emulator.remote_hang_up()
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "idle")
    await emulator.deliver_sms(identity.callers[1], identity.sms_bodies[0])
    await wait_until(
        hass, lambda: state_of(hass, "event", "sms").attributes.get("number") is not None
    )
    await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"number": identity.callers[2], "message": identity.sms_bodies[1]},
        blocking=True,
    )
    # A code first turns USSD presentation on; then the network pushes a message.
    emulator.ussd_responses["*100#"] = UssdReply(0, identity.ussd_texts[1])
    await hass.services.async_call(DOMAIN, "send_ussd", {"code": "*100#"}, blocking=True)
    pushed = async_capture_events(hass, EVENT_USSD)
    await emulator.ussd_push(2, identity.ussd_texts[0])
    await wait_until(hass, lambda: pushed, what="the USSD push")


def database(recorder: Recorder) -> dict[str, Any]:
    """What the recorder stored: states, their attributes, and events with their data."""
    with session_scope(session=recorder.get_session(), read_only=True) as session:
        states = [
            (entity_id, state, json.loads(attrs) if attrs else {})
            for entity_id, state, attrs in session.query(
                StatesMeta.entity_id, States.state, StateAttributes.shared_attrs
            )
            .join(StatesMeta, States.metadata_id == StatesMeta.metadata_id)
            .outerjoin(StateAttributes, States.attributes_id == StateAttributes.attributes_id)
        ]
        events = [
            (event_type, json.loads(data) if data else {})
            for event_type, data in session.query(EventTypes.event_type, EventData.shared_data)
            .select_from(Events)
            .join(EventTypes, Events.event_type_id == EventTypes.event_type_id)
            .outerjoin(EventData, Events.data_id == EventData.data_id)
        ]
    return {"states": states, "events": events}


async def stored(hass: HomeAssistant, recorder: Recorder) -> dict[str, Any]:
    await async_wait_recording_done(hass)
    return await recorder.async_add_executor_job(database, recorder)


def assert_no_private_values(rows: list[Any], emulator: Sim7600Emulator) -> None:
    text = json.dumps(rows)
    for secret in emulator.identity.secrets():
        assert secret not in text, f"a private value is stored: {secret[:3]}..."


def callstack_states(db: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [row for row in db["states"] if f".{DEVICE_SLUG}_" in row[0]]


async def test_entities_keep_numbers_texts_and_digits_out_of_the_recorder(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    await entry_factory(options=VOICEMAIL_STT)
    await private_traffic(hass, emulator)
    db = await stored(hass, recorder_mock)

    states = callstack_states(db)
    event_entity_states = [row for row in states if row[0].startswith("event.")]
    assert {row[0] for row in event_entity_states} >= {
        f"event.{DEVICE_SLUG}_call",
        f"event.{DEVICE_SLUG}_dtmf",
        f"event.{DEVICE_SLUG}_sms_received",
    }
    assert any(row[2].get("event_type") == "received" for row in event_entity_states)
    for entity_id, _, attributes in states:
        assert not {"number", "text", "digit", "message"} & attributes.keys(), entity_id
    assert_no_private_values(db["states"], emulator)


async def test_bus_events_without_private_data_when_the_user_turns_it_off(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    """The events still fire (type, direction, parts, ...), only without the private
    fields; the event entities still show them to automations."""
    captured = {kind: async_capture_events(hass, kind) for kind in PRIVATE_EVENTS}
    await entry_factory(options={**VOICEMAIL_STT, CONF_BUS_EVENT_PRIVATE_DATA: False})
    await private_traffic(hass, emulator)
    db = await stored(hass, recorder_mock)

    assert all(captured.values()), {kind: len(events) for kind, events in captured.items()}
    assert [event.data["type"] for event in captured[EVENT_CALL]][-1] == "ended"
    assert captured[EVENT_SMS_RECEIVED][0].data["parts"] == 1
    for events in captured.values():
        for event in events:
            assert not {"number", "text", "digit", "message"} & event.data.keys()
    ours = [row for row in db["events"] if row[0] in PRIVATE_EVENTS]
    assert {event_type for event_type, _ in ours} == set(PRIVATE_EVENTS)
    assert_no_private_values(ours, emulator)
    assert state_of(hass, "event", "sms").attributes["number"] == emulator.identity.callers[1]


async def test_bus_events_carry_private_data_by_default(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    """What the option and the snippet are for: by default the recorder stores the
    numbers in clear, and Home Assistant's own record of each action call holds what
    send_sms was given (the option cannot change that; the snippet can)."""
    await entry_factory(options=VOICEMAIL_STT)
    await private_traffic(hass, emulator)
    db = await stored(hass, recorder_mock)
    sms = [data for event_type, data in db["events"] if event_type == EVENT_SMS_RECEIVED]
    assert sms[0]["number"] == emulator.identity.callers[1]
    actions = [data for event_type, data in db["events"] if event_type == CALL_SERVICE]
    sent = [data["service_data"] for data in actions if data["service"] == "send_sms"]
    assert sent[0]["message"] == emulator.identity.sms_bodies[1]


@pytest.mark.parametrize("recorder_config", [README_EXCLUDE])
async def test_the_readme_recorder_snippet_keeps_the_events_out_of_the_database(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
) -> None:
    """Excluded from the recorder, the events still reach automations whole."""
    captured = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await entry_factory(options=VOICEMAIL_STT)
    await private_traffic(hass, emulator)
    db = await stored(hass, recorder_mock)
    assert captured[0].data["text"] == emulator.identity.sms_bodies[0]
    assert not {event_type for event_type, _ in db["events"]} & set(PRIVATE_EVENTS)
    assert_no_private_values(db["events"], emulator)
    assert_no_private_values(db["states"], emulator)
