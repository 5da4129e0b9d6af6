"""GSM 7-bit, PDU and segmentation helpers against published vectors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sim7600_emulator import gsm7
from sim7600_emulator.sms_pdu import (
    Alphabet,
    Concat,
    PduError,
    SmsDeliver,
    decode_submit,
    encode_address,
    encode_timestamp,
)
from sim7600_emulator.sms_segments import choose_alphabet, split_text

from .pdu_decoder import decode


def test_gsm7_packing_of_the_classic_vector() -> None:
    assert gsm7.pack(gsm7.encode("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert gsm7.decode(gsm7.unpack(bytes.fromhex("E8329BFD4697D9EC37"), 10)) == "hellohello"


def test_gsm7_alphabet_codes() -> None:
    assert gsm7.encode("@£$\nΔ_ Ä§¿ä€^") == [
        0x00, 0x01, 0x02, 0x0A, 0x10, 0x11, 0x20, 0x5B, 0x5F, 0x60, 0x7B, 0x1B, 0x65, 0x1B, 0x14,
    ]  # fmt: skip
    assert not gsm7.can_encode("`")
    assert gsm7.encode_lossy("a`") == [0x61, 0x3F]
    with pytest.raises(ValueError, match="GSM"):
        gsm7.encode("東")


def test_header_fill_bits() -> None:
    header = bytes.fromhex("050003420201")
    data = gsm7.pack(gsm7.encode("A"), header)
    assert data[:6] == header
    assert data[6] == 0x41 << 1  # one fill bit after six header octets


def test_addresses_and_timestamps() -> None:
    assert encode_address("+4915551234567").hex() == "0d91945155214365f7"
    assert encode_address("12345").hex() == "05812143f5"
    assert encode_address("*100#").hex() == "05811a00fb"
    moment = datetime(2026, 7, 30, 11, 53, 9, tzinfo=timezone(timedelta(hours=-4, minutes=-30)))
    assert encode_timestamp(moment).hex() == "62700311359089"  # -18 quarters: sign bit 0x08


def test_deliver_round_trip_through_the_independent_decoder() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    message = SmsDeliver("+4915559000000", "Vodafone", moment, "x" * 10, "gsm7", Concat(3, 2, 2))
    decoded = decode(message.encode().hex())
    assert (decoded.address, decoded.toa, decoded.text) == ("Vodafone", 0xD0, "x" * 10)
    assert decoded.scts == moment
    assert decoded.udh.hex() == "050003030202"


def test_decode_submit_rejects_broken_pdus() -> None:
    with pytest.raises(PduError):
        decode_submit(bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9"))
    with pytest.raises(PduError):
        decode_submit(bytes.fromhex("0004000B916407281553F80000AA0AE8329BFD4697D9EC37"))


@pytest.mark.parametrize(
    ("text", "alphabet", "sizes"),
    [
        ("a" * 160, "gsm7", [160]),
        ("a" * 161, "gsm7", [153, 8]),
        ("€" * 80, "gsm7", [80]),  # 2 septets each: exactly 160
        ("€" * 81, "gsm7", [76, 5]),  # 152 of 153 septets: an escape pair is never cut
        ("é" * 70, "gsm7", [70]),
        ("ж" * 71, "ucs2", [67, 4]),
        ("😀" * 35, "ucs2", [35]),  # 70 UTF-16 units fit one SMS
        ("😀" * 36, "ucs2", [33, 3]),  # never splits a surrogate pair
    ],
)
def test_segmentation(text: str, alphabet: Alphabet, sizes: list[int]) -> None:
    assert choose_alphabet(text, "auto") == alphabet
    assert [len(part) for part in split_text(text, alphabet, None, ref16=False)] == sizes


def test_forced_split() -> None:
    assert split_text("abcdefg", "gsm7", 3, ref16=True) == ["abc", "de", "fg"]
    with pytest.raises(ValueError, match="parts"):
        split_text("ab", "gsm7", 3, ref16=False)
    with pytest.raises(ValueError, match="one SMS"):
        split_text("a" * 161, "gsm7", 1, ref16=False)
