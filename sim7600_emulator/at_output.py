"""Writes the module's responses and URCs on the AT port in its framing: \\r\\n<line>\\r\\n."""

from __future__ import annotations

from .ports import ModemPort


class AtOutput:
    """Formats lines for the AT port. Text is sent as Latin-1; anything beyond becomes '?'."""

    def __init__(self, port: ModemPort) -> None:
        self._port = port

    def lines(self, *lines: str, ending: str = "\r\n") -> None:
        """Send one response block: lines joined by CRLF, framed by CRLF before and `ending` after.

        A multi-line information response (ATI, +CMGL) is one block, as the module sends it;
        some URCs (+RXDTMF, +CRING) end in CR CR LF instead.
        """
        self.raw(("\r\n" + "\r\n".join(lines) + ending).encode("latin-1", "replace"))

    def raw(self, data: bytes) -> None:
        """Send bytes as they are (echo, the SMS prompt, garbage)."""
        self._port.send(data)
