"""Failures a command can end in, and how each is written as a final result code."""

from __future__ import annotations

CME_TEXT: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    30: "no network service",
    50: "incorrect parameters",
    100: "unknown",
}
"""Texts of the +CME ERROR codes the emulator uses, as printed with AT+CMEE=2 (3GPP TS 27.007)."""


class AtFailure(Exception):
    """A command failed; the AT session turns it into the final result code."""

    def final(self, cmee: int) -> str:
        """The final result line under the current AT+CMEE setting."""
        return "ERROR"


class PlainError(AtFailure):
    """Plain `ERROR`, whatever AT+CMEE says (unknown command, bad syntax)."""


class CmeError(AtFailure):
    """`+CME ERROR: <n>`: plain ERROR with CMEE=0, the number with 1, the text with 2."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code

    def final(self, cmee: int) -> str:
        if cmee == 0:
            return "ERROR"
        if cmee == 2 and self.code in CME_TEXT:
            return f"+CME ERROR: {CME_TEXT[self.code]}"
        return f"+CME ERROR: {self.code}"


class BadParameter(CmeError):
    """A parameter is missing, malformed or out of range: +CME ERROR: 50."""

    def __init__(self) -> None:
        super().__init__(50)


class CmsError(AtFailure):
    """`+CMS ERROR: <n>` for SMS commands; 27.005 gives it independently of AT+CMEE."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code

    def final(self, cmee: int) -> str:
        return f"+CMS ERROR: {self.code}"
