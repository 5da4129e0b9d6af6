"""GSM 03.38 / 3GPP TS 23.038 default alphabet and septet packing.

SMS user data in the default alphabet is a stream of 7-bit codes ("septets") packed
LSB-first into octets. Characters from the basic extension table cost two septets
(ESC 0x1B + code), which is why lengths are counted in septets, not characters, and why
a message must never be split between an ESC and the code it escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ESC",
    "can_encode",
    "decode_septets",
    "encode_chunks",
    "encode_septets",
    "pack_septets",
    "septet_length",
    "unpack_septets",
]

ESC = 0x1B
"""Escape to the extension table; never a character on its own."""

# Index = septet value. Position 0x1B is ESC and is kept out of the encoder below.
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

_EXTENSION: dict[int, str] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_ENCODE: dict[str, tuple[int, ...]] = {
    char: (code,) for code, char in enumerate(_BASIC) if code != ESC
} | {char: (ESC, code) for code, char in _EXTENSION.items()}


def can_encode(text: str) -> bool:
    """Return True when every character of text exists in the default alphabet."""
    return all(char in _ENCODE for char in text)


def septet_length(text: str) -> int:
    """Septets text needs; extension characters count 2. Text must be encodable."""
    return sum(len(_units(char)) for char in text)


def encode_septets(text: str) -> list[int]:
    """Encode text to septet values; ValueError if a character is not in the alphabet."""
    return [code for char in text for code in _units(char)]


def encode_chunks(text: str, max_septets: int) -> list[list[int]]:
    """Encode text and cut it into chunks of at most max_septets septets.

    Cuts fall only between characters, so an ESC is never separated from the code it
    escapes (a receiver would otherwise show a wrong character at the part boundary).
    """
    if max_septets < 2:
        raise ValueError("chunk size must allow an escaped character")
    chunks: list[list[int]] = [[]]
    for char in text:
        units = _units(char)
        if len(chunks[-1]) + len(units) > max_septets:
            chunks.append([])
        chunks[-1].extend(units)
    return chunks


def decode_septets(septets: Sequence[int]) -> str:
    """Decode septet values to text, best effort and without raising.

    Follows TS 23.038 for escapes: ESC + a code missing from the extension table shows
    the basic-table character, ESC ESC (reserved for a future table) shows a space.
    Values outside 0..127 and a dangling final ESC become '?'.
    """
    out: list[str] = []
    escaped = False
    for code in septets:
        if not 0 <= code <= 0x7F:
            out.append("?")
            escaped = False
        elif escaped:
            escaped = False
            out.append(" " if code == ESC else _EXTENSION.get(code, _BASIC[code]))
        elif code == ESC:
            escaped = True
        else:
            out.append(_BASIC[code])
    if escaped:
        out.append("?")
    return "".join(out)


def pack_septets(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first into octets, after fill_bits zero bits.

    The fill bits realign the text to a septet boundary when a user data header
    (whole octets) precedes it, as TS 23.040 9.2.3.24 requires for GSM-7.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError("fill bits must be 0..6")
    out = bytearray()
    acc = 0
    nbits = fill_bits
    for code in septets:
        if not 0 <= code <= 0x7F:
            raise ValueError("septet out of range")
        acc |= code << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc)
    return bytes(out)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Read count septets from data, skipping fill_bits leading bits.

    ValueError when data holds fewer bits than that; extra trailing bits are ignored.
    """
    if not 0 <= fill_bits <= 6 or count < 0:
        raise ValueError("bad septet layout")
    if fill_bits + 7 * count > 8 * len(data):
        raise ValueError("not enough data for the septet count")
    value = int.from_bytes(data, "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def _units(char: str) -> tuple[int, ...]:
    """Septets for one character; the message deliberately omits the character."""
    try:
        return _ENCODE[char]
    except KeyError:
        raise ValueError("character not in the GSM 7-bit alphabet") from None
