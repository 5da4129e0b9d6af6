"""SMS TPDUs (3GPP TS 23.040) as the module exchanges them with the host in PDU mode.

Out to the host: SMS-DELIVER (stored and +CMT messages) and SMS-STATUS-REPORT (+CDS).
In from the host: SMS-SUBMIT (AT+CMGS), decoded so tests can see what the driver sent.
Every PDU on the AT port starts with the service centre address (`00` = the default one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from . import gsm7

Alphabet = Literal["gsm7", "ucs2", "8bit"]

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_ALPHANUMERIC = 0xD0

_SEMI_OCTET_DIGITS = "0123456789*#abcf"  # f pads an odd count

# First-octet bits
MTI_DELIVER = 0x00
MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02
MORE_MESSAGES_TO_SEND_NOT = 0x04  # TP-MMS set: no more messages are waiting
STATUS_REPORT_BIT = 0x20  # TP-SRR in SUBMIT, TP-SRI in DELIVER
UDHI = 0x40

IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08


class PduError(ValueError):
    """The host's PDU is malformed (answered +CMS ERROR: 304)."""


@dataclass(frozen=True)
class Concat:
    """Concatenated-SMS information element: which part of which message this is."""

    reference: int
    total: int
    seq: int
    ref16: bool = False

    def header(self) -> bytes:
        """The user-data header with its length octet: `05 00 03 ref total seq` or 16-bit form."""
        if self.ref16:
            element = bytes((IEI_CONCAT_16, 4, self.reference >> 8, self.reference & 0xFF))
        else:
            element = bytes((IEI_CONCAT_8, 3, self.reference))
        element += bytes((self.total, self.seq))
        return bytes((len(element),)) + element


@dataclass(frozen=True)
class SmsDeliver:
    """One SMS-DELIVER part as the network hands it to the module."""

    smsc: str
    sender: str
    timestamp: datetime
    text: str
    alphabet: Alphabet
    concat: Concat | None = None

    def encode(self) -> bytes:
        """The PDU as +CMGR/+CMT show it: SMSC address, then the TPDU."""
        first = MTI_DELIVER | MORE_MESSAGES_TO_SEND_NOT | (UDHI if self.concat else 0)
        dcs = 0x08 if self.alphabet == "ucs2" else 0x00
        header = self.concat.header() if self.concat else b""
        udl, user_data = encode_user_data(self.text, self.alphabet, header)
        tpdu = (
            bytes((first,))
            + encode_address(self.sender)
            + bytes((0x00, dcs))
            + encode_timestamp(self.timestamp)
            + bytes((udl,))
            + user_data
        )
        return encode_smsc(self.smsc) + tpdu


@dataclass(frozen=True)
class SmsSubmit:
    """An SMS-SUBMIT the host sent with AT+CMGS in PDU mode."""

    destination: str
    text: str
    alphabet: Alphabet
    concat: Concat | None
    status_report: bool
    message_reference: int
    """TP-MR the host put in (the module assigns its own, reported in +CMGS)."""

    def encode(self) -> bytes:
        """The PDU as the SIM keeps a sent or draft message: SMSC field `00`, then the TPDU
        (no validity period)."""
        first = (
            MTI_SUBMIT
            | (UDHI if self.concat else 0)
            | (STATUS_REPORT_BIT if self.status_report else 0)
        )
        dcs = 0x08 if self.alphabet == "ucs2" else 0x04 if self.alphabet == "8bit" else 0x00
        header = self.concat.header() if self.concat else b""
        udl, user_data = encode_user_data(self.text, self.alphabet, header)
        tpdu = (
            bytes((first, self.message_reference))
            + encode_address(self.destination)
            + bytes((0x00, dcs, udl))
            + user_data
        )
        return b"\x00" + tpdu


def address_type(address: str) -> int:
    """145 for +international, 208 for alphanumeric senders, else 129."""
    if address.startswith("+"):
        return 145
    if address and all(char in "0123456789*#" for char in address):
        return 129
    return TOA_ALPHANUMERIC


def _semi_octets(digits: str) -> bytes:
    padded = digits + ("f" if len(digits) % 2 else "")
    codes = [_SEMI_OCTET_DIGITS.index(char) for char in padded.lower()]
    return bytes(codes[i] | codes[i + 1] << 4 for i in range(0, len(codes), 2))


