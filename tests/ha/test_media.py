"""Any audio into a call: ``play`` on any media, ``say``, the media player, bad media.

Real files made with FFmpeg (MP3, Ogg, FLAC, 44.1 kHz stereo WAV, a 5.1 WAV), real TTS
(HA's demo engine returns a real MP3; a test TTS entity returns a real WAV that HA converts
to the bridge format), played through the emulator; what the far end heard is compared
with FFmpeg's own conversion of the same media.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import struct
from typing import Any
from unittest.mock import patch
import wave

from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import psutil
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import DOMAIN  # noqa: E402
from custom_components.callstack.media import async_audio_source  # noqa: E402
from custom_components.callstack.sim7600.audio_source import open_regular_file  # noqa: E402
from sim7600_emulator import Sim7600Emulator, test_signal  # noqa: E402
from tests.media_files import (  # noqa: E402
    best_match,
    decode,
    encode,
    make_media,
    pcm,
    speech_like,
    write_wav,
)

from .fixtures import (  # noqa: E402
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    entity_id,
    far_end_heard,
    files_in,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)

FRAME = 320
SPEED = 20.0


def player(hass: HomeAssistant) -> str:
    return entity_id(hass, "media_player", "line")


def heard(emu: Sim7600Emulator) -> np.ndarray:
    return pcm(emu.audio_received)


async def in_call(hass: HomeAssistant, emu: Sim7600Emulator, entry: Any) -> None:
    await answered_call(hass, emu, emu.identity.callers[0])
    entry.runtime_data.modem.audio.speed = SPEED


async def finished(hass: HomeAssistant, entry: Any) -> None:
    await wait_until(hass, lambda: not entry.runtime_data.modem.audio.busy, what="end of play")


def assert_heard(emu: Sim7600Emulator, reference: np.ndarray, bound: float = 0.99) -> None:
    """The far end heard ``reference`` whole, in time order, padded to a whole frame."""
    got = heard(emu)
    assert got.size == -(-reference.size // 160) * 160
    correlation, lag = best_match(got, reference)
    assert lag == 0
    assert correlation > bound


class SpeechEntity(TextToSpeechEntity):
    """A TTS entity that speaks real audio: a 22.05 kHz WAV (which HA converts to the
    bridge format when asked), or, as ``mp3``, an MP3 made from it by FFmpeg."""

    _attr_supported_languages = ["en", "de"]
    _attr_default_language = "en"

    def __init__(self, folder: Path, extension: str = "wav") -> None:
        self._attr_name = f"Test speech {extension}"
        self._attr_unique_id = f"callstack-test-speech-{extension}"
        self.extension = extension
        self.spoken = write_wav(folder / "spoken.wav", speech_like(1.5, 22050, 1), 22050)
        if extension == "mp3":
            self.spoken = encode(self.spoken, folder / "spoken.mp3")
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.fail = False

    def get_tts_audio(self, message: str, language: str, options: dict[str, Any]) -> TtsAudioType:
        self.requests.append((message, language, dict(options)))
        if self.fail:
            raise HomeAssistantError("the engine broke")
        return self.extension, self.spoken.read_bytes()


@pytest.fixture
async def speech(hass: HomeAssistant, tmp_path: Path) -> SpeechEntity:
    """HA's TTS with :class:`SpeechEntity` (``tts.test_speech_wav``) and its MP3 twin
    (``tts.test_speech_mp3``); TTS's file cache goes to tmp_path."""
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, "tts", {})
    entity = SpeechEntity(tmp_path)
    twin = SpeechEntity(tmp_path / "mp3", "mp3")
    await hass.data["tts"].async_add_entities([entity, twin])
    await hass.async_block_till_done()
    return entity


