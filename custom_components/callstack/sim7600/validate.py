"""Validation of every value that is put on the AT line.

The AT parser of the modem treats ``;`` as a command separator, ``"`` as a string
delimiter, CR as the end of the command and Ctrl-Z/ESC as the end or abort of an SMS
body. Anything that could smuggle one of those through a number, PIN, USSD code or DTMF
string is rejected here, before a byte is written.
"""

from __future__ import annotations

import re

from .errors import InvalidArgumentError
from .sms_pdu import check_length

_NUMBER = re.compile(r"\+?[0-9*#]{3,20}")
_PIN = re.compile(r"[0-9]{4,8}")
_USSD = re.compile(r"[0-9*#]{1,40}")
_DTMF = re.compile(r"[0-9*#A-Da-d]{1,32}")
_FORBIDDEN_IN_TEXT = ("\x1a", "\x1b", "\x00")
_SURROGATE = re.compile("[\ud800-\udfff]")  # a str holds no pairs: each one is lone


def phone_number(value: str) -> str:
    """A dialable number: optional ``+``, then 3-20 digits, ``*`` or ``#``."""
    if not isinstance(value, str) or not _NUMBER.fullmatch(value):
        raise InvalidArgumentError("Not a valid phone number")
    return value


def pin(value: str) -> str:
    """A SIM PIN: 4-8 digits."""
    if not isinstance(value, str) or not _PIN.fullmatch(value):
        raise InvalidArgumentError("A SIM PIN is 4 to 8 digits")
    return value


def ussd_code(value: str) -> str:
    """A USSD code or reply: digits, ``*`` and ``#``."""
    if not isinstance(value, str) or not _USSD.fullmatch(value):
        raise InvalidArgumentError("A USSD code holds only digits, * and #")
    return value


def dtmf_digits(value: str) -> str:
    """DTMF digits to send: ``0-9 * # A-D``, at most 32, returned upper-case."""
    if not isinstance(value, str) or not _DTMF.fullmatch(value):
        raise InvalidArgumentError("DTMF digits are 0-9, *, # and A-D (at most 32)")
    return value.upper()


def dtmf_duration_ms(value: int) -> int:
    """A DTMF tone length in ms; the modem counts in tenths of a second (1-255)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 25500:
        raise InvalidArgumentError("A DTMF tone lasts 100 to 25500 ms")
    return value


def sms_text(value: str, max_parts: int) -> str:
    """SMS text: any Unicode except the control bytes that end or abort an SMS body.

    The length comes first (:class:`~.sms_pdu.SmsTooLongError` for a text that no
    ``max_parts`` parts can hold), so a huge text is refused before anything scans it.
    A lone surrogate is not Unicode that can be encoded, so it is refused too.
    """
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError("An SMS needs some text")
    check_length(value, max_parts)
    if any(char in value for char in _FORBIDDEN_IN_TEXT):
        raise InvalidArgumentError("SMS text may not contain Ctrl-Z, ESC or NUL")
    if _SURROGATE.search(value):
        raise InvalidArgumentError("SMS text may not contain lone surrogates")
    return value
