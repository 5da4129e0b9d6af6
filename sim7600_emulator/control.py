"""Scenario commands over a Unix socket, one JSON object per line each way.

The same table drives the server (what each command does to the emulator) and the `ctl`
subcommand's argument parser, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
import logging
from pathlib import Path
from typing import Any

from .emulator import Sim7600Emulator
from .far_end_turns import CUES, Turns
from .far_end_voice import tone, wav_voice
from .gnss_track import GnssPosition, GnssTrack
from .ussd import UssdReply

_LOGGER = logging.getLogger(__name__)

Runner = Callable[[Sim7600Emulator, dict[str, Any]], Awaitable[object]]


@dataclass(frozen=True)
class Argument:
    """One argument of a control command: positional unless `flag` names an option."""

    name: str
    type: type
    help: str
    optional: bool = False
    flag: bool = False
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ControlCommand:
    """A scenario step the command line can trigger."""

    name: str
    help: str
    arguments: tuple[Argument, ...]
    run: Runner


async def _ring(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    await emu.incoming_call(args["number"], args.get("type"), args.get("interval") or 2.0)


async def _call_waiting(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.call_waiting = args["state"] == "on"


async def _dial_outcome(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.set_dial_outcome(args["kind"], args.get("delay") or 0.1)


async def _keys(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.press_keys(
        args["digits"],
        after=args.get("after") or "answer",
        delay=args.get("delay") or 0.0,
        gap=0.15 if args.get("gap") is None else args["gap"],
    )


async def _sms(emu: Sim7600Emulator, args: dict[str, Any]) -> list[int]:
    return await emu.deliver_sms(
        args["sender"],
        args["text"],
        split=args.get("parts"),
        encoding=args.get("encoding") or "auto",
    )


async def _ussd_reply(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.ussd_responses[args["code"]] = UssdReply(
        args["status"], args["text"], args.get("dcs") or 15
    )


async def _sim(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.set_sim(args["state"])


async def _garbage(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    await emu.send_garbage(bytes.fromhex(args["hex"]), args.get("port") or "at")


async def _voice(emu: Sim7600Emulator, args: dict[str, Any]) -> dict[str, Any]:
    kind, loop = args["kind"], bool(args.get("loop"))
    if kind == "wav":
        if not args.get("path"):
            raise ValueError("voice wav needs --path")
        hang_up = args.get("hang_up_after")
        if hang_up is not None and loop:
            raise ValueError("--hang-up-after needs a voice that does not loop")
        emu.set_voice(wav_voice(Path(args["path"]), loop=loop), hang_up_after=hang_up)
    elif kind == "tone":
        emu.set_voice(tone(args.get("frequency") or 440.0))
    else:
        emu.set_voice(None)
    return {"voice": emu.status()["audio"]["voice"]}


async def _turns(emu: Sim7600Emulator, args: dict[str, Any]) -> dict[str, Any]:
    paths = [Path(path.strip()) for path in args["paths"].split(",") if path.strip()]
    emu.set_voice(Turns(paths, cue=args.get("cue") or "reply", gap=args.get("gap") or 0.6))
    return {"voice": emu.status()["audio"]["voice"]}


async def _say_next(emu: Sim7600Emulator, args: dict[str, Any]) -> dict[str, Any]:
    voice = emu.voice
    if not isinstance(voice, Turns):
        raise TypeError("the far end takes no turns: use the turns command first")
    return {"saying": voice.say_next(), "spoken": voice.spoken}


async def _save_heard(emu: Sim7600Emulator, args: dict[str, Any]) -> dict[str, Any]:
    return emu.save_heard(Path(args["path"]))


async def _gnss_position(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    emu.set_gnss_track(
        GnssTrack.fixed(args["latitude"], args["longitude"], args.get("altitude") or 0.0)
    )


async def _gnss_line(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    start = GnssPosition(args["latitude"], args["longitude"], args.get("altitude") or 0.0)
    emu.set_gnss_track(
        GnssTrack.line(start, speed_kmh=args["speed"], course=args.get("course") or 0.0)
    )


async def _gnss_sky(emu: Sim7600Emulator, args: dict[str, Any]) -> None:
    visible = args.get("visible")
    emu.set_gnss_sky(
        visible=None if visible is None else visible == "yes",
        in_view=args.get("in_view"),
        in_use=args.get("in_use"),
        hdop=args.get("hdop"),
    )


async def _status(emu: Sim7600Emulator, args: dict[str, Any]) -> dict[str, Any]:
    return emu.status()


async def _sent_sms(emu: Sim7600Emulator, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"destination": sms.destination, "text": sms.text, "reference": sms.reference}
        for sms in emu.sent_sms
    ]


PORTS = ("at", "audio", "nmea", "both")
_CALL_ID = Argument("call", int, "+CLCC index of the call (default: the obvious one)", flag=True)

COMMANDS: dict[str, ControlCommand] = {
    command.name: command
    for command in (
        ControlCommand(
            "ring",
            "an incoming call (during a call: a waiting call)",
            (
                Argument("number", str, "caller number"),
                Argument(
                    "type", int, "type of address (default 145 for +..., else 129)", flag=True
                ),
                Argument("interval", float, "seconds between RINGs (default 2)", flag=True),
            ),
            _ring,
        ),
        ControlCommand(
            "missed",
            "the ringing or waiting caller gives up",
            (_CALL_ID,),
            lambda emu, args: emu.missed_call(args.get("call")),
        ),
        ControlCommand("answer", "the far end answers", (), lambda emu, _: emu.remote_answer()),
        ControlCommand(
            "hangup",
            "the far end hangs up",
            (_CALL_ID,),
            lambda emu, args: emu.remote_hang_up(args.get("call")),
        ),
        ControlCommand(
            "call-waiting",
            "the subscriber's call waiting service (off: a second caller hears busy)",
            (Argument("state", str, "on or off", choices=("on", "off")),),
            _call_waiting,
        ),
        ControlCommand(
            "dial-outcome",
            "what the far end does with the next ATD",
            (
                Argument(
                    "kind",
                    str,
                    "far-end behaviour",
                    choices=("answer", "busy", "no_answer", "no_carrier", "none"),
                ),
                Argument("delay", float, "seconds until it happens (default 0.1)", flag=True),
            ),
            _dial_outcome,
        ),
        ControlCommand(
            "dtmf",
            "the far end presses keys",
            (Argument("digits", str, "0-9 * # A-D"),),
            lambda emu, args: emu.send_dtmf(args["digits"]),
        ),
        ControlCommand(
            "keys",
            "the far end will press keys in this or the next call, e.g. after a prompt starts",
            (
                Argument("digits", str, "0-9 * # A-D"),
                Argument(
                    "after",
                    str,
                    "count the delay from the answer (default) or from the host's next audio",
                    flag=True,
                    choices=("answer", "audio"),
                ),
                Argument("delay", float, "seconds until the first key (default 0)", flag=True),
                Argument("gap", float, "seconds between keys (default 0.15)", flag=True),
            ),
            _keys,
        ),
        ControlCommand(
            "sms",
            "an SMS arrives",
            (
                Argument("sender", str, "originator number or name"),
                Argument("text", str, "message text"),
                Argument("parts", int, "force this many parts", flag=True),
                Argument("encoding", str, "alphabet", flag=True, choices=("auto", "gsm7", "ucs2")),
            ),
            _sms,
        ),
        ControlCommand(
            "ussd-reply",
            "the network's answer to a USSD code",
            (
                Argument("code", str, "the code, e.g. *100#"),
                Argument("status", int, "+CUSD <m>: 0 done, 1 needs reply, 2 ended, 4 unsupported"),
                Argument("text", str, "the answer"),
                Argument("dcs", int, "15 GSM 7-bit (default), 72 UCS2", flag=True),
            ),
            _ussd_reply,
        ),
        ControlCommand(
            "signal",
            "what AT+CSQ reports",
            (
                Argument("rssi", int, "0-31 or 99"),
                Argument("ber", int, "0-7 or 99 (default 99)", optional=True),
            ),
            lambda emu, args: emu.set_signal(
                args["rssi"], 99 if args.get("ber") is None else args["ber"]
            ),
        ),
        ControlCommand(
            "registration",
            "registration state",
            (
                Argument("stat", int, "0 not searching, 1 home, 2 searching, 3 denied, 5 roaming"),
                Argument(
                    "tech", str, "access technology", flag=True, choices=("LTE", "WCDMA", "GSM")
                ),
            ),
            lambda emu, args: emu.set_registration(args["stat"], args.get("tech") or "LTE"),
        ),
        ControlCommand(
            "sim",
            "put the SIM in a state",
            (Argument("state", str, "SIM state", choices=("ready", "pin", "puk", "absent")),),
            _sim,
        ),
        ControlCommand(
            "drop",
            "a port vanishes",
            (Argument("port", str, "which port", choices=PORTS),),
            lambda emu, args: emu.drop_port(args["port"]),
        ),
        ControlCommand(
            "restore",
            "a dropped port returns",
            (Argument("port", str, "which port", choices=PORTS),),
            lambda emu, args: emu.restore_port(args["port"]),
        ),
        ControlCommand("reboot", "reset the module", (), lambda emu, _: emu.reboot()),
        ControlCommand(
            "garbage",
            "raw bytes to the host",
            (
                Argument("hex", str, "the bytes in hex"),
                Argument(
                    "port",
                    str,
                    "which port (default at)",
                    flag=True,
                    choices=("at", "audio", "nmea"),
                ),
            ),
            _garbage,
        ),
        ControlCommand(
            "voice",
            "what the far end says: a WAV file, a tone, or the test signal",
            (
                Argument("kind", str, "what to speak", choices=("wav", "tone", "signal")),
                Argument("path", str, "the WAV file (kind wav)", flag=True),
                Argument("frequency", float, "tone frequency in Hz (default 440)", flag=True),
                Argument("loop", int, "1: repeat the WAV file (default 0)", flag=True),
                Argument(
                    "hang_up_after",
                    float,
                    "hang up this many seconds after the WAV file (a caller leaving a message)",
                    flag=True,
                ),
            ),
            _voice,
        ),
        ControlCommand(
            "turns",
            "the far end holds a conversation: WAV files spoken in turn, each after the "
            "host's reply (a prompt tone counts) has ended, or on say-next",
            (
                Argument("paths", str, "the WAV files, comma-separated, in order"),
                Argument("cue", str, "reply (default) or ctl", flag=True, choices=CUES),
                Argument("gap", float, "seconds of quiet that end a reply (0.6)", flag=True),
            ),
            _turns,
        ),
        ControlCommand(
            "say-next",
            "the far end speaks its next turn now",
            (),
            _say_next,
        ),
        ControlCommand(
            "save-heard",
            "write what the host played into calls to a WAV file",
            (Argument("path", str, "where to write the WAV file"),),
            _save_heard,
        ),
        ControlCommand(
            "gnss-position",
            "the module stands at one place",
            (
                Argument("latitude", float, "degrees, north positive"),
                Argument("longitude", float, "degrees, east positive"),
                Argument("altitude", float, "metres (default 0)", flag=True),
            ),
            _gnss_position,
        ),
        ControlCommand(
            "gnss-line",
            "the module moves in a straight line",
            (
                Argument("latitude", float, "start, degrees north"),
                Argument("longitude", float, "start, degrees east"),
                Argument("speed", float, "km/h"),
                Argument("course", float, "degrees true (default 0)", flag=True),
                Argument("altitude", float, "metres (default 0)", flag=True),
            ),
            _gnss_line,
        ),
        ControlCommand(
            "gnss-sky",
            "what the receiver sees (visible no = fix lost)",
            (
                Argument("visible", str, "open sky", flag=True, choices=("yes", "no")),
                Argument("in_view", int, "satellites in view", flag=True),
                Argument("in_use", int, "satellites in use (<3 no fix, 3 2D)", flag=True),
                Argument("hdop", float, "horizontal dilution of precision", flag=True),
            ),
            _gnss_sky,
        ),
        ControlCommand("status", "call, settings and counters", (), _status),
        ControlCommand("sent-sms", "the SMS the host sent, oldest first", (), _sent_sms),
    )
}


async def execute(emu: Sim7600Emulator, request: dict[str, Any]) -> dict[str, Any]:
    """Run one request `{"command": ..., "args": {...}}`; the reply says ok and result or error."""
    command = COMMANDS.get(str(request.get("command")))
    if command is None:
        return {"ok": False, "error": f"unknown command {request.get('command')!r}"}
    try:
        result = await command.run(emu, dict(request.get("args") or {}))
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "result": result}


class ControlServer:
    """Listens on a Unix socket for `ctl` clients."""

    def __init__(self, emu: Sim7600Emulator, path: Path) -> None:
        self._emu = emu
        self.path = path
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Start listening (replacing a stale socket file)."""
        self.path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._client, path=str(self.path))

    async def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                except json.JSONDecodeError as error:
                    reply: dict[str, Any] = {"ok": False, "error": f"bad JSON: {error}"}
                else:
                    reply = await execute(self._emu, request)
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            _LOGGER.debug("control client went away")
        finally:
            writer.close()
