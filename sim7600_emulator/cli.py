"""`python -m sim7600_emulator serve|ctl`: run an emulator, or poke a running one."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import json
import os
from pathlib import Path
import signal
import socket
from typing import Any

from .control import COMMANDS, ControlServer
from .emulator import Sim7600Emulator
from .identity import Identity

HISTORY_SECONDS = 60.0
"""A long-running server forgets transcript and commands this often to bound its memory."""
AUDIO_HISTORY_BYTES = 32 * 1024 * 1024
"""...and the audio both ways once it holds more than this (about 17 minutes of 16 kHz calls),
not sooner: what the host played into the last calls stays there for `ctl save-heard`."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of both subcommands."""
    parser = argparse.ArgumentParser(prog="python -m sim7600_emulator")
    sub = parser.add_subparsers(dest="mode", required=True)

    serve = sub.add_parser(
        "serve",
        help="run an emulator until SIGINT/SIGTERM",
        description="Run an emulated SIM7600 until SIGINT/SIGTERM. A second emulator on the "
        "same machine needs its own --seed (or it has the same IMEI, and Home Assistant "
        "takes it for the same modem), its own --control and --state-file.",
    )
    serve.add_argument("--pty", action="store_true", help="open ptys (the default without TCP)")
    serve.add_argument(
        "--tcp-host", default="127.0.0.1", help="address the TCP ports listen on (127.0.0.1)"
    )
    serve.add_argument("--tcp-at-port", type=int, help="listen for the AT port on TCP")
    serve.add_argument("--tcp-audio-port", type=int, help="listen for the audio port on TCP")
    serve.add_argument("--tcp-nmea-port", type=int, help="listen for the NMEA port on TCP")
    serve.add_argument("--control", type=Path, help="Unix socket for ctl")
    serve.add_argument("--state-file", type=Path, help="write paths and URLs here as JSON")
    serve.add_argument("--audio-speed", type=float, default=1.0, help="0 = as fast as drained")
    serve.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fake identity (IMEI, IMSI, ICCID); give each emulator its own",
    )

    ctl = sub.add_parser("ctl", help="send one scenario command to a running emulator")
    ctl.add_argument("--control", type=Path, required=True, help="the server's Unix socket")
    commands = ctl.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command_parser = commands.add_parser(command.name, help=command.help)
        for argument in command.arguments:
            name = f"--{argument.name}" if argument.flag else argument.name
            options: dict[str, Any] = {"type": argument.type, "help": argument.help}
            if argument.choices:
                options["choices"] = argument.choices
            if argument.optional:
                options["nargs"] = "?"
            command_parser.add_argument(name, **options)
    return parser


async def serve(args: argparse.Namespace) -> int:
    """Run until a signal; print (and write) where the ports are."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    tcp = any(
        port is not None for port in (args.tcp_at_port, args.tcp_audio_port, args.tcp_nmea_port)
    )
    control: ControlServer | None = None
    async with Sim7600Emulator(Identity.seeded(args.seed), audio_speed=args.audio_speed) as emu:
        try:
            if args.pty or not tcp:
                await emu.start_pty()
            if tcp:
                await emu.start_tcp(
                    args.tcp_host,
                    args.tcp_at_port or 0,
                    args.tcp_audio_port or 0,
                    args.tcp_nmea_port or 0,
                )
            if args.control is not None:
                control = ControlServer(emu, args.control)
                await control.start()
            state = _state(emu, control)
            if args.state_file is not None:
                _write_atomically(args.state_file, json.dumps(state, indent=2))
            print(json.dumps(state), flush=True)
            while not stopping.is_set():
                try:
                    await asyncio.wait_for(stopping.wait(), HISTORY_SECONDS)
                except TimeoutError:
                    held = len(emu.audio_sent) + len(emu.audio_received)
                    emu.clear_history(keep_audio=held <= AUDIO_HISTORY_BYTES)
        finally:
            if control is not None:
                await control.close()
            if args.state_file is not None:
                args.state_file.unlink(missing_ok=True)
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    return 0


def _state(emu: Sim7600Emulator, control: ControlServer | None) -> dict[str, str | None]:
    ports = emu.status()["ports"]
    return {
        "at_path": ports["at"]["pty"],
        "audio_path": ports["audio"]["pty"],
        "at_link": ports["at"]["link"],
        "audio_link": ports["audio"]["link"],
        "at_url": ports["at"]["url"],
        "audio_url": ports["audio"]["url"],
        "nmea_path": ports["nmea"]["pty"],
        "nmea_link": ports["nmea"]["link"],
        "nmea_url": ports["nmea"]["url"],
        "control": None if control is None else str(control.path),
    }


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(text + "\n")
    os.replace(staging, path)


def ctl(args: argparse.Namespace) -> int:
    """Send one request and print the reply; exit status 1 when it failed."""
    names = [argument.name for argument in COMMANDS[args.command].arguments]
    request = {"command": args.command, "args": {name: getattr(args, name) for name in names}}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(args.control))
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as replies:
            line = replies.readline()
    print(line.decode().strip())
    return 0 if json.loads(line).get("ok") else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m sim7600_emulator`."""
    args = build_parser().parse_args(argv)
    if args.mode == "serve":
        return asyncio.run(serve(args))
    return ctl(args)
