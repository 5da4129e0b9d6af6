"""Voicemail in the driver: telling speech from a silent line, and recording a message
that ends on hang-up, the end key, silence or its maximum length."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import math
from pathlib import Path
import subprocess
from typing import Any
import wave

import pytest

from custom_components.callstack.sim7600 import audio as audio_module
from custom_components.callstack.sim7600.audio import SilenceEnd
from custom_components.callstack.sim7600.audio_source import PcmSource
from custom_components.callstack.sim7600.errors import (
    AudioBridgeNotRunningError,
    InvalidArgumentError,
)
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from custom_components.callstack.sim7600.silence import (
    DEFAULT_THRESHOLD_DBFS,
    SpeechActivity,
    level_dbfs,
)
from custom_components.callstack.sim7600.voicemail import (
    AnswerRules,
    CallerFilter,
    MessageEnd,
    MessageRules,
    RecordedMessage,
    VoicemailEngine,
    beep_pcm,
    is_empty,
    record_message,
)
from sim7600_emulator import Sim7600Emulator
from sim7600_emulator.far_end_voice import Voice, wav_voice
from tests.helpers import recorded, until

from .conftest import CALLER, answer
from .test_audio import files_in

SPEECH = (
    "Hello, this is Anna from the garage. Your car is ready, you can pick it up any time "
    "after four. Call me back on my mobile, thanks. Bye."
)


def _pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        return wav.readframes(wav.getnframes())


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real speech (espeak-ng, converted to the call's 8 kHz with sox, as loud as espeak
    speaks and 20 dB quieter) and line noise (sox's generators at 1 % of full scale)."""
    folder = tmp_path_factory.mktemp("voicemail-material")
    spoken = folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-w", str(spoken), SPEECH], check=True, capture_output=True)
    out = {}
    _sox(str(spoken), "-r", "8000", "-b", "16", "-c", "1", str(folder / "speech.wav"))
    _sox(
        str(spoken), "-r", "8000", "-b", "16", "-c", "1", str(folder / "quiet.wav"), "vol", "-20dB"
    )
    for noise in ("white", "pink"):
        _sox(
            "-R", "-n", "-r", "8000", "-b", "16", "-c", "1", str(folder / f"{noise}.wav"),
            "synth", "5", f"{noise}noise", "vol", "0.01",
        )  # fmt: skip
    for name in ("speech", "quiet", "white", "pink"):
        out[name] = _pcm(folder / f"{name}.wav")
    return out


def _trimmed(pcm: bytes) -> bytes:
    """The speech without espeak's leading and trailing digital silence."""
    samples = memoryview(pcm).cast("h")
    loud = [i for i, sample in enumerate(samples) if abs(sample) > 64]
    return pcm[loud[0] * 2 : (loud[-1] + 1) * 2]


def _longest_silence(pcm: bytes, threshold: float = DEFAULT_THRESHOLD_DBFS) -> float:
    activity = SpeechActivity(8000, threshold)
    longest = 0.0
    for offset in range(0, len(pcm), 333):  # reads that split frames anywhere
        activity.feed(pcm[offset : offset + 333])
        longest = max(longest, activity.silent_seconds)
    return longest


@pytest.mark.parametrize(
    ("name", "min_speech", "max_pause"),
    [("speech", 0.7, 0.5), ("quiet", 0.4, 0.8)],
)
def test_the_default_threshold_hears_real_speech_as_speech(
    material: dict[str, bytes], name: str, min_speech: float, max_pause: float
) -> None:
    """Speech at espeak's level and 20 dB below it: most of it heard as speech, and no
    pause between words anywhere near the shortest silence an option allows (0.5 s is
    allowed, 5 s is the default)."""
    pcm = _trimmed(material[name])
    activity = SpeechActivity(8000)
    activity.feed(pcm)
    seconds = len(pcm) / 16000
    assert activity.speech_seconds / seconds >= min_speech
    assert _longest_silence(pcm) <= max_pause


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_line_noise_and_digital_silence_are_silence(material: dict[str, bytes], noise: str) -> None:
    pcm = material[noise]
    # The loudest 20 ms of the noise stays 2 dB or more below the threshold.
    assert max(level_dbfs(pcm[i : i + 320]) for i in range(0, len(pcm), 320)) < (
        DEFAULT_THRESHOLD_DBFS - 2
    )
    activity = SpeechActivity(8000)
    activity.feed(pcm)
    activity.feed(bytes(8000))
    assert activity.speech_seconds == 0
    assert activity.silent_seconds == pytest.approx(len(pcm) / 16000 + 0.5, abs=0.02)


