"""Call and call-audio actions: dial, answer, hang_up, send_dtmf, record, play.

Every action runs through ``hass.services.async_call`` against the emulator; every error
is checked for its class, translation and English text, and for leaking no secret.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import stat
from typing import Any
import wave

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import EVENT_CALL  # noqa: E402
from sim7600_emulator import Identity, Sim7600Emulator, test_signal  # noqa: E402

from .fixtures import (  # noqa: E402
    TRANSLATIONS,
    EntryFactory,
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    call_state,
    far_end_heard,
    files_in,
    hang_up,
    state_of,
    wait_until,
    write_wav,
)

pytest_plugins = ("tests.ha.fixtures",)

FRAME = 320  # bytes in one 20 ms frame at 8 kHz
SECOND_ENTRY_ID = "01JCALLSTACKTESTENTRY00002"


def read_wav(path: Path) -> tuple[bytes, int, int]:
    """PCM, rate and channel count of a WAV."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        return wav.readframes(wav.getnframes()), wav.getframerate(), wav.getnchannels()


def real_path(path: Path) -> Path:
    """``path`` with symlinks resolved, as the integration reports it."""
    return path.resolve()


def assert_far_end_audio(emu: Sim7600Emulator, pcm: bytes) -> None:
    """``pcm`` is a sample-aligned contiguous run of what the emulator streamed, and, when no
    frame was dropped, exactly the test signal at that position."""
    assert pcm
    sent = bytes(emu.audio_sent)
    offset = sent.find(pcm)
    assert offset >= 0, "the recording is not a contiguous run of the far end's audio"
    assert offset % 2 == 0, "the recording is not sample aligned"
    if emu.audio_frames_dropped == 0:
        assert pcm == test_signal(offset // 2, len(pcm) // 2, 8000)


# ---- dial, answer, hang up ------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        ("answer", "answered"),
        ("busy", "busy"),
        ("no_answer", "no_answer"),
        ("no_carrier", "failed"),
    ],
)
async def test_dial_outcomes(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    outcome: str,
    result: str,
) -> None:
    """``dial`` returns how the far end answered, and the wire carries ``ATD<number>;``."""
    events = async_capture_events(hass, EVENT_CALL)
    number = emulator.identity.callers[1]
    emulator.set_dial_outcome(outcome)
    response = await call_action(
        hass, "dial", {"number": number, "timeout": 10}, return_response=True
    )
    assert response == {"result": result}
    assert f"ATD{number};" in emulator.commands
    if result == "answered":
        assert call_state(hass) == "active"
        await hang_up(hass)
        assert "AT+CHUP" in emulator.commands
    else:
        await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    assert emulator.call is None
    await wait_until(hass, lambda: events and events[-1].data["type"] == "ended", what="ended")
    reason = "local_hang_up" if result == "answered" else result
    expected = ["answered", "ended"] if result == "answered" else ["ended"]
    assert [event.data["type"] for event in events] == expected
    assert {(e.data["direction"], e.data["number"]) for e in events} == {("outbound", number)}
    assert events[-1].data["reason"] == reason


async def test_dial_while_a_call_is_active(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Path
) -> None:
    """A second call is refused without touching the line."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    before = len(emulator.commands)
    err = await action_error(hass, "dial", {"number": emulator.identity.callers[1]})
    assert_translated_error(err, HomeAssistantError, "call_in_progress", emulator)
    assert not [c for c in emulator.commands[before:] if c.startswith("ATD")]
    await hang_up(hass)


async def test_dial_a_number_as_people_write_it(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Spaces, dashes and parentheses are dropped before the number goes on the line."""
    number = emulator.identity.callers[1]  # +49155nnnnnnnn
    written = f"{number[:3]} (0){number[3:6]} {number[6:9]}-{number[9:]}"
    emulator.set_dial_outcome("no_answer")
    response = await call_action(
        hass, "dial", {"number": written, "timeout": 10}, return_response=True
    )
    assert response == {"result": "no_answer"}
    assert f"ATD{number};" in emulator.commands


@pytest.mark.parametrize("number", ["123;ATH", "+49 1x1", "12", "+49155;+CFUN=0", "abc", ""])
async def test_dial_invalid_number(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, number: str
) -> None:
    """A malformed number never reaches the modem."""
    err = await action_error(hass, "dial", {"number": number})
    assert_translated_error(err, ServiceValidationError, "invalid_number", emulator)
    assert not [c for c in emulator.commands if c.startswith("ATD")]