# ---- play: any format, streamed ----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["speech.mp3", "speech.ogg", "speech.flac", "speech.wav", "speech.m4a"]
)
async def test_play_decodes_any_format_into_the_call(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    name: str,
) -> None:
    """44.1 kHz stereo media, compressed or not: the far end hears FFmpeg's conversion of
    it to 8 kHz mono, whole, in order (correlation at lag 0 above 0.99)."""
    path = make_media(recordings, name, seconds=2.0)
    await in_call(hass, emulator, loaded_entry)
    response = await call_action(hass, "play", {"media": name}, return_response=True)
    assert response["ended_by"] == "finished"
    reference = decode(path)
    assert response["duration"] == pytest.approx(reference.size / 8000, abs=0.02)
    await wait_until(hass, lambda: heard(emulator).size >= reference.size, what="audio")
    assert_heard(emulator, reference)


async def test_play_takes_local_media_ids_paths_and_surround_wavs(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Path
) -> None:
    """A media-source ID of local media, HA's URL of it (what other players get) and an
    absolute path; a 5.1 WAV (which the native reader leaves to FFmpeg) plays mixed down
    as FFmpeg mixes it."""
    sounds = media_dir / "sounds"
    surround = write_wav(sounds / "surround.wav", speech_like(1.0, 48000, 6), 48000)
    await in_call(hass, emulator, loaded_entry)
    await call_action(
        hass, "play", {"media": "media-source://media_source/local/sounds/surround.wav"}
    )
    reference = decode(surround)
    await wait_until(hass, lambda: heard(emulator).size >= reference.size, what="audio")
    assert_heard(emulator, reference)
    emulator.audio_received.clear()
    hass.config.internal_url = "http://homeassistant.local:8123"
    url = "http://homeassistant.local:8123/media/local/sounds/surround.wav"
    await call_action(hass, "play", {"media": url})
    await wait_until(hass, lambda: heard(emulator).size >= reference.size, what="audio")
    assert_heard(emulator, reference)
    emulator.audio_received.clear()
    await call_action(hass, "play", {"media": str(surround), "volume": 0.5})
    await wait_until(hass, lambda: heard(emulator).size >= reference.size, what="audio")
    correlation, _ = best_match(heard(emulator), reference)
    assert correlation > 0.99
    level = np.abs(heard(emulator)).mean() / np.abs(reference).mean()
    assert level == pytest.approx(0.5, abs=0.02)


async def test_play_without_waiting_returns_at_once(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    make_media(recordings, "long.ogg", seconds=30.0)
    await answered_call(hass, emulator, emulator.identity.callers[0])  # real time
    response = await call_action(
        hass, "play", {"media": "long.ogg", "wait": False}, return_response=True
    )
    assert response == {"duration": None, "ended_by": "started"}
    await wait_until(hass, lambda: state_of(hass, "media_player", "line").state == "playing")
    err = await action_error(hass, "play", {"media": "long.ogg"})
    assert_translated_error(err, HomeAssistantError, "playback_in_progress", emulator)
    await call_action(hass, "stop_playback")
    await wait_until(hass, lambda: state_of(hass, "media_player", "line").state == "idle")
    await call_action(hass, "hang_up")


# ---- bad media -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media", "key", "placeholders"),
    [
        ("truncated.mp3", "invalid_media", {"reason": "undecodable"}),
        ("text.mp3", "invalid_media", {"reason": "undecodable"}),
        ("empty.mp3", "invalid_media", {"reason": "empty"}),
        ("header-only.wav", "invalid_media", {"reason": "empty"}),
        ("media-source://no_such_source/thing", "invalid_media", {"reason": "unresolvable"}),
        (
            "media-source://tts/no_such_engine?message=hi",
            "invalid_media",
            {"reason": "unresolvable"},
        ),
        (
            "media-source://media_source/elsewhere/x.mp3",
            "invalid_media",
            {"reason": "unresolvable"},
        ),
        ("http://example.com/sound.mp3", "invalid_media", {"reason": "url_not_allowed"}),
        ("ftp://example.com/sound.mp3", "invalid_media", {"reason": "url_not_allowed"}),
        ("/api/tts_proxy/nosuchtoken.mp3", "invalid_media", {"reason": "unresolvable"}),
        ("/api/states", "invalid_media", {"reason": "url_not_allowed"}),
        # A host no URL parser takes (a lone surrogate: IDNA refuses it), as fuzzing found.
        ("http://127.0.0.\ud800:8123/x.wav", "invalid_media", {"reason": "url_not_allowed"}),
        ("http://[127.0.0.1:8123/x.wav", "invalid_media", {"reason": "url_not_allowed"}),
        ("missing.mp3", "file_not_found", None),
    ],
)
async def test_bad_media_is_a_translated_error_and_plays_nothing(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    media: str,
    key: str,
    placeholders: dict[str, str] | None,
) -> None:
    good = make_media(recordings, "good.mp3", seconds=1.0)
    (recordings / "truncated.mp3").write_bytes(good.read_bytes()[:300])
    (recordings / "text.mp3").write_text("I am not music.\n" * 50)
    (recordings / "empty.mp3").write_bytes(b"")
    write_wav(recordings / "header-only.wav", np.zeros((0, 1), np.int16), 8000)
    await in_call(hass, emulator, loaded_entry)

    err = await action_error(hass, "play", {"media": media})
    assert_translated_error(err, ServiceValidationError, key, emulator, placeholders)
    assert bytes(emulator.audio_received) == b""
    assert not loaded_entry.runtime_data.modem.audio.busy
    # Nothing is stuck: the next file plays.
    await call_action(hass, "play", {"media": "good.mp3"})
    await far_end_heard(hass, emulator, 8000 * 2 - FRAME)  # its second, less a frame
    await call_action(hass, "hang_up")


