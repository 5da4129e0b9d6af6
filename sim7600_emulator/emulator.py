"""Sim7600Emulator: the public face of the emulator, for tests and for the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
import shutil
import tempfile
from types import TracebackType
from typing import Any, Literal, Self

from .call_model import (
    Call,
    DialKind,
    DialOutcome,
    KeyPlan,
    KeyStart,
    number_type as type_of_number,
)
from .far_end_turns import Turns
from .far_end_voice import Voice, save_wav
from .gnss import Sky
from .gnss_track import GnssTrack
from .identity import Identity
from .modem import Modem
from .network import Tech
from .ports import ModemPort, PortName, TranscriptEntry
from .settings import Settings
from .sim_card import SimCard, SimState
from .sms_inbox import SentSms
from .sms_pdu import SmsSubmit
from .sms_segments import Encoding, choose_alphabet
from .sms_storage import SmsStat, SmsStorage
from .ussd import DCS_GSM7, UssdReply
from .variants import Variants

PortChoice = Literal["at", "audio", "nmea", "both"]

NMEA_INTERFACE = 1
AT_INTERFACE = 2
AUDIO_INTERFACE = 4


class Sim7600Emulator:
    """A SIM7600G-H as the host sees it over USB: an AT port, a PCM audio port, an NMEA port.

    The ports are real file descriptors (pseudo-terminals) and/or TCP sockets (like ser2net raw
    mode), two front doors to the same module. Scenario methods make the network act: calls,
    SMS, USSD, signal; fault methods make the module misbehave. Everything runs on the event
    loop of the caller; stop() leaves no task, fd or temporary file behind.
    """

    def __init__(
        self,
        identity: Identity | None = None,
        variants: Variants | None = None,
        audio_speed: float = 1.0,
    ) -> None:
        self.identity = identity or Identity.seeded(0)
        self.variants = variants or Variants()
        self.transcript: list[TranscriptEntry] = []
        self._at = ModemPort("at", AT_INTERFACE, self.transcript, self._at_data)
        self._audio = ModemPort("audio", AUDIO_INTERFACE, self.transcript, self._audio_data)
        # The host may write to the NMEA port; the module ignores it (the transcript keeps it).
        self._nmea = ModemPort("nmea", NMEA_INTERFACE, self.transcript, lambda data: None)
        self._modem = Modem(
            self.identity,
            self.variants,
            self._at,
            self._audio,
            nmea_port=self._nmea,
            audio_speed=audio_speed,
        )
        self._link_dir: Path | None = None
        self._started = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # Front doors ------------------------------------------------------------------------------

    async def start_pty(self) -> None:
        """Open a pty pair for each port and the by-id style symlinks to their slaves."""
        if self._link_dir is not None:
            raise RuntimeError("the pty front door is already open")
        self._link_dir = Path(tempfile.mkdtemp(prefix="sim7600-by-id-"))
        for port in self._all_ports:
            port.open_pty(self._link_dir)
        self._power_on()

    async def start_tcp(
        self, host: str = "127.0.0.1", at_port: int = 0, audio_port: int = 0, nmea_port: int = 0
    ) -> None:
        """Listen for one client per port, like ser2net in raw mode (port 0 = pick a free one)."""
        if self._at.tcp is not None:
            raise RuntimeError("the TCP front door is already open")
        await self._at.open_tcp(host, at_port)
        await self._audio.open_tcp(host, audio_port)
        await self._nmea.open_tcp(host, nmea_port)
        self._power_on()

    async def stop(self) -> None:
        """Close everything: tasks, ports, symlinks. Safe to call more than once."""
        await self._modem.tasks.cancel_all()
        self._modem.session.stop()
        self._modem.audio.stop()
        for port in self._all_ports:
            await port.close()
        if self._link_dir is not None:
            shutil.rmtree(self._link_dir, ignore_errors=True)
            self._link_dir = None
        self._started = False

    def _power_on(self) -> None:
        if not self._started:
            self._started = True
            self._modem.start()

    @property
    def at_path(self) -> str:
        """The AT pty slave (/dev/pts/N); changes after drop_port/restore_port."""
        return self._pty_path(self._at)

    @property
    def audio_path(self) -> str:
        """The audio pty slave (/dev/pts/N)."""
        return self._pty_path(self._audio)

    @property
    def at_link(self) -> str:
        """Stable symlink to the AT pty, named like /dev/serial/by-id/...-if02-port0."""
        return self._link(self._at)

    @property
    def audio_link(self) -> str:
        """Stable symlink to the audio pty, ...-if04-port0."""
        return self._link(self._audio)

    @property
    def at_url(self) -> str:
        """socket://host:port of the AT port."""
        return self._url(self._at)

    @property
    def audio_url(self) -> str:
        """socket://host:port of the audio port."""
        return self._url(self._audio)

    @property
    def nmea_path(self) -> str:
        """The NMEA pty slave (/dev/pts/N)."""
        return self._pty_path(self._nmea)

    @property
    def nmea_link(self) -> str:
        """Stable symlink to the NMEA pty, ...-if01-port0."""
        return self._link(self._nmea)

    @property
    def nmea_url(self) -> str:
        """socket://host:port of the NMEA port."""
        return self._url(self._nmea)

    @property
    def _all_ports(self) -> tuple[ModemPort, ModemPort, ModemPort]:
        return (self._at, self._audio, self._nmea)

    @staticmethod
    def _pty_path(port: ModemPort) -> str:
        if port.pty is None:
            raise RuntimeError(f"the {port.name} port has no pty now")
        return port.pty.path

    @staticmethod
    def _link(port: ModemPort) -> str:
        if port.link_path is None:
            raise RuntimeError("start_pty() has not been called")
        return str(port.link_path)

    @staticmethod
    def _url(port: ModemPort) -> str:
        if port.tcp is None:
            raise RuntimeError(f"the {port.name} port is not listening on TCP now")
        return port.tcp.url

    def _at_data(self, data: bytes) -> None:
        self._modem.session.feed(data)

    def _audio_data(self, data: bytes) -> None:
        self._modem.audio.host_wrote(data)

    # Calls ------------------------------------------------------------------------------------

    async def incoming_call(
        self, number: str, number_type: int | None = None, ring_interval: float = 2.0
    ) -> None:
        """A call arrives: RING (+CLIP with AT+CLIP=1, +CRING: VOICE with AT+CRC=1), repeated.

        During another call it waits instead: +CCWA (with AT+CCWA=1) and +CLCC stat 5; with
        `call_waiting` off the network turns the caller away and the module sees nothing.
        """
        kind = type_of_number(number) if number_type is None else number_type
        await self._modem.calls.incoming_call(number, kind, ring_interval)

    async def missed_call(self, call_id: int | None = None) -> None:
        """The ringing or waiting caller (or call `call_id`) gives up: MISSED_CALL."""
        await self._modem.calls.missed_call(call_id)

    @property
    def dial_outcome(self) -> DialOutcome:
        """What the far end does with the next ATD<number>;."""
        return self._modem.calls.dial_outcome

    @dial_outcome.setter
    def dial_outcome(self, outcome: DialOutcome) -> None:
        self._modem.calls.dial_outcome = outcome

    def set_dial_outcome(self, kind: DialKind, delay: float = 0.1) -> None:
        """Shorthand for `dial_outcome = DialOutcome(kind, delay)`."""
        self.dial_outcome = DialOutcome(kind, delay)

    async def remote_answer(self) -> None:
        """The far end picks up the call the host placed: VOICE CALL: BEGIN."""
        await self._modem.calls.remote_answer()

    async def remote_hang_up(self, call_id: int | None = None) -> None:
        """The far end of the foreground call (or of call `call_id`) hangs up:
        VOICE CALL: END: <duration>, NO CARRIER."""
        await self._modem.calls.remote_hang_up(call_id)

    async def send_dtmf(self, digits: str) -> None:
        """The far end presses keys: +RXDTMF: <c> per digit."""
        await self._modem.calls.send_dtmf(digits)

    def press_keys(
        self, digits: str, *, after: KeyStart = "answer", delay: float = 0.0, gap: float = 0.15
    ) -> None:
        """The far end will press `digits` in the connected (or next connected) call.

        `after="answer"`: `delay` s after the call connects (or from now if it is connected);
        `after="audio"`: `delay` s after the host next plays non-silent audio into the call.
        One digit every `gap` s; whatever is left when the call ends is never pressed.
        """
        self._modem.calls.press_keys(KeyPlan(digits, after, delay, gap))

    @property
    def call(self) -> Call | None:
        """The foreground call (the active one, else the lowest index), or None."""
        return self._modem.calls.call

    @property
    def calls(self) -> list[Call]:
        """Every call the module holds, by +CLCC index."""
        control = self._modem.calls
        return [control.calls[index] for index in sorted(control.calls)]

    @property
    def call_waiting(self) -> bool:
        """The subscriber's call waiting service (AT+CCWA=,<mode> changes it); when off, a
        second caller gets busy and the module sees nothing."""
        return self._modem.ctx.network.call_waiting

    @call_waiting.setter
    def call_waiting(self, enabled: bool) -> None:
        self._modem.ctx.network.call_waiting = enabled

    @property
    def dtmf_sent(self) -> str:
        """Every DTMF digit the host sent with AT+VTS, in order."""
        return self._modem.calls.dtmf_sent

    # SMS --------------------------------------------------------------------------------------

    async def deliver_sms(
        self,
        sender: str,
        text: str,
        *,
        encoding: Encoding = "auto",
        split: int | None = None,
        order: Sequence[int] | None = None,
        reference: int | None = None,
        ref16: bool = False,
        omit_parts: Sequence[int] = (),
        store: bool = True,
        timestamp: datetime | None = None,
    ) -> list[int]:
        """An SMS arrives from `sender`; returns the storage indexes used now.

        Parts are numbered from 1 (`order`, `omit_parts`); `split` forces that many parts.
        With store=False the message is shown with +CMT and never stored, whatever AT+CNMI
        says; with CNMI mt=2 it is shown with +CMT as well. Parts that find the storage full
        wait and are stored (+CMTI) when the host deletes something. `timestamp` is the
        service centre's time stamp of every part (default: now, in the network's zone).
        """
        return self._modem.inbox.deliver(
            sender,
            text,
            encoding=encoding,
            split=split,
            order=order,
            reference=reference,
            ref16=ref16,
            omit_parts=omit_parts,
            store=store,
            timestamp=timestamp,
        )

    def store_sent_sms(
        self, destination: str, text: str, *, stat: SmsStat = SmsStat.STO_SENT
    ) -> int:
        """The user keeps a sent (STO SENT) or draft (STO UNSENT) message on the SIM, as a
        phone the SIM was in leaves them; returns its storage index."""
        if stat not in (SmsStat.STO_SENT, SmsStat.STO_UNSENT):
            raise ValueError("a sent or draft message is STO SENT or STO UNSENT")
        alphabet = choose_alphabet(text, "auto")
        submit = SmsSubmit(destination, text, alphabet, None, False, 0)
        return self._store(submit.encode(), stat, submit)

    def store_raw_sms(self, pdu: bytes, stat: SmsStat = SmsStat.REC_UNREAD) -> int:
        """Put `pdu` on the SIM as it is (e.g. a received PDU no decoder can read), without
        any indication; returns its storage index."""
        return self._store(pdu, stat, None)

    def _store(self, pdu: bytes, stat: SmsStat, message: SmsSubmit | None) -> int:
        stored = self.sms_storage.store_pdu(pdu, stat, message)
        if stored is None:
            raise ValueError("the SIM's message storage is full")
        return stored.index

    @property
    def sms_storage(self) -> SmsStorage:
        """The SIM's message store (iterate it, index it by slot, set `capacity`)."""
        return self._modem.inbox.storage

    @property
    def sent_sms(self) -> list[SentSms]:
        """Messages the host sent with AT+CMGS, decoded."""
        return self._modem.sms.sent

    @property
    def sms_send_error(self) -> int | None:
        """When set, the next AT+CMGS ends in +CMS ERROR: <n> (e.g. 330, 331)."""
        return self._modem.sms.send_error

    @sms_send_error.setter
    def sms_send_error(self, code: int | None) -> None:
        self._modem.sms.send_error = code

    @property
    def sms_send_delay(self) -> float:
        """Seconds between Ctrl-Z and +CMGS (the network's acknowledgement)."""
        return self._modem.sms.send_delay

    @sms_send_delay.setter
    def sms_send_delay(self, seconds: float) -> None:
        self._modem.sms.send_delay = seconds

    async def delivery_report(self, reference: int, status: int = 0) -> None:
        """The network reports on the sent message with TP-MR `reference` (+CDS / +CDSI)."""
        sent = next((s for s in reversed(self.sent_sms) if s.reference == reference), None)
        if sent is None:
            raise ValueError(f"no sent message has reference {reference}")
        self._modem.inbox.report(sent, status)

    # USSD -------------------------------------------------------------------------------------

    @property
    def ussd_responses(self) -> dict[str, UssdReply]:
        """The network's answer to each USSD code (or to each reply within a session)."""
        return self._modem.ussd.responses

    @property
    def ussd_session_open(self) -> bool:
        """Whether the last answer asked for a reply (status 1) and the host has not cancelled."""
        return self._modem.ussd.session_open

    async def ussd_push(self, status: int, text: str | None = None, dcs: int = DCS_GSM7) -> None:
        """A network-initiated +CUSD (shown while AT+CUSD=1 is in force)."""
        self._modem.ussd.push(UssdReply(status, text, dcs))

    # Network and SIM --------------------------------------------------------------------------

    async def set_signal(self, rssi: int, ber: int = 99) -> None:
        """What AT+CSQ reports: rssi 0-31 or 99, ber 0-7 or 99."""
        if not (0 <= rssi <= 31 or rssi == 99) or not (0 <= ber <= 7 or ber == 99):
            raise ValueError("rssi must be 0-31 or 99, ber 0-7 or 99")
        self._modem.ctx.network.rssi = rssi
        self._modem.ctx.network.ber = ber

    async def set_registration(
        self, stat: int, tech: Tech = "LTE", *, cs_stat: int | None = None
    ) -> None:
        """Registration state (0-5) and technology; +CxREG URCs follow per AT+CxREG=n.

        `cs_stat` gives +CREG its own state, e.g. 3 on a data-only SIM.
        """
        network = self._modem.ctx.network
        network.stat = stat
        network.tech = tech
        network.cs_stat = cs_stat
        self._modem.network.notify()

    @property
    def operator(self) -> str:
        """Operator name in +COPS."""
        return self._modem.ctx.network.operator

    @operator.setter
    def operator(self, name: str) -> None:
        self._modem.ctx.network.operator = name

    def set_sim(self, state: SimState) -> None:
        """Put the SIM in `state`: "ready", "pin" (PIN asked at every power-up), "puk", "absent"."""
        self._modem.ctx.sim.set_state(state)
        self._modem.network.notify()

    @property
    def sim(self) -> SimCard:
        """The SIM: state, pin (changes after a PUK unlock), pin_attempts, puk_attempts."""
        return self._modem.ctx.sim

    # Faults -----------------------------------------------------------------------------------

    async def drop_port(self, port: PortChoice) -> None:
        """The port vanishes: pty closed (host reads EOF/EIO, symlink gone), TCP closed."""
        for modem_port in self._ports(port):
            await modem_port.drop()

    async def restore_port(self, port: PortChoice) -> None:
        """The port returns: a new pty (symlink updated), TCP on the same port number."""
        for modem_port in self._ports(port):
            await modem_port.restore()

    async def reboot(self) -> None:
        """Reset the module and wait for its banner: RDY, +CPIN: READY, SMS DONE, PB DONE."""
        await self._modem.restart(reenumerate=False)

    async def send_garbage(self, data: bytes, port: PortName = "at") -> None:
        """Write raw bytes to the host, as line noise or a confused firmware would."""
        {"at": self._at, "audio": self._audio, "nmea": self._nmea}[port].send(data)

    def hang_command(self, prefix: str, times: int = 1) -> None:
        """The next `times` commands starting with `prefix` get no answer, not even an echo."""
        self._modem.session.hang(prefix, times)

    def delay_final(self, prefix: str, seconds: float, times: int = 1) -> None:
        """The next `times` commands starting with `prefix` get their reply at once but their
        final result code (OK, ERROR) `seconds` later, as a link that splits a reply might."""
        self._modem.session.delay_final(prefix, seconds, times)

    def _ports(self, choice: PortChoice) -> list[ModemPort]:
        return {
            "at": [self._at],
            "audio": [self._audio],
            "nmea": [self._nmea],
            "both": [self._at, self._audio],
        }[choice]

    # GNSS -------------------------------------------------------------------------------------

    def set_gnss_track(self, track: GnssTrack) -> None:
        """Where the module is: played from the track's start, one position per epoch."""
        self._modem.gnss.set_track(track)

    @property
    def gnss_track(self) -> GnssTrack:
        """The track being played."""
        return self._modem.gnss.track

    def set_gnss_sky(
        self,
        *,
        visible: bool | None = None,
        in_view: int | None = None,
        in_use: int | None = None,
        hdop: float | None = None,
    ) -> None:
        """What the receiver sees. visible=False loses the fix (a tunnel), True recovers it;
        fewer than 3 satellites in use is no fix, 3 a 2D fix, 4 or more 3D."""
        sky = self._modem.gnss.sky
        if in_use is not None and not 0 <= in_use <= (in_view or sky.in_view) <= 32:
            raise ValueError("satellites: 0 <= in use <= in view <= 32")
        if hdop is not None and not 0.0 < hdop < 100.0:
            raise ValueError("hdop must be within (0, 100)")
        for name, value in (
            ("visible", visible),
            ("in_view", in_view),
            ("in_use", in_use),
            ("hdop", hdop),
        ):
            if value is not None:
                setattr(sky, name, value)

    @property
    def gnss_sky(self) -> Sky:
        """The receiver's sky (visible, in_view, in_use, hdop, pdop, vdop)."""
        return self._modem.gnss.sky

    def stop_gnss(self) -> None:
        """The receiver stops as if AT+CGPS=0 came from another port: no more NMEA, and the
        `+CGPS: 0` URC on the AT port."""
        self._modem.gnss.stop_from_elsewhere()

    @property
    def gnss_on(self) -> bool:
        """Whether the host switched the engine on (AT+CGPS=1)."""
        return self._modem.gnss.on

    @property
    def gnss_has_fix(self) -> bool:
        """Whether the receiver has a position now (on, cold start over, enough satellites)."""
        return self._modem.gnss.has_fix

    @property
    def gnss_epochs_sent(self) -> int:
        """NMEA epochs written to the NMEA port since power-up."""
        return self._modem.gnss.epochs_sent

    # Audio ------------------------------------------------------------------------------------

    @property
    def audio_sent(self) -> bytearray:
        """Every PCM byte streamed to the host."""
        return self._modem.audio.sent

    @property
    def audio_received(self) -> bytearray:
        """Every byte the host wrote on the audio port."""
        return self._modem.audio.received

    @property
    def audio_received_times(self) -> list[tuple[float, int]]:
        """(loop time, byte count) for each read from the host's audio writes."""
        return self._modem.audio.received_times

    @property
    def audio_received_marks(self) -> list[tuple[int, int]]:
        """(samples streamed to the host so far in this call, byte count) for each read of the
        host's audio writes: where on the far end's timeline the host's audio arrived."""
        return self._modem.audio.received_marks

    @property
    def voice(self) -> Voice | Turns | None:
        """What the far end says (None: the test signal)."""
        return self._modem.audio.voice

    def set_voice(self, voice: Voice | Turns | None, *, hang_up_after: float | None = None) -> None:
        """What the far end says from now on: a `far_end_voice.Voice` (a WAV file, a tone), or
        None for the test signal. With `hang_up_after` (seconds), a caller who has said a voice
        that does not loop stays silent that long, then hangs up (leaving a voicemail)."""
        audio = self._modem.audio
        audio.set_voice(voice)
        audio.hang_up_after = hang_up_after
        audio.on_spoken = None if hang_up_after is None else self._hang_up_after_voice

    def _hang_up_after_voice(self) -> None:
        self._modem.tasks.spawn(self.remote_hang_up(), "hang up after the voice")

    def save_heard(self, path: Path) -> dict[str, Any]:
        """Write everything the host played into calls to a 16-bit mono WAV file."""
        rate = self._modem.audio.last_rate
        samples = save_wav(path, bytes(self.audio_received), rate)
        return {"path": str(path), "samples": samples, "seconds": round(samples / rate, 3)}

    @property
    def audio_frames_sent(self) -> int:
        """20 ms frames the host was given."""
        return self._modem.audio.frames_sent

    @property
    def audio_frames_dropped(self) -> int:
        """20 ms frames lost because the host did not drain the port."""
        return self._modem.audio.frames_dropped

    # Introspection ----------------------------------------------------------------------------

    @property
    def commands(self) -> list[str]:
        """Every AT command line received, in order (from "AT" on, without the CR)."""
        return self._modem.session.commands

    @property
    def settings(self) -> Settings:
        """Current settings (echo, cmee, clip, clcc, crc, cnmi, cmgf, cscs, cpcmfrm, creg...)."""
        return self._modem.ctx.settings

    async def wait_for_command(self, prefix: str, timeout: float = 5.0, *, after: int = 0) -> str:
        """The first command from `commands[after]` on starting with `prefix`; waits for it.

        Pass after=len(emu.commands) to wait for a command not received yet.
        """
        return await self._modem.session.wait_for_command(prefix, timeout, after)

    def clear_history(self, *, keep_audio: bool = False) -> None:
        """Forget transcript, commands and (unless `keep_audio`) audio buffers (counters
        stay), for long runs."""
        self.transcript.clear()
        self.commands.clear()
        if keep_audio:
            return
        self.audio_sent.clear()
        self.audio_received.clear()
        self.audio_received_times.clear()
        self.audio_received_marks.clear()

    def status(self) -> dict[str, Any]:
        """A JSON-friendly summary: call, settings, SIM, network, counters, front doors."""
        ports: dict[str, Any] = {}
        for port in self._all_ports:
            ports[port.name] = {
                "pty": port.pty.path if port.pty else None,
                "link": str(port.link_path) if port.link_path else None,
                "url": port.tcp.url if port.tcp else None,
            }
        ctx = self._modem.ctx
        return {
            "call": _call_status(self.call),
            "calls": [_call_status(call) for call in self.calls],
            "call_waiting": self.call_waiting,
            "settings": asdict(self.settings),
            "sim": ctx.sim.state,
            "registration": ctx.registration("+CEREG"),
            "audio": {
                "streaming": self._modem.audio.active,
                "frames_sent": self.audio_frames_sent,
                "frames_dropped": self.audio_frames_dropped,
                "bytes_received": self._modem.audio.bytes_received,
                "voice": None if self._modem.audio.voice is None else self._modem.audio.voice.label,
            },
            "commands": len(self.commands),
            "sms_stored": len(self.sms_storage),
            "sms_waiting": len(self._modem.inbox.waiting),
            "sms_sent": len(self.sent_sms),
            "dtmf_sent": self.dtmf_sent,
            "ussd_session_open": self.ussd_session_open,
            "gnss": {
                "on": self.gnss_on,
                "fix": self.gnss_has_fix,
                "epochs_sent": self.gnss_epochs_sent,
            },
            "ports": ports,
        }


def _call_status(call: Call | None) -> dict[str, Any] | None:
    if call is None:
        return None
    return {
        "id": call.id,
        "number": call.number,
        "direction": call.direction.name,
        "stat": call.stat.name,
        "connected": call.connected_at is not None,
    }
