"""Events the driver publishes to its subscribers (the HA layer maps them onto HA)."""

from __future__ import annotations

from dataclasses import dataclass

from .sms_reassembly import CompleteMessage


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


@dataclass(frozen=True, slots=True)
class SmsReceived:
    """A whole SMS arrived (all parts, or what arrived before the group expired)."""

    message: CompleteMessage


@dataclass(frozen=True, slots=True)
class SmsDeliveryReport:
    """The network reports on a message we sent; ``reference`` is one of the
    ``references`` that sending returned."""

    reference: int
    delivered: bool
    status: int


@dataclass(frozen=True, slots=True)
class UssdReceived:
    """A network-initiated USSD message (not the answer to one of ours)."""

    status: str
    message: str | None


type ModemEvent = (
    ConnectionChanged
    | StateChanged
    | CallEvent
    | DtmfEvent
    | SmsReceived
    | SmsDeliveryReport
    | UssdReceived
)