async def test_a_file_longer_than_the_maximum_is_refused(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    recordings.mkdir(parents=True)
    path = recordings / "endless.wav"
    size = 8000 * 2 * 5 * 3600  # five hours
    with path.open("wb") as handle:
        handle.write(wav_header(size))
        handle.truncate(44 + size)
    await in_call(hass, emulator, loaded_entry)
    err = await action_error(hass, "play", {"media": "endless.wav"})
    assert_translated_error(
        err, ServiceValidationError, "media_too_long", emulator, {"max": "14400"}
    )
    assert bytes(emulator.audio_received) == b""
    await call_action(hass, "hang_up")


def wav_header(data_size: int, *, rate: int = 8000, channels: int = 1, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", data_size + 36)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_size)
    )


@pytest.mark.parametrize(
    ("size", "rate", "channels", "bits"),
    [(1 << 30, 192000, 2, 32), (200 << 20, 8000, 1, 16)],
    ids=["1GB-192kHz-stereo", "200MB-8kHz-mono"],
)
async def test_a_huge_wav_plays_in_bounded_memory(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    size: int,
    rate: int,
    channels: int,
    bits: int,
) -> None:
    """Issue 12 item 11 through the action: a sparse 1 GB WAV (192 kHz stereo 32-bit,
    11.6 min) and a 200 MB one at the bridge's format (3.6 h, which the first version read
    whole) start at once, and the process grows by less than 16 MB while they play."""
    recordings.mkdir(parents=True)
    path = recordings / "huge.wav"
    with path.open("wb") as handle:
        handle.write(wav_header(size, rate=rate, channels=channels, bits=bits))
        handle.truncate(44 + size)
    await in_call(hass, emulator, loaded_entry)
    process = psutil.Process()
    before = process.memory_info().rss
    response = await call_action(
        hass, "play", {"media": "huge.wav", "wait": False}, return_response=True
    )
    assert response["duration"] == pytest.approx(size / (rate * channels * bits // 8), abs=0.01)
    peak = before
    for _ in range(20):
        await asyncio.sleep(0.05)
        peak = max(peak, process.memory_info().rss)
    assert len(emulator.audio_received) > 50 * FRAME
    assert peak - before < 16 << 20
    await call_action(hass, "stop_playback")
    await call_action(hass, "hang_up")


async def test_a_file_swapped_for_a_symlink_after_the_check_is_not_played(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    tmp_path: Path,
) -> None:
    """Issue 12 item 13: right after the path check says yes, the file is replaced by a
    symlink to a file outside the allowed folders. What is opened is checked again, so the
    secret is never played."""
    recordings.mkdir(parents=True)
    innocent = recordings / "innocent.wav"
    innocent.write_bytes(wav_header(1600) + test_signal(0, 800))
    secret = tmp_path / "secret.wav"
    secret.write_bytes(wav_header(1600) + test_signal(40000, 800))
    real_check = hass.config.is_allowed_path

    def check_then_swap(path: str) -> bool:
        allowed = real_check(path)
        if innocent.exists() and not innocent.is_symlink():
            innocent.unlink()
            innocent.symlink_to(secret)
        return allowed

    await in_call(hass, emulator, loaded_entry)
    with patch.object(hass.config, "is_allowed_path", side_effect=check_then_swap):
        err = await action_error(hass, "play", {"media": "innocent.wav"})
    assert_translated_error(err, ServiceValidationError, "path_not_allowed", emulator)
    assert test_signal(40000, 800) not in bytes(emulator.audio_received)
    assert bytes(emulator.audio_received) == b""
    await call_action(hass, "hang_up")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, 59), st.integers(0, 255)), min_size=1, max_size=6))
