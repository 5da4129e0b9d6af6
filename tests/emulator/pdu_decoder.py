"""A small SMS PDU decoder written apart from the emulator's encoder, to check its output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sim7600_emulator import gsm7


@dataclass
class Decoded:
    smsc: str
    first_octet: int
    address: str
    toa: int
    scts: datetime | None
    dcs: int
    udh: bytes
    text: str
    reference: int = -1
    discharge: datetime | None = None
    status: int = -1


def _bcd(data: bytes) -> str:
    digits = "".join(f"{byte & 0xF:x}{byte >> 4:x}" for byte in data)
    return digits.rstrip("f")


def _timestamp(data: bytes) -> datetime:
    year, month, day, hour, minute, second = (int(f"{b & 0xF}{b >> 4}") for b in data[:6])
    quarters = (data[6] & 0x07) * 10 + (data[6] >> 4)  # bit 3 of the first semi-octet: sign
    if data[6] & 0x08:
        quarters = -quarters
    zone = timezone(timedelta(minutes=15 * quarters))
    return datetime(2000 + year, month, day, hour, minute, second, tzinfo=zone)


def septets(data: bytes, count: int, skip_bits: int) -> list[int]:
    """Septets one by one from a bit position, the way a reader on the host would."""
    values = []
    for index in range(count):
        bit = skip_bits + 7 * index
        byte, shift = divmod(bit, 8)
        word = data[byte] | ((data[byte + 1] << 8) if byte + 1 < len(data) else 0)
        values.append((word >> shift) & 0x7F)
    return values


def decode(hex_pdu: str) -> Decoded:
    """Decode an SMS-DELIVER or SMS-STATUS-REPORT given with its SMSC field."""
    pdu = bytes.fromhex(hex_pdu)
    smsc_len = pdu[0]
    smsc = "+" + _bcd(pdu[2 : 1 + smsc_len]) if smsc_len else ""
    pos = 1 + smsc_len
    first = pdu[pos]
    pos += 1
    reference = -1
    if first & 0x03 == 0x02:
        reference = pdu[pos]
        pos += 1
    length, toa = pdu[pos], pdu[pos + 1]
    raw = pdu[pos + 2 : pos + 2 + (length + 1) // 2]
    pos += 2 + (length + 1) // 2
    if toa == 0xD0:
        address = gsm7.decode(septets(raw, length * 4 // 7, 0))
    else:
        address = ("+" if toa == 0x91 else "") + _bcd(raw)
    if first & 0x03 == 0x02:
        return Decoded(
            smsc, first, address, toa, _timestamp(pdu[pos : pos + 7]), 0, b"", "",
            reference=reference,
            discharge=_timestamp(pdu[pos + 7 : pos + 14]),
            status=pdu[pos + 14],
        )  # fmt: skip
    dcs = pdu[pos + 1]
    scts = _timestamp(pdu[pos + 2 : pos + 9])
    udl = pdu[pos + 9]
    ud = pdu[pos + 10 :]
    udh = ud[: ud[0] + 1] if first & 0x40 else b""
    if dcs == 0x08:
        text = ud[len(udh) :].decode("utf-16-be")
        assert len(ud) == udl
    else:
        header_septets = -(-len(udh) * 8 // 7)
        text = gsm7.decode(septets(ud, udl - header_septets, header_septets * 7))
        assert len(ud) == -(-udl * 7 // 8)
    return Decoded(smsc, first, address, toa, scts, dcs, udh, text)