def test_one_click_is_not_speech_but_two_loud_frames_are() -> None:
    loud = (12000).to_bytes(2, "little", signed=True) * 160
    activity = SpeechActivity(8000)
    activity.feed(bytes(3200) + loud + bytes(3200))
    assert activity.speech_seconds == 0
    assert activity.silent_seconds == pytest.approx(0.42)
    activity.feed(loud + loud)
    assert activity.speech_seconds == pytest.approx(0.04)
    assert activity.silent_seconds == 0
    assert math.isinf(level_dbfs(bytes(320)))


@pytest.mark.parametrize("threshold", [-80.0, -10.0, math.nan])
def test_a_threshold_outside_the_range_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        SpeechActivity(8000, threshold)


def test_a_recording_with_a_silence_end_stops_after_that_much_silence() -> None:
    """Fed in reads of any size, the recording ends once the caller has been silent for
    the time asked, counted in whole 20 ms frames from the last speech."""

    async def run() -> tuple[str, int, float]:
        activity = SpeechActivity(8000)
        recording = audio_module._Recording(80000, "", skip=0, activity=activity, silence_frames=50)
        speech = (9000).to_bytes(2, "little", signed=True) * 8000  # 1 s loud
        stream = speech + bytes(32000)  # then 2 s of silence
        for offset in range(0, len(stream), 999):
            recording.feed(stream[offset : offset + 999])
            if recording.ended.done():
                break
        return await recording.ended, recording.samples, activity.speech_seconds

    ended_by, samples, speech_seconds = asyncio.run(run())
    assert ended_by == "silence"
    assert speech_seconds == 1.0
    # 1 s of speech, then 1 s of silence, cut at the read that completed the 50th frame.
    assert 16000 <= samples < 16000 + 999


@pytest.mark.parametrize(
    ("duration", "speech", "empty"),
    [(0.0, 0.0, True), (9.9, 0.0, True), (10.0, 0.0, False), (2.0, 0.04, False)],
)
def test_the_empty_verdict_is_silence_and_short(
    duration: float, speech: float, empty: bool
) -> None:
    assert is_empty(duration, speech, MessageRules(min_seconds=10.0)) is empty