async def test_answer_without_a_ringing_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """Nothing rings: answering is an error, and no ATA is sent."""
    err = await action_error(hass, "answer")
    assert_translated_error(err, HomeAssistantError, "no_incoming_call", emulator)
    assert "ATA" not in emulator.commands


async def test_hang_up_without_a_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """No call: hanging up is an error."""
    err = await action_error(hass, "hang_up")
    assert_translated_error(err, HomeAssistantError, "no_call", emulator)


async def test_hang_up_rejects_a_ringing_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """``hang_up`` while ringing rejects the call."""
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await hang_up(hass)
    assert emulator.call is None
    state = state_of(hass, "event", "call")
    assert state.attributes["event_type"] == "ended"
    assert state.attributes["reason"] == "rejected"


async def test_send_dtmf(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Path
) -> None:
    """Digits go out with AT+VTS during a call; without one, or malformed, they do not."""
    err = await action_error(hass, "send_dtmf", {"digits": "12"})
    assert_translated_error(err, HomeAssistantError, "no_active_call", emulator)

    await answered_call(hass, emulator, emulator.identity.callers[0])
    await call_action(hass, "send_dtmf", {"digits": "12#a"})
    assert emulator.dtmf_sent == "12#A"
    assert "AT+VTS=1,1" in emulator.commands

    for data in ({"digits": "12x"}, {"digits": "1;ATH"}, {"digits": "1", "duration_ms": 50}):
        err = await action_error(hass, "send_dtmf", data)
        assert_translated_error(err, ServiceValidationError, "invalid_dtmf", emulator)
    assert emulator.dtmf_sent == "12#A"
    await hang_up(hass)


# ---- record -------------------------------------------------------------------------


async def test_record_without_a_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """No call audio: the recording fails closed and writes nothing."""
    before = files_in(recordings)
    err = await action_error(
        hass, "record", {"duration": 1, "filename": "nothing.wav"}, return_response=True
    )
    assert_translated_error(err, HomeAssistantError, "audio_bridge_not_running", emulator)
    assert files_in(recordings) == before


