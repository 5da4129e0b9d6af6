"""SMS in and out, the notify entity, and USSD, through Home Assistant and the emulator."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_SMS_RECIPIENTS,
    EVENT_SMS_RECEIVED,
    EVENT_USSD,
)
from sim7600_emulator import SentSms, Sim7600Emulator, UssdReply  # noqa: E402

from .fixtures import (  # noqa: E402
    EntryFactory,
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    entity_id,
    setup_entry,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)

DCS_UCS2 = 72
LONG_GSM = (
    "Callstack multipart test: the quick brown fox jumps over the lazy dog, "
    "and every part must arrive once, in order, whatever the network does. "
)


def sent_text(parts: list[SentSms]) -> str:
    """The text of a sent message, its parts put in order."""
    ordered = sorted(parts, key=lambda part: part.concat.seq if part.concat else 0)
    return "".join(part.text for part in ordered)


def sms_events_text(events: list[Any]) -> list[str]:
    """The texts of captured ``callstack_sms_received`` events."""
    return [event.data["text"] for event in events]


# ---- receiving ----------------------------------------------------------------------


async def test_single_sms_received(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """One SMS: the event entity, the bus event, the sensor, and the SIM slot freed."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    sender, text = emulator.identity.callers[0], emulator.identity.sms_bodies[0]
    assert state_of(hass, "sensor", "last_sms_received").state == "unknown"

    [index] = await emulator.deliver_sms(sender, text)
    await wait_until(hass, lambda: len(events) == 1, what="the SMS")
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="deletion")

    data = events[0].data
    assert data["config_entry_id"] == loaded_entry.entry_id
    assert data["device_id"] == loaded_entry.runtime_data.device_id
    assert (data["number"], data["text"], data["parts"]) == (sender, text, 1)
    assert data["incomplete"] is False
    assert data["timestamp"] is not None
    state = state_of(hass, "event", "sms")
    assert state.attributes["event_type"] == "received"
    assert state.attributes["number"] == sender
    assert state.attributes["text"] == text
    assert state.attributes["parts"] == 1
    assert state_of(hass, "sensor", "last_sms_received").state not in ("unknown", "unavailable")
    assert f"AT+CMGD={index}" in emulator.commands


async def test_sms_arrives_during_a_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Any
) -> None:
    """An SMS during a call with audio streaming is delivered, and the call goes on."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    await emulator.deliver_sms(emulator.identity.callers[1], emulator.identity.sms_bodies[1])
    await wait_until(hass, lambda: len(events) == 1, what="the SMS")
    assert events[0].data["text"] == emulator.identity.sms_bodies[1]
    assert state_of(hass, "sensor", "call_state").state == "active"
    assert state_of(hass, "binary_sensor", "audio_bridge").state == "on"
    await call_action(hass, "hang_up")
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="idle"
    )


async def test_multipart_out_of_order_is_one_message(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Three parts arriving 3, 1, 2 make one event with the whole text."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    sender = emulator.identity.callers[1]
    text = LONG_GSM * 3
    indexes = await emulator.deliver_sms(sender, text, order=[3, 1, 2])
    assert len(indexes) == 3
    await wait_until(hass, lambda: len(events) == 1, what="the SMS")
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="deletion")
    assert events[0].data["text"] == text
    assert events[0].data["parts"] == 3
    assert state_of(hass, "event", "sms").attributes["text"] == text
    # Nothing else comes later.
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_ucs2_with_emoji(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """UCS2 text, single and split in two (a surrogate pair never cut), arrives intact."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    sender = emulator.identity.callers[2]
    short = emulator.identity.sms_bodies[2]
    long = (short + " \U0001f389 ") * 4
    await emulator.deliver_sms(sender, short)
    await wait_until(hass, lambda: len(events) == 1, what="the first SMS")
    await emulator.deliver_sms(sender, long, split=2, order=[2, 1])
    await wait_until(hass, lambda: len(events) == 2, what="the second SMS")
    assert sms_events_text(events) == [short, long]
    assert [event.data["parts"] for event in events] == [1, 2]
    assert len(emulator.sms_storage) == 0


async def test_messages_stored_before_setup_are_delivered_at_setup(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """SMS that reached the SIM while Home Assistant was down arrive when it sets up."""
    identity = emulator.identity
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await emulator.deliver_sms(identity.callers[0], identity.sms_bodies[0])
    await emulator.deliver_sms(identity.callers[1], LONG_GSM * 2, order=[2, 1])
    assert len(emulator.sms_storage) == 3

    await entry_factory()
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="the sweep")
    await wait_until(hass, lambda: len(events) == 2, timeout=2, what="the swept messages")
    assert sorted(sms_events_text(events)) == sorted([identity.sms_bodies[0], LONG_GSM * 2])
    assert state_of(hass, "event", "sms").attributes["parts"] in (1, 2)