async def test_mutated_wav_headers_give_only_translated_errors(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    mutations: list[tuple[int, int]],
) -> None:
    """Issue 12 item 12 (WAV): a WAV header with lying chunk sizes, through the action,
    plays or is refused with a translated validation error; never a bare RuntimeError."""
    recordings.mkdir(parents=True, exist_ok=True)
    data = bytearray(wav_header(1600) + test_signal(0, 800))
    for position, value in mutations:
        data[position] = value
    (recordings / "mutated.wav").write_bytes(bytes(data))
    modem = loaded_entry.runtime_data.modem
    if not modem.audio.running:
        await in_call(hass, emulator, loaded_entry)
    outcome: BaseException | None = None
    try:
        await call_action(hass, "play", {"media": "mutated.wav"})
    except ServiceValidationError as err:
        outcome = err
    if outcome is not None:
        assert isinstance(outcome, ServiceValidationError)
        assert outcome.translation_domain == DOMAIN
        assert outcome.translation_key in ("invalid_media", "media_too_long")
    assert not modem.audio.busy


async def test_a_wav_for_ffmpeg_started_again_by_play_touches_no_stale_descriptor(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """A WAV of another encoding (here float) goes to FFmpeg from a dup of its descriptor,
    and its own descriptor is closed. ``play`` starts the (already started) source again:
    that must not reach the closed number (it used to ``os.dup`` it: EBADF, the flaky
    failure of the mutated-header test, or a dup of whatever file reused the number)."""
    samples = (np.sin(np.arange(1600) / 8) * 0.4).astype("<f4")
    header = wav_header(samples.nbytes, bits=32)
    header = header[:20] + struct.pack("<H", 3) + header[22:]  # WAVE_FORMAT_IEEE_FLOAT
    path = recordings / "float.wav"
    recordings.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + samples.tobytes())
    await in_call(hass, emulator, loaded_entry)
    opened: list[int] = []

    def spy(name: str) -> tuple[int, str]:
        fd, real = open_regular_file(name)
        opened.append(fd)
        return fd, real

    with patch("custom_components.callstack.media.open_regular_file", side_effect=spy):
        source = await async_audio_source(hass, loaded_entry, media="float.wav")
    [stale] = opened
    assert source._fallback is not None  # type: ignore[attr-defined]

    def closed() -> bool:
        try:
            os.fstat(stale)
        except OSError:
            return True
        return False

    # Once FFmpeg is done with its pipes the old number is free (the failing case).
    await wait_until(hass, closed, what="the WAV's own descriptor closed and free")
    result = await loaded_entry.runtime_data.modem.play(source)
    assert result.ended_by == "finished"
    reference = decode(path)
    await wait_until(hass, lambda: heard(emulator).size >= reference.size, what="audio")
    assert_heard(emulator, reference)
    await call_action(hass, "hang_up")


