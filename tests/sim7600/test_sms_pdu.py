"""SMS PDU codec: known vectors, edge cases, and properties.

The DELIVER and STATUS-REPORT vectors are laid out field by field after TS 23.040 and
were cross-checked with an independent decoder (python-gsmmodem). The one exception
is the 7-octet (16-bit reference) header, which that decoder misreads: there the
header is exactly 8 septets, so the text starts with no fill bits ('P' = 0x50 in the
low bits of 0xD0), as checked by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600 import gsm7
from custom_components.callstack.sim7600.sms_pdu import (
    Concat,
    PduDecodeError,
    SmsDeliver,
    SmsStatusReport,
    SmsTooLongError,
    SubmitPdu,
    decode_deliver,
    decode_pdu,
    decode_status_report,
    encode_submit,
)

SENDER = "0C91447700091032"  # 12 digits, international, +447700900123 (fictional range)
SCTS_PLUS_1H = "42305121436540"  # 2024-03-15 12:34:56, TZ 0x40 = +4 quarters

# SMSC +31624000000 | DELIVER, no more messages | +31641600986 | PID 0 | DCS 0 |
# 2002-08-26 19:37:41, TZ 0x08 = sign bit with 0 quarters | 12 septets
CLASSIC = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
# No SMSC | DCS 08 (UCS2) | 30 octets of UTF-16-BE with two surrogate pairs
UCS2_EMOJI = (
    f"0004{SENDER}0008{SCTS_PLUS_1H}1E004800690020D83DDC4B002000FC006D006C0061007500740020D83DDE00"
)
# DCS 04 (8-bit) | TZ 00 | 3 octets
EIGHT_BIT = f"0004{SENDER}00044210203040500003" + "00FF41"
# Alphanumeric sender: 13 semi-octets, TOA D0, "InfoSMS" packed | TZ 0x0A = -20 quarters
ALPHANUMERIC = (
    "07911326040000F0040DD049B7F93D6D4E0100003221133295950A1150797A5CD6816A9B3268C37BAF373E"
)
# UDHI | UDH 06 08 04 1234 02 seq (7 octets = 8 septets, no fill)
MULTI16 = (
    f"0044{SENDER}0000{SCTS_PLUS_1H}1306080412340201D0B09C0E7ABBCBA00D0F",
    f"0044{SENDER}0000{SCTS_PLUS_1H}11060804123402021B1F887E7F833665",
)
# National sender 0123456789 | UDH 05 00 03 C7 02 seq (6 octets, 1 fill bit)
MULTI8 = (
    f"00440A8110325476980000{SCTS_PLUS_1H}19050003C702018A75F91B14A683E8E832A8EC26833665",
    f"00440A8110325476980000{SCTS_PLUS_1H}0F050003C70202362877194FDFA400",
)
# STATUS-REPORT | MR 2A | recipient | SCTS | discharge 12:35:56 | status
REPORT_DELIVERED = f"00062A{SENDER}{SCTS_PLUS_1H}4230512153654000"
REPORT_FAILED = f"07911326040000F0062B{SENDER}{SCTS_PLUS_1H}4230512153654041"
ALL_VECTORS = [
    CLASSIC,
    UCS2_EMOJI,
    EIGHT_BIT,
    ALPHANUMERIC,
    *MULTI16,
    *MULTI8,
    REPORT_DELIVERED,
    REPORT_FAILED,
]
PLUS_1H = timezone(timedelta(hours=1))


def test_classic_gsm7_vector() -> None:
    sms = decode_deliver(CLASSIC)
    assert sms == SmsDeliver(
        smsc="+31624000000",
        sender="+31641600986",
        # TZ octet 08 is "-0 quarters" (TS 23.040 9.2.3.11), i.e. UTC, not +2 h.
        timestamp=datetime(2002, 8, 26, 19, 37, 41, tzinfo=UTC),
        encoding="gsm7",
        message_class=None,
        text="How are you?",
        data=bytes.fromhex("C8F71D14969741F977FD07"),
        udh=None,
        status_report_indication=False,
    )
    assert decode_pdu(CLASSIC) == sms


def test_ucs2_with_emoji() -> None:
    sms = decode_deliver(UCS2_EMOJI)
    assert sms.smsc is None
    assert sms.sender == "+447700900123"
    assert sms.encoding == "ucs2"
    assert sms.text == "Hi 👋 ümlaut 😀"
    assert sms.timestamp == datetime(2024, 3, 15, 12, 34, 56, tzinfo=PLUS_1H)


def test_eight_bit_keeps_the_octets() -> None:
    sms = decode_deliver(EIGHT_BIT)
    assert sms.encoding == "8bit"
    assert sms.data == b"\x00\xffA"
    assert sms.text == "\x00ÿA"
    assert sms.timestamp == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_alphanumeric_sender_and_negative_timezone() -> None:
    sms = decode_deliver(ALPHANUMERIC)
    assert sms.sender == "InfoSMS"
    assert sms.text == "Price: 5€ [ok]"
    assert sms.timestamp == datetime(2023, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=5)))


@pytest.mark.parametrize(
    ("tz_octet", "offset"),
    [
        ("00", timedelta(0)),
        ("08", timedelta(0)),
        ("40", timedelta(hours=1)),
        ("0A", -timedelta(hours=5)),
        ("49", -timedelta(hours=3, minutes=30)),  # Newfoundland: -14 quarters
        ("32", timedelta(hours=5, minutes=45)),  # Nepal: +23 quarters
        ("97", timedelta(hours=19, minutes=45)),  # largest BCD value, still valid
        ("9F", -timedelta(hours=19, minutes=45)),
    ],
)
def test_timezone_offsets(tz_octet: str, offset: timedelta) -> None:
    sms = decode_deliver(f"0004{SENDER}0000423051214365{tz_octet}00")
    assert sms.timestamp is not None
    assert sms.timestamp.utcoffset() == offset


@pytest.mark.parametrize(
    "scts",
    [
        "42315121436540",  # month 13
        "42200321436540",  # 30 February
        "42305121436A40",  # non-BCD seconds
        "423051214365A0",  # non-BCD time zone units
        "00000000000000",  # month 0, day 0
    ],
)
def test_invalid_timestamp_is_none(scts: str) -> None:
    assert decode_deliver(f"0004{SENDER}0000{scts}00").timestamp is None


def test_multipart_16_bit_reference() -> None:
    first, second = (decode_deliver(pdu) for pdu in MULTI16)
    assert first.udh == Concat(reference=0x1234, total=2, seq=1, ref_bits=16)
    assert second.udh == Concat(reference=0x1234, total=2, seq=2, ref_bits=16)
    assert first.text + second.text == "Part one [] two €"


def test_multipart_8_bit_reference_with_extension_chars_at_the_boundary() -> None:
    first, second = (decode_deliver(pdu) for pdu in MULTI8)
    assert first.sender == "0123456789"
    assert first.udh == Concat(reference=0xC7, total=2, seq=1, ref_bits=8)
    assert first.text == "Euro at the end €"
    assert second.udh == Concat(reference=0xC7, total=2, seq=2, ref_bits=8)
    assert second.text == "{next}"


def test_other_header_elements_are_skipped() -> None:
    # UDH: IE 0x24 (national language, 1 octet) then concat; 9 octets = 11 septets, 5 fill.
    header = bytes([8, 0x24, 1, 0x01, 0x00, 3, 0x05, 3, 2])
    user_data = header + gsm7.pack_septets(gsm7.encode_septets("Hi"), 5)
    sms = decode_deliver(f"0044{SENDER}0000{SCTS_PLUS_1H}0D{user_data.hex()}")
    assert sms.udh == Concat(reference=5, total=3, seq=2, ref_bits=8)
    assert sms.text == "Hi"


@pytest.mark.parametrize("concat", ["0003050200", "0003050203", "0003050001"])
def test_out_of_range_concat_is_ignored(concat: str) -> None:
    # seq 0, seq > total, total 0: TS 23.040 says ignore the element.
    user_data = bytes.fromhex("05" + concat) + gsm7.pack_septets([0x41], 1)
    sms = decode_deliver(f"0044{SENDER}0000{SCTS_PLUS_1H}08{user_data.hex()}")
    assert sms.udh is None
    assert sms.text == "A"


def test_truncated_header_element_is_ignored() -> None:
    # IE claims 9 octets but the header has only 3 left: keep the text, drop the IE.
    # 4 header octets = 5 septets, 3 fill bits, then one septet of text.
    user_data = bytes.fromhex("03000900") + gsm7.pack_septets([0x41], 3)
    sms = decode_deliver(f"0044{SENDER}0000{SCTS_PLUS_1H}06{user_data.hex()}")
    assert sms.udh is None
    assert sms.text == "A"


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        ("00", "gsm7", None),
        ("10", "gsm7", 0),  # flash
        ("11", "gsm7", 1),
        ("0C", "gsm7", None),  # reserved alphabet: assume GSM-7
        ("16", "8bit", 2),
        ("19", "ucs2", 1),
        ("20", "8bit", None),  # compressed
        ("4A", "ucs2", None),  # automatic deletion group
        ("80", "gsm7", None),  # reserved group
        ("C8", "gsm7", None),  # message waiting, discard
        ("D0", "gsm7", None),  # message waiting, store
        ("E8", "ucs2", None),  # message waiting, store, UCS2
        ("F0", "gsm7", 0),
        ("F6", "8bit", 2),
    ],
)
def test_data_coding_scheme(dcs: str, encoding: str, message_class: int | None) -> None:
    sms = decode_deliver(f"0004{SENDER}00{dcs}{SCTS_PLUS_1H}00")
    assert (sms.encoding, sms.message_class, sms.text) == (encoding, message_class, "")


def test_status_report_indication() -> None:
    sms = decode_deliver(f"0024{SENDER}0000{SCTS_PLUS_1H}00")
    assert sms.status_report_indication
    assert not decode_deliver(CLASSIC).status_report_indication


def test_national_sender_and_dial_digits() -> None:
    sms = decode_deliver(f"000405A11A00FB0000{SCTS_PLUS_1H}00")
    assert sms.sender == "*100#"


def test_broken_ucs2_units_become_question_marks() -> None:
    # Lone high surrogate, then an odd trailing octet.
    sms = decode_deliver(f"0004{SENDER}0008{SCTS_PLUS_1H}05D83D004100")
    assert sms.text == "?A?"


def test_status_report_delivered() -> None:
    report = decode_status_report(REPORT_DELIVERED)
    assert report == SmsStatusReport(
        smsc=None,
        reference=0x2A,
        recipient="+447700900123",
        scts=datetime(2024, 3, 15, 12, 34, 56, tzinfo=PLUS_1H),
        discharge_time=datetime(2024, 3, 15, 12, 35, 56, tzinfo=PLUS_1H),
        status=0,
    )
    assert report.delivered
    assert decode_pdu(REPORT_DELIVERED) == report


def test_status_report_failed_with_optional_fields() -> None:
    report = decode_status_report(REPORT_FAILED + "00")  # TP-PI: no optional fields
    assert report.smsc == "+31624000000"
    assert report.reference == 0x2B
    assert report.status == 0x41
    assert not report.delivered


@pytest.mark.parametrize(("status", "delivered"), [(0x00, True), (0x1F, True), (0x20, False)])
def test_status_report_delivered_boundary(status: int, delivered: bool) -> None:
    report = decode_status_report(REPORT_DELIVERED[:-2] + f"{status:02X}")
    assert report.delivered is delivered


@pytest.mark.parametrize(
    ("decoder", "pdu", "message"),
    [
        (decode_pdu, "", "too short"),
        (decode_pdu, "zz", "not hex"),
        (decode_pdu, "0", "not hex"),
        (decode_pdu, "0001", "unsupported"),  # SUBMIT
        (decode_pdu, "0003", "unsupported"),  # reserved
        (decode_pdu, "07911326040000", "too short"),
        (decode_deliver, REPORT_DELIVERED, "not an SMS-DELIVER"),
        (decode_status_report, CLASSIC, "not an SMS-STATUS-REPORT"),
        (decode_pdu, CLASSIC[:-2], "too short"),
        (decode_pdu, f"0044{SENDER}0000{SCTS_PLUS_1H}00", "header does not fit"),
        (decode_pdu, f"0044{SENDER}0000{SCTS_PLUS_1H}0107", "header does not fit"),
        (decode_pdu, f"0044{SENDER}0000{SCTS_PLUS_1H}07060000000000000000", "does not fit"),
    ],
)
def test_malformed_pdus(decoder: Callable[[str], object], pdu: str, message: str) -> None:
    with pytest.raises(PduDecodeError, match=message) as err:
        decoder(pdu)
    _assert_private(str(err.value))


def _assert_private(message: str) -> None:
    """No PDU, number or text: a fixed phrase has no digits at all."""
    assert not any(char.isdigit() for char in message), message


# --- encode_submit -------------------------------------------------------------------


def test_submit_single_gsm7() -> None:
    (pdu,) = encode_submit("+31641600986", "How are you?", reference=1)
    # SMSC 00 | 11: SUBMIT, VPF relative | MR 00 | DA | PID 00 | DCS 00 | VP A7 | UDL | UD
    assert pdu == SubmitPdu(
        hex="0011000B911346610089F60000A70CC8F71D14969741F977FD07",
        tpdu_length=25,
        seq=1,
        total=1,
    )


def test_submit_national_number_with_star_and_hash_and_status_report() -> None:
    (pdu,) = encode_submit("*100#", "Hi", reference=1, request_status_report=True)
    assert pdu.hex.startswith("00310005811A00FB0000A702C834")
    assert pdu.tpdu_length == len(pdu.hex) // 2 - 1


def test_submit_ucs2_single() -> None:
    (pdu,) = encode_submit("+447700900123", "Привет 😀", reference=1)
    payload = "Привет 😀".encode("utf-16-be")
    assert pdu.hex == f"0011000C914477000910320008A7{len(payload):02X}{payload.hex().upper()}"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 159 + "€", 2),  # 161 septets
        ("a" * 158 + "€", 1),  # 160 septets
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 68 + "😀", 1),  # 70 units
        ("ж" * 69 + "😀", 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
    ],
)
def test_part_limits(text: str, parts: int) -> None:
    pdus = encode_submit("+1", text, reference=9)
    assert [(p.seq, p.total) for p in pdus] == [(i, parts) for i in range(1, parts + 1)]
    assert _rebuild(pdus) == text


def test_multipart_gsm7_layout_and_escape_at_the_boundary() -> None:
    first, second = encode_submit(
        "0123456789", "a" * 152 + "€" + "b" * 10, reference=0x1234, request_status_report=True
    )
    tpdu = bytes.fromhex(first.hex)[1:]
    assert tpdu[0] == 0x71  # SUBMIT | VPF relative | SRR | UDHI
    # UDL 0x9F = 7 header septets + 152: the escape pair did not fit in 153.
    assert tpdu[:13].hex().upper() == "71000A8110325476980000A79F"
    assert tpdu[13:19].hex().upper() == "050003340201"  # reference & 0xFF
    assert len(tpdu) == first.tpdu_length == 13 + 6 + 134  # 1 fill bit + 152 septets
    septets = _payload_septets(second)
    assert septets[:2] == [gsm7.ESC, 0x65]
    assert bytes.fromhex(second.hex)[14:20].hex() == "050003340202"


def test_multipart_ucs2_keeps_surrogate_pairs_whole() -> None:
    first, second = encode_submit("+1", "ж" * 66 + "😀" + "ж" * 10, reference=7)
    assert _payload_ucs2(first).decode("utf-16-be") == "ж" * 66
    assert _payload_ucs2(second).decode("utf-16-be") == "😀" + "ж" * 10


def test_too_long() -> None:
    encode_submit("+1", "a" * 153 * 3, reference=1, max_parts=3)
    with pytest.raises(SmsTooLongError) as err:
        encode_submit("+1", "secret " * 66, reference=1, max_parts=3)
    assert "secret" not in str(err.value)
    assert (err.value.parts_needed, err.value.max_parts) == (4, 3)
    with pytest.raises(SmsTooLongError):
        encode_submit("+1", "a" * 161, reference=1, max_parts=1)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("text", ["a" * 153 * 256, "ж" * 67 * 256])
def test_too_long_beyond_what_a_header_can_count(text: str) -> None:
    with pytest.raises(SmsTooLongError):
        encode_submit("+1", text, reference=1, max_parts=255)


@pytest.mark.parametrize(
    ("number", "text", "message"),
    [
        ("+1", "", "empty"),
        ("", "x", "destination"),
        ("+", "x", "destination"),
        ("+44 7700", "x", "destination"),
        ("12a", "x", "destination"),
        ("1" * 21, "x", "destination"),
        ("+1", "bad \ud800 surrogate", "not valid Unicode"),
    ],
)
def test_submit_rejects(number: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        encode_submit(number, text, reference=1)
    _assert_private(str(err.value))


@pytest.mark.parametrize("max_parts", [0, 256])
def test_submit_rejects_bad_max_parts(max_parts: int) -> None:
    with pytest.raises(ValueError, match="max_parts"):
        encode_submit("+1", "x", reference=1, max_parts=max_parts)


def _tpdu_fields(pdu: SubmitPdu) -> tuple[int, int, int, bytes]:
    """First octet, DCS, UDL and UD of an SMS-SUBMIT as encode_submit lays it out."""
    raw = bytes.fromhex(pdu.hex)
    assert raw[0] == 0  # SMSC from the SIM
    assert len(raw) - 1 == pdu.tpdu_length
    first, digits = raw[1], raw[3]
    pos = 5 + (digits + 1) // 2  # after SMSC, first octet, MR, DA length, TOA, digits
    pid, dcs, vp, udl = raw[pos : pos + 4]
    assert (raw[2], pid, vp) == (0, 0, 0xA7)
    assert first & 0x1F == 0x11
    return first, dcs, udl, raw[pos + 4 :]


def _header(first: int, ud: bytes) -> bytes:
    return ud[: 1 + ud[0]] if first & 0x40 else b""


def _payload_septets(pdu: SubmitPdu) -> list[int]:
    first, dcs, udl, ud = _tpdu_fields(pdu)
    assert dcs == 0
    header = _header(first, ud)
    header_septets = (len(header) * 8 + 6) // 7
    assert len(ud) == (udl * 7 + 7) // 8
    return gsm7.unpack_septets(
        ud[len(header) :], udl - header_septets, header_septets * 7 - len(header) * 8
    )


def _payload_ucs2(pdu: SubmitPdu) -> bytes:
    first, dcs, udl, ud = _tpdu_fields(pdu)
    assert dcs == 8
    assert len(ud) == udl
    return ud[len(_header(first, ud)) :]


def _rebuild(pdus: list[SubmitPdu]) -> str:
    """Text back from the parts, checking every part on the way."""
    texts = []
    for pdu in pdus:
        first, dcs, _udl, ud = _tpdu_fields(pdu)
        assert len(ud) <= 140
        if pdu.total > 1:
            assert first & 0x40
            assert ud[:3] + ud[4:6] == bytes([5, 0, 3, pdu.total, pdu.seq])
        else:
            assert not first & 0x40
        if dcs == 0:
            septets = _payload_septets(pdu)
            assert len(septets) <= (153 if pdu.total > 1 else 160)
            assert septets[-1:] != [gsm7.ESC]
            texts.append(gsm7.decode_septets(septets))
        else:
            payload = _payload_ucs2(pdu)
            assert len(payload) <= (134 if pdu.total > 1 else 140)
            texts.append(payload.decode("utf-16-be"))  # strict: a split pair would raise
    return "".join(texts)


gsm_chars = st.sampled_from("@£$¥èéùìòÇ\nØø\rÅåΔ_Æ !#¤%&'()*+,-./09:;<=>?¡AZÄ§¿azäà^{}\\[~]|€\f")
any_chars = st.characters(codec="utf-8")  # every code point but lone surrogates


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    number=st.from_regex(r"\+?[0-9*#]{1,20}", fullmatch=True),
    text=st.text(gsm_chars, min_size=1, max_size=1000)
    | st.text(st.one_of(gsm_chars, any_chars), min_size=1, max_size=400),
    reference=st.integers(min_value=0, max_value=0xFFFF),
    status=st.booleans(),
)
@example(number="+1", text="a" * 152 + "€", reference=0, status=False)
@example(number="+1", text="ж" * 66 + "😀", reference=0, status=False)
def test_submit_round_trip(number: str, text: str, reference: int, status: bool) -> None:
    pdus = encode_submit(
        number, text, reference=reference, request_status_report=status, max_parts=255
    )
    assert _rebuild(pdus) == text
    assert {pdu.total for pdu in pdus} == {len(pdus)}
    for pdu in pdus:
        first, _dcs, _udl, ud = _tpdu_fields(pdu)
        assert bool(first & 0x20) is status
        if pdu.total > 1:
            assert ud[3] == reference & 0xFF
    assert bytes.fromhex(pdus[0].hex)[4] == (0x91 if number.startswith("+") else 0x81)


# --- robustness ----------------------------------------------------------------------


def _decodes_or_raises_cleanly(pdu_hex: str) -> None:
    try:
        decode_pdu(pdu_hex)
    except PduDecodeError as err:
        _assert_private(str(err))


def test_every_truncation_of_every_vector() -> None:
    for vector in ALL_VECTORS:
        for end in range(len(vector) + 1):
            _decodes_or_raises_cleanly(vector[:end])


def test_every_octet_of_every_vector_set_to_boundary_values() -> None:
    for vector in ALL_VECTORS:
        data = bytes.fromhex(vector)
        for index in range(len(data)):
            for value in (0x00, 0x01, 0x07, 0x40, 0x7F, 0x80, 0xA0, 0xFF):
                mutated = data[:index] + bytes([value]) + data[index + 1 :]
                _decodes_or_raises_cleanly(mutated.hex())


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _decodes_or_raises_cleanly(data.hex())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_random_strings(text: str) -> None:
    _decodes_or_raises_cleanly(text)


@settings(max_examples=2000, deadline=None)
@given(vector=st.sampled_from(ALL_VECTORS), edits=st.binary(max_size=8), cut=st.integers(0, 7))
def test_mutated_vectors(vector: str, edits: bytes, cut: int) -> None:
    """Valid vectors with a few octets overwritten (edits: index, value pairs) and cut."""
    data = bytearray.fromhex(vector)
    for index, value in zip(edits[::2], edits[1::2], strict=False):
        data[index % len(data)] = value
    _decodes_or_raises_cleanly(bytes(data[: len(data) - cut]).hex())
