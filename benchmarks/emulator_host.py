"""The SIM7600 emulator in a process of its own, driven over stdin/stdout (one JSON object a line).

Benchmarks run the emulator here rather than on Home Assistant's event loop, so the modem
works on the other core the way a real module works on its own silicon: its CPU time is not
counted as the integration's, and every URC has to wake the HA process as real hardware
would. Timestamps are ``time.perf_counter_ns()`` (CLOCK_MONOTONIC on Linux, one clock for
every process of the machine), taken right before the bytes go to the port.

Run as ``python -m benchmarks.emulator_host [--audio-speed S] [--tcp]``; the first line on
stdout gives the ports, then each request line gets exactly one reply line.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import json
import logging
from pathlib import Path
import sys
import time
from typing import Any
import wave

from sim7600_emulator import Identity, Sim7600Emulator
from sim7600_emulator.far_end_turns import Turns

Handler = Callable[[dict[str, Any]], Awaitable[object]]


class Host:
    """One emulator and the requests the benchmarks make of it."""

    def __init__(self, emu: Sim7600Emulator) -> None:
        self.emu = emu
        self.cmti_times: list[int] = []
        port = emu._at  # the AT port object: wrap its send to stamp +CMTI writes
        original = port.send

        def send(data: bytes) -> None:
            if b"+CMTI:" in data:
                self.cmti_times.append(time.perf_counter_ns())
            original(data)

        port.send = send  # type: ignore[method-assign]
        self.handlers: dict[str, Handler] = {
            "raw": self.raw,
            "sms": self.sms,
            "ring": self.ring,
            "hangup": self.hangup,
            "status": self.status,
            "clear": self.clear,
            "compare_recording": self.compare_recording,
            "received": self.received,
            "turns": self.turns,
            "spoken": self.spoken,
        }

    async def raw(self, args: dict[str, Any]) -> dict[str, Any]:
        """Write raw bytes on the AT port; ``t`` is the clock right before the write."""
        data = bytes.fromhex(args["hex"])
        stamp = time.perf_counter_ns()
        await self.emu.send_garbage(data)
        return {"t": stamp}

    async def sms(self, args: dict[str, Any]) -> dict[str, Any]:
        """Deliver an SMS; ``t`` is the clock at the write of the last part's +CMTI."""
        self.cmti_times.clear()
        indexes = await self.emu.deliver_sms(args["sender"], args["text"], split=args.get("split"))
        return {"t": self.cmti_times[-1] if self.cmti_times else None, "indexes": indexes}

    async def ring(self, args: dict[str, Any]) -> None:
        """A real incoming call (RING, +CLIP, +CLCC, repeated) that the host can answer."""
        await self.emu.incoming_call(args["number"], ring_interval=args.get("interval", 2.0))

    async def hangup(self, args: dict[str, Any]) -> None:
        """The far end hangs up (or gives up, while ringing)."""
        if self.emu.call is not None:
            await self.emu.remote_hang_up()

    async def status(self, args: dict[str, Any]) -> dict[str, Any]:
        """The emulator's summary plus the audio counters benchmarks read."""
        status = self.emu.status()
        status["audio_sent_bytes"] = len(self.emu.audio_sent)
        status["audio_received_bytes"] = len(self.emu.audio_received)
        return status

    async def clear(self, args: dict[str, Any]) -> None:
        """Forget transcript, commands and audio buffers (counters stay)."""
        self.emu.clear_history()

    async def compare_recording(self, args: dict[str, Any]) -> dict[str, Any]:
        """Is the WAV at ``path`` a sample-exact, gapless slice of the PCM streamed to the host?"""
        with wave.open(args["path"], "rb") as wav:
            pcm = wav.readframes(wav.getnframes())
            rate = wav.getframerate()
        sent = bytes(self.emu.audio_sent)
        result: dict[str, Any] = {
            "recorded_bytes": len(pcm),
            "sent_bytes": len(sent),
            "rate": rate,
            "frames_dropped": self.emu.audio_frames_dropped,
        }
        offset = sent.find(pcm)
        if offset >= 0 and offset % 2 == 0:
            result.update(exact=True, offset=offset, mismatched_samples=0)
            return result
        # Not one contiguous slice: align on the first 40 ms and count differing samples.
        anchor = sent.find(pcm[:640])
        mismatched = len(pcm) // 2
        if anchor >= 0:
            tail = sent[anchor : anchor + len(pcm)]
            mismatched = sum(
                1 for i in range(0, len(pcm) - 1, 2) if tail[i : i + 2] != pcm[i : i + 2]
            )
        result.update(exact=False, offset=anchor, mismatched_samples=mismatched)
        return result

    async def received(self, args: dict[str, Any]) -> dict[str, Any]:
        """What the host wrote on the audio port: arrival times and whether it matches a WAV."""
        received = bytes(self.emu.audio_received)
        result: dict[str, Any] = {
            "times": [[round(t * 1e9), n] for t, n in self.emu.audio_received_times],
            "bytes": len(received),
        }
        if args.get("path"):
            with wave.open(args["path"], "rb") as wav:
                pcm = wav.readframes(wav.getnframes())
            result["exact"] = received[: len(pcm)] == pcm
        return result

    async def turns(self, args: dict[str, Any]) -> None:
        """The far end takes turns: the WAV files at ``paths``, each spoken once the host's
        reply (or its prompt) has ended and ``gap`` seconds of quiet followed it."""
        self.emu.set_voice(Turns([Path(path) for path in args["paths"]], gap=args["gap"]))

    async def spoken(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """When each utterance's first and last frame went to the host (perf_counter_ns,
        stamped right before the write; None for what is not spoken yet)."""
        voice = self.emu.voice
        if not isinstance(voice, Turns):
            raise TypeError("the far end takes no turns")
        return voice.spoken


async def serve(speed: float, tcp: bool) -> None:
    """Start the emulator, announce its ports, then answer requests until stdin closes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with Sim7600Emulator(identity=Identity.seeded(0), audio_speed=speed) as emu:
        if tcp:
            await emu.start_tcp()
            ports = {"at": emu.at_url, "audio": emu.audio_url}
        else:
            await emu.start_pty()
            ports = {"at": emu.at_link, "audio": emu.audio_link, "at_path": emu.at_path}
        host = Host(emu)
        _reply({"ok": True, "ports": ports, "caller": emu.identity.callers[0]})
        while line := await reader.readline():
            request = json.loads(line)
            handler = host.handlers.get(request.get("command", ""))
            if handler is None:
                _reply({"ok": False, "error": f"unknown command {request.get('command')!r}"})
                continue
            try:
                result = await handler(request.get("args") or {})
            except Exception as err:  # report any failure to the benchmark side
                _reply({"ok": False, "error": f"{type(err).__name__}: {err}"})
            else:
                _reply({"ok": True, "result": result})


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Entry point of ``python -m benchmarks.emulator_host``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_host")
    parser.add_argument("--audio-speed", type=float, default=1.0, help="0 = as fast as drained")
    parser.add_argument("--tcp", action="store_true", help="serve on TCP instead of ptys")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(args.audio_speed, args.tcp))


if __name__ == "__main__":
    main()
