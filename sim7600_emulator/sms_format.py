"""How a received message is shown to the host in +CMGR, +CMGL and +CMT, text or PDU mode."""

from __future__ import annotations

from .charsets import to_host
from .clock import format_modem_time
from .sms_pdu import SmsDeliver, tpdu_length


def message_lines(
    command: str,
    fields: list[str],
    message: SmsDeliver,
    pdu: bytes,
    *,
    text_mode: bool,
    charset: str,
) -> list[str]:
    """The header line `<command>: <fields>,...` followed by the body line.

    Text mode adds `"<oa>","<alpha>","<scts>"` and the body in the TE character set (a UCS2
    message always as hex; the user-data header of a part is not shown). PDU mode adds
    `,<length>` and the hex PDU.
    """
    if not text_mode:
        header = ",".join([*fields, "", str(tpdu_length(pdu))])
        return [f"{command}: {header}", pdu.hex().upper()]
    sender = to_host(message.sender, charset)
    timestamp = format_modem_time(message.timestamp)
    header = ",".join([*fields, f'"{sender}"', '""', f'"{timestamp}"'])
    return [f"{command}: {header}", message_body(message, charset)]


def message_body(message: SmsDeliver, charset: str) -> str:
    """A message's text as text mode shows it."""
    if message.alphabet == "ucs2":
        return message.text.encode("utf-16-be").hex().upper()
    return to_host(message.text, charset)