async def test_restart_does_not_deliver_twice(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """After a restart, messages found on the SIM again (a crash between the journal write and
    the delete) are recognised from the journal in HA's storage and not delivered again."""
    identity = emulator.identity
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    entry = await entry_factory()
    stored = []
    for sender, text, order in (
        (identity.callers[0], identity.sms_bodies[0], None),
        (identity.callers[1], LONG_GSM * 2, [2, 1]),
    ):
        indexes = await emulator.deliver_sms(sender, text, order=order)
        # Taken before the driver has run: the emulator stored them synchronously.
        stored += [emulator.sms_storage[index].message for index in indexes]
    assert len(stored) == 3
    await wait_until(hass, lambda: len(events) == 2, what="the messages")
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="deletion")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    for message in stored:  # the very same PDUs are on the SIM again
        emulator.sms_storage.store(message)
    await setup_entry(hass, entry)
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="the second sweep")
    await hass.async_block_till_done()
    assert len(events) == 2
    assert entry.runtime_data.modem.sms.duplicates == 3
    assert entry.runtime_data.modem.sms.received == 0


async def test_multipart_group_survives_a_restart(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """Part 1 before a restart and part 2 after it still make one message."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    sender = emulator.identity.callers[0]
    text = LONG_GSM * 2
    entry = await entry_factory()
    await emulator.deliver_sms(sender, text, reference=77, omit_parts=[2])
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="part 1 handled")
    assert events == []

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await setup_entry(hass, entry)
    await emulator.deliver_sms(sender, text, reference=77, omit_parts=[1])
    await wait_until(hass, lambda: len(events) == 1, what="the joined message")
    assert events[0].data["text"] == text
    assert events[0].data["parts"] == 2


# ---- sending ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts", "alphabet"),
    [
        ("Hello from Home Assistant", 1, "gsm7"),
        ("A" * 200, 2, "gsm7"),
        ("B" * 1500, 10, "gsm7"),
        ("Grüße \U0001f600", 1, "ucs2"),
        ("\u00e7a va? \U0001f600 " * 8, 2, "ucs2"),
    ],
)
async def test_send_sms(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    text: str,
    parts: int,
    alphabet: str,
) -> None:
    """The action splits and encodes; the network receives the text, one reference a part."""
    number = emulator.identity.callers[0]
    response = await call_action(
        hass, "send_sms", {"number": number, "message": text}, return_response=True
    )
    sent = emulator.sent_sms
    assert response == {"references": [part.reference for part in sent], "parts": parts}
    assert len(sent) == parts
    assert {part.destination for part in sent} == {number}
    assert {part.alphabet for part in sent} == {alphabet}
    assert sent_text(sent) == text
    if parts > 1:
        assert sorted(part.concat.seq for part in sent) == list(range(1, parts + 1))
        assert {(part.concat.reference, part.concat.total) for part in sent} == {
            (sent[0].concat.reference, parts)
        }


async def test_send_sms_refusals(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Too long, bad number, empty or control characters: refused before AT+CMGS."""
    number = emulator.identity.callers[0]
    cases = [
        ({"number": number, "message": "C" * 1600}, "message_too_long"),
        ({"number": "+49 1x1", "message": "hi"}, "invalid_sms_recipient"),
        ({"number": "123;ATH", "message": "hi"}, "invalid_sms_recipient"),
        ({"number": "*100#", "message": "hi"}, "invalid_sms_recipient"),
        ({"number": number, "message": ""}, "message_empty"),
        ({"number": number, "message": "stop\x1aATH"}, "invalid_message"),
    ]
    for data, key in cases:
        err = await action_error(hass, "send_sms", data, return_response=True)
        assert_translated_error(err, ServiceValidationError, key, emulator)
    assert emulator.sent_sms == []
    assert not [c for c in emulator.commands if c.startswith("AT+CMGS")]


async def test_send_sms_to_a_number_as_people_write_it(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """A number written "+49 155 …", with spaces and a dash, reaches the network compact."""
    number = emulator.identity.callers[0]
    written = f"{number[:3]} {number[3:6]} {number[6:9]}-{number[9:]}"
    await call_action(hass, "send_sms", {"number": written, "message": "hi"}, return_response=True)
    assert [part.destination for part in emulator.sent_sms] == [number]


@pytest.mark.parametrize(("code", "key"), [(330, "sms_smsc_unknown"), (331, "sms_no_network")])
async def test_send_sms_network_errors(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, code: int, key: str
) -> None:
    """``+CMS ERROR`` from the modem becomes a translated device error."""
    emulator.sms_send_error = code
    err = await action_error(
        hass,
        "send_sms",
        {"number": emulator.identity.callers[0], "message": emulator.identity.sms_bodies[1]},
    )
    assert_translated_error(err, HomeAssistantError, key, emulator)
    assert emulator.sent_sms == []
    # The modem is usable right after.
    await call_action(hass, "send_sms", {"number": emulator.identity.callers[0], "message": "ok"})
    assert [part.text for part in emulator.sent_sms] == ["ok"]


async def test_notify_entity_sends_to_every_recipient(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """``notify.send_message`` sends title and message to each configured recipient."""
    recipients = list(emulator.identity.callers[:2])
    await entry_factory(options={CONF_SMS_RECIPIENTS: recipients})
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": entity_id(hass, "notify", "sms"), "message": "Door open", "title": "Alarm"},
        blocking=True,
    )
    assert [(part.destination, part.text) for part in emulator.sent_sms] == [
        (recipients[0], "Alarm\nDoor open"),
        (recipients[1], "Alarm\nDoor open"),
    ]


async def test_notify_entity_without_recipients(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """No recipients configured: a translated error and no SMS."""
    with pytest.raises(HomeAssistantError) as excinfo:
        await hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": entity_id(hass, "notify", "sms"), "message": "Door open"},
            blocking=True,
        )
    assert_translated_error(excinfo.value, HomeAssistantError, "no_recipients", emulator)
    assert emulator.sent_sms == []


# ---- USSD ---------------------------------------------------------------------------


async def test_send_ussd_gsm_and_ucs2(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """A GSM and a UCS2 answer are both returned as text."""
    gsm, ucs2 = emulator.identity.ussd_texts[0], "Guthaben 5,00 \u20ac \U0001f4b6"
    emulator.ussd_responses["*100#"] = UssdReply(0, gsm)
    emulator.ussd_responses["*101#"] = UssdReply(0, ucs2, DCS_UCS2)
    response = await call_action(hass, "send_ussd", {"code": "*100#"}, return_response=True)
    assert response == {"status": "done", "message": gsm}
    assert 'AT+CUSD=1,"*100#",15' in emulator.commands
    response = await call_action(hass, "send_ussd", {"code": "*101#"}, return_response=True)
    assert response == {"status": "done", "message": ucs2}


async def test_ussd_session_with_a_reply(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """A menu asks for a reply; the reply gets the final answer."""
    emulator.ussd_responses["*111#"] = UssdReply(1, "1 Balance 2 Data")
    emulator.ussd_responses["2"] = UssdReply(0, emulator.identity.ussd_texts[1])
    response = await call_action(hass, "send_ussd", {"code": "*111#"}, return_response=True)
    assert response == {"status": "needs_reply", "message": "1 Balance 2 Data"}
    response = await call_action(hass, "send_ussd", {"code": "2"}, return_response=True)
    assert response == {"status": "done", "message": emulator.identity.ussd_texts[1]}


async def test_ussd_unsupported_timeout_and_cancel(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Unknown codes, a network timeout, a bad code, and cancelling a session."""
    response = await call_action(hass, "send_ussd", {"code": "*999#"}, return_response=True)
    assert response == {"status": "unsupported", "message": None}

    emulator.ussd_responses["*102#"] = UssdReply(5, None)
    response = await call_action(hass, "send_ussd", {"code": "*102#"}, return_response=True)
    assert response == {"status": "timeout", "message": None}

    err = await action_error(hass, "send_ussd", {"code": '*100#";ATH'}, return_response=True)
    assert_translated_error(err, ServiceValidationError, "invalid_ussd_code", emulator)

    emulator.ussd_responses["*111#"] = UssdReply(1, "1 Balance 2 Data")
    await call_action(hass, "send_ussd", {"code": "*111#"}, return_response=True)
    before = len(emulator.commands)
    await call_action(hass, "cancel_ussd")
    assert emulator.commands[before:] == ["AT+CUSD=2"]


async def test_network_initiated_ussd_is_a_bus_event(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """A +CUSD nobody asked for becomes a ``callstack_ussd`` event."""
    events = async_capture_events(hass, EVENT_USSD)
    # Presentation is switched on by the first AT+CUSD=1 the driver sends.
    await call_action(hass, "send_ussd", {"code": "*999#"}, return_response=True)
    await emulator.ussd_push(0, emulator.identity.ussd_texts[0])
    await wait_until(hass, lambda: len(events) == 1, what="the USSD event")
    assert events[0].data["status"] == "done"
    assert events[0].data["message"] == emulator.identity.ussd_texts[0]
    assert events[0].data["config_entry_id"] == loaded_entry.entry_id
