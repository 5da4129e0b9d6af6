"""SMS PDU codec (3GPP TS 23.040) for the SIM7600 in PDU mode (``AT+CMGF=0``).

Decodes what the modem hands us (SMS-DELIVER and SMS-STATUS-REPORT, each preceded by
the SMSC field as ``+CMGR``/``+CMGL``/``+CMT``/``+CDS`` print it) and encodes
SMS-SUBMIT for ``AT+CMGS=<n>``. PDU mode is used instead of text mode because text mode
cannot carry concatenation headers, UCS2 reliably or status-report details.

Errors never quote the PDU, a phone number or message text: they end up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from . import gsm7
from .errors import Sim7600Error

__all__ = [
    "Concat",
    "Encoding",
    "PduDecodeError",
    "SmsDeliver",
    "SmsStatusReport",
    "SmsTooLongError",
    "SubmitPdu",
    "decode_deliver",
    "decode_pdu",
    "decode_status_report",
    "encode_submit",
]

type Encoding = Literal["gsm7", "ucs2", "8bit"]

_MTI_MASK = 0x03
_MTI_DELIVER = 0x00
_MTI_SUBMIT = 0x01
_MTI_STATUS_REPORT = 0x02
_UDHI = 0x40
_SRI = 0x20  # SMS-DELIVER: the sender asked for a status report
_SRR = 0x20  # SMS-SUBMIT: we ask for a status report
_VPF_RELATIVE = 0x10
_VP_24_HOURS = 0xA7

_TON_INTERNATIONAL = 1
_TON_ALPHANUMERIC = 5
_TOA_INTERNATIONAL = 0x91
_TOA_UNKNOWN = 0x81
_BCD_DIGITS = "0123456789*#abc"  # nibble 0xF is the filler
_DIAL_DIGITS = "0123456789*#"
_MAX_ADDRESS_DIGITS = 20

_IEI_CONCAT_8 = 0x00
_IEI_CONCAT_16 = 0x08

_DCS_GSM7 = 0x00
_DCS_UCS2 = 0x08
_GSM7_SINGLE, _GSM7_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67


class PduDecodeError(Sim7600Error, ValueError):
    """A PDU could not be decoded; the message is a fixed phrase, safe to log."""


class SmsTooLongError(Sim7600Error, ValueError):
    """The text needs more parts than allowed; the message holds only part counts.

    ``parts_needed`` is a lower bound when the text was refused by its length alone.
    """

    def __init__(self, parts_needed: int, max_parts: int) -> None:
        super().__init__(f"text needs {parts_needed} parts, at most {max_parts} allowed")
        self.parts_needed = parts_needed
        self.max_parts = max_parts


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation info from the user data header (IE 0x00 or 0x08)."""

    reference: int
    total: int
    seq: int
    ref_bits: Literal[8, 16]


@dataclass(frozen=True, slots=True)
class SmsDeliver:
    """A received SMS (or one part of a multipart SMS).

    ``data`` is the user data after the header exactly as transmitted (for GSM-7 still
    packed, fill bits included); it is what an 8-bit (binary) message really carries,
    its ``text`` being only a latin-1 rendering.
    """

    smsc: str | None
    sender: str
    timestamp: datetime | None
    encoding: Encoding
    message_class: int | None
    text: str
    data: bytes
    udh: Concat | None
    status_report_indication: bool


@dataclass(frozen=True, slots=True)
class SmsStatusReport:
    """Delivery outcome of a message we sent, matched to it by ``reference`` (TP-MR)."""

    smsc: str | None
    reference: int
    recipient: str
    scts: datetime | None
    discharge_time: datetime | None
    status: int

    @property
    def delivered(self) -> bool:
        """True for TP-ST 0x00-0x1F ("short message transaction completed")."""
        return self.status <= 0x1F


