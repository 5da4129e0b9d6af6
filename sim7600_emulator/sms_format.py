"""How a stored or pushed message is shown to the host in +CMGR, +CMGL and +CMT, text or
PDU mode."""

from __future__ import annotations

from .charsets import to_host
from .clock import format_modem_time
from .sms_pdu import SmsDeliver, SmsSubmit, tpdu_length


def message_lines(
    command: str,
    fields: list[str],
    message: SmsDeliver | SmsSubmit | None,
    pdu: bytes,
    *,
    text_mode: bool,
    charset: str,
) -> list[str]:
    """The header line `<command>: <fields>,...` followed by the body line.

    Text mode adds `"<oa>","<alpha>","<scts>"` (a sent or draft message: `"<da>",""`) and
    the body in the TE character set (a UCS2 message always as hex; the user-data header
    of a part is not shown). A raw PDU the emulator stored without decoding shows its hex
    in text mode too. PDU mode adds `,<length>` and the hex PDU.
    """
    if not text_mode:
        header = ",".join([*fields, "", str(tpdu_length(pdu))])
        return [f"{command}: {header}", pdu.hex().upper()]
    if message is None:
        header = ",".join([*fields, '""', '""'])
        return [f"{command}: {header}", pdu.hex().upper()]
    if isinstance(message, SmsSubmit):
        destination = to_host(message.destination, charset)
        header = ",".join([*fields, f'"{destination}"', '""'])
        return [f"{command}: {header}", message_body(message, charset)]
    sender = to_host(message.sender, charset)
    timestamp = format_modem_time(message.timestamp)
    header = ",".join([*fields, f'"{sender}"', '""', f'"{timestamp}"'])
    return [f"{command}: {header}", message_body(message, charset)]


def message_body(message: SmsDeliver | SmsSubmit, charset: str) -> str:
    """A message's text as text mode shows it."""
    if message.alphabet == "ucs2":
        return message.text.encode("utf-16-be").hex().upper()
    return to_host(message.text, charset)
