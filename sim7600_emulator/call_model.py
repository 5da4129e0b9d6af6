"""A voice call as +CLCC describes it, and what the far end does with a call the host places."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from .variants import EndFormat


class CallStat(IntEnum):
    """<stat> of +CLCC; 6 (disconnected) is SIMCom's addition."""

    ACTIVE = 0
    HELD = 1
    DIALING = 2
    ALERTING = 3
    INCOMING = 4
    WAITING = 5
    DISCONNECTED = 6


class CallDirection(IntEnum):
    """<dir> of +CLCC."""

    MOBILE_ORIGINATED = 0
    MOBILE_TERMINATED = 1


@dataclass
class Call:
    """One call of the module: +CLCC lists each by its `id` (1, 2, ... the lowest free)."""

    number: str
    number_type: int
    direction: CallDirection
    stat: CallStat
    id: int = 1
    connected_at: float | None = None
    """Loop time of VOICE CALL: BEGIN; None until the call connects."""
    cpcmreg_refusals_left: int = 0
    ring_interval: float = 2.0
    """Seconds between RINGs while the call rings (also after it waited)."""
    progress: asyncio.Task[None] | None = field(default=None, repr=False, compare=False)
    """What runs for this call now: its RINGs, or the far end's answer to our ATD."""

    def clcc_line(self) -> str:
        """`+CLCC: <id>,<dir>,<stat>,<mode>,<mpty>,"<number>",<type>` (voice, not multiparty)."""
        return (
            f'+CLCC: {self.id},{self.direction},{self.stat},0,0,"{self.number}",{self.number_type}'
        )


def number_type(number: str) -> int:
    """Type of address: 145 international (leading '+'), else 129."""
    return 145 if number.startswith("+") else 129


def end_line(duration: float, end_format: EndFormat) -> str:
    """The `VOICE CALL: END` URC for a call that lasted `duration` seconds."""
    seconds = int(duration)
    if end_format == "bare":
        return "VOICE CALL: END"
    if end_format == "hhmmss":
        hours, rest = divmod(seconds, 3600)
        return f"VOICE CALL: END: {hours:02d}{rest // 60:02d}{rest % 60:02d}"
    return f"VOICE CALL: END: {seconds:06d}"


DialKind = Literal["answer", "busy", "no_answer", "no_carrier", "none"]


@dataclass(frozen=True)
class DialOutcome:
    """What the far end does after ATD<number>; (which is answered OK at once).

    answer: alerting, then VOICE CALL: BEGIN after `delay`; busy / no_answer / no_carrier:
    BUSY / NO ANSWER / NO CARRIER after `delay`; none: alerting until remote_answer().
    """

    kind: DialKind = "answer"
    delay: float = 0.1


KeyStart = Literal["answer", "audio"]


@dataclass(frozen=True)
class KeyPlan:
    """Keys the far end presses during the current or next connected call.

    `after` "answer": `delay` seconds after the call connects (or after the plan is armed,
    if the call is already connected); "audio": `delay` seconds after the host next plays
    something other than silence into the call (a prompt or an alarm message starts).
    Then one digit every `gap` seconds. The plan is dropped when its call ends.
    """

    digits: str
    after: KeyStart = "answer"
    delay: float = 0.0
    gap: float = 0.15
