"""Typed errors raised by the SIM7600 driver.

Every message is fixed text chosen here: no phone number, identity, SMS text or raw modem
line is ever formatted into one, so callers may log or show them as they are.
"""

from __future__ import annotations


class Sim7600Error(Exception):
    """Base class of every driver error."""


class InvalidArgumentError(Sim7600Error, ValueError):
    """An argument would not be safe or valid on the AT line; nothing was sent."""


class PortError(Sim7600Error):
    """The serial port (device, socket or RFC 2217) failed."""


class PortOpenError(PortError):
    """The port could not be opened."""


class PortClosedError(PortError):
    """The port closed or vanished while in use; ``closed`` when we closed it ourselves
    (:meth:`Modem.close`, e.g. Home Assistant unloading the entry)."""

    closed = False


class ModemClosedError(PortClosedError):
    """The modem was closed while something waited on it; nothing more will come."""

    closed = True

    def __init__(self, message: str = "The modem was closed") -> None:
        super().__init__(message)


class CommandInterruptedError(PortClosedError):
    """The port closed while a command was in flight.

    ``reply`` holds the lines the modem answered before that (a ``+CMGS: <mr>`` among them
    means the network took the SMS); ``payload_sent`` says whether the command's payload
    (an SMS body) had been handed to the modem. Both decide whether the command's effect
    happened, may have happened, or did not.
    """

    def __init__(
        self, cause: PortClosedError | Sim7600Error, reply: list[str], payload_sent: bool
    ) -> None:
        super().__init__(str(cause))
        self.closed = isinstance(cause, PortClosedError) and cause.closed
        self.reply = reply
        self.payload_sent = payload_sent


class AtTimeoutError(Sim7600Error):
    """The modem did not finish answering a command in time.

    ``reply`` and ``payload_sent`` tell what it had answered and been handed by then, as
    for :class:`CommandInterruptedError`: an SMS body handed over may still go out.
    """

    def __init__(
        self, message: str, reply: list[str] | None = None, *, payload_sent: bool = False
    ) -> None:
        super().__init__(message)
        self.reply = reply or []
        self.payload_sent = payload_sent


class AtCommandError(Sim7600Error):
    """The modem answered a command with an error result code (plain ``ERROR`` here;
    the subclasses below for the other families); ``code`` is the numeric CME/CMS code
    when the modem reported one."""

    def __init__(self, message: str = "The modem answered ERROR", code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class CmeError(AtCommandError):
    """``+CME ERROR``: an equipment (ME) or SIM error."""


class CmsError(AtCommandError):
    """``+CMS ERROR``: a message service error."""


class CallResultError(AtCommandError):
    """ATA or ATD ended with NO CARRIER, BUSY, NO ANSWER or NO DIALTONE."""


class NotAModemError(Sim7600Error):
    """Nothing on the port answered ``AT``."""


class UnsupportedModemError(Sim7600Error):
    """Something answered AT, but it is not a SIMCom modem."""


class SimPinError(Sim7600Error):
    """The SIM rejected the PIN; it is never retried automatically (retries lock the SIM)."""

    def __init__(self, attempts_left: int | None = None) -> None:
        super().__init__("The SIM rejected the PIN")
        self.attempts_left = attempts_left


class SimPukRequiredError(Sim7600Error):
    """The SIM is blocked and needs its PUK."""


class CallStateError(Sim7600Error):
    """The requested call operation does not fit the current call state."""


class AudioBridgeError(Sim7600Error):
    """Base class of call-audio failures."""


class AudioBridgeNotRunningError(AudioBridgeError):
    """No call is active or the PCM bridge is not running, so there is no audio."""


class AudioBridgeLostError(AudioBridgeError):
    """The PCM bridge failed while audio was being recorded or played."""


class RecordingEmptyError(AudioBridgeError):
    """The recording captured no audio frame at all."""


class AudioBusyError(AudioBridgeError):
    """A recording or playback is already running on this modem."""


class MediaError(Sim7600Error, ValueError):
    """The media cannot be played; ``reason`` is a fixed token naming what was wrong
    (``not_wav``, ``corrupt_header``, ``undecodable``, ...; see ``audio_source``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The media cannot be played ({reason})")
        self.reason = reason


class MediaTooLongError(MediaError):
    """The media is longer than the most ``play`` accepts."""

    def __init__(self, max_seconds: float) -> None:
        super().__init__("too_long")
        self.max_seconds = max_seconds


class DecoderMissingError(MediaError):
    """The FFmpeg binary is not installed (or not where HA's ffmpeg integration says)."""

    def __init__(self) -> None:
        super().__init__("decoder_missing")
