"""The development stack of `scripts/run`: the SIM7600 emulator and Home Assistant, wired up.

`start()` starts the emulator (ptys, a control socket and a state file in the run directory)
and Home Assistant (`python -m homeassistant -c CONFIG --skip-pip`, HTTP on 127.0.0.1 only,
the repo's custom_components linked into CONFIG), each in its own process group. On a fresh
config directory it onboards a local user through HA's onboarding API, keeps a long-lived
access token in RUN/token, and adds the Callstack config entry through the config-flow REST
API ("Enter manually", then the emulator's by-id style AT and audio links). A second start
reuses the user, the token and the entry. `Stack.stop()` stops HA, then the emulator, and
kills whatever is left of their process groups.

It also starts an offline text-to-speech engine, `scripts/wyoming_espeak.py` (a Wyoming
server around Debian's espeak-ng, run from the same Python), and adds HA's `wyoming`
integration for it, so `tts.speak` and `callstack.say` into a call need no internet. Without
espeak-ng the stack runs without it and says so. With the offline speech-to-text engine as
well (`scripts/wyoming_stt.py`, pocketsphinx) it turns voicemail on, and makes "call your
home" work offline: an Assist pipeline of HA's built-in conversation agent, the TTS and a
second pocketsphinx server whose model holds just the sentences of
CONFIG/assist_sentences.txt (scripts/wyoming_stt.py says why), made the preferred one, and
Callstack's Assist options allowing ASSIST_CALLER (the dev config has a Kitchen light to
ask for). Each is set up once; a second start reuses it.

`python scripts/devstack.py` (what scripts/run execs) does that with the repo's config/ and
run/ on port 8123 (TTS on 10200, STT on 10300 and 10301), prints how to reach HA and drive
the emulator, and stays in the foreground until Ctrl-C. tests/stack/test_dev_stack.py runs
the same code on a copy of config/ and a free port.

Only the standard library and aiohttp (for the websocket calls) are used, so this file
imports nothing of Home Assistant or of the integration.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import fcntl
import http.client
import importlib.util
import json
import logging
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from types import FrameType
from typing import IO, Any
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "config"
DEFAULT_RUN = REPO / "run"
DEFAULT_PORT = 8123
DEFAULT_TTS_PORT = 10200
TTS_SCRIPT = REPO / "scripts" / "wyoming_espeak.py"
DEFAULT_STT_PORT = 10300
STT_SCRIPT = REPO / "scripts" / "wyoming_stt.py"
DEFAULT_ASSIST_STT_PORT = 10301
# Assist's speech-to-text: the same server with a model of just these sentences (see
# scripts/wyoming_stt.py for why); the config directory's own, else the repo's.
ASSIST_SENTENCES = "assist_sentences.txt"
# Voicemail in the stack: answers after this many seconds of ringing; the caller's message
# a newcomer can play into a call (RUN/caller-message.wav, made with espeak-ng).
VOICEMAIL_ANSWER_AFTER = 10
CALLER_MESSAGE = "Hello, this is a test message. Please call me back."
# The caller's voice: the one of the espeak-ng voices and rates tried whose speech pocketsphinx
# gets with both espeak-ng 1.51 (bookworm) and 1.52 (forky, the Python 3.14 root), through the
# emulator and the call; en-us+klatt at 120 lost "call me back" and "turn on" with 1.52.
ESPEAK_CALLER = ("espeak-ng", "-v", "en-us+klatt3", "-s", "130")
# Assist over a call: the offline pipeline the stack makes (and HA's preferred one), the
# number whose calls reach it (not CALLER: Assist answers after two rings, before voicemail
# would, and CALLER's calls are the plain-call and voicemail demos), and what the caller asks.
ASSIST_PIPELINE = "Callstack offline"
ASSIST_AGENT = "conversation.home_assistant"  # HA's built-in conversation agent
ASSIST_LANGUAGE = "en"
ASSIST_VOICE = "en-us"  # espeak-ng's US English: what pocketsphinx's US model hears best
ASSIST_CALLER = "+4915550000002"
ASSIST_QUESTION = "turn on the kitchen light"
KITCHEN_LIGHT = "light.kitchen_light"  # config/configuration.yaml
HOST = "127.0.0.1"

# The local development user. HTTP listens on the loopback interface only.
DEV_NAME = "dev"
DEV_USERNAME = "dev"
DEV_PASSWORD = "callstack-dev"
TOKEN_NAME = "callstack devstack"
TOKEN_DAYS = 3650

# What the config flow asks for (custom_components/callstack/config_flow.py and const.py;
# tests/stack/test_dev_stack.py checks these against the integration's own constants).
DOMAIN = "callstack"
CONF_AT_PORT = "device"
CONF_AUDIO_PORT = "serial_port"
CONF_SIM_PIN = "sim_pin"
MANUAL_ENTRY = "manual"

# HA 2025.4's onboarding store (homeassistant/components/onboarding/__init__.py), version 4.
ONBOARDING_SEED = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config"]},
}
# What the onboarding wizard's core_config page would set (country: no "country not
# configured" repair).
CORE_CONFIG = {
    "location_name": "Callstack dev",
    "country": "DE",
    "currency": "EUR",
    "language": "en",
    "unit_system": "metric",
    "time_zone": "Europe/Berlin",
}

CALLER = "+4915550000001"
"""The caller number printed in the instructions and used by the stack test."""

HASS_START_TIMEOUT = 120.0
ENTRY_LOAD_TIMEOUT = 60.0
EMULATOR_START_TIMEOUT = 15.0
WYOMING_START_TIMEOUT = 15.0
HASS_STOP_TIMEOUT = 30.0
EMULATOR_STOP_TIMEOUT = 5.0
HTTP_TIMEOUT = 30.0

# Loaded before exec in each child: it dies with us (PR_SET_PDEATHSIG) even if we are killed
# with SIGKILL, so a crashed scripts/run or test leaves no HA or emulator behind.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)

_LOGGER = logging.getLogger("devstack")


class StackError(Exception):
    """The stack could not be started; the message says what to look at."""


@dataclass(frozen=True)
class EmulatorPorts:
    """Where the emulator's modem can be reached."""

    at_link: Path  # stable: RUN/by-id/usb-SimTech_..-if02-port0
    audio_link: Path  # stable: RUN/by-id/usb-SimTech_..-if04-port0
    at_pty: str
    audio_pty: str