async def test_record_both_sides_through_the_action(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """``channels: both``: a stereo WAV, far end left, what was played right, in order
    (sample alignment in real time: tests/sim7600/test_audio_source.py; this call runs 20
    times faster, where loop jitter can split the right channel)."""
    chime = write_wav(recordings / "chime.wav", speech_like(0.3, 8000, 1), 8000)
    await in_call(hass, emulator, loaded_entry)
    # Not a hass task: wait_until's async_block_till_done would wait for the recording.
    recording = asyncio.ensure_future(
        call_action(
            hass,
            "record",
            {"duration": 20.0, "filename": "both.wav", "channels": "both"},
            return_response=True,
        )
    )
    # 20 s of stream is 1 s of wall time at 20x: the 15 ms chime starts once the recording
    # exists (its temporary file is made) and ends long before the recording does.
    await wait_until(
        hass, lambda: any(n.endswith(".wav.part") for n in files_in(recordings)), what="temp"
    )
    await call_action(hass, "play", {"media": "chime.wav"})
    response = await recording
    assert response["duration"] == 20.0
    with wave.open(str(recordings / "both.wav"), "rb") as wav:
        assert wav.getnchannels() == 2
        stereo = pcm(wav.readframes(wav.getnframes())).reshape(-1, 2)
    assert bytes(emulator.audio_sent).find(stereo[:, 0].tobytes()) >= 0
    played = pcm(chime.read_bytes()[44:])
    right = stereo[:, 1]
    assert right[right != 0].tolist() == played[played != 0].tolist()
    await call_action(hass, "hang_up")


# ---- say and TTS ----------------------------------------------------------------------


async def test_say_speaks_tts_in_the_bridge_format(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    speech: SpeechEntity,
    tmp_path: Path,
) -> None:
    """``say`` asks TTS for wav/8000/mono/16-bit; the far end hears what the engine said."""
    await in_call(hass, emulator, loaded_entry)
    response = await call_action(
        hass,
        "say",
        {"message": "The smoke alarm went off", "tts_entity_id": "tts.test_speech_wav"},
        return_response=True,
    )
    assert response["ended_by"] == "finished"
    assert speech.requests[0][:2] == ("The smoke alarm went off", "en")
    await hass.async_block_till_done()
    cached = [path for path in (tmp_path / "tts").iterdir() if path.suffix == ".wav"]
    assert len(cached) == 1  # what TTS made for us: the bridge's own format
    with wave.open(str(cached[0]), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    reference = decode(tmp_path / "spoken.wav")
    await wait_until(hass, lambda: heard(emulator).size >= reference.size - 160, what="tts")
    correlation, lag = best_match(heard(emulator), reference[:-200])
    assert correlation > 0.98
    assert abs(lag) <= 2


async def test_say_options_and_errors(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, speech: SpeechEntity
) -> None:
    await in_call(hass, emulator, loaded_entry)
    err = await action_error(hass, "say", {"message": "hi", "tts_entity_id": "tts.nothing"})
    assert_translated_error(err, ServiceValidationError, "tts_not_found", emulator)
    err = await action_error(
        hass, "say", {"message": "hi", "tts_entity_id": "tts.test_speech_wav", "language": "xx"}
    )
    assert_translated_error(err, ServiceValidationError, "tts_options_refused", emulator)
    err = await action_error(
        hass,
        "say",
        {"message": "hi", "tts_entity_id": "tts.test_speech_wav", "options": {"voice": "x"}},
    )
    assert_translated_error(err, ServiceValidationError, "tts_options_refused", emulator)
    assert bytes(emulator.audio_received) == b""
    await call_action(
        hass, "say", {"message": "Hallo", "tts_entity_id": "tts.test_speech_wav", "language": "de"}
    )
    assert speech.requests[-1][:2] == ("Hallo", "de")
    await call_action(hass, "hang_up")
    err = await action_error(hass, "say", {"message": "hi"})
    assert_translated_error(err, HomeAssistantError, "audio_bridge_not_running", emulator)


async def test_a_failing_tts_engine_is_tts_failed_and_plays_nothing(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, speech: SpeechEntity
) -> None:
    speech.fail = True
    await in_call(hass, emulator, loaded_entry)
    err = await action_error(
        hass, "say", {"message": "Anyone there?", "tts_entity_id": "tts.test_speech_wav"}
    )
    assert_translated_error(err, HomeAssistantError, "tts_failed", emulator)
    assert bytes(emulator.audio_received) == b""
    assert not loaded_entry.runtime_data.modem.audio.busy
    speech.fail = False
    await call_action(hass, "say", {"message": "Hello", "tts_entity_id": "tts.test_speech_wav"})
    await far_end_heard(hass, emulator, 12000 * 2 - FRAME)  # its 1.5 s, less a frame
    await call_action(hass, "hang_up")


async def test_say_without_tts_set_up(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    await in_call(hass, emulator, loaded_entry)
    err = await action_error(hass, "say", {"message": "hi"})
    assert_translated_error(err, HomeAssistantError, "tts_not_set_up", emulator)
    await call_action(hass, "hang_up")


async def test_play_a_tts_media_source_id_through_ffmpeg(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, speech: SpeechEntity
) -> None:
    """A TTS media-source ID carries no format request: an engine that speaks MP3 is
    resolved by its token and piped through FFmpeg."""
    await in_call(hass, emulator, loaded_entry)
    response = await call_action(
        hass,
        "play",
        {"media": "media-source://tts/tts.test_speech_mp3?message=Hello"},
        return_response=True,
    )
    assert response["ended_by"] == "finished"
    reference = decode(hass.data["tts"].get_entity("tts.test_speech_mp3").spoken)
    await wait_until(hass, lambda: heard(emulator).size >= reference.size - 160, what="tts")
    correlation, _ = best_match(heard(emulator), reference[:-200])
    assert correlation > 0.99


# ---- the media player -------------------------------------------------------------------


async def test_media_player_follows_the_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    make_media(recordings, "music.flac", seconds=20.0)
    assert hass.states.get(player(hass)).state == "off"
    err = await action_error_player(
        hass, "play_media", "media-source://media_source/local/callstack/music.flac"
    )
    assert err.translation_key == "audio_bridge_not_running"
    await answered_call(hass, emulator, emulator.identity.callers[0])  # real time
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "idle")
    await play_on_player(hass, "media-source://media_source/local/callstack/music.flac")
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "playing")
    await hass.services.async_call(
        "media_player",
        "volume_set",
        {"entity_id": player(hass), "volume_level": 0.25},
        blocking=True,
    )
    assert hass.states.get(player(hass)).attributes["volume_level"] == 0.25
    assert loaded_entry.runtime_data.modem.audio.gain == 0.25
    await hass.services.async_call(
        "media_player", "media_stop", {"entity_id": player(hass)}, blocking=True
    )
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "idle")
    written = loaded_entry.runtime_data.modem.audio.stats.frames_out
    await asyncio.sleep(0.1)
    assert loaded_entry.runtime_data.modem.audio.stats.frames_out == written

    await play_on_player(hass, "media-source://media_source/local/callstack/music.flac")
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "playing")
    await emulator.remote_hang_up()
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "off")
    written = loaded_entry.runtime_data.modem.audio.stats.frames_out
    await wait_until(hass, lambda: not loaded_entry.runtime_data.modem.audio.busy, what="free")
    assert loaded_entry.runtime_data.modem.audio.stats.frames_out == written


