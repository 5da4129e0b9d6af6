"""The last SMS a modem sent and received, for the phone card.

Kept in memory only: message texts are private, so they are not written to HA's storage, the
recorder or diagnostics for the card's sake. After a restart the card starts with an empty
list (the SMS event entity and the bus events are where automations get messages).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

MESSAGES_KEPT = 20


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One SMS as the card lists it. ``number`` and ``text`` are private."""

    direction: Literal["in", "out"]
    number: str | None
    text: str
    time: datetime
    incomplete: bool = False

    def as_dict(self) -> dict[str, object]:
        """The JSON form the card receives."""
        return {
            "direction": self.direction,
            "number": self.number,
            "text": self.text,
            "time": self.time.isoformat(),
            "incomplete": self.incomplete,
        }


class MessageLog:
    """The newest :data:`MESSAGES_KEPT` messages, newest first, with change listeners."""

    def __init__(self) -> None:
        self._messages: deque[LoggedMessage] = deque(maxlen=MESSAGES_KEPT)
        self._listeners: list[Callable[[], None]] = []

    @property
    def messages(self) -> list[LoggedMessage]:
        """Newest first."""
        return list(self._messages)

    def add(self, message: LoggedMessage) -> None:
        """Log a message and tell the listeners."""
        self._messages.appendleft(message)
        for listener in list(self._listeners):
            listener()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each new message; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
