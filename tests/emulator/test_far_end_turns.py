"""The far end takes turns: each WAV is spoken once the host's reply has ended (or on
say-next), trimmed to its speech, with the times its first and last sample went out."""

from __future__ import annotations

from pathlib import Path
import wave

import pytest

from sim7600_emulator import Sim7600Emulator
from sim7600_emulator.control import execute
from sim7600_emulator.far_end_turns import Turns, trimmed

RATE = 8000


def wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)
    return path


def loud(samples: int) -> bytes:
    return (b"\x00\x20" + b"\x00\xe0") * (samples // 2)


def test_quiet_around_the_speech_is_trimmed() -> None:
    speech = loud(800)
    assert trimmed(bytes(1600) + speech + bytes(1600), RATE) == speech


def test_each_turn_waits_for_the_hosts_reply_to_end(tmp_path: Path) -> None:
    turns = Turns([wav(tmp_path / "a.wav", loud(320)), wav(tmp_path / "b.wav", loud(320))])
    turns.restart(RATE)
    frame = 160
    assert turns.take(frame) == bytes(320)  # nothing heard yet: silent
    turns.heard(320)  # the prompt
    # Quiet for less than the gap: still waiting.
    assert all(turns.take(frame) == bytes(320) for _ in range(int(0.6 * RATE / frame) - 1))
    spoken = [turns.take(frame) for _ in range(3)]
    assert spoken[-1] != bytes(320)  # the first utterance, after 0.6 s of quiet
    while turns.spoken[0]["ended_ns"] is None:
        turns.take(frame)
    assert turns.take(frame) == bytes(320)  # done: silent until the next reply
    assert not turns.finished
    turns.heard(320)
    for _ in range(40):
        turns.take(frame)
    assert turns.spoken[1]["started_ns"] is not None
    assert turns.spoken[0]["ended_ns"] <= turns.spoken[1]["started_ns"]


def test_ctl_cue_speaks_only_when_told(tmp_path: Path) -> None:
    turns = Turns([wav(tmp_path / "a.wav", loud(320))], cue="ctl")
    turns.restart(RATE)
    turns.heard(320)
    assert all(turns.take(160) == bytes(320) for _ in range(100))
    assert turns.say_next() == "a.wav"
    assert turns.take(160) != bytes(320)
    assert turns.say_next() is None  # speaking already, and nothing after it


def test_bad_turns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        Turns([])
    with pytest.raises(ValueError, match="cue"):
        Turns([wav(tmp_path / "a.wav", loud(320))], cue="later")


async def test_turns_and_say_next_over_the_control_channel(
    emulator: Sim7600Emulator, tmp_path: Path
) -> None:
    reply = await execute(emulator, {"command": "say-next", "args": {}})
    assert not reply["ok"]  # no turns yet
    path = wav(tmp_path / "a.wav", loud(320))
    request = {"command": "turns", "args": {"paths": str(path), "cue": "ctl"}}
    reply = await execute(emulator, request)
    assert reply["ok"], reply
    assert reply["result"]["voice"] == "turns: a.wav"
    reply = await execute(emulator, {"command": "say-next", "args": {}})
    assert reply["ok"], reply
    assert reply["result"]["saying"] == "a.wav"
