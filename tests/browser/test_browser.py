"""The real-browser suite (tests/browser/phone.test.mjs), run from pytest.

Starts the development stack of `scripts/run` (HA + the emulator, scripts/devstack.py) on a
copy of config/ and a free port, a second emulator for the UI config flow to add, and a
dashboard with the phone card and the Call state sensor; a caller leaves a voicemail (as in
the stack test); then runs the browser spec with node's test runner. Chromium is Debian's
and playwright-core comes from the npm registry, both installed by scripts/setup (on the host,
and into the Python 3.14 root when the newest HA runs there); where they are missing the
suite is skipped saying so loudly — except in CI, where that is a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest

from scripts import devstack
from tests.helpers import STACK_PYTHON
from tests.stack.test_dev_stack import _leave_a_voicemail, _poll

pytestmark = [pytest.mark.stack, pytest.mark.browser]

HERE = Path(__file__).parent
SPEC = HERE / "phone.test.mjs"
CHROMIUM = Path("/usr/bin/chromium")
SUITE_TIMEOUT = 300
DASHBOARD_URL = "callstack-phone"
DASHBOARD = f"{DASHBOARD_URL}/phone"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian package chromium; scripts/setup installs it)"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed (scripts/setup runs npm ci in tests/browser)"
    return None


@pytest.fixture
def browser_tools() -> None:
    """Chromium, node and playwright-core, or a loud skip (a failure in CI)."""
    if (reason := _missing()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser suite cannot run in CI: {reason}")
        print(f"\n*** BROWSER SUITE SKIPPED: {reason} ***\n", file=sys.stderr)
        pytest.skip(f"BROWSER SUITE SKIPPED: {reason}")


class SecondEmulator:
    """Another emulated modem (its own IMEI) for the UI config flow to add."""

    def __init__(self, run: Path) -> None:
        self.control = run / "emulator2.sock"
        self.state_file = run / "emulator2.json"
        self.log = (run / "emulator2.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "sim7600_emulator", "serve", "--pty", "--seed", "1",
                "--control", str(self.control), "--state-file", str(self.state_file),
            ],
            cwd=devstack.REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(devstack.REPO)},
        )  # fmt: skip

    def ports(self) -> dict[str, str]:
        deadline = time.monotonic() + devstack.EMULATOR_START_TIMEOUT
        while not self.state_file.exists() or not self.control.exists():
            assert self.process.poll() is None, "the second emulator exited"
            assert time.monotonic() < deadline, "the second emulator did not start"
            time.sleep(0.05)
        state = json.loads(self.state_file.read_text())
        return {
            "control": str(self.control),
            "at_link": state["at_link"],
            "audio_link": state["audio_link"],
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def browser_stack(
    browser_tools: None, tmp_path: Path, socket_enabled: None
) -> Iterator[tuple[devstack.Stack, SecondEmulator, Path]]:
    """The dev stack, a second emulator and the directories they use."""
    base = tmp_path
    config = base / "config"
    config.mkdir()
    shutil.copy(devstack.DEFAULT_CONFIG / "configuration.yaml", config)
    run = base / "run"
    stack = devstack.start(
        config,
        run,
        devstack.free_port(),
        tts_port=devstack.free_port(),
        stt_port=devstack.free_port(),
        assist_stt_port=devstack.free_port(),
        python=STACK_PYTHON,
    )
    second = SecondEmulator(run)
    try:
        yield stack, second, base
    finally:
        second.stop()
        stack.stop()


def _prepare(stack: devstack.Stack) -> dict[str, Any]:
    """A dashboard with the phone card and the Call state sensor; the modem's device id."""
    assert stack.token is not None
    assert stack.entry is not None
    entry_id = stack.entry["entry_id"]
    call_state = next(
        state["entity_id"]
        for state in stack.states()
        if state["entity_id"].startswith("sensor.") and state["entity_id"].endswith("_call_state")
    )
    dashboard = {
        "views": [
            {
                "title": "Phone",
                "path": "phone",
                "cards": [
                    {"type": "custom:callstack-phone-card", "config_entry_id": entry_id},
                    {"type": "entities", "entities": [call_state]},
                ],
            }
        ]
    }
    *_, devices = asyncio.run(
        stack.websocket(
            stack.token,
            [
                # A dashboard of its own: HA 2026.11's default Overview is a new built-in
                # dashboard, not the one lovelace/config/save without url_path fills.
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": DASHBOARD_URL,
                    "title": "Phone",
                    "mode": "storage",
                },
                {"type": "lovelace/config/save", "url_path": DASHBOARD_URL, "config": dashboard},
                {"type": "config/device_registry/list"},
            ],
        )
    )
    device = next(device for device in devices if entry_id in device["config_entries"])
    return {"entry_id": entry_id, "device_id": device["id"]}


def _voicemail(stack: devstack.Stack) -> dict[str, Any]:
    """A caller leaves a voicemail; waits until it is stored (and transcribed, where the
    stack runs the offline STT: pocketsphinx installed). What the card should show."""
    assert stack.voicemail, "the dev stack did not turn voicemail on"
    transcribed = stack.stt is not None  # the stack started its offline STT
    _leave_a_voicemail(stack)

    def stored() -> dict[str, Any] | None:
        states = {state["entity_id"]: state for state in stack.states()}
        counted = next(s for e, s in states.items() if e.endswith("_new_voicemail"))
        event = next(s for e, s in states.items() if re.fullmatch(r"event\.\w+_call", e))
        attributes: dict[str, Any] = event["attributes"]
        done = (
            counted["state"] == "1"
            and attributes.get("event_type") == "voicemail"
            and (not transcribed or bool(attributes.get("transcript")))
        )
        return attributes if done else None

    event = _poll("the voicemail stored (and transcribed)", stored, timeout=60)
    return {"caller": devstack.CALLER, "transcript": event.get("transcript")}


@pytest.mark.timeout(SUITE_TIMEOUT + 180)
def test_browser_suite(browser_stack: tuple[devstack.Stack, SecondEmulator, Path]) -> None:
    """Every step of phone.test.mjs passes in chromium."""
    stack, second, base = browser_stack
    assert stack.ports is not None
    screenshots = Path(os.environ.get("CALLSTACK_SCREENSHOTS") or base / "screenshots")
    setup = {
        "url": stack.base_url,
        "username": devstack.DEV_USERNAME,
        "password": devstack.DEV_PASSWORD,
        "token": stack.token,
        "chromium": str(CHROMIUM),
        "screenshots": str(screenshots),
        "dashboard": DASHBOARD,
        "emulators": [
            {
                "control": str(stack.control),
                "at_link": str(stack.ports.at_link),
                "audio_link": str(stack.ports.audio_link),
            },
            second.ports(),
        ],
        **_prepare(stack),
        "voicemail": _voicemail(stack),
    }
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", str(SPEC)],
        cwd=HERE,
        env={**os.environ, "CALLSTACK_BROWSER": json.dumps(setup)},
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        check=False,
    )
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    assert result.returncode == 0, f"the browser suite failed:\n{result.stdout}\n{result.stderr}"
