"""Choosing the alphabet of an SMS and cutting long text into concatenated parts."""

from __future__ import annotations

from typing import Literal

from . import gsm7
from .sms_pdu import Alphabet

Encoding = Literal["auto", "gsm7", "ucs2"]

USER_DATA_OCTETS = 140
CONCAT_HEADER_OCTETS = {False: 6, True: 7}  # with the length octet: 8-bit / 16-bit reference


def choose_alphabet(text: str, encoding: Encoding) -> Alphabet:
    """GSM 7-bit when every character fits (or asked for), else UCS2."""
    if encoding == "gsm7":
        if not gsm7.can_encode(text):
            raise ValueError("text has characters outside the GSM 7-bit alphabet")
        return "gsm7"
    if encoding == "ucs2" or not gsm7.can_encode(text):
        return "ucs2"
    return "gsm7"


def _cost(char: str, alphabet: Alphabet) -> int:
    """Septets (GSM) or UTF-16 code units (UCS2) one character takes."""
    if alphabet == "gsm7":
        return gsm7.septet_count(char)
    return 2 if ord(char) > 0xFFFF else 1


def _capacity(alphabet: Alphabet, header_octets: int) -> int:
    octets = USER_DATA_OCTETS - header_octets
    return octets * 8 // 7 if alphabet == "gsm7" else octets // 2


def split_text(text: str, alphabet: Alphabet, parts: int | None, ref16: bool) -> list[str]:
    """The text of each part: 160/153 septets or 70/67 UCS2 units per part by default.

    `parts` forces that many parts of near-equal length. A character is never cut, so an
    escape pair or a surrogate pair always stays within one part.
    """
    total = sum(_cost(char, alphabet) for char in text)
    single = _capacity(alphabet, 0)
    if parts == 1 or (parts is None and total <= single):
        if total > single:
            raise ValueError("text does not fit one SMS")
        return [text]
    limit = _capacity(alphabet, CONCAT_HEADER_OCTETS[ref16])
    chunks = (
        _even_chunks(text, parts) if parts is not None else _greedy_chunks(text, alphabet, limit)
    )
    if any(sum(_cost(char, alphabet) for char in chunk) > limit for chunk in chunks):
        raise ValueError(f"text does not fit {parts} parts")
    if len(chunks) > 255:
        raise ValueError("text needs more than 255 parts")
    return chunks


def _greedy_chunks(text: str, alphabet: Alphabet, limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        cost = _cost(char, alphabet)
        if used + cost > limit:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    chunks.append("".join(current))
    return chunks


def _even_chunks(text: str, parts: int) -> list[str]:
    if not 1 <= parts <= len(text):
        raise ValueError(f"cannot cut {len(text)} characters into {parts} parts")
    size, extra = divmod(len(text), parts)
    chunks: list[str] = []
    start = 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        chunks.append(text[start:end])
        start = end
    return chunks
