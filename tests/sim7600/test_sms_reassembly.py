"""Multipart SMS reassembly: ordering, duplicates, expiry, persistence."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
import json
from typing import Literal

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600.sms_pdu import Concat, SmsDeliver, decode_deliver
from custom_components.callstack.sim7600.sms_reassembly import (
    PART_TIME_WINDOW,
    CompleteMessage,
    MalformedStateError,
    Reassembler,
)

T0 = 1_700_000_000.0
TZ = timezone(timedelta(hours=2))


def part(
    seq: int,
    total: int = 3,
    *,
    text: str | None = None,
    sender: str = "+15550100",
    reference: int = 42,
    ref_bits: Literal[8, 16] = 8,
) -> SmsDeliver:
    return SmsDeliver(
        smsc=None,
        sender=sender,
        timestamp=datetime(2024, 5, 1, 10, 0, seq, tzinfo=TZ),
        encoding="gsm7",
        message_class=None,
        text=f"<{seq}>" if text is None else text,
        data=b"",
        udh=Concat(reference, total, seq, ref_bits),
        status_report_indication=False,
    )


def test_single_part_returns_immediately() -> None:
    sms = decode_deliver(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    )
    reassembler = Reassembler()
    (message,) = reassembler.add(sms, now=T0)
    assert message == CompleteMessage(
        sender="+31641600986",
        text="How are you?",
        timestamp=sms.timestamp,
        parts=1,
        total=1,
        incomplete=False,
        reference=None,
        missing=(),
    )
    assert len(reassembler) == 0


def test_out_of_order() -> None:
    reassembler = Reassembler()
    assert reassembler.add(part(3), now=T0) == []
    assert reassembler.add(part(1), now=T0 + 1) == []
    assert len(reassembler) == 1
    (message,) = reassembler.add(part(2), now=T0 + 2)
    assert message == CompleteMessage(
        sender="+15550100",
        text="<1><2><3>",
        timestamp=part(1).timestamp,
        parts=3,
        total=3,
        incomplete=False,
        reference=42,
        missing=(),
    )
    assert len(reassembler) == 0


def test_a_repeat_of_a_held_part_is_ignored() -> None:
    reassembler = Reassembler()
    assert reassembler.add(part(1, 2), now=T0) == []
    assert reassembler.add(part(1, 2), now=T0 + 5) == []
    (message,) = reassembler.add(part(2, 2), now=T0)
    assert (message.text, message.parts) == ("<1><2>", 2)


def test_a_conflicting_part_ends_the_held_group_as_incomplete() -> None:
    """The same part number with other content: a new message reusing the reference."""
    reassembler = Reassembler()
    assert reassembler.add(part(1, 2), now=T0) == []
    flushed, *rest = reassembler.add(part(1, 2, text="new"), now=T0 + 5)
    assert rest == []
    assert (flushed.text, flushed.incomplete, flushed.missing) == ("<1>", True, (2,))
    (message,) = reassembler.add(part(2, 2), now=T0 + 6)
    assert (message.text, message.incomplete) == ("new<2>", False)


def test_a_part_far_in_time_from_the_held_ones_is_another_message() -> None:
    """Parts of one message are submitted together: a time stamp more than the window
    away from every held part belongs to a later message with the same reference."""
    reassembler = Reassembler()
    assert reassembler.add(part(1, 3), now=T0) == []
    assert reassembler.add(part(2, 3), now=T0) == []
    late = part(3, 3)
    late = replace(late, timestamp=late.timestamp + PART_TIME_WINDOW + timedelta(seconds=10))
    flushed, *rest = reassembler.add(late, now=T0 + 7200)
    assert rest == []
    assert (flushed.text, flushed.missing) == ("<1><2>", (3,))
    assert len(reassembler) == 1
    # Within the window (or without time stamps) it is the same message.
    near = replace(part(3, 3), timestamp=part(1, 3).timestamp + PART_TIME_WINDOW)
    other = Reassembler()
    other.add(part(1, 3), now=T0)
    other.add(part(2, 3), now=T0)
    (message,) = other.add(near, now=T0)
    assert message.text == "<1><2><3>"


def test_keys_keep_messages_apart() -> None:
    reassembler = Reassembler()
    assert reassembler.add(part(1, 2), now=T0) == []
    assert reassembler.add(part(2, 2, sender="+15550199"), now=T0) == []
    assert reassembler.add(part(2, 2, reference=43), now=T0) == []
    assert reassembler.add(part(2, 2, ref_bits=16), now=T0) == []
    assert reassembler.add(part(2, 3), now=T0) == []
    assert len(reassembler) == 5
    assert len(reassembler.add(part(2, 2), now=T0)) == 1


def test_real_pdus_reassemble() -> None:
    scts = "42305121436540"
    pdus = (
        f"00440A8110325476980000{scts}19050003C702018A75F91B14A683E8E832A8EC26833665",
        f"00440A8110325476980000{scts}0F050003C70202362877194FDFA400",
    )
    reassembler = Reassembler()
    assert reassembler.add(decode_deliver(pdus[1]), now=T0) == []
    (message,) = reassembler.add(decode_deliver(pdus[0]), now=T0)
    assert (message.sender, message.text, message.reference) == (
        "0123456789",
        "Euro at the end €{next}",
        0xC7,
    )


def test_expire_delivers_what_arrived() -> None:
    reassembler = Reassembler()
    reassembler.add(part(3), now=T0)
    reassembler.add(part(1), now=T0 + 50)
    assert reassembler.expire(T0 + 59, max_age=60) == []
    (message,) = reassembler.expire(T0 + 60, max_age=60)
    assert message == CompleteMessage(
        sender="+15550100",
        text="<1><3>",
        timestamp=part(1).timestamp,
        parts=2,
        total=3,
        incomplete=True,
        reference=42,
        missing=(2,),
    )
    assert len(reassembler) == 0
    # A straggler starts a new group rather than resurrecting the old one.
    assert reassembler.add(part(2), now=T0 + 61) == []


def test_expire_timestamp_is_from_the_lowest_part_received() -> None:
    reassembler = Reassembler()
    reassembler.add(part(3), now=T0)
    reassembler.add(part(2), now=T0)
    (message,) = reassembler.expire(T0 + 100, max_age=60)
    assert message.timestamp == part(2).timestamp
    assert message.missing == (1,)


def test_expire_oldest_first_and_keeps_young_groups() -> None:
    reassembler = Reassembler()
    reassembler.add(part(1, reference=2), now=T0 + 10)
    reassembler.add(part(1, reference=1), now=T0)
    reassembler.add(part(1, reference=3), now=T0 + 100)
    expired = reassembler.expire(T0 + 70, max_age=60)
    assert [message.reference for message in expired] == [1, 2]
    assert len(reassembler) == 1


def test_state_round_trip_through_json() -> None:
    reassembler = Reassembler()
    reassembler.add(part(2), now=T0)
    reassembler.add(part(1, 2, reference=7, ref_bits=16), now=T0 + 5)
    state = json.loads(json.dumps(reassembler.to_dict()))
    restored = Reassembler.from_dict(state)
    assert restored.to_dict() == reassembler.to_dict()
    assert restored.add(part(1), now=T0 + 10) == []
    (message,) = restored.add(part(3), now=T0 + 10)
    assert message.text == "<1><2><3>"
    assert message.timestamp == part(1).timestamp
    (other,) = restored.expire(T0 + 65, max_age=60)
    assert (other.reference, other.missing) == (7, (2,))


def test_empty_state_round_trip() -> None:
    assert len(Reassembler.from_dict(Reassembler().to_dict())) == 0


@pytest.mark.parametrize(
    "timestamp", [datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone(-timedelta(hours=3))), None]
)
@pytest.mark.parametrize("reference", [None, 300])
def test_complete_message_round_trip(timestamp: datetime | None, reference: int | None) -> None:
    message = CompleteMessage(
        sender="InfoSMS",
        text="Hi 😀",
        timestamp=timestamp,
        parts=2,
        total=3,
        incomplete=True,
        reference=reference,
        missing=(3,),
    )
    restored = CompleteMessage.from_dict(json.loads(json.dumps(message.to_dict())))
    assert restored == message
    assert restored.timestamp is None or restored.timestamp.utcoffset() == timedelta(hours=-3)


def _state(**group: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sender": "+1",
        "reference": 1,
        "total": 2,
        "ref_bits": 8,
        "first_seen": T0,
        "parts": [{"seq": 1, "text": "a", "timestamp": None}],
    }
    return {"version": 1, "groups": [base | group]}


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"version": 2, "groups": []},
        {"version": 1, "groups": {}},
        {"version": 1, "groups": ["x"]},
        _state(sender=None),
        _state(reference="1"),
        _state(total=True),
        _state(ref_bits=7),
        _state(first_seen="now"),
        _state(first_seen=None),
        _state(parts=[]),
        _state(parts="a"),
        _state(parts=[{"seq": 0, "text": "a", "timestamp": None}]),
        _state(parts=[{"seq": 3, "text": "a", "timestamp": None}]),
        _state(parts=[{"seq": 1, "text": 5, "timestamp": None}]),
        _state(parts=[{"seq": 1, "text": "a", "timestamp": "yesterday"}]),
        _state(parts=[{"seq": 1, "text": "a", "timestamp": 5}]),
        _state(parts=[{"seq": 1, "text": "a", "timestamp": "2024-05-01T10:00:00"}]),  # no zone
        _state(first_seen=float("nan")),
        _state(total=0),
        _state(reference=-1),
    ],
)
def test_malformed_state(state: dict[str, object]) -> None:
    with pytest.raises(MalformedStateError):
        Reassembler.from_dict(state)


def test_minimal_valid_state_loads() -> None:
    assert len(Reassembler.from_dict(_state())) == 1


@pytest.mark.parametrize(
    "changes",
    [{"missing": "1"}, {"missing": [True]}, {"incomplete": 1}, {"parts": None}, {"text": None}],
)
def test_malformed_message(changes: dict[str, object]) -> None:
    good = CompleteMessage("+1", "a", None, 1, 1, False, None, ()).to_dict()
    with pytest.raises(MalformedStateError):
        CompleteMessage.from_dict(good | changes)


@settings(max_examples=150, deadline=None)
@given(total=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_order_with_duplicates_completes_once(total: int, data: st.DataObject) -> None:
    order = list(data.draw(st.permutations(range(1, total + 1))))
    last = order.pop()
    if order:  # copies of earlier parts, anywhere before the completing part
        for seq in data.draw(st.lists(st.sampled_from(order), max_size=total)):
            order.insert(data.draw(st.integers(0, len(order))), seq)
    reassembler = Reassembler()
    assert all(reassembler.add(part(seq, total), now=T0) == [] for seq in order)
    (message,) = reassembler.add(part(last, total), now=T0)
    assert message.text == "".join(f"<{seq}>" for seq in range(1, total + 1))
    assert (message.parts, message.incomplete, len(reassembler)) == (total, False, 0)
