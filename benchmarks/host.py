"""The benchmark side of :mod:`benchmarks.emulator_host`: start one, send it requests."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from types import TracebackType
from typing import Any, Self

from . import ROOT


class HostError(RuntimeError):
    """The emulator process refused a request or went away."""


class EmulatorHost:
    """An emulator subprocess (PTY by default, or TCP) and a request/reply channel to it."""

    def __init__(self, *, audio_speed: float = 1.0, tcp: bool = False) -> None:
        self.audio_speed = audio_speed
        self.tcp = tcp
        self.pid = 0
        self.ports: dict[str, str] = {}
        self.caller = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def at(self) -> str:
        """The AT port as the integration is configured with it (by-id link or socket URL)."""
        return self.ports["at"]

    @property
    def audio(self) -> str:
        """The audio port (by-id link or socket URL)."""
        return self.ports["audio"]

    async def start(self) -> None:
        """Start the process and read the ports it announces."""
        args = ["-m", "benchmarks.emulator_host", "--audio-speed", str(self.audio_speed)]
        if self.tcp:
            args.append("--tcp")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        self.pid = self._proc.pid
        hello = await self._read()
        self.ports = hello["ports"]
        self.caller = hello["caller"]

    async def stop(self) -> None:
        """Close its stdin (it then stops the emulator and exits)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def request(self, command: str, **args: Any) -> Any:
        """Send one request and return its result."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise HostError("the emulator process is not running")
        async with self._lock:
            proc.stdin.write(json.dumps({"command": command, "args": args}).encode() + b"\n")
            await proc.stdin.drain()
            reply = await self._read()
        if not reply.get("ok"):
            raise HostError(f"{command}: {reply.get('error')}")
        return reply.get("result")

    async def raw(self, data: bytes) -> int:
        """Write ``data`` on the AT port; returns the perf_counter_ns stamp of the write."""
        result = await self.request("raw", hex=data.hex())
        return int(result["t"])

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            raise HostError("the emulator process exited")
        message: dict[str, Any] = json.loads(line)
        return message
