"""`python -m sim7600_emulator serve` and `ctl` as separate processes."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import select
import signal
import subprocess
import sys
import time

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_ctl(control: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "sim7600_emulator", "ctl", "--control", str(control), *args],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def read_until(fd: int, wanted: bytes, timeout: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while wanted not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, data
        if select.select([fd], [], [], remaining)[0]:
            data += os.read(fd, 4096)
    return data


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    control, state = tmp_path / "ctl.sock", tmp_path / "state.json"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "sim7600_emulator", "serve", "--pty",
            "--control", str(control), "--state-file", str(state), "--seed", "7",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        yield process, control, state
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_serve_ring_status_and_clean_shutdown(
    server: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    process, control, state_file = server
    assert process.stdout is not None
    printed = json.loads(process.stdout.readline())
    state = json.loads(state_file.read_text())
    assert printed == state
    assert state["control"] == str(control)
    assert state["at_link"].endswith("-if02-port0")
    assert os.readlink(state["at_link"]) == state["at_path"]
    fd = os.open(state["at_link"], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        assert run_ctl(control, "ring", "+4915551000001", "--interval", "5") == (
            0,
            {"ok": True, "result": None},
        )
        assert read_until(fd, b"RING\r\n") == b"\r\nRING\r\n"
        os.write(fd, b"ATA\r")
        assert read_until(fd, b"OK\r\n") == b"ATA\r\r\nVOICE CALL: BEGIN\r\n\r\nOK\r\n"
        code, reply = run_ctl(control, "status")
        assert code == 0
        result = reply["result"]
        assert isinstance(result, dict)
        assert result["call"]["stat"] == "ACTIVE"
        assert result["commands"] == 1
        code, reply = run_ctl(control, "answer")  # nothing to answer: an error reply
        assert code == 1
        assert reply["ok"] is False
        code, reply = run_ctl(control, "sms", "+4915551000002", "hello", "--parts", "1")
        assert (code, reply) == (0, {"ok": True, "result": [0]})
    finally:
        os.close(fd)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert not state_file.exists()
    assert not control.exists()
    assert not os.path.lexists(state["at_link"])


def test_serve_help_explains_every_option_and_a_second_instance() -> None:
    """`serve --help` says what each option does, and that a second emulator needs a seed."""
    from sim7600_emulator.cli import build_parser

    parser = build_parser()
    serve = next(
        choice
        for action in parser._subparsers._group_actions  # type: ignore[union-attr]
        for name, choice in action.choices.items()
        if name == "serve"
    )
    undocumented = [
        action.dest for action in serve._actions if not action.help and action.dest != "help"
    ]
    assert undocumented == []
    assert "own --seed" in (serve.description or "")
