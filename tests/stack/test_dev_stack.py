"""The development stack of scripts/run, headless: HA and the emulator in subprocesses.

The same code as `scripts/run` (scripts/devstack.py) starts the emulator and Home Assistant
on a copy of config/ in tmp_path and a free port, onboards the dev user over the REST API
and adds the Callstack entry through the config-flow REST API. The test then rings the
emulated modem and watches the call go through HA's states, and starts the stack a second
time on the same directories (user, token and entry are reused). Everything is torn down in
a finally: both process groups are stopped and reaped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import datetime as dt
import functools
import importlib.util
import os
from pathlib import Path
import re
import shutil
import subprocess
import time
from typing import Any

import pytest

from custom_components.callstack import config_flow, const
from scripts import devstack
from tests.helpers import STACK_PYTHON

pytestmark = pytest.mark.stack

POLL_TIMEOUT = 15.0

# What a --skip-pip HA logs when a configured integration lacks its requirements, and what
# the onboarding integrations would leave behind if their flows ran.
SETUP_FAILURES = re.compile(
    r"Setup failed for|Unable to (install|import)|Error occurred loading flow|"
    r"Error setting up entry|No module named"
)
ONBOARDING_DOMAINS = {"met", "radio_browser", "google_translate", "shopping_list"}


def _poll[T](what: str, probe: Callable[[], T | None], timeout: float = POLL_TIMEOUT) -> T:
    """probe() until it returns something, or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        if (result := probe()) is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _call_entities(stack: devstack.Stack) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The call-state sensor and the call event entity of the entry, once both exist."""
    states = stack.states()
    sensor = next(
        (s for s in states if re.fullmatch(r"sensor\.\w+_call_state", s["entity_id"])), None
    )
    event = next((s for s in states if re.fullmatch(r"event\.\w+_call", s["entity_id"])), None)
    return None if sensor is None or event is None else (sensor, event)


def _when(
    stack: devstack.Stack, check: Callable[[dict[str, Any], dict[str, Any]], bool]
) -> Callable[[], tuple[dict[str, Any], dict[str, Any]] | None]:
    def probe() -> tuple[dict[str, Any], dict[str, Any]] | None:
        entities = _call_entities(stack)
        return entities if entities is not None and check(*entities) else None

    return probe


def test_devstack_speaks_the_config_flow() -> None:
    """devstack hard-codes the flow's field names (it imports nothing of HA): keep them equal."""
    assert devstack.DOMAIN == const.DOMAIN
    assert devstack.CONF_AT_PORT == const.CONF_AT_PORT
    assert devstack.CONF_AUDIO_PORT == const.CONF_AUDIO_PORT
    assert devstack.CONF_SIM_PIN == const.CONF_SIM_PIN
    assert devstack.MANUAL_ENTRY == config_flow.MANUAL_ENTRY


