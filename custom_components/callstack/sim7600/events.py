"""Events the driver publishes to its subscribers (the HA layer maps them onto HA)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The AT port was lost (``connected=False``) or is back and initialised."""

    connected: bool


@dataclass(frozen=True, slots=True)
class StateChanged:
    """Something in the snapshot changed (signal, registration, SIM, call, bridge)."""


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A call moved: ``incoming``, ``answered``, ``ended`` or ``missed``.

    ``number`` is private; ``duration`` is in seconds (ended only); ``reason`` says why a
    call ended: ``remote_hang_up``, ``local_hang_up``, ``rejected``, ``busy``,
    ``no_answer``, ``failed``, ``timeout`` or ``connection_lost``.
    """

    kind: str
    direction: str
    number: str | None
    duration: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """The far end pressed ``digit`` during a call."""

    digit: str


type ModemEvent = ConnectionChanged | StateChanged | CallEvent | DtmfEvent