@dataclass
class Stack:
    """A running (or partly started) emulator + Home Assistant pair."""

    config_dir: Path
    run_dir: Path
    port: int = DEFAULT_PORT
    python: str = sys.executable
    emulator: subprocess.Popen[bytes] | None = None
    hass: subprocess.Popen[bytes] | None = None
    tts_port: int = DEFAULT_TTS_PORT
    tts: subprocess.Popen[bytes] | None = None
    tts_entry: dict[str, Any] | None = None
    stt_port: int = DEFAULT_STT_PORT
    stt: subprocess.Popen[bytes] | None = None
    stt_entry: dict[str, Any] | None = None
    assist_stt_port: int = DEFAULT_ASSIST_STT_PORT
    assist_stt: subprocess.Popen[bytes] | None = None
    assist_stt_entry: dict[str, Any] | None = None
    voicemail: bool = False  # turned on in the Callstack entry's options
    assist_pipeline: dict[str, Any] | None = None  # the offline Assist pipeline
    assist_pipeline_created: bool = False  # by this start
    ports: EmulatorPorts | None = None
    token: str | None = None
    entry: dict[str, Any] | None = None
    entry_created: bool = False
    fresh_config: bool = False  # this start created the user
    _lock: IO[str] | None = field(default=None, repr=False)
    _logs: list[IO[bytes]] = field(default_factory=list, repr=False)

    # ---- where things are --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Home Assistant's URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def control(self) -> Path:
        """The emulator's control socket (for `python -m sim7600_emulator ctl --control`)."""
        return self.run_dir / "emulator.sock"

    @property
    def state_file(self) -> Path:
        """The JSON file in which the emulator writes where its ports are."""
        return self.run_dir / "emulator.json"

    @property
    def token_file(self) -> Path:
        """The long-lived access token of the development user."""
        return self.run_dir / "token"

    @property
    def emulator_log(self) -> Path:
        """The emulator's output."""
        return self.run_dir / "emulator.log"

    @property
    def hass_output(self) -> Path:
        """HA's console output (its log file is CONFIG/home-assistant.log)."""
        return self.run_dir / "hass.out"

    @property
    def hass_log(self) -> Path:
        """HA's own log file."""
        return self.config_dir / "home-assistant.log"

    @property
    def tts_log(self) -> Path:
        """The Wyoming espeak-ng server's output."""
        return self.run_dir / "tts.log"

    @property
    def stt_log(self) -> Path:
        """The Wyoming pocketsphinx server's output."""
        return self.run_dir / "stt.log"

    @property
    def assist_stt_log(self) -> Path:
        """The output of Assist's Wyoming pocketsphinx server (the commands model)."""
        return self.run_dir / "assist-stt.log"

    @property
    def assist_sentences(self) -> Path:
        """What Assist's speech-to-text knows: CONFIG/assist_sentences.txt, else the repo's."""
        own = self.config_dir / ASSIST_SENTENCES
        return own if own.is_file() else DEFAULT_CONFIG / ASSIST_SENTENCES

    @property
    def caller_message(self) -> Path:
        """A spoken message for the emulator's caller to leave (``voice wav --path``)."""
        return self.run_dir / "caller-message.wav"

    @property
    def assist_question(self) -> Path:
        """ASSIST_QUESTION spoken, for the emulator's caller to ask Assist (``turns``)."""
        return self.run_dir / "kitchen-light.wav"

    # ---- start -------------------------------------------------------------------------

    def lock(self) -> None:
        """Refuse to share the run directory with another running stack."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.run_dir / "devstack.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise StackError(
                f"another dev stack (pid {holder}) is running with {self.run_dir}: "
                "stop it with Ctrl-C first"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def prepare_config(self) -> None:
        """Link the repo's custom_components into the config directory; make the media dir."""
        if not (self.config_dir / "configuration.yaml").is_file():
            raise StackError(f"{self.config_dir}/configuration.yaml is missing")
        link = self.config_dir / "custom_components"
        target = REPO / "custom_components"
        wanted = (
            Path("../custom_components") if self.config_dir.resolve().parent == REPO else target
        )
        if link.is_symlink():
            if link.resolve() != target.resolve():
                link.unlink()
        elif link.exists():
            raise StackError(f"{link} is a real directory; it must be a link to {target}")
        if not link.is_symlink():
            link.symlink_to(wanted, target_is_directory=True)
        (self.config_dir / "media" / "callstack").mkdir(parents=True, exist_ok=True)
        storage = self.config_dir / ".storage"
        if not (storage / "onboarding").exists() and not (storage / "auth").exists():
            # A fresh config: mark onboarding's core_config step done before HA reads it.
            # Its REST view would start the onboarding flows of met, radio_browser,
            # google_translate and shopping_list, whose requirements are not installed (HA
            # runs with --skip-pip) and which would leave broken config entries behind.
            # onboard() sets what the wizard's core_config page sets over the websocket.
            storage.mkdir(exist_ok=True)
            _write_json(storage / "onboarding", ONBOARDING_SEED)

    def start_emulator(self) -> EmulatorPorts:
        """Start the emulator on ptys and give its ports stable by-id style links."""
        self.spawn_emulator()
        return self.wait_emulator()

    def spawn_emulator(self) -> None:
        """Start the emulator process."""
        if len(os.fsencode(self.control)) > 100:
            raise StackError(
                f"the run directory's path is too long for a Unix socket: {self.run_dir}"
            )
        self.control.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)
        self.emulator = self._spawn(
            [
                self.python,
                "-m",
                "sim7600_emulator",
                "serve",
                "--pty",
                "--control",
                str(self.control),
                "--state-file",
                str(self.state_file),
            ],
            cwd=REPO,
            output=self.emulator_log,
            env={"PYTHONPATH": str(REPO)},
        )

    def spawn_tts(self) -> None:
        """Start the offline TTS server, if espeak-ng is installed (scripts/setup installs it)."""
        if shutil.which("espeak-ng") is None:
            _LOGGER.warning("espeak-ng is not installed (scripts/setup): no offline TTS")
            return
        self.tts = self._spawn_wyoming(TTS_SCRIPT, self.tts_port, self.tts_log)

    def spawn_stt(self) -> None:
        """Start the offline STT servers (voicemail's general model, and Assist's model of
        the config's sentences), if pocketsphinx is installed (requirements_dev.txt; the
        Python 3.14 environments build it from its sdist)."""
        if importlib.util.find_spec("pocketsphinx") is None:
            _LOGGER.warning("pocketsphinx is not installed (scripts/setup): no offline STT")
            return
        self.stt = self._spawn_wyoming(STT_SCRIPT, self.stt_port, self.stt_log)
        self.assist_stt = self._spawn_wyoming(
            STT_SCRIPT,
            self.assist_stt_port,
            self.assist_stt_log,
            "--sentences",
            str(self.assist_sentences),
        )

    def _spawn_wyoming(
        self, script: Path, port: int, log: Path, *args: str
    ) -> subprocess.Popen[bytes]:
        """A Wyoming server of scripts/ on ``port``, run from this Python (not `python`: the
        engines' packages are this venv's, and HA reaches the server over TCP anyway)."""
        return self._spawn(
            [sys.executable, str(script), "--uri", f"tcp://{HOST}:{port}", *args],
            cwd=REPO,
            output=log,
            env={},
        )

    def ensure_tts_entry(self) -> dict[str, Any] | None:
        """Add HA's Wyoming integration for the TTS server, unless there is an entry."""
        if self.tts is None:
            return None
        self.tts_entry = self._ensure_wyoming(self.tts, self.tts_port, "espeak-ng", self.tts_log)
        return self.tts_entry

    def ensure_stt_entry(self) -> dict[str, Any] | None:
        """Add HA's Wyoming integration for the STT server, unless there is an entry."""
        if self.stt is None:
            return None
        self.stt_entry = self._ensure_wyoming(self.stt, self.stt_port, "pocketsphinx", self.stt_log)
        assert self.assist_stt is not None
        self.assist_stt_entry = self._ensure_wyoming(
            self.assist_stt, self.assist_stt_port, "pocketsphinx-commands", self.assist_stt_log
        )
        return self.stt_entry

    def _ensure_wyoming(
        self, process: subprocess.Popen[bytes], port: int, title: str, log: Path
    ) -> dict[str, Any]:
        """The Wyoming entry titled ``title`` (what the integration names a server after its
        program), added for the server on ``port`` if there is none; waits until loaded."""
        found = next((e for e in self.entries("wyoming") if e["title"] == title), None)
        if found is None:
            self._wait_listening(process, port, log)
            result = self._ok(
                "POST",
                "/api/config/config_entries/flow",
                {"handler": "wyoming", "show_advanced_options": False},
            )
            if result.get("type") == "form":
                result = self._ok(
                    "POST",
                    f"/api/config/config_entries/flow/{result['flow_id']}",
                    {"host": HOST, "port": port},
                )
            if result.get("type") != "create_entry":
                raise StackError(f"the Wyoming config flow ended with {result}")
            found = result["result"]
            _LOGGER.info("added the Wyoming %s server on port %s", title, port)
        entry = self._wait_loaded("wyoming", found["entry_id"], ENTRY_LOAD_TIMEOUT)
        if entry.get("state") != "loaded":
            raise StackError(
                f"the Wyoming {title} entry is {entry.get('state')} ({entry.get('reason')}); "
                f"see {self.hass_log} and {log}"
            )
        return entry

    def _wait_listening(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        deadline = time.monotonic() + WYOMING_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise StackError("the Wyoming server exited:\n" + _tail(log))
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1):
                return
            if time.monotonic() > deadline:
                raise StackError("the Wyoming server does not listen:\n" + _tail(log))
            time.sleep(0.1)

    def ensure_voicemail(self) -> bool:
        """Turn voicemail on in the Callstack entry's options, greeting spoken by the offline
        TTS and transcripts by the offline STT (once: a stack that has it keeps it), and
        make the caller's message WAV. Needs both offline engines."""
        if self.tts_entry is None or self.stt_entry is None or self.entry is None:
            return False
        self._speak_for_caller(CALLER_MESSAGE, self.caller_message)
        assert self.tts_entry is not None
        tts, stt = self._entity(self.tts_entry, "tts"), self._entity(self.stt_entry, "stt")

        def turn_on(values: dict[str, Any]) -> bool:
            voicemail = values.get("voicemail", {})
            if voicemail.get("voicemail_enabled") and voicemail.get("voicemail_stt_engine"):
                return False
            voicemail |= {
                "voicemail_enabled": True,
                "voicemail_answer_after": VOICEMAIL_ANSWER_AFTER,
                "voicemail_tts_engine": tts,
                "voicemail_stt_engine": stt,
            }
            values["voicemail"] = {k: v for k, v in voicemail.items() if v is not None}
            return True

        if self._change_options(turn_on, "voicemail"):
            _LOGGER.info("voicemail is on: answers after %s s", VOICEMAIL_ANSWER_AFTER)
        self.voicemail = True
        return True

    def ensure_assist(self) -> bool:
        """Set up "call your home" offline (once; a second start reuses it): the Assist
        pipeline ASSIST_PIPELINE (HA's built-in agent, the offline STT and TTS, English),
        made HA's preferred pipeline when created; Callstack's Assist options allowing
        ASSIST_CALLER; the question WAV for the emulator's caller. Needs both engines."""
        if self.tts_entry is None or self.assist_stt_entry is None or self.entry is None:
            _LOGGER.warning(
                "Assist over a call is not set up: it needs the offline TTS and STT (espeak-ng, "
                "pocketsphinx; scripts/setup)"
            )
            return False
        assert self.token is not None
        self._speak_for_caller(ASSIST_QUESTION, self.assist_question)
        [listed] = asyncio.run(
            self.websocket(self.token, [{"type": "assist_pipeline/pipeline/list"}])
        )
        pipeline = next((p for p in listed["pipelines"] if p["name"] == ASSIST_PIPELINE), None)
        if pipeline is None:
            # The fields HA 2025.4 and 2026.11 both require (assist_pipeline's PIPELINE_FIELDS).
            [pipeline] = asyncio.run(
                self.websocket(
                    self.token,
                    [
                        {
                            "type": "assist_pipeline/pipeline/create",
                            "name": ASSIST_PIPELINE,
                            "language": ASSIST_LANGUAGE,
                            "conversation_engine": ASSIST_AGENT,
                            "conversation_language": ASSIST_LANGUAGE,
                            "stt_engine": self._entity(self.assist_stt_entry, "stt"),
                            "stt_language": ASSIST_LANGUAGE,
                            "tts_engine": self._entity(self.tts_entry, "tts"),
                            "tts_language": ASSIST_LANGUAGE,
                            "tts_voice": ASSIST_VOICE,
                            "wake_word_entity": None,
                            "wake_word_id": None,
                        }
                    ],
                )
            )
            asyncio.run(
                self.websocket(
                    self.token,
                    [
                        {
                            "type": "assist_pipeline/pipeline/set_preferred",
                            "pipeline_id": pipeline["id"],
                        }
                    ],
                )
            )
            self.assist_pipeline_created = True
            _LOGGER.info("created the Assist pipeline %r, HA's preferred one", ASSIST_PIPELINE)
        self.assist_pipeline = pipeline

        def allow(values: dict[str, Any]) -> bool:
            assist = values.get("assist", {})
            callers = list(assist.get("assist_callers") or [])
            if ASSIST_CALLER in callers:
                return False
            values["assist"] = assist | {"assist_callers": [*callers, ASSIST_CALLER]}
            return True

        if self._change_options(allow, "Assist"):
            _LOGGER.info("Assist answers calls from %s", ASSIST_CALLER)
        return True

    def _speak_for_caller(self, text: str, path: Path) -> None:
        """``text`` in the emulator caller's voice, as a WAV file (once)."""
        if not path.exists():
            subprocess.run([*ESPEAK_CALLER, "-w", str(path), text], check=True, capture_output=True)

    def _entity(self, entry: dict[str, Any], domain: str) -> str:
        """The entity of ``domain`` (``tts``, ``stt``) that the config entry provides."""
        assert self.token is not None
        [registry] = asyncio.run(
            self.websocket(self.token, [{"type": "config/entity_registry/list"}])
        )
        for item in registry:
            if item["config_entry_id"] == entry["entry_id"] and item["entity_id"].startswith(
                f"{domain}."
            ):
                return str(item["entity_id"])
        raise StackError(f"the {entry['title']} entry has no {domain} entity; see {self.hass_log}")

    def _change_options(self, change: Callable[[dict[str, Any]], bool], what: str) -> bool:
        """Run the Callstack entry's options flow with ``change`` applied to its current
        values (sections as nested dicts); when ``change`` says there is nothing to do,
        abort the flow. Waits until the entry has reloaded. Whether it changed anything."""
        assert self.entry is not None
        entry_id = self.entry["entry_id"]
        form = self._ok("POST", "/api/config/config_entries/options/flow", {"handler": entry_id})
        values = _suggested(form["data_schema"])
        if not change(values):
            self._ok("DELETE", f"/api/config/config_entries/options/flow/{form['flow_id']}")
            return False
        result = self._ok(
            "POST", f"/api/config/config_entries/options/flow/{form['flow_id']}", values
        )
        if result.get("type") != "create_entry":
            raise StackError(f"the {what} options were refused: {result}")
        time.sleep(0.5)  # the entry reloads with its new options
        self.entry = self.wait_entry_loaded(entry_id)
        return True

    def wait_emulator(self) -> EmulatorPorts:
        """Wait for the emulator's state file; point RUN/by-id/ at its ports."""
        assert self.emulator is not None
        deadline = time.monotonic() + EMULATOR_START_TIMEOUT
        while not self.state_file.exists() or not self.control.exists():
            if self.emulator.poll() is not None:
                raise StackError(
                    f"the emulator exited with {self.emulator.returncode}:\n"
                    + _tail(self.emulator_log)
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"the emulator wrote no {self.state_file} in {EMULATOR_START_TIMEOUT:.0f} s:\n"
                    + _tail(self.emulator_log)
                )
            time.sleep(0.05)
        state = json.loads(self.state_file.read_text())
        by_id = self.run_dir / "by-id"
        by_id.mkdir(exist_ok=True)
        links = []
        for key in ("at_link", "audio_link"):
            # The emulator's own links live in a fresh temporary directory on every start; these
            # point at them so the config entry's ports stay the same from one run to the next
            # (and still follow the emulator when it "re-enumerates" a port).
            emulator_link = Path(state[key])
            link = by_id / emulator_link.name
            staging = link.with_name(link.name + ".new")
            staging.unlink(missing_ok=True)
            staging.symlink_to(emulator_link)
            staging.replace(link)
            links.append(link)
        self.ports = EmulatorPorts(links[0], links[1], state["at_path"], state["audio_path"])
        _LOGGER.info("emulator up: AT %s, audio %s", state["at_path"], state["audio_path"])
        return self.ports

    def start_hass(self) -> None:
        """Start Home Assistant on the config directory; return once its HTTP API answers."""
        self.spawn_hass()
        self.wait_hass()

    def spawn_hass(self) -> None:
        """Start the Home Assistant process, unless something listens on its port already."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # Like HA's own listener: connections of a previous run in TIME_WAIT do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, self.port))
            except OSError:
                raise StackError(
                    f"{HOST}:{self.port} is in use: is another Home Assistant running? "
                    "(scripts/run --port PORT picks another one)"
                ) from None
        self.hass = self._spawn(
            [self.python, "-m", "homeassistant", "-c", str(self.config_dir), "--skip-pip"],
            cwd=self.config_dir,
            output=self.hass_output,
            env={
                "CALLSTACK_DEV_PORT": str(self.port),
                "CALLSTACK_DEV_MEDIA_DIR": str((self.config_dir / "media").resolve()),
            },
        )

    def wait_hass(self) -> None:
        """Wait until HA's HTTP API answers; StackError if HA exits or takes too long."""
        assert self.hass is not None
        deadline = time.monotonic() + HASS_START_TIMEOUT
        while True:
            if self.hass.poll() is not None:
                raise StackError(
                    f"Home Assistant exited with {self.hass.returncode}:\n"
                    + _tail(self.hass_output)
                )
            # onboarding, auth, api and config (the frontend's dependencies) are set up before
            # HA listens. /api/onboarding is 404 once onboarding is over.
            try:
                status, _ = self.request("GET", "/api/onboarding", timeout=2)
            except (OSError, http.client.HTTPException):
                status = 0
            if status in (200, 404):
                break
            if time.monotonic() > deadline:
                raise StackError(
                    f"Home Assistant did not answer on {self.base_url} in "
                    f"{HASS_START_TIMEOUT:.0f} s; see {self.hass_log}"
                )
            time.sleep(0.25)
        _LOGGER.info("Home Assistant answers on %s", self.base_url)

    def _spawn(
        self, command: list[str], *, cwd: Path, output: Path, env: Mapping[str, str]
    ) -> subprocess.Popen[bytes]:
        log = output.open("ab")
        self._logs.append(log)
        log.write(f"---- {dt.datetime.now().isoformat(timespec='seconds')} {command}\n".encode())
        log.flush()
        return subprocess.Popen(
            [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command],
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # ---- onboarding and the access token -----------------------------------------------

    def onboard(self) -> str:
        """Finish onboarding as the dev user (first start) and make sure we have a token."""
        status, steps = self.request("GET", "/api/onboarding")
        if status == 404:  # onboarded: HA does not even register the onboarding views
            steps = []
        elif status != 200:
            raise StackError(f"GET /api/onboarding answered {status}: {steps}")
        pending = [step["step"] for step in steps if not step["done"]]
        access: str | None = None
        if "user" in pending:
            _LOGGER.info("onboarding: creating the user %r", DEV_USERNAME)
            result = self._ok(
                "POST",
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": DEV_NAME,
                    "username": DEV_USERNAME,
                    "password": DEV_PASSWORD,
                    "language": "en",
                },
            )
            access = self._token_from_code(result["auth_code"])
            pending.remove("user")
            self.fresh_config = True
        token = self._saved_token()
        if token is None or pending:
            access = access or self._login()
        for step in pending:
            _LOGGER.info("onboarding: %s", step)
            body: dict[str, Any] = {}
            if step == "integration":
                body = {
                    "client_id": self.client_id,
                    "redirect_uri": f"{self.client_id}?auth_callback=1",
                }
            self._ok("POST", f"/api/onboarding/{step}", body, token=access)
        commands: list[dict[str, Any]] = []
        if self.fresh_config:
            commands.append({"type": "config/core/update", **CORE_CONFIG})
        if token is None:
            stamp = dt.datetime.now().isoformat(timespec="seconds")
            commands.append(
                {
                    "type": "auth/long_lived_access_token",
                    "client_name": f"{TOKEN_NAME} {stamp}",
                    "lifespan": TOKEN_DAYS,
                }
            )
        results: list[Any] = []
        if commands:
            assert access is not None
            results = asyncio.run(self.websocket(access, commands))
        if token is None:
            token = str(results[-1])
            self.token_file.unlink(missing_ok=True)
            descriptor = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(token + "\n")
            _LOGGER.info("saved a long-lived access token in %s", self.token_file)
        self.token = token
        return token

    @property
    def client_id(self) -> str:
        """The OAuth client id HA's own frontend uses on this URL."""
        return f"{self.base_url}/"

    def _saved_token(self) -> str | None:
        try:
            token = self.token_file.read_text().strip()
        except FileNotFoundError:
            return None
        status, _ = self.request("GET", "/api/", token=token)
        return token if status == 200 else None

    def _login(self) -> str:
        """Log in as the dev user through the login flow; returns an access token."""
        flow = self._ok(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = self._ok(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": DEV_USERNAME, "password": DEV_PASSWORD},
        )
        if result.get("type") != "create_entry":
            raise StackError(
                f"cannot log in as {DEV_USERNAME!r} with the password {DEV_PASSWORD!r} "
                f"({result.get('errors')}). Was {self.config_dir} onboarded by hand? "
                f"Remove {self.config_dir}/.storage to start over."
            )
        return self._token_from_code(result["result"])

    def _token_from_code(self, code: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        tokens = self._ok("POST", "/auth/token", form=form)
        access: str = tokens["access_token"]
        return access

    async def websocket(self, token: str, commands: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Send `commands` over HA's websocket API, one after the other; their results."""
        results = []
        connector = aiohttp.TCPConnector(resolver=aiohttp.ThreadedResolver())
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.ws_connect(f"ws://{HOST}:{self.port}/api/websocket") as ws,
        ):
            await ws.receive_json(timeout=HTTP_TIMEOUT)  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            reply = await ws.receive_json(timeout=HTTP_TIMEOUT)
            if reply.get("type") != "auth_ok":
                raise StackError(f"websocket authentication failed: {reply}")
            for number, command in enumerate(commands, start=1):
                await ws.send_json({"id": number, **command})
                reply = await ws.receive_json(timeout=HTTP_TIMEOUT)
                if not reply.get("success"):
                    raise StackError(f"websocket {command['type']} failed: {reply.get('error')}")
                results.append(reply.get("result"))
        return results

    def confirm_http_config(self) -> None:
        """Keep the HTTP settings of configuration.yaml (HA 2026.11 and later).

        HA 2026.11 moves the `http:` settings into its storage on the first start and runs
        them on trial: unless the user confirms them within minutes ("Confirm new HTTP
        server configuration"), HA reverts to port 8123 and restarts. The settings are the
        stack's own (loopback, its port), so it confirms them like the user would. Older HA
        has no such command, and nothing to confirm.
        """
        assert self.token is not None
        try:
            [config] = asyncio.run(self.websocket(self.token, [{"type": "http/config"}]))
        except StackError as err:
            if "unknown_command" in str(err):
                return
            raise
        pending = config.get("pending")
        if pending is not None and pending.get("error") is None:
            asyncio.run(self.websocket(self.token, [{"type": "http/config/promote"}]))
            _LOGGER.info("confirmed the HTTP settings of configuration.yaml (HA 2026.11+)")

    # ---- the Callstack config entry ----------------------------------------------------

    def ensure_entry(self, sim_pin: str | None = None) -> dict[str, Any]:
        """Add the Callstack entry for the emulator, unless there is one; wait until loaded."""
        entries = self.entries()
        if entries:
            self.entry = entries[0]
            _LOGGER.info("Callstack entry exists already: %s", self.entry["title"])
        else:
            self.entry = self._create_entry(sim_pin)
            self.entry_created = True
        self.entry = self.wait_entry_loaded(self.entry["entry_id"])
        return self.entry

    def entries(self, domain: str = DOMAIN) -> list[dict[str, Any]]:
        """The config entries of ``domain`` (Callstack's by default)."""
        entries: list[dict[str, Any]] = self._ok(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    def _create_entry(self, sim_pin: str | None) -> dict[str, Any]:
        assert self.ports is not None
        answers: dict[str, dict[str, Any]] = {
            "user": {CONF_AT_PORT: MANUAL_ENTRY},
            "manual": {CONF_AT_PORT: str(self.ports.at_link)},
            "audio": {CONF_AUDIO_PORT: str(self.ports.audio_link)},
        }
        if sim_pin is not None:
            answers["pin"] = {CONF_SIM_PIN: sim_pin}
        result = self._ok(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": False},
        )
        flow_id = result.get("flow_id")
        answered: set[str] = set()
        try:
            while result["type"] == "form":
                step = result["step_id"]
                if result.get("errors"):
                    raise StackError(f"config flow step {step!r} failed: {result['errors']}")
                if step == "pin" and step not in answers:
                    raise StackError("the SIM asks for its PIN: pass --sim-pin PIN")
                if step not in answers or step in answered:
                    raise StackError(f"config flow: no answer for step {step!r}: {result}")
                answered.add(step)
                shown = {
                    key: "***" if key == CONF_SIM_PIN else v for key, v in answers[step].items()
                }
                _LOGGER.info("config flow: %s %s", step, shown)
                result = self._ok(
                    "POST", f"/api/config/config_entries/flow/{flow_id}", answers[step]
                )
            if result["type"] != "create_entry":
                raise StackError(f"config flow ended with {result['type']}: {result}")
        except BaseException:
            if flow_id is not None and result.get("type") == "form":
                with contextlib.suppress(OSError, http.client.HTTPException):
                    self.request("DELETE", f"/api/config/config_entries/flow/{flow_id}")
            raise
        entry: dict[str, Any] = result["result"]
        _LOGGER.info("created the Callstack entry %s", entry["title"])
        return entry

    def wait_entry_loaded(
        self, entry_id: str, timeout: float = ENTRY_LOAD_TIMEOUT
    ) -> dict[str, Any]:
        """Wait until the entry is loaded; StackError with HA's reason if it does not load."""
        entry = self._wait_loaded(DOMAIN, entry_id, timeout)
        if entry.get("state") == "loaded":
            return entry
        hint = ""
        if not self.entry_created and self.ports is not None:
            hint = (
                f"\nIf the entry was made for other ports than {self.ports.at_link.parent}/..., "
                f"reconfigure it in HA or remove {self.config_dir}/.storage to start over."
            )
        raise StackError(
            f"the Callstack entry is {entry.get('state')} ({entry.get('reason')}) after "
            f"{timeout:.0f} s; see {self.hass_log}{hint}"
        )

    def _wait_loaded(self, domain: str, entry_id: str, timeout: float) -> dict[str, Any]:
        """The entry once loaded, or as it is when it failed or ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        entry: dict[str, Any] = {}
        while time.monotonic() < deadline:
            entry = next((e for e in self.entries(domain) if e["entry_id"] == entry_id), {})
            if entry.get("state") in ("loaded", "setup_error", "migration_error", "failed_unload"):
                break
            time.sleep(0.25)
        return entry

    # ---- helpers -----------------------------------------------------------------------

    def ctl(self, *args: str) -> Any:
        """Run `python -m sim7600_emulator ctl --control RUN/emulator.sock ARGS`; its result."""
        done = subprocess.run(
            [self.python, "-m", "sim7600_emulator", "ctl", "--control", str(self.control), *args],
            cwd=REPO,
            capture_output=True,
            timeout=HTTP_TIMEOUT,
            check=False,
        )
        try:
            reply = json.loads(done.stdout)
        except ValueError:
            reply = {"ok": False, "error": (done.stdout + done.stderr).decode(errors="replace")}
        if not reply.get("ok"):
            raise StackError(f"ctl {' '.join(args)} failed: {reply}")
        return reply.get("result")

    def states(self) -> list[dict[str, Any]]:
        """GET /api/states."""
        states: list[dict[str, Any]] = self._ok("GET", "/api/states")
        return states

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        form: Mapping[str, str] | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> tuple[int, Any]:
        """One HTTP request to HA; (status, JSON body or text). Uses self.token by default."""
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if (bearer := token or self.token) is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def _ok(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        status, result = self.request(method, path, body, token=token, form=form)
        if not 200 <= status < 300:
            raise StackError(f"{method} {path} answered {status}: {result}")
        return result

    # ---- stop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop HA (it saves its state), then the emulator; kill what is left. Idempotent."""
        if self.hass is not None:
            _stop_group(self.hass, HASS_STOP_TIMEOUT, "Home Assistant")
            self.hass = None
        if self.emulator is not None:
            _stop_group(self.emulator, EMULATOR_STOP_TIMEOUT, "the emulator")
            self.emulator = None
        if self.tts is not None:
            _stop_group(self.tts, EMULATOR_STOP_TIMEOUT, "the TTS server")
            self.tts = None
        if self.stt is not None:
            _stop_group(self.stt, EMULATOR_STOP_TIMEOUT, "the STT server")
            self.stt = None
        if self.assist_stt is not None:
            _stop_group(self.assist_stt, EMULATOR_STOP_TIMEOUT, "Assist's STT server")
            self.assist_stt = None
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(
    config_dir: Path = DEFAULT_CONFIG,
    run_dir: Path = DEFAULT_RUN,
    port: int = DEFAULT_PORT,
    *,
    sim_pin: str | None = None,
    tts_port: int = DEFAULT_TTS_PORT,
    python: str = sys.executable,
    stt_port: int = DEFAULT_STT_PORT,
    assist_stt_port: int = DEFAULT_ASSIST_STT_PORT,
) -> Stack:
    """Start the emulator, the TTS server and HA, onboard, add the Callstack and Wyoming
    entries; stop all on failure.

    `python` runs HA and the emulator (the stack test passes another environment's HA this way).
    """
    stack = Stack(
        config_dir=config_dir.resolve(),
        run_dir=run_dir.resolve(),
        port=port,
        tts_port=tts_port,
        python=python,
        stt_port=stt_port,
        assist_stt_port=assist_stt_port,
    )
    try:
        stack.lock()
        stack.prepare_config()
        # Both start at once (python's and HA's imports take a while). HA sets up the Callstack
        # entry of an earlier run seconds after the emulator has written its state and the
        # by-id links point at its new ptys; were it first, the entry would just retry.
        stack.spawn_emulator()
        stack.spawn_tts()
        stack.spawn_stt()
        stack.spawn_hass()
        stack.wait_emulator()
        stack.wait_hass()
        stack.onboard()
        stack.confirm_http_config()
        stack.ensure_entry(sim_pin)
        stack.ensure_tts_entry()
        stack.ensure_stt_entry()
        stack.ensure_voicemail()
        stack.ensure_assist()
    except BaseException:
        stack.stop()
        raise
    return stack


def _suggested(schema: list[dict[str, Any]]) -> dict[str, Any]:
    """A form's suggested values (HA's serialized schema), sections as nested dicts."""
    values: dict[str, Any] = {}
    for field_ in schema:
        if field_.get("type") == "expandable":
            values[field_["name"]] = _suggested(field_["schema"])
        elif (suggested := (field_.get("description") or {}).get("suggested_value")) is not None:
            values[field_["name"]] = suggested
    return values


def _stop_group(process: subprocess.Popen[bytes], timeout: float, name: str) -> None:
    """SIGTERM the process's group, wait, then SIGKILL the group; always reap the process."""
    if process.poll() is None:
        _LOGGER.info("stopping %s", name)
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _LOGGER.warning("%s did not stop in %.0f s: killing it", name, timeout)
    _signal_group(process, signal.SIGKILL)  # anything it left behind in its group
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # The group id is the child's pid (start_new_session): valid while the child is unreaped.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _write_json(path: Path, data: Any) -> None:
    staging = path.with_name(path.name + ".new")
    staging.write_text(json.dumps(data, indent=2) + "\n")
    staging.replace(path)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# ---- the command -------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """`path` relative to the current directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def instructions(stack: Stack, seconds: float) -> str:
    """What `scripts/run` prints once the stack is ready."""
    assert stack.ports is not None
    assert stack.entry is not None
    python = _shown(Path(stack.python)) if Path(stack.python).is_relative_to(REPO) else stack.python
    ctl = f"{python} -m sim7600_emulator ctl --control {_shown(stack.control)}"
    token = _shown(stack.token_file)
    return "\n".join(
        [
            "",
            f"Callstack dev stack ready in {seconds:.1f} s",
            "",
            f"  Home Assistant   {stack.base_url}   user {DEV_USERNAME}, password {DEV_PASSWORD}",
            f"  Callstack entry  {stack.entry['title']} ({stack.entry['state']}) on the emulator:",
            f"                   AT    {_shown(stack.ports.at_link)} -> {stack.ports.at_pty}",
            f"                   audio {_shown(stack.ports.audio_link)} -> {stack.ports.audio_pty}",
            f'  API token        {token}   e.g. curl -H "Authorization: Bearer $(cat {token})" '
            f"{stack.base_url}/api/states",
            f"  Logs             {_shown(stack.hass_log)}, {_shown(stack.emulator_log)}",
            "",
            f"Drive the emulated modem from a second terminal (in {REPO}):",
            f"  {ctl} ring {CALLER}       # incoming call",
            f"  {ctl} dial-outcome none           # the next outgoing call rings until...",
            f"  {ctl} answer                      # ...the far end answers it (by default it "
            "answers by itself)",
            f"  {ctl} hangup                      # the far end hangs up",
            f"  {ctl} missed                      # the caller gives up ringing",
            f"  {ctl} sms {CALLER} 'Hello from the emulator'",
            f"  {ctl} dtmf 123#                   # keys pressed during a call",
            f"  {ctl} voice wav --path speech.wav # the caller speaks a WAV file (or: voice tone)",
            f"  {ctl} voice wav --path speech.wav --hang_up_after 2  # ...then hangs up",
            f"  {ctl} save-heard heard.wav        # what HA played into calls, to listen to",
            f"  {ctl} keys 1 --after audio --delay 2  # press 1 two seconds into a prompt",
            f"  {ctl} status                      # call, settings and counters",
            f"  {ctl} --help                      # everything else (signal, sim, drop, ...)",
            "",
            *(
                [
                    "Offline text-to-speech (espeak-ng over Wyoming) during a call:",
                    "  Developer tools > Actions: callstack.say with a message, or tts.speak with",
                    "  the espeak-ng entity and the modem's Call audio media player.",
                    "",
                ]
                if stack.tts_entry is not None
                else []
            ),
            *(
                [
                    f"Voicemail (answers after {VOICEMAIL_ANSWER_AFTER} s, greeting by espeak-ng,"
                    " transcripts by pocketsphinx):",
                    f"  {ctl} ring {CALLER}",
                    "  # wait for the greeting and the beep (the call becomes active), then:",
                    f"  {ctl} voice wav --path {_shown(stack.caller_message)} --hang_up_after 2",
                    "  Media > Callstack voicemail plays it; the New voicemail sensor counts it;",
                    "  the Call event (voicemail) and Activity show it with its transcript.",
                    "",
                ]
                if stack.voicemail
                else []
            ),
            *(
                [
                    f"Call your home (Assist over the call, offline; {ASSIST_CALLER} is allowed):",
                    f"  {ctl} turns {_shown(stack.assist_question)}"
                    f"   # the caller will say {ASSIST_QUESTION!r}",
                    f"  {ctl} ring {ASSIST_CALLER}",
                    "  # Assist answers after two rings, beeps, hears the question, turns the",
                    "  # Kitchen light on and says so; after 10 s of silence it hangs up. Then:",
                    f"  {ctl} save-heard heard.wav    # Assist's answer, to listen to",
                    "",
                ]
                if stack.assist_pipeline is not None
                else []
            ),
            "Ctrl-C stops Home Assistant, the emulator and the offline TTS and STT servers.",
            "",
        ]
    )


class _Stopped(Exception):
    """SIGTERM or SIGHUP arrived."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _follow(path: Path, offset: int) -> int:
    """Copy what was appended to `path` since `offset` to stdout."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return offset
    if chunk:
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    return offset + len(chunk)


def _watch(stack: Stack, follow: bool) -> int:
    """Stay in the foreground until a signal, or until HA or the emulator dies."""
    offset = stack.hass_output.stat().st_size if follow else 0
    while True:
        for process, name, log in (
            (stack.hass, "Home Assistant", stack.hass_output),
            (stack.emulator, "The emulator", stack.emulator_log),
            (stack.tts, "The TTS server", stack.tts_log),
            (stack.stt, "The STT server", stack.stt_log),
            (stack.assist_stt, "Assist's STT server", stack.assist_stt_log),
        ):
            if process is not None and process.poll() is not None:
                _LOGGER.error("%s exited with %s:\n%s", name, process.returncode, _tail(log))
                return 1
        if follow:
            offset = _follow(stack.hass_output, offset)
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/run`: start the stack, print how to use it, wait for Ctrl-C, stop it."""
    parser = argparse.ArgumentParser(
        prog="scripts/run",
        description="Run Home Assistant with Callstack against the SIM7600 emulator.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HA's HTTP port (8123)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="HA config dir")
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN, help="emulator socket, token")
    parser.add_argument("--sim-pin", help="the PIN, if the config flow asks for one")
    parser.add_argument(
        "--tts-port", type=int, default=DEFAULT_TTS_PORT, help="the offline TTS server's port"
    )
    parser.add_argument(
        "--stt-port", type=int, default=DEFAULT_STT_PORT, help="the offline STT server's port"
    )
    parser.add_argument(
        "--assist-stt-port",
        type=int,
        default=DEFAULT_ASSIST_STT_PORT,
        help="the port of Assist's offline STT server (the commands model)",
    )
    parser.add_argument("--logs", action="store_true", help="show HA's log output here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="devstack: %(message)s")
    # Ctrl-C stops the stack even when started from a shell that ignores SIGINT (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    began = time.monotonic()
    stack: Stack | None = None
    try:
        stack = start(
            args.config,
            args.run_dir,
            args.port,
            sim_pin=args.sim_pin,
            tts_port=args.tts_port,
            stt_port=args.stt_port,
            assist_stt_port=args.assist_stt_port,
        )
        print(instructions(stack, time.monotonic() - began), flush=True)
        return _watch(stack, args.logs)
    except StackError as err:
        _LOGGER.error("%s", err)  # noqa: TRY400  (the message says it all; no traceback)
        return 1
    except (KeyboardInterrupt, _Stopped):
        print(flush=True)
        # When it came during start(), start() has stopped what it had started already.
        _LOGGER.info("stopping" if stack is not None else "interrupted")
        return 0
    finally:
        if stack is not None:
            # A second Ctrl-C while stopping would leave things half done: ignore it.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            stack.stop()
            _LOGGER.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