@pytest.mark.parametrize(
    "rules",
    [
        {"max_seconds": 0},
        {"max_seconds": math.inf},
        {"silence_seconds": 0.1},
        {"threshold_dbfs": 0.0},
        {"min_seconds": -1},
        {"end_key": "##"},
        {"end_key": "x"},
    ],
)
def test_impossible_rules_are_refused(rules: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        MessageRules(**rules)  # type: ignore[arg-type]


async def test_a_message_ends_on_the_end_key_only(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    await answer(emulator, modem)
    target = tmp_path / "message.wav"
    recording = asyncio.ensure_future(record_message(modem, target, MessageRules()))
    await recorded(modem, 3.0)  # the far end's voice, in stream time
    await emulator.send_dtmf("5")
    await asyncio.sleep(0.1)
    assert not recording.done()
    await emulator.send_dtmf("#")
    message = await recording
    assert message.ended_by is MessageEnd.KEY
    assert message.path == target
    assert message.speech_seconds > 2.0
    assert 3.0 <= message.duration < 60.0  # the key ended it, long before max_seconds
    assert len(_pcm(target)) == round(message.duration * 8000) * 2


async def test_a_message_ends_when_the_caller_hangs_up(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    await answer(emulator, modem)
    recording = asyncio.ensure_future(
        record_message(modem, tmp_path / "message.wav", MessageRules())
    )
    await asyncio.sleep(0.1)
    await emulator.remote_hang_up()
    message = await recording
    assert message.ended_by is MessageEnd.HANG_UP
    assert message.kept


async def test_a_message_ends_at_its_maximum_length(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    await answer(emulator, modem)
    message = await record_message(modem, tmp_path / "message.wav", MessageRules(max_seconds=3))
    assert message.ended_by is MessageEnd.MAX_LENGTH
    assert message.duration == 3.0


async def test_no_message_without_the_bridge(modem: Modem, tmp_path: Path) -> None:
    with pytest.raises(AudioBridgeNotRunningError):
        await record_message(modem, tmp_path / "message.wav", MessageRules())
    assert files_in(tmp_path) == []


async def test_the_silence_end_is_checked(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    await answer(emulator, modem)
    for rule in (SilenceEnd(0), SilenceEnd(5, -5.0)):
        with pytest.raises(InvalidArgumentError):
            await modem.record(tmp_path / "x.wav", 5, end_on_silence=rule)
    assert files_in(tmp_path) == []


# ---- the engine: answering calls nobody answers --------------------------------------------


@dataclass
class Box:
    """What the engine delivers, and a greeting that plays a tone the far end can find."""

    folder: Path
    modem: Modem
    delivered: list[tuple[RecordedMessage, str | None]] = field(default_factory=list)
    greeted: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def prepare(self) -> Path:
        return self.folder / f"message-{len(self.delivered)}.wav"

    async def deliver(self, message: RecordedMessage, number: str | None) -> None:
        self.delivered.append((message, number))
        self.arrived.set()

    async def greeting(self) -> None:
        self.greeted += 1
        await self.modem.play(PcmSource(GREETING, 8000))


GREETING = b"".join(
    round(6000 * math.sin(2 * math.pi * 600 * n / 8000)).to_bytes(2, "little", signed=True)
    for n in range(8000)
)  # 1 s at 600 Hz


def engine_for(
    modem: Modem,
    tmp_path: Path,
    *,
    greeting: bool = True,
    message: MessageRules | None = None,
    **answer: Any,
) -> tuple[VoicemailEngine, Box]:
    """A started engine answering after 1 s (or as ``answer`` says), delivering to a Box."""
    box = Box(tmp_path, modem)
    engine = VoicemailEngine(
        modem,
        AnswerRules(**{"answer_after": 1.0, **answer}),
        message or MessageRules(max_seconds=60),
        greeting=box.greeting if greeting else None,
        prepare=box.prepare,
        deliver=box.deliver,
    )
    engine.start()
    return engine, box


async def test_an_unanswered_call_gets_the_greeting_a_beep_and_is_recorded(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    engine, box = engine_for(modem, tmp_path)
    loop = asyncio.get_running_loop()
    rang = loop.time()
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.snapshot.call_state is CallState.ACTIVE, timeout=10)
    assert loop.time() - rang >= 1.0  # after the rings, not before
    await until(lambda: modem.audio.busy)  # the greeting plays
    await until(lambda: modem.audio._recording is not None, timeout=10)
    # The far end heard the greeting, then the beep (its last bytes may still be on the
    # way through the port when the recording starts).
    await until(lambda: beep_pcm(8000) in bytes(emulator.audio_received))
    heard = bytes(emulator.audio_received)
    assert GREETING in heard
    assert heard.index(beep_pcm(8000)) > heard.index(GREETING)
    await recorded(modem, 2.0)  # the caller's voice, in stream time
    await emulator.remote_hang_up()
    await asyncio.wait_for(box.arrived.wait(), 10)
    [(message, number)] = box.delivered
    assert number == CALLER
    assert message.ended_by is MessageEnd.HANG_UP
    assert message.kept
    assert message.path is not None
    assert message.speech_seconds > 1.0
    assert box.greeted == 1
    await engine.stop()


async def test_the_end_key_ends_the_message_and_voicemail_hangs_up(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    engine, box = engine_for(modem, tmp_path, greeting=False)
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.audio._recording is not None, timeout=10)
    await asyncio.sleep(0.1)
    await emulator.send_dtmf("#")
    await asyncio.wait_for(box.arrived.wait(), 10)
    [(message, _)] = box.delivered
    assert message.ended_by is MessageEnd.KEY
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert emulator.call is None  # we hung up: nothing is left hanging
    await engine.stop()


async def test_a_call_answered_by_someone_else_first_is_left_alone(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    engine, box = engine_for(modem, tmp_path, answer_after=1.0)
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()  # the user's automation
    await until(lambda: modem.audio.running)
    await asyncio.sleep(1.5)
    assert modem.audio._recording is None
    assert not modem.audio.busy
    assert box.delivered == []
    assert box.greeted == 0
    assert modem.snapshot.call_state is CallState.ACTIVE
    await modem.hang_up()
    await engine.stop()


async def test_the_caller_hanging_up_during_the_greeting_leaves_no_message(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    engine, box = engine_for(modem, tmp_path)
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.audio.busy, timeout=10)
    await emulator.remote_hang_up()
    await asyncio.wait_for(box.arrived.wait(), 10)
    [(message, _)] = box.delivered
    assert not message.kept
    assert message.ended_by is MessageEnd.HANG_UP
    assert files_in(tmp_path) == []
    await engine.stop()


@pytest.mark.parametrize(
    ("callers", "known", "number", "answered"),
    [
        (CallerFilter.KNOWN, frozenset({"+4915550000001"}), "+49 155 5000 0001", True),
        (CallerFilter.KNOWN, frozenset({"+4915550000002"}), CALLER, False),
        # As the network presents the caller, national or with 00: the same subscriber
        # (the one rule Assist's allowed callers follow too: validate.same_subscriber).
        (CallerFilter.KNOWN, frozenset({"+4915550000001"}), "015550000001", True),
        (CallerFilter.KNOWN, frozenset({"015550000001"}), "004915550000001", True),
        (CallerFilter.KNOWN, frozenset({"+4915550000001"}), "015550000002", False),
        (CallerFilter.NOT_WITHHELD, frozenset(), "", False),
        (CallerFilter.NOT_WITHHELD, frozenset(), CALLER, True),
        (CallerFilter.ALL, frozenset(), "", True),
    ],
)
def test_who_voicemail_answers(
    callers: CallerFilter, known: frozenset[str], number: str, answered: bool
) -> None:
    rules = AnswerRules(callers=callers, known_numbers=known)
    assert rules.accepts(number or None) is answered


async def test_a_caller_voicemail_does_not_take_keeps_ringing(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    engine, box = engine_for(
        modem, tmp_path, callers=CallerFilter.KNOWN, known_numbers=frozenset({"+4915550009999"})
    )
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await asyncio.sleep(1.5)
    assert modem.snapshot.call_state is CallState.INCOMING
    assert box.delivered == []
    await engine.stop()


async def test_without_call_audio_voicemail_hangs_up_and_says_why(
    emulator: Sim7600Emulator,
    modem: Modem,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The audio port is gone: voicemail answers, sees no audio, hangs up (the caller is
    not left in a silent call), keeps nothing, and logs one clear line."""
    engine, box = engine_for(modem, tmp_path)
    await emulator.drop_port("audio")
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    # The call may be up only for an instant (the port's absence can be known at once):
    # wait for what voicemail says, not for a state a poll could miss.
    await until(lambda: "the call audio did not start" in caplog.text, timeout=15)
    await until(lambda: modem.snapshot.call_state is CallState.IDLE, timeout=15)
    assert any("ATA" in command for command in emulator.commands)
    assert box.delivered == []
    assert files_in(tmp_path) == []
    assert "the call audio did not start; hanging up" in caplog.text
    assert CALLER not in caplog.text
    await engine.stop()


# ---- a caller who speaks (a WAV), then goes quiet or hangs up ------------------------------


@pytest.fixture(scope="module")
def spoken_message(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A caller's message: espeak-ng speech (about 8.5 s) at the call's 8 kHz."""
    folder = tmp_path_factory.mktemp("voicemail-spoken")
    said = folder / "said.wav"
    subprocess.run(["espeak-ng", "-w", str(said), SPEECH], check=True, capture_output=True)
    _sox(str(said), "-r", "8000", "-b", "16", "-c", "1", str(folder / "message.wav"))
    return folder / "message.wav"


async def test_silence_after_the_message_ends_it_and_voicemail_hangs_up(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path, spoken_message: Path
) -> None:
    """The caller says their message and then nothing: the recording ends once the line
    has been silent for the set time; what was said is in it."""
    rules = MessageRules(max_seconds=60, silence_seconds=3)
    engine, box = engine_for(
        modem, tmp_path, greeting=False, message=rules, answer_after=0.5, beep=False
    )
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.audio._recording is not None, timeout=10)
    emulator.set_voice(wav_voice(spoken_message))  # after the beep, as callers do
    await asyncio.wait_for(box.arrived.wait(), 20)
    [(message, _)] = box.delivered
    assert message.ended_by is MessageEnd.SILENCE
    assert message.kept
    said = _pcm(spoken_message)
    spoken_seconds = len(_trimmed(said)) / 16000
    # The speech (the test signal before it, while the voice was being set, is speech
    # too), then 3 s of silence: the silence ended it, not the maximum length.
    assert spoken_seconds + 3 <= message.duration < 30
    assert message.speech_seconds >= 0.7 * spoken_seconds
    await until(lambda: modem.snapshot.call_state is CallState.IDLE, timeout=10)
    await engine.stop()


async def test_a_caller_who_says_nothing_leaves_no_message(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path
) -> None:
    """Digital silence from the answer on: the silence ends it, and a silent recording
    shorter than the shortest kept is deleted."""
    rules = MessageRules(max_seconds=60, silence_seconds=2, min_seconds=10)
    engine, box = engine_for(
        modem, tmp_path, greeting=False, message=rules, answer_after=0.5, beep=False
    )
    emulator.set_voice(Voice(bytes(160), 8000))  # nothing at all, from the answer on
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await asyncio.wait_for(box.arrived.wait(), 20)
    [(message, _)] = box.delivered
    assert message.ended_by is MessageEnd.SILENCE
    assert message.speech_seconds == 0
    assert not message.kept
    assert files_in(tmp_path) == []
    await engine.stop()


async def test_the_far_end_speaks_a_wav_and_hangs_up_after_it(
    emulator: Sim7600Emulator, modem: Modem, tmp_path: Path, spoken_message: Path
) -> None:
    """The emulator's caller who leaves a message: the recording holds the WAV, and the
    caller's hang-up ends it (before the silence would)."""
    rules = MessageRules(max_seconds=60, silence_seconds=5)
    engine, box = engine_for(
        modem, tmp_path, greeting=False, message=rules, answer_after=0.5, beep=False
    )
    await emulator.incoming_call(CALLER, ring_interval=0.3)
    await until(lambda: modem.audio._recording is not None, timeout=10)
    emulator.set_voice(wav_voice(spoken_message), hang_up_after=1.0)
    await asyncio.wait_for(box.arrived.wait(), 20)
    [(message, _)] = box.delivered
    assert message.ended_by is MessageEnd.HANG_UP
    assert message.path is not None
    recorded = _pcm(message.path)
    said = _trimmed(_pcm(spoken_message))
    assert said[:3200] in recorded  # the caller's words, sample for sample
    assert emulator.call is None
    await engine.stop()
