"""Argument validation: nothing unsafe reaches the AT line."""

from __future__ import annotations

import pytest

from custom_components.callstack.sim7600 import validate
from custom_components.callstack.sim7600.errors import InvalidArgumentError

INJECTIONS = [";", '"', "\r", "\n", "\x1a", "\x1b", "\x00", "/", ".."]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_characters_are_rejected_everywhere(bad: str) -> None:
    for check, good in (
        (validate.phone_number, "+4915550001"),
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
    assert validate.sms_text("Hi 👋") == "Hi 👋"


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
        (validate.sms_text, ""),
        (validate.sms_text, "bye\x1a"),
    ],
)
def test_out_of_range_values_are_rejected(check: object, value: object) -> None:
    with pytest.raises(InvalidArgumentError):
        check(value)  # type: ignore[operator]
