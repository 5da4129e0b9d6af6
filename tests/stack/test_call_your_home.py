"""Call your home, end to end, offline: the dev stack of scripts/run (the same code, on a
copy of config/ and free ports), its real offline speech-to-text and text-to-speech.

The emulator's caller rings from the number the stack allows and says "turn on the kitchen
light" (espeak-ng, the file the stack made for the README's `ctl turns` line); Callstack
answers, HA's pipeline hears it through pocketsphinx, the built-in agent turns the Kitchen
light on, and espeak-ng's answer is played into the call. What the far end heard is saved
(`ctl save-heard`) and transcribed back by the same STT server, given HA's possible replies
as its sentences.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import importlib.util
from pathlib import Path
import shutil
import sys
import time
from typing import Any
import wave

import audioop
import pytest

from custom_components.callstack.sim7600.resample import upsample
from scripts import devstack
from tests.helpers import STACK_PYTHON

pytestmark = pytest.mark.stack

if importlib.util.find_spec("pocketsphinx") is None and sys.version_info >= (3, 14):
    # Python 3.13 has pocketsphinx's wheel (requirements_dev.txt): never skip there.
    pytest.skip(
        "pocketsphinx is not installed in this Python 3.14 environment (no cp314 wheel; "
        "scripts/setup builds it from its sdist, which needs g++ and python3.14-dev)",
        allow_module_level=True,
    )


from tests.stack.wyoming_server import transcribe, wyoming_server  # noqa: E402

# What HA's built-in agent may answer here (home-assistant-intents' English responses),
# for the transcription of the answer: a model of just these tells them apart.
REPLIES = [
    "turned on the light",
    "turned off the light",
    "sorry i couldn't understand that",
    "sorry i am not aware of any device called the kitchen",
    "sorry there are multiple devices called kitchen light",
    "the light is on",
    "the light is off",
]
RATE = 8000
QUIET_RMS = 100  # 10 ms windows below this are not speech (the emulator's own threshold)


def _poll[T](what: str, probe: Callable[[], T | None], timeout: float, why: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        if (result := probe()) is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; {why()}")
        time.sleep(0.2)


def _pipeline_runs(stack: devstack.Stack) -> str:
    """What HA's pipeline debug shows of the offline pipeline's runs: transcripts, answers."""
    assert stack.token is not None
    assert stack.assist_pipeline is not None
    pipeline = stack.assist_pipeline["id"]
    [runs] = asyncio.run(
        stack.websocket(
            stack.token,
            [{"type": "assist_pipeline/pipeline_debug/list", "pipeline_id": pipeline}],
        )
    )
    seen = []
    for run in runs["pipeline_runs"]:
        [debug] = asyncio.run(
            stack.websocket(
                stack.token,
                [
                    {
                        "type": "assist_pipeline/pipeline_debug/get",
                        "pipeline_id": pipeline,
                        "pipeline_run_id": run["pipeline_run_id"],
                    }
                ],
            )
        )
        for event in debug["events"]:
            if event["type"] in ("stt-end", "tts-start", "error"):
                seen.append(f"{event['type']} {event['data']}")
    return "the pipeline runs: " + "; ".join(seen)


def _state(stack: devstack.Stack, entity_id: str) -> dict[str, Any]:
    state: dict[str, Any] = stack._ok("GET", f"/api/states/{entity_id}")
    return state


def _longest_sound(pcm: bytes) -> float:
    """Seconds of the longest stretch of sound, gaps under 0.3 s (between words) bridged."""
    window = RATE // 100 * 2
    loud = [
        audioop.rms(pcm[offset : offset + window], 2) >= QUIET_RMS
        for offset in range(0, len(pcm), window)
    ]
    longest = run = gap = 0
    for is_loud in loud:
        if is_loud:
            run, gap = run + gap + 1, 0
            longest = max(longest, run)
        elif run:
            gap += 1
            if gap >= 30:
                run = gap = 0
    return longest / 100


async def _transcribe_answer(replies: Path, heard: bytes) -> str:
    """What the STT server with ``replies`` as its sentences hears in the 8 kHz ``heard``."""
    silence = bytes(RATE)  # half a second on either side, as a recording would have
    async with wyoming_server(devstack.STT_SCRIPT, "--sentences", str(replies), timeout=30) as port:
        return await transcribe(port, upsample(silence + heard + silence), 16000)


@pytest.mark.timeout(240)
def test_a_caller_turns_on_the_kitchen_light(tmp_path: Path, socket_enabled: None) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(devstack.DEFAULT_CONFIG / "configuration.yaml", config)
    ports = {
        name: devstack.free_port() for name in ("port", "tts_port", "stt_port", "assist_stt_port")
    }
    stack = devstack.start(config, tmp_path / "run", python=STACK_PYTHON, **ports)
    try:
        # The offline pipeline is HA's preferred one, and Assist answers the stack's caller.
        assert stack.assist_pipeline is not None
        assert stack.assist_pipeline_created
        assert stack.token is not None
        [listed] = asyncio.run(
            stack.websocket(stack.token, [{"type": "assist_pipeline/pipeline/list"}])
        )
        assert listed["preferred_pipeline"] == stack.assist_pipeline["id"]
        assert stack.assist_pipeline["conversation_engine"] == devstack.ASSIST_AGENT
        assert stack.assist_pipeline["stt_engine"].startswith("stt.")
        assert _state(stack, devstack.KITCHEN_LIGHT)["state"] == "off"
        satellite = next(
            s["entity_id"] for s in stack.states() if s["entity_id"].startswith("assist_satellite.")
        )

        stack.ctl("turns", str(stack.assist_question))
        stack.ctl("ring", devstack.ASSIST_CALLER)
        _poll(
            "the Kitchen light on",
            lambda: _state(stack, devstack.KITCHEN_LIGHT)["state"] == "on" or None,
            timeout=60,
            why=lambda: _pipeline_runs(stack),
        )
        # The answer has been played once the satellite listens for the next turn.
        _poll(
            "Assist listening again after its answer",
            lambda: _state(stack, satellite)["state"] == "listening" or None,
            timeout=30,
            why=lambda: _pipeline_runs(stack),
        )
        stack.ctl("hangup")
        heard = stack.ctl("save-heard", str(tmp_path / "heard.wav"))
        with wave.open(heard["path"], "rb") as wav:
            assert wav.getframerate() == RATE
            pcm = wav.readframes(wav.getnframes())
        # Speech, not just the prompt's beeps (0.2 s): espeak-ng's answer.
        assert _longest_sound(pcm) > 0.6

        answer = asyncio.run(_transcribe_answer(_replies(tmp_path), pcm))
        assert "turned on the light" in answer, f"heard {answer!r}; {_pipeline_runs(stack)}"
    finally:
        stack.stop()


def _replies(folder: Path) -> Path:
    path = folder / "replies.txt"
    path.write_text("\n".join(REPLIES) + "\n")
    return path