def encode_address(address: str) -> bytes:
    """TP-OA/TP-DA: length in semi-octets, type of address, then the digits (or packed text)."""
    toa = address_type(address)
    if toa == TOA_ALPHANUMERIC:
        septets = gsm7.encode(address)
        return bytes(((len(septets) * 7 + 3) // 4, toa)) + gsm7.pack(septets)
    digits = address.removeprefix("+")
    return bytes((len(digits), toa)) + _semi_octets(digits)


def encode_smsc(address: str) -> bytes:
    """The SMSC field: length in octets (type included), type of address, digits."""
    digits = address.removeprefix("+")
    body = bytes((address_type(address),)) + _semi_octets(digits)
    return bytes((len(body),)) + body


def _swapped_bcd(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def encode_timestamp(moment: datetime) -> bytes:
    """TP-SCTS: year to second in swapped BCD, then the zone in quarter hours (bit 3 = minus)."""
    offset = moment.utcoffset() or timedelta()
    quarters = int(offset.total_seconds()) // 900
    zone = _swapped_bcd(abs(quarters)) | (0x08 if quarters < 0 else 0)
    fields = (
        moment.year % 100,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    return bytes(_swapped_bcd(field) for field in fields) + bytes((zone,))


def encode_user_data(text: str, alphabet: Alphabet, header: bytes) -> tuple[int, bytes]:
    """TP-UDL and TP-UD: septets for GSM 7-bit (header included), octets otherwise."""
    if alphabet == "gsm7":
        septets = gsm7.encode(text)
        return gsm7.header_septets(len(header)) + len(septets), gsm7.pack(septets, header)
    body = text.encode("utf-16-be") if alphabet == "ucs2" else text.encode("latin-1")
    return len(header) + len(body), header + body


def encode_status_report(
    *,
    smsc: str,
    reference: int,
    recipient: str,
    submitted: datetime,
    discharged: datetime,
    status: int,
) -> bytes:
    """An SMS-STATUS-REPORT for the message with TP-MR `reference` (with SMSC field)."""
    tpdu = (
        bytes((MTI_STATUS_REPORT | MORE_MESSAGES_TO_SEND_NOT, reference))
        + encode_address(recipient)
        + encode_timestamp(submitted)
        + encode_timestamp(discharged)
        + bytes((status,))
    )
    return encode_smsc(smsc) + tpdu


def tpdu_length(pdu: bytes) -> int:
    """Octets after the SMSC field: the <length> of +CMGR, +CMT, +CDS and AT+CMGS."""
    return len(pdu) - 1 - pdu[0]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int) -> bytes:
        if self._pos + count > len(self._data):
            raise PduError("PDU too short")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def rest(self) -> bytes:
        return self.take(len(self._data) - self._pos)


def alphabet_of(dcs: int) -> Alphabet:
    """Character set selected by a TP-DCS value (general and message-class groups)."""
    group = dcs >> 4
    if group <= 0x7:
        return ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 3]
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "ucs2" if group == 0xE else "gsm7"


def _decode_address(reader: _Reader) -> str:
    length = reader.byte()
    toa = reader.byte()
    data = reader.take((length + 1) // 2)
    if toa & 0x70 == 0x50:
        return gsm7.decode(gsm7.unpack(data, length * 4 // 7))
    digits = "".join(
        _SEMI_OCTET_DIGITS[nibble] for byte in data for nibble in (byte & 0xF, byte >> 4)
    )
    digits = digits[:length]
    return "+" + digits if toa & 0x70 == 0x10 else digits


def _concat_from_header(header: bytes) -> Concat | None:
    pos = 1
    while pos + 2 <= len(header):
        iei, size = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + size]
        if iei == IEI_CONCAT_8 and size == 3:
            return Concat(value[0], value[1], value[2])
        if iei == IEI_CONCAT_16 and size == 4:
            return Concat(value[0] << 8 | value[1], value[2], value[3], ref16=True)
        pos += 2 + size
    return None


_VALIDITY_LENGTH = {0: 0, 1: 7, 2: 1, 3: 7}  # by TP-VPF: none, enhanced, relative, absolute


def decode_submit(pdu: bytes) -> SmsSubmit:
    """Decode an SMS-SUBMIT PDU (with SMSC field); PduError if it does not hold together."""
    reader = _Reader(pdu)
    reader.take(reader.byte())  # SMSC: the module uses its own when this is 00
    first = reader.byte()
    if first & 0x03 != MTI_SUBMIT:
        raise PduError("not an SMS-SUBMIT")
    reference = reader.byte()
    destination = _decode_address(reader)
    reader.byte()  # TP-PID
    alphabet = alphabet_of(reader.byte())
    reader.take(_VALIDITY_LENGTH[(first >> 3) & 0x03])
    udl = reader.byte()
    user_data = reader.rest()
    size = (udl * 7 + 7) // 8 if alphabet == "gsm7" else udl
    if len(user_data) != size:
        raise PduError("TP-UDL does not match the user data")
    header = b""
    if first & UDHI:
        if not user_data or user_data[0] + 1 > len(user_data):
            raise PduError("bad user-data header")
        header = user_data[: user_data[0] + 1]
    try:
        if alphabet == "gsm7":
            text = gsm7.decode(gsm7.unpack(user_data, udl, len(header)))
        elif alphabet == "ucs2":
            text = user_data[len(header) :].decode("utf-16-be")
        else:
            text = user_data[len(header) :].decode("latin-1")
    except (UnicodeDecodeError, IndexError) as error:
        raise PduError("bad user data") from error
    return SmsSubmit(
        destination=destination,
        text=text,
        alphabet=alphabet,
        concat=_concat_from_header(header),
        status_report=bool(first & STATUS_REPORT_BIT),
        message_reference=reference,
    )
