"""The one redaction helper for everything the driver and the HA layer log or show.

Phone numbers, IMEI, IMSI, ICCID, PIN, SMS and USSD text, coordinates all travel inside
modem lines,
so the rule is simple: a raw line is never logged as it is. It is reduced to its command or
result-code prefix plus a length, unless its payload is short, purely numeric and safe
(``+CSQ: 18,99``). Numbers that must be told apart in logs keep their last two digits.
"""

from __future__ import annotations

import re

# Lines that carry no payload at all.
_SAFE_LINES = frozenset(
    {
        "OK",
        "ERROR",
        "RING",
        "NO CARRIER",
        "BUSY",
        "NO ANSWER",
        "NO DIALTONE",
        "VOICE CALL: BEGIN",
        "VOICE CALL: END",
        "RDY",
        "SMS DONE",
        "PB DONE",
        "+SMS FULL",
        ">",
    }
)
# "AT+CSQ", "ATD", "+CLIP:", "MISSED_CALL:", "VOICE CALL:" ...
_PREFIX = re.compile(r"^(AT[+^$&]?[A-Z]*\??|\+[A-Z]+:|[A-Z_]+(?: [A-Z_]+)?:)", re.IGNORECASE)
# Key presses can be a caller's PIN, and a position is private: their payload never shows,
# however short.
_ALWAYS_HIDDEN = ("+RXDTMF:", "AT+VTS", "AT+CPIN", "+CGPSINFO:", "+CGNSSINFO:")
# A payload may stay when it is a short list of small numbers (no identity fits in it).
_SAFE_PAYLOAD = re.compile(r"[\s,=?]*\d{0,3}(?:[\s,]+\d{1,3}){0,7}[\s,]*", re.ASCII)
_DIGITS = re.compile(r"\d")


def mask_number(number: str | None) -> str:
    """Mask a phone number (or any identity) down to its last two digits: ``***86``."""
    if not number:
        return "unknown"
    digits = _DIGITS.findall(number)
    if len(digits) <= 2:
        return "***"
    return "***" + "".join(digits[-2:])


def redact_line(line: str | bytes) -> str:
    """Return a modem line or command in a form that is safe to log."""
    text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
    text = text.strip()
    if text in _SAFE_LINES:
        return text
    match = _PREFIX.match(text)
    prefix = match.group(1) if match else ""
    payload = text[len(prefix) :]
    if not payload:
        return prefix
    if _SAFE_PAYLOAD.fullmatch(payload) and not prefix.upper().startswith(_ALWAYS_HIDDEN):
        return text
    return f"{prefix}<{len(payload)} chars>"


class RedactedLine:
    """Defer :func:`redact_line` until a log record is actually formatted.

    ``_LOGGER.debug("rx %s", RedactedLine(line))`` costs nothing on the hot path when DEBUG
    is off, and cannot leak the line when it is on.
    """

    __slots__ = ("_line",)

    def __init__(self, line: str | bytes) -> None:
        self._line = line

    def __str__(self) -> str:
        return redact_line(self._line)

    __repr__ = __str__
