"""One AT command line, parsed into name, kind and parameters (V.250 / 3GPP TS 27.007 syntax)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass
from enum import Enum

from .errors import BadParameter


class CommandKind(Enum):
    """Which of the four extended-command forms the host used."""

    ACTION = "action"  # AT+CSQ, and every basic command (ATD..., ATE0)
    READ = "read"  # AT+CPIN?
    TEST = "test"  # AT+CLCC=?
    SET = "set"  # AT+CMGF=1
    INVALID = "invalid"  # AT+CSCS="GSM (unclosed quote), AT+CPIN?? : answered ERROR


@dataclass(frozen=True)
class AtCommand:
    """A parsed command line. `name` is upper case ("+CPIN", "D", "&F", "" for a bare AT)."""

    line: str
    name: str
    kind: CommandKind
    args: tuple[str, ...] = ()
    rest: str = ""  # what follows a basic command's letter: "0" for ATE0, "+4915...;" for ATD

    def has_arg(self, index: int) -> bool:
        """Whether parameter `index` was given and not left empty."""
        return index < len(self.args) and self.args[index] != ""

    def int_arg(
        self, index: int, choices: Container[int] | None = None, default: int | None = None
    ) -> int:
        """Parameter `index` as an integer, or `default` when omitted; BadParameter otherwise."""
        if not self.has_arg(index):
            if default is None:
                raise BadParameter
            return default
        try:
            value = int(self.args[index])
        except ValueError:
            raise BadParameter from None
        if choices is not None and value not in choices:
            raise BadParameter
        return value

    def str_arg(self, index: int, default: str | None = None) -> str:
        """Parameter `index` with its quotes removed, or `default` when omitted."""
        if not self.has_arg(index):
            if default is None:
                raise BadParameter
            return default
        return self.args[index]


Final = str | None
"""What a handler returns: None for OK, else the final result line ("" when it wrote its own)."""

NO_FINAL = ""

Handler = Callable[[AtCommand], Awaitable[Final]]

_EXTENDED_PREFIXES = "+$^#*"


def parse_command(line: str) -> AtCommand | None:
    """Parse a line received on the AT port; None when it holds no "AT" (the module ignores it).

    Whatever precedes "AT" is dropped, as the module hunts for the prefix.
    """
    start = line.upper().find("AT")
    if start < 0:
        return None
    line = line[start:].strip()
    body = line[2:]
    if not body:
        return AtCommand(line, "", CommandKind.ACTION)
    if body[0] in _EXTENDED_PREFIXES:
        return _parse_extended(line, body)
    if body[0] == "&":
        return AtCommand(line, body[:2].upper(), CommandKind.ACTION, rest=body[2:])
    return AtCommand(line, body[0].upper(), CommandKind.ACTION, rest=body[1:])


def _parse_extended(line: str, body: str) -> AtCommand:
    end = next((i for i, ch in enumerate(body) if ch in "=?"), len(body))
    name, tail = body[:end].upper(), body[end:]
    if tail == "":
        return AtCommand(line, name, CommandKind.ACTION)
    if tail == "?":
        return AtCommand(line, name, CommandKind.READ)
    if tail == "=?":
        return AtCommand(line, name, CommandKind.TEST)
    if tail.startswith("="):
        try:
            return AtCommand(line, name, CommandKind.SET, split_parameters(tail[1:]))
        except ValueError:
            pass
    return AtCommand(line, name, CommandKind.INVALID)


def split_parameters(text: str) -> tuple[str, ...]:
    """Split `1,"a,b",,3` into ("1", "a,b", "", "3"); spaces around unquoted values are dropped."""
    params: list[str] = []
    current: list[str] = []
    quoted = was_quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            was_quoted = True
        elif ch == "," and not quoted:
            params.append(_finish(current, was_quoted))
            current, was_quoted = [], False
        else:
            current.append(ch)
    if quoted:
        raise ValueError("unclosed quote")
    params.append(_finish(current, was_quoted))
    return tuple(params)


def _finish(chars: list[str], was_quoted: bool) -> str:
    value = "".join(chars)
    return value if was_quoted else value.strip()
