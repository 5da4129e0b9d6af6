"""A real ser2net (Debian's, installed by scripts/setup) in front of the emulator's PTYs.

Each emulator port gets two ser2net connections on free loopback ports: raw TCP (what
``socket://host:port`` reaches) and telnet with RFC 2217 (``rfc2217://host:port``). ser2net
runs in the foreground in its own process group and can be killed and started again on the
same ports, as when the machine with the modem restarts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess

import pytest

from sim7600_emulator import Sim7600Emulator

SER2NET = shutil.which("ser2net", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
SCHEMES = ("socket", "rfc2217")
ACCEPTERS = {"socket": "tcp,127.0.0.1,{port}", "rfc2217": "telnet(rfc2217),tcp,127.0.0.1,{port}"}
_TCP_LISTEN = "0A"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening_ports() -> set[int]:
    """Loopback IPv4 ports in LISTEN state, from /proc/net/tcp.

    Asking the kernel instead of connecting keeps the probe from taking ser2net's only
    client slot on a port just before the driver connects.
    """
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port = fields[1].split(":")
        if fields[3] == _TCP_LISTEN and address in ("0100007F", "00000000"):
            ports.add(int(port, 16))
    return ports


class Ser2net:
    """One ser2net process serving the emulator's AT and audio PTYs, raw and RFC 2217."""

    def __init__(self, emulator: Sim7600Emulator, workdir: Path) -> None:
        if SER2NET is None:
            pytest.fail(
                "ser2net is not installed: run scripts/setup as root with apt-get available "
                "(it installs Debian's ser2net), or `apt-get install ser2net`"
            )
        self.executable = SER2NET
        self.workdir = workdir
        self.config = workdir / "ser2net.yaml"
        self.log = workdir / "ser2net.log"
        self.ports = {(scheme, name): free_port() for scheme in SCHEMES for name in ("at", "audio")}
        devices = {"at": emulator.at_path, "audio": emulator.audio_path}
        lines = ["%YAML 1.1", "---"]
        for (scheme, name), port in self.ports.items():
            lines += [
                f"connection: &{name}-{scheme}",
                f"  accepter: {ACCEPTERS[scheme].format(port=port)}",
                f"  connector: serialdev,{devices[name]},115200n81,local",
            ]
        self.config.write_text("\n".join(lines) + "\n")
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    def urls(self, scheme: str) -> tuple[str, str]:
        """The AT and audio URLs a user would configure for ``scheme``."""
        return (
            f"{scheme}://127.0.0.1:{self.ports[scheme, 'at']}",
            f"{scheme}://127.0.0.1:{self.ports[scheme, 'audio']}",
        )

    async def start(self, timeout: float = 5.0) -> None:
        """Start ser2net (foreground, no daemon) and wait until every port listens."""
        if self.process is not None:
            raise RuntimeError("ser2net is already running")
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                self.executable,
                "-n",  # do not detach
                "-d",  # debug: messages to stdout instead of syslog (implies -n)
                "-u",  # no UUCP lock files in /var/lock
                "-P",
                str(self.workdir / "ser2net.pid"),
                "-c",
                str(self.config),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # its own group: killing it reaches nothing else
            )
        wanted = set(self.ports.values())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not wanted <= listening_ports():
            if self.process.returncode is not None or loop.time() > deadline:
                await self.kill()
                pytest.fail(
                    f"ser2net did not open ports {sorted(wanted)}:\n{self.config.read_text()}\n"
                    f"{self.log.read_text(errors='replace')}"
                )
            await asyncio.sleep(0.02)

    async def kill(self) -> None:
        """SIGKILL ser2net's process group and reap it: its TCP connections drop at once."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it died on its own
                os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


@pytest.fixture
async def ser2net(
    socket_enabled: None, emulator: Sim7600Emulator, tmp_path: Path
) -> AsyncGenerator[Ser2net]:
    """ser2net running in front of the emulator's PTYs; killed and reaped at teardown."""
    server = Ser2net(emulator, tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.kill()
        print(f"ser2net log ({server.log}):\n{server.log.read_text(errors='replace')}")


@pytest.fixture(params=SCHEMES)
def scheme(request: pytest.FixtureRequest) -> str:
    """``socket`` (ser2net raw) or ``rfc2217`` (ser2net telnet with RFC 2217)."""
    return str(request.param)


# The emulator is the suite's own (tests/conftest.py): audio at 20x real time over either
# scheme (pyserial's RFC 2217 client, which queued bytes one at a time in a thread, dropped
# frames at that speed and needed real time).