def _installed_ha(python: str) -> str:
    """The version of the Home Assistant (with its frontend) that `python` runs."""
    probe = subprocess.run(
        [
            python,
            "-c",
            "import hass_frontend; from homeassistant.const import __version__ as v; print(v)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, (
        f"{python} cannot run Home Assistant with its frontend (run scripts/setup):\n"
        + probe.stderr
    )
    return probe.stdout.strip()


@pytest.mark.timeout(300)
def test_dev_stack(tmp_path: Path, socket_enabled: None) -> None:
    """Onboard, add the entry, ring, see it in HA, give up ringing; then start again."""
    version = _installed_ha(STACK_PYTHON)
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(devstack.DEFAULT_CONFIG / "configuration.yaml", config)
    run = tmp_path / "run"
    port = devstack.free_port()
    tts_port = devstack.free_port()
    pids: list[int] = []

    stt_port = devstack.free_port()
    assist_stt_port = devstack.free_port()
    start = functools.partial(
        devstack.start,
        config,
        run,
        port,
        tts_port=tts_port,
        python=STACK_PYTHON,
        stt_port=stt_port,
        assist_stt_port=assist_stt_port,
    )
    stack = start()
    try:
        assert stack.hass is not None
        assert stack.emulator is not None
        pids += [stack.hass.pid, stack.emulator.pid]
        assert stack.fresh_config
        assert stack.entry_created
        assert stack.entry is not None
        assert stack.entry["state"] == "loaded"
        assert (run / "token").read_text().strip() == stack.token

        status, onboarding = stack.request("GET", "/api/onboarding")
        assert status == 200
        assert all(step["done"] for step in onboarding), onboarding
        core = stack._ok("GET", "/api/config")
        assert core["version"] == version
        assert core["country"] == "DE"
        assert {"frontend", "history", "media_source", "callstack"} <= set(core["components"])
        entries = stack._ok("GET", "/api/config/config_entries/entry")
        assert not {entry["domain"] for entry in entries} & ONBOARDING_DOMAINS

        # The recordings folder is in the media browser.
        assert stack.token is not None
        [browsed] = asyncio.run(
            stack.websocket(
                stack.token,
                [
                    {
                        "type": "media_source/browse_media",
                        "media_content_id": "media-source://media_source/local/.",
                    }
                ],
            )
        )
        assert "callstack" in {child["title"] for child in browsed["children"]}

        _poll("the call entities", lambda: _call_entities(stack))
        stack.ctl("ring", devstack.CALLER)
        _sensor, event = _poll(
            "call_state incoming and an incoming call event",
            _when(
                stack,
                lambda sensor, event: (
                    sensor["state"] == "incoming"
                    and event["attributes"].get("event_type") == "incoming"
                ),
            ),
        )
        assert event["attributes"]["number"] == devstack.CALLER
        assert dt.datetime.fromisoformat(event["state"]).tzinfo is not None

        stack.ctl("missed")
        _poll(
            "call_state idle after the caller gave up",
            _when(stack, lambda sensor, event: sensor["state"] == "idle"),
        )
        _poll(
            "the missed call event",
            _when(stack, lambda s, event: event["attributes"].get("event_type") == "missed"),
        )

        # Offline TTS into a call: espeak-ng over Wyoming, said with callstack.say, heard by
        # the emulator's far end.
        assert stack.tts_entry is not None
        assert stack.tts_entry["state"] == "loaded"
        assert stack.tts is not None
        pids.append(stack.tts.pid)
        stack.ctl("ring", devstack.CALLER)
        _poll("ringing", _when(stack, lambda sensor, event: sensor["state"] == "incoming"))
        stack._ok("POST", "/api/services/callstack/answer", {})
        _poll(
            "the call audio player idle",
            lambda: next(
                (
                    s
                    for s in stack.states()
                    if s["entity_id"].startswith("media_player.") and s["state"] == "idle"
                ),
                None,
            ),
        )
        said = stack._ok(
            "POST",
            "/api/services/callstack/say?return_response",
            {"message": "Hello from Callstack. The front door is open."},
        )
        assert said["service_response"]["ended_by"] == "finished"
        assert said["service_response"]["duration"] > 1.0
        heard = stack.ctl("save-heard", str(tmp_path / "heard.wav"))
        assert heard["seconds"] >= said["service_response"]["duration"] - 0.1
        stack._ok("POST", "/api/services/callstack/hang_up", {})
        _poll("idle", _when(stack, lambda sensor, event: sensor["state"] == "idle"))

        # Voicemail with no internet: espeak-ng's greeting, the caller's message, and
        # pocketsphinx's transcript of it. Without pocketsphinx (a Python 3.14 that could not
        # build it) the dev stack starts without the offline STT, voicemail and Assist.
        if importlib.util.find_spec("pocketsphinx") is None:
            assert stack.stt is None
            assert not stack.voicemail
            assert stack.assist_pipeline is None
        else:
            assert stack.stt_entry is not None
            assert stack.stt_entry["state"] == "loaded"
            assert stack.stt is not None
            assert stack.assist_stt is not None
            pids += [stack.stt.pid, stack.assist_stt.pid]
            assert stack.voicemail
            # Assist over a call: its offline pipeline, made the preferred one (the call
            # itself is tests/stack/test_call_your_home.py).
            assert stack.assist_pipeline_created
            assert stack.assist_pipeline is not None
            assert stack.assist_pipeline["name"] == devstack.ASSIST_PIPELINE
            assert stack.token is not None
            [listed] = asyncio.run(
                stack.websocket(stack.token, [{"type": "assist_pipeline/pipeline/list"}])
            )
            assert listed["preferred_pipeline"] == stack.assist_pipeline["id"]
            _leave_a_voicemail(stack)
            [voicemail] = _poll(
                "the voicemail event with its transcript",
                lambda: (
                    [
                        s
                        for s in stack.states()
                        if s["entity_id"].endswith("_call")
                        and s["attributes"].get("event_type") == "voicemail"
                    ]
                    or None
                ),
                timeout=60,
            )
            assert voicemail["attributes"]["kept"] is True
            assert "call me back" in (voicemail["attributes"]["transcript"] or "")
            counted = next(s for s in stack.states() if s["entity_id"].endswith("_new_voicemail"))
            assert counted["state"] == "1"

        # A second start on the same directories reuses the user, the token and the entry.
        token = stack.token
        stack.stop()
        stack = start()
        assert stack.hass is not None
        assert stack.emulator is not None
        pids += [stack.hass.pid, stack.emulator.pid]
        assert not stack.fresh_config
        assert not stack.entry_created
        assert stack.token == token
        assert stack.entry is not None
        assert stack.entry["state"] == "loaded"
        assert len(stack.entries()) == 1
        assert stack.tts_entry is not None
        assert stack.tts_entry["state"] == "loaded"
        assert stack.tts is not None
        pids.append(stack.tts.pid)
        if importlib.util.find_spec("pocketsphinx") is not None:  # see the first start
            assert stack.stt is not None
            assert stack.assist_stt is not None
            pids += [stack.stt.pid, stack.assist_stt.pid]
            assert stack.voicemail  # still on, not set again
            assert not stack.assist_pipeline_created  # the first start's, reused
            assert stack.assist_pipeline is not None
            assert stack.assist_pipeline["id"] == listed["preferred_pipeline"]
    finally:
        stack.stop()

    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    failures = [
        line for line in stack.hass_log.read_text().splitlines() if SETUP_FAILURES.search(line)
    ]
    assert not failures, "\n".join(failures)


def _leave_a_voicemail(stack: devstack.Stack) -> None:
    """Ring; once voicemail has answered and played its greeting and beep (the call audio
    player was playing and has been idle for a second), the caller says the message WAV
    and hangs up, as the stack's instructions tell a newcomer to."""
    stack.ctl("ring", devstack.CALLER)
    _poll(
        "voicemail answering",
        _when(stack, lambda sensor, event: sensor["state"] == "active"),
        timeout=devstack.VOICEMAIL_ANSWER_AFTER + 20,
    )

    def player() -> str:
        return next(
            s["state"] for s in stack.states() if s["entity_id"].startswith("media_player.")
        )

    _poll("the greeting", lambda: player() == "playing" or None, timeout=30)
    quiet_since = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if player() == "playing":
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            break
        time.sleep(0.2)
    stack.ctl("voice", "wav", "--path", str(stack.caller_message), "--hang_up_after", "2")
