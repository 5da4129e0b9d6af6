"""Text as the host sends and receives it under AT+CSCS."""

from __future__ import annotations

from . import gsm7

CHARSETS = ("IRA", "GSM", "UCS2", "HEX")


def to_host(text: str, charset: str) -> str:
    """`text` in the TE character set: GSM gives raw alphabet codes (0x00 for '@'), IRA ASCII with
    '?' for the rest, UCS2 the UTF-16BE hex, HEX the hex of the GSM codes."""
    if charset == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    if charset == "HEX":
        return bytes(gsm7.encode_lossy(text)).hex().upper()
    if charset == "GSM":
        return "".join(map(chr, gsm7.encode_lossy(text)))
    return "".join(char if ord(char) < 0x80 else "?" for char in text)


def from_host(data: str, charset: str) -> str:
    """Decode a string the host sent; ValueError if it is not valid in `charset`."""
    if charset == "UCS2":
        return bytes.fromhex(data).decode("utf-16-be")
    if charset == "HEX":
        return gsm7.decode(_septets(bytes.fromhex(data)))
    if charset == "GSM":
        return gsm7.decode(_septets(data.encode("latin-1")))
    if not data.isascii():
        raise ValueError("not IRA text")
    return data


def _septets(data: bytes) -> bytes:
    if any(byte > 0x7F for byte in data):
        raise ValueError("not GSM 7-bit codes")
    return data
