"""The SMS journal's loader: whatever JSON it is given, it loads a state that works or
refuses with MalformedStateError; nothing else ever comes out of it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import json
import time
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600.sms_pdu import Concat, SmsDeliver
from custom_components.callstack.sim7600.sms_reassembly import CompleteMessage
from custom_components.callstack.sim7600.sms_state import (
    MAX_PART_KEYS,
    JournalState,
    MalformedStateError,
    RecentKeys,
)

TZ = timezone(timedelta(hours=1))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Time stamps as the journal writes them, with and without their zone.
STAMPS = st.datetimes(timezones=st.none() | st.just(TZ)).map(datetime.isoformat)


def good_state() -> dict[str, Any]:
    """A journal as the driver writes it: a key, a held group, a message in the outbox."""
    state = JournalState()
    state.parts.add("0123456789abcdef01234567")
    part = SmsDeliver(
        smsc=None,
        sender="+15550100",
        timestamp=datetime(2026, 11, 30, 9, 0, tzinfo=TZ),
        encoding="gsm7",
        message_class=None,
        text="<1>",
        data=b"",
        udh=Concat(5, 2, 1, 8),
        status_report_indication=False,
    )
    assert state.reassembler.add(part, now=1_700_000_000.0) == []
    state.outbox.append(CompleteMessage("+15550101", "hi", None, 1, 1, False, None, ()))
    return json.loads(json.dumps(state.to_dict()))


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (dict keys and list indexes), the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaves(item, (*path, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], tuple(rest), new)
    return copy


def exercise(state: JournalState) -> None:
    """Use a loaded state the way the service does: it must not fail."""
    json.dumps(state.to_dict())
    for group in state.to_dict()["reassembly"]["groups"]:  # a new part for each held group
        held = {part["seq"] for part in group["parts"]}
        for seq in sorted(range(1, group["total"] + 1), key=held.__contains__):
            part = SmsDeliver(
                smsc=None,
                sender=group["sender"],
                timestamp=datetime(2026, 11, 30, 9, seq % 60, tzinfo=TZ),
                encoding="gsm7",
                message_class=None,
                text="x",
                data=b"",
                udh=Concat(group["reference"], group["total"], seq, group["ref_bits"]),
                status_report_indication=False,
            )
            state.reassembler.add(part, now=time.time())
    state.reassembler.expire(time.time(), 0)
    for message in state.outbox:
        assert isinstance(message.text, str)
        _ = message.timestamp.isoformat() if message.timestamp else None


def load_or_refuse(data: object) -> JournalState | None:
    try:
        state = JournalState.from_dict(data)
    except MalformedStateError:
        return None
    exercise(state)
    again = JournalState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.to_dict() == state.to_dict()
    return state


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_any_json_loads_or_is_refused(data: object) -> None:
    load_or_refuse(data)


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_a_good_journal_with_one_value_changed_loads_or_is_refused(data: st.DataObject) -> None:
    good = good_state()
    path = data.draw(st.sampled_from(leaves(good)))
    load_or_refuse(replaced(good, path, data.draw(JSON | STAMPS)))


@pytest.mark.parametrize(
    "damaged",
    [
        {"parts": 5},
        {"reassembly": "garbage"},
        ["x"],
        {"parts": [1]},
        {"parts": ["x" * 65]},
        {"outbox": {}},
        {"outbox": [{"text": None}]},
        {"reassembly": {"version": 1, "groups": "x"}},
    ],
)
def test_damage_the_issue_names_is_refused(damaged: object) -> None:
    with pytest.raises(MalformedStateError):
        JournalState.from_dict(damaged)


def test_what_older_versions_wrote_still_loads() -> None:
    """Before the outbox existed the file had parts and reassembly only (reassembly even
    empty before the first message)."""
    state = JournalState.from_dict({"parts": ["abc"], "reassembly": {}})
    assert list(state.parts) == ["abc"]
    assert (len(state.reassembler), state.outbox) == (0, [])
    assert JournalState.from_dict(None).to_dict() == JournalState().to_dict()
    good = good_state()
    assert JournalState.from_dict(good).to_dict() == good


def test_recent_keys_forget_the_oldest() -> None:
    keys = RecentKeys(f"k{index}" for index in range(MAX_PART_KEYS + 5))
    assert len(keys) == MAX_PART_KEYS
    assert "k4" not in keys
    assert "k5" in keys
