"""The GSM 7-bit default alphabet and extension table (3GPP TS 23.038) and septet packing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ESCAPE = 0x1B

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D}
EXTENSION |= {"]": 0x3E, "|": 0x40, "€": 0x65}

_BASIC_CODES = {char: code for code, char in enumerate(BASIC) if code != ESCAPE}
_EXTENSION_CHARS = {code: char for char, code in EXTENSION.items()}


def encode(text: str) -> list[int]:
    """Septets of `text`; extension characters take two (ESC + code). ValueError if unencodable."""
    septets: list[int] = []
    for char in text:
        if (code := _BASIC_CODES.get(char)) is not None:
            septets.append(code)
        elif (code := EXTENSION.get(char)) is not None:
            septets += (ESCAPE, code)
        else:
            raise ValueError(f"{char!r} is not in the GSM 7-bit alphabet")
    return septets


def encode_lossy(text: str) -> list[int]:
    """Septets of `text` with '?' for characters the alphabet lacks, as the module converts."""
    return [septet for char in text for septet in encode(char if can_encode(char) else "?")]


def can_encode(text: str) -> bool:
    """Whether every character of `text` is in the default alphabet or its extension."""
    return all(char in _BASIC_CODES or char in EXTENSION for char in text)


def septet_count(char: str) -> int:
    """Septets one encodable character takes: 2 for the extension table, else 1."""
    return 2 if char in EXTENSION else 1


def decode(septets: Iterable[int]) -> str:
    """Text of `septets`; an unknown extension code reads as the default-table character."""
    chars: list[str] = []
    escaped = False
    for septet in septets:
        if escaped:
            chars.append(_EXTENSION_CHARS.get(septet, BASIC[septet]))
            escaped = False
        elif septet == ESCAPE:
            escaped = True
        else:
            chars.append(BASIC[septet])
    return "".join(chars)


def header_septets(header_length: int) -> int:
    """Septets a user-data header of `header_length` octets (with its length octet) occupies."""
    return (header_length * 8 + 6) // 7


def pack(septets: Sequence[int], header: bytes = b"") -> bytes:
    """User data: `header`, fill bits to the next septet boundary, then the packed septets."""
    start = header_septets(len(header)) * 7
    value = 0
    for i, septet in enumerate(septets):
        value |= septet << (start + 7 * i)
    size = (start + 7 * len(septets) + 7) // 8
    data = bytearray(value.to_bytes(size, "little"))
    data[: len(header)] = header
    return bytes(data)


def unpack(data: bytes, septet_total: int, header_length: int = 0) -> list[int]:
    """The text septets of user data holding `septet_total` septets (UDL) after a header."""
    value = int.from_bytes(data, "little")
    first = header_septets(header_length)
    return [(value >> (7 * i)) & 0x7F for i in range(first, septet_total)]