@dataclass(frozen=True, slots=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for ``AT+CMGS=<tpdu_length>`` followed by ``hex`` and 0x1A.

    ``hex`` starts with ``00`` (use the SMSC stored on the SIM); ``tpdu_length`` counts
    the octets after it, which is what the modem checks (+CMS ERROR 304 on mismatch).
    """

    hex: str
    tpdu_length: int
    seq: int
    total: int


def decode_pdu(pdu_hex: str) -> SmsDeliver | SmsStatusReport:
    """Decode an SMS-DELIVER or SMS-STATUS-REPORT, choosing by the TP-MTI bits."""
    reader, smsc, first = _open(pdu_hex)
    mti = first & _MTI_MASK
    if mti == _MTI_DELIVER:
        return _deliver(reader, smsc, first)
    if mti == _MTI_STATUS_REPORT:
        return _status_report(reader, smsc)
    raise PduDecodeError("unsupported message type")


def decode_deliver(pdu_hex: str) -> SmsDeliver:
    """Decode an SMS-DELIVER; PduDecodeError for anything else or anything malformed."""
    reader, smsc, first = _open(pdu_hex)
    if first & _MTI_MASK != _MTI_DELIVER:
        raise PduDecodeError("not an SMS-DELIVER")
    return _deliver(reader, smsc, first)


def decode_status_report(pdu_hex: str) -> SmsStatusReport:
    """Decode an SMS-STATUS-REPORT; PduDecodeError for anything else or malformed."""
    reader, smsc, first = _open(pdu_hex)
    if first & _MTI_MASK != _MTI_STATUS_REPORT:
        raise PduDecodeError("not an SMS-STATUS-REPORT")
    return _status_report(reader, smsc)


def check_length(text: str, max_parts: int) -> None:
    """Refuse a text longer than ``max_parts`` parts can hold whatever it contains (GSM
    7-bit, one septet per character): costs nothing, so it comes before any encoding."""
    limit = _GSM7_SINGLE if max_parts == 1 else max_parts * _GSM7_MULTI
    if len(text) > limit:
        raise SmsTooLongError(-(-len(text) // _GSM7_MULTI), max_parts)


def encode_submit(
    number: str,
    text: str,
    *,
    reference: int,
    request_status_report: bool = False,
    max_parts: int = 10,
) -> list[SubmitPdu]:
    """Encode text to one SMS-SUBMIT per part.

    GSM-7 when every character fits the default alphabet, else UCS2. Multipart messages
    carry an 8-bit concatenation reference ``reference & 0xFF``; cuts never separate an
    escape pair or a surrogate pair. ``number`` is digits, ``*`` and ``#`` with an
    optional leading ``+``.
    """
    if not text:
        raise ValueError("text is empty")
    if not 1 <= max_parts <= 255:
        raise ValueError("max_parts must be 1..255")
    check_length(text, max_parts)
    destination = _encode_address(number)
    ref = reference & 0xFF
    user_data: list[tuple[int, bytes]]
    if gsm7.can_encode(text):
        dcs = _DCS_GSM7
        if gsm7.septet_length(text) <= _GSM7_SINGLE:
            user_data = [_gsm7_user_data(gsm7.encode_septets(text), b"")]
        else:
            chunks = _within_limit(gsm7.encode_chunks(text, _GSM7_MULTI), max_parts)
            user_data = [
                _gsm7_user_data(chunk, _concat_header(ref, len(chunks), seq))
                for seq, chunk in enumerate(chunks, 1)
            ]
    else:
        dcs = _DCS_UCS2
        try:
            encoded = text.encode("utf-16-be")
        except UnicodeEncodeError:
            raise ValueError("text is not valid Unicode") from None
        if len(encoded) <= 2 * _UCS2_SINGLE:
            user_data = [_octet_user_data(encoded, b"")]
        else:
            pieces = _within_limit(_ucs2_chunks(text, _UCS2_MULTI), max_parts)
            user_data = [
                _octet_user_data(piece, _concat_header(ref, len(pieces), seq))
                for seq, piece in enumerate(pieces, 1)
            ]
    total = len(user_data)
    first = _MTI_SUBMIT | _VPF_RELATIVE
    if request_status_report:
        first |= _SRR
    if total > 1:
        first |= _UDHI
    result = []
    for seq, (udl, ud) in enumerate(user_data, 1):
        # TP-MR 0: the modem assigns the real reference and returns it in +CMGS.
        tpdu = bytes([first, 0x00]) + destination + bytes([0x00, dcs, _VP_24_HOURS, udl]) + ud
        result.append(SubmitPdu("00" + tpdu.hex().upper(), len(tpdu), seq, total))
    return result


class _Reader:
    """Cursor over PDU octets; running short raises PduDecodeError naming the field."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int, field: str) -> bytes:
        end = self._pos + count
        if end > len(self._data):
            raise PduDecodeError(f"PDU too short: {field}")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def octet(self, field: str) -> int:
        return self.take(1, field)[0]


def _open(pdu_hex: str) -> tuple[_Reader, str | None, int]:
    """Parse the hex and the SMSC field; return the reader, SMSC and TPDU first octet."""
    try:
        data = bytes.fromhex(pdu_hex)
    except (TypeError, ValueError):
        raise PduDecodeError("PDU is not hex") from None
    reader = _Reader(data)
    smsc_field = reader.take(reader.octet("SMSC length"), "SMSC address")
    smsc = None
    if smsc_field:
        digits = _bcd(smsc_field[1:], 2 * (len(smsc_field) - 1))
        if digits:
            smsc = _with_ton(smsc_field[0], digits)
    return reader, smsc, reader.octet("first octet")


def _deliver(reader: _Reader, smsc: str | None, first: int) -> SmsDeliver:
    sender = _address(reader, "sender address")
    reader.octet("protocol identifier")
    encoding, message_class = _data_coding(reader.octet("data coding scheme"))
    timestamp = _timestamp(reader.take(7, "timestamp"))
    text, data, concat = _user_data(reader, first, encoding)
    return SmsDeliver(
        smsc=smsc,
        sender=sender,
        timestamp=timestamp,
        encoding=encoding,
        message_class=message_class,
        text=text,
        data=data,
        udh=concat,
        status_report_indication=bool(first & _SRI),
    )


def _status_report(reader: _Reader, smsc: str | None) -> SmsStatusReport:
    # Optional TP-PI/PID/DCS/UD may follow the status; nothing there is needed.
    return SmsStatusReport(
        smsc=smsc,
        reference=reader.octet("message reference"),
        recipient=_address(reader, "recipient address"),
        scts=_timestamp(reader.take(7, "timestamp")),
        discharge_time=_timestamp(reader.take(7, "discharge time")),
        status=reader.octet("status"),
    )


def _address(reader: _Reader, field: str) -> str:
    """TP-OA/TP-RA: length in semi-octets, type of address, then the digits."""
    length = reader.octet(field)
    toa = reader.octet(field)
    body = reader.take((length + 1) // 2, field)
    if (toa >> 4) & 0x07 == _TON_ALPHANUMERIC:
        return gsm7.decode_septets(gsm7.unpack_septets(body, length * 4 // 7))
    return _with_ton(toa, _bcd(body, length))


def _with_ton(toa: int, digits: str) -> str:
    if (toa >> 4) & 0x07 == _TON_INTERNATIONAL and digits:
        return "+" + digits
    return digits


def _bcd(octets: bytes, count: int) -> str:
    """Swapped-nibble BCD digits, low nibble first, fillers (0xF) skipped."""
    digits = [
        _BCD_DIGITS[nibble]
        for octet in octets
        for nibble in (octet & 0x0F, octet >> 4)
        if nibble != 0x0F
    ]
    return "".join(digits[:count])


def _timestamp(raw: bytes) -> datetime | None:
    """TP-SCTS/TP-DT; None rather than an error when the network sends nonsense."""
    if any(octet & 0x0F > 9 or octet >> 4 > 9 for octet in raw[:6]) or raw[6] >> 4 > 9:
        return None
    year, month, day, hour, minute, second = ((o & 0x0F) * 10 + (o >> 4) for o in raw[:6])
    # Quarter hours; bit 3 of the octet (the first semi-octet's top bit) is the sign.
    quarters = (raw[6] & 0x07) * 10 + (raw[6] >> 4)
    if raw[6] & 0x08:
        quarters = -quarters
    try:
        return datetime(
            2000 + year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(timedelta(minutes=15 * quarters)),
        )
    except ValueError:
        return None


def _data_coding(dcs: int) -> tuple[Encoding, int | None]:
    """Alphabet and message class from TP-DCS (TS 23.038 clause 4)."""
    group = dcs >> 4
    if group <= 0x07:  # general data coding, with or without automatic deletion
        message_class = dcs & 0x03 if dcs & 0x10 else None
        if dcs & 0x20:  # compressed: we cannot decompress, so hand over the octets
            return "8bit", message_class
        alphabet = (dcs >> 2) & 0x03
        if alphabet == 1:
            return "8bit", message_class
        if alphabet == 2:
            return "ucs2", message_class
        return "gsm7", message_class  # 3 is reserved: the spec says assume GSM-7
    if group == 0x0E:  # message waiting indication, UCS2 text
        return "ucs2", None
    if group == 0x0F:  # data coding / message class
        return ("8bit" if dcs & 0x04 else "gsm7"), dcs & 0x03
    return "gsm7", None  # reserved groups and the other message waiting groups


def _user_data(reader: _Reader, first: int, encoding: Encoding) -> tuple[str, bytes, Concat | None]:
    udl = reader.octet("user data length")
    # TP-UDL counts septets for GSM-7 (header included) and octets otherwise.
    ud = reader.take((udl * 7 + 7) // 8 if encoding == "gsm7" else udl, "user data")
    header_len = 0
    concat = None
    if first & _UDHI:
        if not ud or 1 + ud[0] > len(ud):
            raise PduDecodeError("user data header does not fit")
        header_len = 1 + ud[0]
        concat = _concat(ud[1:header_len])
    body = ud[header_len:]
    if encoding == "gsm7":
        header_septets, fill = _header_septets(header_len)
        if header_septets > udl:
            raise PduDecodeError("user data header does not fit")
        # Cannot run short: the octets taken above hold 7 * udl bits.
        septets = gsm7.unpack_septets(body, udl - header_septets, fill)
        return gsm7.decode_septets(septets), body, concat
    if encoding == "ucs2":
        return _decode_ucs2(body), body, concat
    return body.decode("latin-1"), body, concat


def _concat(header: bytes) -> Concat | None:
    """Concatenation IE from the header; malformed or out-of-range IEs are ignored."""
    found = None
    pos = 0
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if len(value) < length:
            break
        pos += 2 + length
        if iei == _IEI_CONCAT_8 and length == 3:
            candidate = Concat(value[0], value[1], value[2], 8)
        elif iei == _IEI_CONCAT_16 and length == 4:
            candidate = Concat((value[0] << 8) | value[1], value[2], value[3], 16)
        else:
            continue
        # TS 23.040 9.2.3.24.1: a zero total or a seq beyond it voids the IE.
        if 1 <= candidate.seq <= candidate.total:
            found = candidate
    return found


def _decode_ucs2(data: bytes) -> str:
    """UTF-16-BE (UCS2 in practice carries surrogate pairs); broken units become '?'."""
    text = data[: len(data) & ~1].decode("utf-16-be", errors="surrogatepass")
    text = "".join("?" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text)
    return text + "?" if len(data) % 2 else text


def _header_septets(header_len: int) -> tuple[int, int]:
    """Septets a header of header_len octets occupies, and the fill bits after it."""
    septets = (header_len * 8 + 6) // 7
    return septets, septets * 7 - header_len * 8


def _concat_header(reference: int, total: int, seq: int) -> bytes:
    return bytes([0x05, _IEI_CONCAT_8, 0x03, reference, total, seq])


def _gsm7_user_data(septets: list[int], header: bytes) -> tuple[int, bytes]:
    header_septets, fill = _header_septets(len(header))
    return header_septets + len(septets), header + gsm7.pack_septets(septets, fill)


def _within_limit[T](chunks: list[T], max_parts: int) -> list[T]:
    if len(chunks) > max_parts:
        raise SmsTooLongError(len(chunks), max_parts)
    return chunks


def _octet_user_data(payload: bytes, header: bytes) -> tuple[int, bytes]:
    return len(header) + len(payload), header + payload


def _ucs2_chunks(text: str, max_units: int) -> list[bytes]:
    """Cut text into UTF-16-BE pieces of at most max_units code units, whole chars only."""
    chunks: list[list[str]] = [[]]
    used = 0
    for char in text:
        units = 2 if ord(char) > 0xFFFF else 1
        if used + units > max_units:
            chunks.append([])
            used = 0
        chunks[-1].append(char)
        used += units
    return ["".join(chunk).encode("utf-16-be") for chunk in chunks]


def _encode_address(number: str) -> bytes:
    """TP-DA: digit count, type of address, swapped-nibble BCD with a 0xF filler."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits or len(digits) > _MAX_ADDRESS_DIGITS or not set(digits) <= set(_DIAL_DIGITS):
        raise ValueError("invalid destination number")
    nibbles = [_DIAL_DIGITS.index(digit) for digit in digits]
    if len(nibbles) % 2:
        nibbles.append(0x0F)
    body = bytes(low | high << 4 for low, high in zip(nibbles[::2], nibbles[1::2], strict=True))
    toa = _TOA_INTERNATIONAL if international else _TOA_UNKNOWN
    return bytes([len(digits), toa]) + body
