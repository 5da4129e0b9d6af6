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
_SMS_NUMBER = re.compile(r"\+?[0-9]{3,20}")
# What people write between the digits of a number: spaces (also no-break and thin
# ones, never line breaks), dashes, dots and parentheses: "+49 151 555-0001",
# "(030) 555.0001".
_NUMBER_PUNCTUATION = re.compile(r"[ \u00a0\u2009\u202f().\-\u2010-\u2013]")
# "+49 (0)151 ...": the trunk 0 in parentheses is not dialled after a country code.
_TRUNK_ZERO = re.compile(r"(?<=[0-9]) *\(0\)")
_PIN = re.compile(r"[0-9]{4,8}")
_USSD = re.compile(r"[0-9*#]{1,40}")
_DTMF = re.compile(r"[0-9*#A-Da-d]{1,32}")
_FORBIDDEN_IN_TEXT = ("\x1a", "\x1b", "\x00")
_SURROGATE = re.compile("[\ud800-\udfff]")  # a str holds no pairs: each one is lone


def compact_number(value: str) -> str:
    """A number as people write it, without what they put between its digits.

    Spaces, dashes, dots and parentheses go ("+49 151 555-0001" becomes
    "+491515550001"); a trunk ``(0)`` after an international prefix goes with its
    parentheses ("+49 (0)151 ..."). Anything else stays, for the validators to refuse.
    """
    if value.startswith("+"):
        value = _TRUNK_ZERO.sub("", value)
    return _NUMBER_PUNCTUATION.sub("", value)


def phone_number(value: str) -> str:
    """A dialable number, returned compact: optional ``+``, then 3-20 digits, ``*`` or
    ``#`` (codes such as ``*21#123`` are dialled too)."""
    if not isinstance(value, str) or not _NUMBER.fullmatch(number := compact_number(value)):
        raise InvalidArgumentError("Not a valid phone number")
    return number


def sms_recipient(value: str) -> str:
    """A number an SMS can go to, returned compact: optional ``+``, then 3-20 digits.

    ``*`` and ``#`` dial service codes (``*21#``); an SMS goes to a subscriber's number,
    which has digits only, so they are refused here rather than by the network later.
    """
    if not isinstance(value, str) or not _SMS_NUMBER.fullmatch(number := compact_number(value)):
        raise InvalidArgumentError("Not a valid SMS recipient")
    return number


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


def same_subscriber(number: str | None, listed: str) -> bool:
    """Whether a caller's ``number`` is the ``listed`` one (an allowed-callers check).

    Networks present a caller as ``+4915...``, ``004915...`` or nationally ``015...``; the
    list may hold any of these, written as people write numbers (``compact_number``). Digits
    only are compared: equal, or the national form
    (leading ``0``, at least 6 more digits) is the tail of the international one. A
    withheld number (None or empty) never matches.
    """
    caller, wanted = _subscriber_digits(number), _subscriber_digits(listed)
    if not caller or not wanted:
        return False
    if caller == wanted:
        return True
    short, long = sorted((caller, wanted), key=len)
    national = short.removeprefix("0")
    return short.startswith("0") and len(national) >= 6 and long.endswith(national)


def _subscriber_digits(number: str | None) -> str:
    if not number:
        return ""
    digits = compact_number(number.strip())  # as written, or as a network presents it
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    else:
        return digits if digits.isdigit() else ""
    # An international number: mark it so it can never equal a national one by accident.
    return "+" + digits if digits.isdigit() else ""