async def test_a_second_play_media_replaces_the_first(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    make_media(recordings, "long.ogg", seconds=20.0)
    chime = write_wav(recordings / "chime.wav", speech_like(0.5, 8000, 1), 8000)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    await play_on_player(hass, "media-source://media_source/local/callstack/long.ogg")
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "playing")
    await play_on_player(
        hass, "media-source://media_source/local/callstack/chime.wav", announce=True
    )
    await wait_until(hass, lambda: hass.states.get(player(hass)).state == "idle", timeout=5)
    chime_pcm = chime.read_bytes()[44:]

    def chime_came_last() -> bool:
        # The PTY may hand the last frames over a little after the player went idle.
        return chime_pcm in bytes(emulator.audio_received)[-len(chime_pcm) - FRAME :]

    await wait_until(hass, chime_came_last, what="the chime, last")
    heard = len(emulator.audio_received)
    await asyncio.sleep(0.2)
    assert len(emulator.audio_received) == heard  # the first media does not resume
    await call_action(hass, "hang_up")


async def test_tts_speak_reaches_the_caller(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    speech: SpeechEntity,
    tmp_path: Path,
) -> None:
    """``tts.speak`` with this player as the target: the far end hears the TTS audio."""
    await in_call(hass, emulator, loaded_entry)
    await hass.services.async_call(
        "tts",
        "speak",
        {
            "entity_id": "tts.test_speech_wav",
            "media_player_entity_id": player(hass),
            "message": "Someone is at the door",
        },
        blocking=True,
    )
    reference = decode(tmp_path / "spoken.wav")
    await wait_until(hass, lambda: heard(emulator).size >= reference.size - 160, what="tts")
    correlation, _ = best_match(heard(emulator), reference[:-200])
    assert correlation > 0.98
    await call_action(hass, "hang_up")


