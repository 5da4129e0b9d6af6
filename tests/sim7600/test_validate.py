"""Argument validation: nothing unsafe reaches the AT line."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600 import validate
from custom_components.callstack.sim7600.errors import InvalidArgumentError
from custom_components.callstack.sim7600.sms_pdu import SmsTooLongError

INJECTIONS = [";", '"', "\r", "\n", "\x1a", "\x1b", "\x00", "/", ".."]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_characters_are_rejected_everywhere(bad: str) -> None:
    numbers = (
        []
        if bad == ".."
        else [  # dots are what people write between digits
            (validate.phone_number, "+4915550001"),
            (validate.sms_recipient, "+4915550001"),
        ]
    )
    for check, good in (
        *numbers,
        (validate.pin, "1234"),
        (validate.ussd_code, "*100#"),
        (validate.dtmf_digits, "12#"),
    ):
        with pytest.raises(InvalidArgumentError):
            check(good + bad)
        with pytest.raises(InvalidArgumentError):
            check(bad + good)


def test_valid_values_pass() -> None:
    assert validate.phone_number("+4915550001") == "+4915550001"
    assert validate.phone_number("*21#123") == "*21#123"
    assert validate.pin("00001234") == "00001234"
    assert validate.ussd_code("*100#") == "*100#"
    assert validate.dtmf_digits("12abcd*#") == "12ABCD*#"
    assert validate.dtmf_duration_ms(100) == 100
    assert validate.sms_text("Hi 👋", 10) == "Hi 👋"
    assert validate.sms_text("x" * 1530, 10) == "x" * 1530  # ten full GSM 7-bit parts


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (validate.phone_number, "12"),
        (validate.phone_number, "1" * 21),
        (validate.phone_number, 12345),
        (validate.pin, "123"),
        (validate.dtmf_digits, "1" * 33),
        (validate.dtmf_duration_ms, 50),
        (validate.dtmf_duration_ms, True),
    ],
)
def test_out_of_range_values_are_rejected(check: object, value: object) -> None:
    with pytest.raises(InvalidArgumentError):
        check(value)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("written", "compact"),
    [
        ("+49 151 5550001", "+491515550001"),
        ("+49 (0)151 555-0001", "+491515550001"),  # the trunk 0 is not dialled after +49
        ("(030) 555.0001", "0305550001"),  # a national number keeps its 0
        ("0151 555 00 01", "01515550001"),
        ("+1 (555) 010-0001", "+15550100001"),
        ("\u00a0+44\u202f20\u20097946\u20130958 ", "+442079460958"),  # no-break, thin spaces
    ],
)
def test_numbers_are_taken_as_people_write_them(written: str, compact: str) -> None:
    assert validate.phone_number(written) == compact
    assert validate.sms_recipient(written) == compact


@pytest.mark.parametrize("number", ["*100#", "#31#0151555", "+49151*1", "12", "+49 1x1"])
def test_sms_recipients_are_digits_only(number: str) -> None:
    """``*`` and ``#`` dial service codes: no SMS goes to one."""
    with pytest.raises(InvalidArgumentError):
        validate.sms_recipient(number)


@pytest.mark.parametrize("text", ["", "bye\x1a", "Hi \ud800", "\udfff", "\ud83c\udf89"])
def test_sms_text_without_text_or_with_control_bytes_or_lone_surrogates_is_rejected(
    text: str,
) -> None:
    with pytest.raises(InvalidArgumentError):
        validate.sms_text(text, 10)


def test_a_huge_sms_text_is_refused_by_its_length_before_it_is_scanned() -> None:
    with pytest.raises(SmsTooLongError) as excinfo:
        validate.sms_text("\x1a" * 10_000_000, 10)  # too long wins over the control byte
    assert excinfo.value.max_parts == 10
    with pytest.raises(SmsTooLongError):
        validate.sms_text("x" * 161, 1)


# Each validator and what may never pass it: AT syntax, or what ends an SMS body.
_VALIDATORS = [
    (validate.phone_number, INJECTIONS[:7]),
    (validate.sms_recipient, [*INJECTIONS[:7], "*", "#"]),
    (validate.pin, INJECTIONS[:7]),
    (validate.ussd_code, INJECTIONS[:7]),
    (validate.dtmf_digits, INJECTIONS[:7]),
    (lambda value: validate.sms_text(value, 10), ["\x1a", "\x1b", "\x00"]),
]
_hostile_text = st.one_of(
    st.text(),
    st.lists(
        st.one_of(
            st.characters(),
            st.integers(0xD800, 0xDFFF).map(chr),
            st.sampled_from(INJECTIONS),
            st.sampled_from("0123456789*#+"),
        ),
        max_size=60,
    ).map("".join),
    st.integers(0, 3000).map(lambda n: "7" * n),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(_VALIDATORS), st.one_of(_hostile_text, st.integers(), st.none()))
def test_validators_refuse_with_their_own_errors_only(
    validator: tuple[Any, list[str]], value: Any
) -> None:
    """Whatever comes in: the value back, or InvalidArgumentError / SmsTooLongError."""
    check, forbidden = validator
    try:
        result = check(value)
    except (InvalidArgumentError, SmsTooLongError):
        return
    assert isinstance(result, str)
    assert not any(char in result for char in forbidden)
    result.encode("utf-16-be")  # what passes can be encoded


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.text(max_size=5), st.none()))
def test_dtmf_duration_refuses_with_its_own_error_only(value: Any) -> None:
    with contextlib.suppress(InvalidArgumentError):
        assert 100 <= validate.dtmf_duration_ms(value) <= 25500
