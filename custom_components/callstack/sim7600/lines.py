"""Split the modem's byte stream into lines.

Replies are framed ``\\r\\n<line>\\r\\n``, echo ends in a bare ``\\r``, some URCs end in
``\\r\\r\\n`` and a read can stop anywhere, so lines are cut at CR or LF and empty ones
dropped. Two exceptions need care:

* a line announcing an SMS (``+CMT:``, ``+CMGR:``, ``+CMGL:``, PDU-mode ``+CDS:``) is
  followed by a body line that is taken verbatim up to the next CR LF, even when it is
  empty or reads ``OK``, so message text can never end a reply or pose as a URC;
* the SMS prompt ``> `` has no line ending at all and is reported as soon as it shows;
* a ``+CUSD`` text (a USSD menu) spans lines inside its quotes; they are joined with LF.

A line longer than :data:`MAX_LINE` is dropped (and counted), so garbage cannot grow memory.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

MAX_LINE = 4096
PROMPT = "> "
_BODY_HEADERS = ("+CMT:", "+CMGR:", "+CMGL:")
_PDU_STATUS_REPORT = re.compile(r"^\+CDS:\s*\d+\s*$")


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
        self._quoted: str | None = None  # a +CUSD line whose quoted text is still open
        self.dropped = 0  # over-long lines thrown away

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
                out.append(PROMPT)
                continue
            end = _find_terminator(self._buffer)
            if end < 0:
                break
            text = _decode(self._buffer[:end])
            # A body starts after the CR LF that ends its header.
            skip = 2 if self._buffer[end : end + 2] == b"\r\n" else 1
            del self._buffer[: end + skip]
            if self._quoted is not None:
                text = f"{self._quoted}\n{text}"
                self._quoted = None
            if text.startswith("+CUSD:") and text.count('"') % 2 and len(text) < MAX_LINE:
                self._quoted = text  # the quoted text goes on on the next line
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

    def reset(self) -> None:
        """Forget any partial line (after a reconnect)."""
        self._buffer.clear()
        self._header = None
        self._discarding = False
        self._quoted = None


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