async def test_browse_media_lists_audio_only(
    hass: HomeAssistant, media_dir: Path, loaded_entry: Any, hass_ws_client: Any
) -> None:
    # media_dir first: HA 2026.x's local media source takes the media folders at its setup.
    (media_dir / "a.mp3").write_bytes(b"x")
    (media_dir / "b.jpg").write_bytes(b"x")
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "media_player/browse_media",
            "entity_id": player(hass),
            "media_content_id": "media-source://media_source/local/.",
            "media_content_type": "app",
        }
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    titles = [child["title"] for child in reply["result"]["children"]]
    assert "a.mp3" in titles
    assert "b.jpg" not in titles


async def test_ffmpeg_missing_is_a_repair_and_a_clear_error(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: Any, recordings: Path
) -> None:
    """Without FFmpeg, plain WAV still plays; MP3 says what to install; repairs says so."""
    assert await async_setup_component(
        hass, "ffmpeg", {"ffmpeg": {"ffmpeg_bin": "/nonexistent/ffmpeg"}}
    )
    entry = await entry_factory()
    await wait_until(
        hass,
        lambda: ir.async_get(hass).async_get_issue(DOMAIN, "ffmpeg_missing") is not None,
        what="the repairs issue",
    )
    make_media(recordings, "song.mp3", seconds=0.5)
    write_wav(recordings / "plain.wav", speech_like(0.5, 44100, 2), 44100)
    await in_call(hass, emulator, entry)
    err = await action_error(hass, "play", {"media": "song.mp3"})
    assert_translated_error(err, HomeAssistantError, "ffmpeg_missing", emulator)
    response = await call_action(hass, "play", {"media": "plain.wav"}, return_response=True)
    assert response["ended_by"] == "finished"
    await call_action(hass, "hang_up")


async def play_on_player(hass: HomeAssistant, media_id: str, *, announce: bool = False) -> None:
    data: dict[str, Any] = {
        "entity_id": player(hass),
        "media_content_id": media_id,
        "media_content_type": "music",
    }
    if announce:
        data["announce"] = True
    await hass.services.async_call("media_player", "play_media", data, blocking=True)


async def action_error_player(
    hass: HomeAssistant, service: str, media_id: str
) -> HomeAssistantError:
    with pytest.raises(HomeAssistantError) as info:
        await play_on_player(hass, media_id)
    return info.value
