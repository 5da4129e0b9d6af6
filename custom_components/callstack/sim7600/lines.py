"""Split the modem's byte stream into lines.

Replies are framed ``\\r\\n<line>\\r\\n``, echo ends in a bare ``\\r``, some URCs end in
``\\r\\r\\n`` and a read can stop anywhere, so lines are cut at CR or LF and empty ones
dropped. Two exceptions need care:

* a line announcing an SMS (``+CMT:``, ``+CMGR:``, ``+CMGL:``, PDU-mode ``+CDS:``) is
  followed by a body line that is taken verbatim up to the next CR LF, even when it is
  empty or reads ``OK``, so message text can never end a reply or pose as a URC;
* the SMS prompt ``> `` has no line ending at all and is reported as soon as it shows;
* a USSD menu is sent as one ``+CUSD: <m>,"<text>",<dcs>`` whose text holds line breaks.
  A ``+CUSD`` line whose text is still open (it does not end in ``",<dcs>``) is joined
  with LF to the lines that follow, up to the one that closes it. Counting quotes cannot
  tell where the text ends (a reply may hold one stray ``"``), so the join is bounded
  instead: a line that is a final result code or looks like a URC or an echo is never
  taken into the text (the held line is reported as it is, then that line on its own),
  the text may not grow beyond :data:`MAX_USSD` characters or :data:`MAX_USSD_LINES`
  lines, and whoever reads the port calls :meth:`LineSplitter.flush` once the line has
  been quiet for a moment (:attr:`LineSplitter.holding`), so a text that never closes
  cannot hold back what comes next.

A line longer than :data:`MAX_LINE` is dropped (and counted), so garbage cannot grow memory.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

MAX_LINE = 4096
# A USSD string is at most 160 octets: 182 GSM characters, 320 hex digits as UCS2.
MAX_USSD = 512
MAX_USSD_LINES = 24
PROMPT = "> "
_BODY_HEADERS = ("+CMT:", "+CMGR:", "+CMGL:")
_PDU_STATUS_REPORT = re.compile(r"^\+CDS:\s*\d+\s*$")
_USSD_TEXT_OPENS = re.compile(r"^\+CUSD:\s*\d+\s*,\s*\"")
_USSD_TEXT_CLOSES = re.compile(r'"\s*,\s*\d{1,3}\s*$')
# Lines that always stand alone: final result codes, URCs (+XXX: / ^XXX: and the bare
# ones of urc.py) and the echoes of our commands.
_STANDS_ALONE = re.compile(
    r"^(?:OK|ERROR|CONNECT|RING|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|RDY|SMS DONE|PB DONE)\s*$"
    r"|^[+^][A-Z][A-Z0-9 ]*(?::|\s*$)"
    r"|^(?:VOICE CALL:|MISSED_CALL:)"
    r"|^AT(?:[+^$]|\s*$)"  # not "AT&": operators call themselves AT&T
)


@dataclass(frozen=True, slots=True)
class Line:
    """One line from the modem; ``body`` is the verbatim line that followed an SMS header."""

    text: str
    body: str | None = None


def carries_body(text: str) -> bool:
    """Whether the line ``text`` is followed by an SMS body line."""
    return text.startswith(_BODY_HEADERS) or bool(_PDU_STATUS_REPORT.match(text))


class LineSplitter:
    """Incremental splitter: feed bytes, get complete :class:`Line` objects back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._header: str | None = None
        self._discarding = False  # inside an over-long line: drop up to its end
        self._ussd: list[str] = []  # a +CUSD line whose quoted text is still open
        self._ussd_size = 0
        self.dropped = 0  # over-long lines thrown away

    @property
    def holding(self) -> bool:
        """Whether a ``+CUSD`` line waits for the rest of its text (see :meth:`flush`)."""
        return bool(self._ussd)

    def flush(self) -> list[Line | str]:
        """Report a held ``+CUSD`` line as it is: the line went quiet before it closed."""
        if not self._ussd:
            return []
        text = "\n".join(self._ussd)
        self._hold_ussd(None)
        return [Line(text)]

    def feed(self, data: bytes) -> list[Line | str]:
        """Add ``data``; return complete lines and :data:`PROMPT` markers in order."""
        if self._discarding:
            end = _find_terminator(bytearray(data))
            if end < 0:
                return []
            self._discarding = False
            data = data[end:]
        self._buffer += data
        out: list[Line | str] = []
        while True:
            if self._header is not None:
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    break
                body = _decode(self._buffer[:end])
                del self._buffer[: end + 2]
                out.append(Line(self._header, body))
                self._header = None
                continue
            # Skip line terminators between lines.
            start = 0
            while start < len(self._buffer) and self._buffer[start] in b"\r\n":
                start += 1
            if start:
                del self._buffer[:start]
            if self._buffer.startswith(b"> "):
                del self._buffer[:2]
                out += self.flush()
                out.append(PROMPT)
                continue
            end = _find_terminator(self._buffer)
            if end < 0:
                break
            text = _decode(self._buffer[:end])
            # A body starts after the CR LF that ends its header.
            skip = 2 if self._buffer[end : end + 2] == b"\r\n" else 1
            del self._buffer[: end + skip]
            if self._ussd and self._may_continue_ussd(text):
                self._ussd.append(text)
                self._ussd_size += 1 + len(text)
                if _USSD_TEXT_CLOSES.search(text):
                    out += self.flush()
                continue
            out += self.flush()
            if _USSD_TEXT_OPENS.match(text) and not _USSD_TEXT_CLOSES.search(text):
                self._hold_ussd(text)
                continue
            if carries_body(text):
                self._header = text
                continue
            out.append(Line(text))
        if len(self._buffer) > MAX_LINE:
            self._buffer.clear()
            self._header = None
            self._discarding = True
            self.dropped += 1
        return out

    def _hold_ussd(self, text: str | None) -> None:
        self._ussd = [] if text is None else [text]
        self._ussd_size = 0 if text is None else len(text)

    def _may_continue_ussd(self, text: str) -> bool:
        """Whether ``text`` can be the next line of the held USSD text."""
        return not (
            _STANDS_ALONE.match(text)
            or len(self._ussd) >= MAX_USSD_LINES
            or self._ussd_size + 1 + len(text) > MAX_USSD
        )

    def reset(self) -> None:
        """Forget any partial line (after a reconnect)."""
        self._buffer.clear()
        self._header = None
        self._discarding = False
        self._hold_ussd(None)


def _find_terminator(buffer: bytearray) -> int:
    cr = buffer.find(b"\r")
    lf = buffer.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)


def _decode(raw: bytes | bytearray) -> str:
    return bytes(raw).decode("utf-8", "replace").strip("\r\n")