async def test_record_rejects_bad_input(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Bad durations and file names are refused before anything is written, even mid-call."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    before = files_in(recordings)
    for duration in (0, -1, 3601):
        err = await action_error(
            hass, "record", {"duration": duration, "filename": "d.wav"}, return_response=True
        )
        assert_translated_error(err, ServiceValidationError, "invalid_duration", emulator)
    for filename in ("../x.wav", "a/b.wav", "x.mp3", ".hidden.wav", "/etc/x.wav"):
        err = await action_error(
            hass, "record", {"duration": 0.1, "filename": filename}, return_response=True
        )
        assert_translated_error(err, ServiceValidationError, "invalid_filename", emulator)
    assert files_in(recordings) == before
    assert not (recordings.parent / "x.wav").exists()
    await hang_up(hass)


async def test_record_captures_the_far_end_sample_exact(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """A recording is the far end's audio, sample for sample, in a media-source WAV."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    response = await call_action(
        hass, "record", {"duration": 0.5, "filename": "far-end.wav"}, return_response=True
    )
    target = recordings / "far-end.wav"
    assert response == {
        "path": str(real_path(target)),
        "media_content_id": "media-source://media_source/local/callstack/far-end.wav",
        "duration": 0.5,
        "ended_by": "duration",
    }
    pcm, rate, channels = read_wav(target)
    assert (rate, channels) == (8000, 1)
    assert len(pcm) == 0.5 * 8000 * 2
    assert_far_end_audio(emulator, pcm)
    assert files_in(recordings) == ["far-end.wav"]
    await hang_up(hass)


async def test_recordings_are_readable_by_other_add_ons(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Under HA's usual umask (022) a recording is 0644 like the rest of the media
    folder, so Samba and other add-ons can read it."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    old = os.umask(0o022)
    try:
        await call_action(hass, "record", {"duration": 0.1, "filename": "shared.wav"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((recordings / "shared.wav").stat().st_mode) == 0o644
    await hang_up(hass)


async def test_record_default_name_and_overwrite(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Without a name the file is time-stamped; an existing name needs ``overwrite``."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    response = await call_action(hass, "record", {"duration": 0.1}, return_response=True)
    default = Path(response["path"])
    assert default.parent == real_path(recordings)
    assert default.name.startswith("call-")
    assert default.suffix == ".wav"
    assert response["media_content_id"].endswith(f"/callstack/{default.name}")

    target = recordings / "same.wav"
    await call_action(
        hass, "record", {"duration": 0.1, "filename": "same.wav"}, return_response=True
    )
    first = target.read_bytes()
    err = await action_error(
        hass, "record", {"duration": 0.2, "filename": "same.wav"}, return_response=True
    )
    assert_translated_error(err, ServiceValidationError, "file_exists", emulator)
    assert target.read_bytes() == first

    response = await call_action(
        hass,
        "record",
        {"duration": 0.2, "filename": "same.wav", "overwrite": True},
        return_response=True,
    )
    assert response["duration"] == 0.2
    pcm, _, _ = read_wav(target)
    assert len(pcm) == 0.2 * 8000 * 2
    assert_far_end_audio(emulator, pcm)
    assert files_in(recordings) == sorted([default.name, "same.wav"])
    await hang_up(hass)


async def test_record_ends_with_the_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """The far end hangs up midway: the shorter recording is kept, ended by the call."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    # 60 s of call audio takes 3 s here (the emulator streams 20 times faster than real time).
    record = asyncio.ensure_future(
        call_action(hass, "record", {"duration": 60, "filename": "cut.wav"}, return_response=True)
    )
    await asyncio.sleep(0.3)
    assert not record.done()
    await emulator.remote_hang_up()
    response = await asyncio.wait_for(record, 5)

    assert response["ended_by"] == "call_ended"
    assert 0 < response["duration"] < 60
    pcm, _, _ = read_wav(recordings / "cut.wav")
    assert abs(len(pcm) / 2 - response["duration"] * 8000) <= 4  # duration is rounded to ms
    assert_far_end_audio(emulator, pcm)
    assert files_in(recordings) == ["cut.wav"]
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")


async def test_record_fails_when_the_audio_port_is_lost(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """The audio port vanishes midway: an error, and neither a WAV nor a temporary file."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    record = asyncio.ensure_future(
        call_action(hass, "record", {"duration": 60, "filename": "lost.wav"}, return_response=True)
    )
    await wait_until(
        hass, lambda: any(n.endswith(".wav.part") for n in files_in(recordings)), what="temp"
    )
    await emulator.drop_port("audio")
    with pytest.raises(HomeAssistantError) as excinfo:
        await asyncio.wait_for(record, 5)
    assert_translated_error(excinfo.value, HomeAssistantError, "audio_bridge_lost", emulator)
    assert files_in(recordings) == []
    assert state_of(hass, "binary_sensor", "audio_bridge").state == "off"
    assert state_of(hass, "binary_sensor", "audio_bridge").attributes["error"] == "port_lost"
    await emulator.restore_port("audio")
    await hang_up(hass)


# ---- play ---------------------------------------------------------------------------


async def test_play_sends_the_wav_into_the_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """A 0.5 s WAV reaches the far end byte for byte, in whole 20 ms frames."""
    pcm = test_signal(12345, 4000, 8000)
    write_wav(recordings / "hello.wav", pcm)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    loaded_entry.runtime_data.modem.audio.speed = 20  # match the accelerated emulator

    response = await call_action(hass, "play", {"file": "hello.wav"}, return_response=True)
    assert response == {"duration": 0.5, "ended_by": "finished"}
    assert await far_end_heard(hass, emulator, len(pcm)) == pcm
    await hang_up(hass)


async def test_play_pads_the_last_frame_and_takes_media_source_ids(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """A WAV that does not fill its last frame is padded with silence; media-source IDs and
    absolute paths in the media folder work too."""
    pcm = test_signal(0, 1000, 8000)  # 2000 bytes: 6.25 frames
    path = write_wav(recordings / "odd.wav", pcm)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    loaded_entry.runtime_data.modem.audio.speed = 20
    padded = pcm.ljust(7 * FRAME, b"\0")

    response = await call_action(
        hass,
        "play",
        {"file": "media-source://media_source/local/callstack/odd.wav"},
        return_response=True,
    )
    assert response["ended_by"] == "finished"
    assert await far_end_heard(hass, emulator, len(padded)) == padded

    await call_action(hass, "play", {"file": str(path)})
    assert await far_end_heard(hass, emulator, 2 * len(padded)) == padded * 2
    await hang_up(hass)


async def test_play_refuses_bad_files(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Undecodable files and paths outside the allowed folders are refused; nothing is sent.
    (WAVs at other rates, widths and channel counts play: see tests/ha/test_media.py.)"""
    recordings.mkdir(parents=True)
    (recordings / "junk.wav").write_bytes(b"RIFF nonsense")
    await answered_call(hass, emulator, emulator.identity.callers[0])

    err = await action_error(hass, "play", {"file": "junk.wav"})
    assert_translated_error(
        err, ServiceValidationError, "invalid_media", emulator, {"reason": "undecodable"}
    )
    for file in (
        "/etc/passwd",
        "../../../../etc/passwd",
        "media-source://media_source/local/../../x",
    ):
        err = await action_error(hass, "play", {"file": file})
        assert_translated_error(err, ServiceValidationError, "path_not_allowed", emulator)
    err = await action_error(hass, "play", {"file": "missing.wav"})
    assert_translated_error(err, ServiceValidationError, "file_not_found", emulator)
    assert bytes(emulator.audio_received) == b""
    await hang_up(hass)


async def test_play_without_a_call(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """A valid WAV but no call: nothing to play into."""
    write_wav(recordings / "hello.wav", test_signal(0, 800, 8000))
    err = await action_error(hass, "play", {"file": "hello.wav"})
    assert_translated_error(err, HomeAssistantError, "audio_bridge_not_running", emulator)
    assert bytes(emulator.audio_received) == b""


async def test_play_a_recording_back(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """What ``record`` returns can be played as it is."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    loaded_entry.runtime_data.modem.audio.speed = 20
    recorded = await call_action(
        hass, "record", {"duration": 0.2, "filename": "echo.wav"}, return_response=True
    )
    pcm, _, _ = read_wav(recordings / "echo.wav")
    await call_action(hass, "play", {"file": recorded["media_content_id"]})
    assert await far_end_heard(hass, emulator, len(pcm)) == pcm
    await hang_up(hass)


# ---- choosing the modem ---------------------------------------------------------------


async def test_config_entry_id_resolution(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """One modem: the ID may be omitted. Unknown IDs and two modems without an ID fail."""
    first = await entry_factory()
    emulator.set_dial_outcome("busy")
    response = await call_action(
        hass, "dial", {"number": emulator.identity.callers[0]}, return_response=True
    )
    assert response == {"result": "busy"}

    err = await action_error(hass, "hang_up", {"config_entry_id": "no-such-entry"})
    assert_translated_error(err, ServiceValidationError, "entry_not_found", emulator)
    assert "the Modem field" in str(err)

    second_emulator = Sim7600Emulator(identity=Identity.seeded(1), audio_speed=20)
    await second_emulator.start_pty()
    try:
        second = await entry_factory(
            second_emulator, entry_id=SECOND_ENTRY_ID, unique_id="second-modem"
        )
        err = await action_error(hass, "dial", {"number": emulator.identity.callers[1]})
        assert_translated_error(err, ServiceValidationError, "entry_ambiguous", emulator)
        assert_translated_error(err, ServiceValidationError, "entry_ambiguous", second_emulator)
        # The error names the field as the action form does ("Modem"), not only its key.
        field = TRANSLATIONS["services"]["dial"]["fields"]["config_entry_id"]["name"]
        assert f"the {field} field" in str(err)

        second_emulator.set_dial_outcome("no_answer")
        number = second_emulator.identity.callers[2]
        response = await call_action(
            hass,
            "dial",
            {"config_entry_id": second.entry_id, "number": number},
            return_response=True,
        )
        assert response == {"result": "no_answer"}
        assert f"ATD{number};" in second_emulator.commands
        assert f"ATD{number};" not in emulator.commands
        assert first.entry_id != second.entry_id

        assert await hass.config_entries.async_unload(second.entry_id)
        await hass.async_block_till_done()
        err = await action_error(hass, "hang_up", {"config_entry_id": second.entry_id})
        assert_translated_error(err, ServiceValidationError, "entry_not_loaded", emulator)
    finally:
        leftover = hass.config_entries.async_get_entry(SECOND_ENTRY_ID)
        if leftover is not None and leftover.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(SECOND_ENTRY_ID)
        await second_emulator.stop()


# ---- more call-audio cases ------------------------------------------------------------


async def test_record_stops_on_dtmf_and_refuses_a_second_recording(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """``stop_on_dtmf`` ends a recording at the far end's key press; one recording at a time."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    record = asyncio.ensure_future(
        call_action(
            hass,
            "record",
            {"duration": 60, "filename": "menu.wav", "stop_on_dtmf": True},
            return_response=True,
        )
    )
    await wait_until(
        hass, lambda: any(n.endswith(".wav.part") for n in files_in(recordings)), what="temp"
    )
    err = await action_error(
        hass, "record", {"duration": 1, "filename": "second.wav"}, return_response=True
    )
    assert_translated_error(err, HomeAssistantError, "recording_in_progress", emulator)

    await emulator.send_dtmf("5")
    response = await asyncio.wait_for(record, 5)
    assert response["ended_by"] == "dtmf"
    assert 0 < response["duration"] < 60
    pcm, _, _ = read_wav(recordings / "menu.wav")
    assert_far_end_audio(emulator, pcm)
    assert files_in(recordings) == ["menu.wav"]
    await hang_up(hass)


async def test_play_without_waiting(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """``wait: false`` returns at once; a second playback meanwhile is refused; the call
    ending stops the playback."""
    write_wav(recordings / "long.wav", test_signal(0, 8000 * 5, 8000))  # 5 s, real time
    await answered_call(hass, emulator, emulator.identity.callers[0])

    response = await call_action(
        hass, "play", {"file": "long.wav", "wait": False}, return_response=True
    )
    assert response == {"duration": 5.0, "ended_by": "started"}
    await wait_until(hass, lambda: len(emulator.audio_received) > 0, what="audio")
    for wait in (True, False):
        err = await action_error(hass, "play", {"file": "long.wav", "wait": wait})
        assert_translated_error(err, HomeAssistantError, "playback_in_progress", emulator)

    await emulator.remote_hang_up()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    await wait_until(
        hass, lambda: not loaded_entry.runtime_data.modem.audio.busy, what="playback to stop"
    )
    sent = len(emulator.audio_received)
    assert 0 < sent < 8000 * 5 * 2
    assert bytes(emulator.audio_received) == test_signal(0, 8000 * 5, 8000)[:sent]


async def test_actions_while_the_modem_is_unreachable(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any
) -> None:
    """With the AT port gone, actions fail with a translated error instead of hanging."""
    await emulator.drop_port("at")
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor", "connected").state == "off", what="off"
    )
    number = emulator.identity.callers[0]
    for action, data in (
        ("dial", {"number": number}),
        ("answer", {}),
        ("hang_up", {}),
        ("send_dtmf", {"digits": "1"}),
        ("send_sms", {"number": number, "message": "hi"}),
        ("send_ussd", {"code": "*100#"}),
    ):
        err = await action_error(hass, action, data)
        assert_translated_error(err, HomeAssistantError, "modem_unavailable", emulator)
    await emulator.restore_port("at")
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor", "connected").state == "on",
        timeout=10,
        what="reconnected",
    )
    emulator.set_dial_outcome("busy")
    response = await call_action(hass, "dial", {"number": number}, return_response=True)
    assert response == {"result": "busy"}


async def test_unload_during_a_recording_leaves_no_temporary_file(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, recordings: Path
) -> None:
    """Unloading the modem mid-recording ends the action and leaves no temporary file."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    record = asyncio.ensure_future(
        call_action(
            hass, "record", {"duration": 60, "filename": "unload.wav"}, return_response=True
        )
    )
    await wait_until(
        hass, lambda: any(n.endswith(".wav.part") for n in files_in(recordings)), what="temp"
    )
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    response = await asyncio.wait_for(record, 5)
    # What was captured before the modem went away is kept, like a call ending midway, and
    # the response says why it ended (the call itself goes on).
    assert response["ended_by"] == "closed"
    assert files_in(recordings) == ["unload.wav"]
    pcm, _, _ = read_wav(recordings / "unload.wav")
    assert_far_end_audio(emulator, pcm)
