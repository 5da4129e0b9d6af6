"""Voicemail in Home Assistant: a message recorded from the emulator's caller is stored with
its metadata, transcribed, announced (bus event, Call event entity, New voicemail sensor),
listed and played through the "Callstack voicemail" media source, marked heard, deleted,
retained, and survives restarts without half files or phantom messages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any
import wave

from homeassistant.components import media_source, stt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_BUS_EVENT_PRIVATE_DATA,
    CONF_VOICEMAIL_ANSWER_AFTER,
    CONF_VOICEMAIL_ENABLED,
    CONF_VOICEMAIL_GREETING,
    CONF_VOICEMAIL_GREETING_MEDIA,
    CONF_VOICEMAIL_KEEP_COUNT,
    CONF_VOICEMAIL_KEEP_DAYS,
    CONF_VOICEMAIL_STT,
    CONF_VOICEMAIL_TTS,
    EVENT_VOICEMAIL,
)
from custom_components.callstack.sim7600.voicemail import (  # noqa: E402
    MessageEnd,
    RecordedMessage,
    beep_pcm,
)
from sim7600_emulator import Sim7600Emulator  # noqa: E402
from tests.helpers import recorded  # noqa: E402

from .fixtures import (  # noqa: E402
    ENTRY_ID,
    EntryFactory,
    action_error,
    assert_translated_error,
    call_action,
    files_in,
    hang_up,
    setup_entry,
    state_of,
    wait_until,
)
from .test_media import SpeechEntity, speech  # noqa: E402, F401 - the TTS fixture
from .voicemail_helpers import StubStt, add_stt, box_of, leave_message  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)


@pytest.fixture
def bus_events(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []
    hass.bus.async_listen(EVENT_VOICEMAIL, events.append)
    return events


async def caller_is_recorded(hass: HomeAssistant, emulator: Sim7600Emulator) -> None:
    """The emulator's first caller rings; voicemail answers, greets and starts recording."""
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.3)
    modem = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.modem
    await wait_until(
        hass, lambda: modem.audio._recording is not None, timeout=15, what="the recording"
    )


async def voicemail_event(hass: HomeAssistant, bus_events: list[Event]) -> None:
    """Wait for voicemail's bus event (the test reads it from ``bus_events``)."""
    await wait_until(hass, lambda: bus_events, timeout=10, what="the voicemail event")


async def test_a_message_is_stored_announced_listed_and_heard(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    loaded_entry: Any,
    bus_events: list[Event],
) -> None:
    assert state_of(hass, "sensor", "new_voicemail").state == "0"
    message = await leave_message(hass, emulator, loaded_entry)
    await hass.async_block_till_done()
    folder = recordings / "voicemail"
    assert files_in(folder) == [f"{message.id}.json", f"{message.id}.wav"]
    with wave.open(str(folder / f"{message.id}.wav"), "rb") as wav:
        assert wav.getnframes() == 16000
    sidecar = json.loads((folder / f"{message.id}.json").read_text())
    assert sidecar == {
        "id": message.id,
        "number": emulator.identity.callers[0],
        "received": message.received.isoformat(),
        "duration": 2.0,
        "ended_by": "max_length",
        "transcript": None,
    }
    content_id = f"media-source://callstack/{ENTRY_ID}/{message.id}"
    [event] = bus_events
    assert event.data == {
        "config_entry_id": ENTRY_ID,
        "device_id": loaded_entry.runtime_data.device_id,
        "number": emulator.identity.callers[0],
        "duration": 2.0,
        "ended_by": "max_length",
        "kept": True,
        "message_id": message.id,
        "media_content_id": content_id,
        "transcript": None,
    }
    call_event = state_of(hass, "event", "call")
    assert call_event.attributes["event_type"] == "voicemail"
    assert call_event.attributes["media_content_id"] == content_id
    sensor = state_of(hass, "sensor", "new_voicemail")
    assert (sensor.state, sensor.attributes["total"]) == ("1", 1)

    root = await media_source.async_browse_media(hass, "media-source://callstack")
    assert root.title == "Callstack voicemail"
    [child] = root.children
    assert child.media_content_id == content_id
    assert child.title.startswith(emulator.identity.callers[0] + " · ")
    assert child.can_play
    # Browsing is not listening.
    assert state_of(hass, "sensor", "new_voicemail").state == "1"
    played = await media_source.async_resolve_media(hass, content_id, None)
    assert played.url == f"/media/local/callstack/voicemail/{message.id}.wav"
    assert played.mime_type == "audio/wav"
    await hass.async_block_till_done()
    assert state_of(hass, "sensor", "new_voicemail").state == "0"


async def test_a_voicemail_folder_that_leads_outside_the_allowed_folders_is_refused(
    hass: HomeAssistant, recordings: Path, loaded_entry: Any, tmp_path: Path
) -> None:
    """The voicemail folder is a symlink to somewhere HA may not write: no message goes
    there (the engine then lets the call ring on)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    box = box_of(loaded_entry)
    box.folder.parent.mkdir(parents=True, exist_ok=True)
    box.folder.symlink_to(outside, target_is_directory=True)

    assert not await box.async_prepare_folder()


async def test_messages_are_listed_newest_first(
    hass: HomeAssistant, emulator: Sim7600Emulator, recordings: Path, loaded_entry: Any
) -> None:
    first = await leave_message(hass, emulator, loaded_entry, seconds=1)
    second = await leave_message(hass, emulator, loaded_entry, seconds=1)
    root = await media_source.async_browse_media(hass, "media-source://callstack")
    assert [child.media_content_id.rsplit("/", 1)[1] for child in root.children] == [
        second.id,
        first.id,
    ]


async def test_a_silent_message_is_not_kept_and_the_event_says_so(
    hass: HomeAssistant, recordings: Path, loaded_entry: Any, bus_events: list[Event]
) -> None:
    box = box_of(loaded_entry)
    empty = RecordedMessage(None, 1.5, 0.0, MessageEnd.HANG_UP)
    assert (
        await box.async_deliver("vm-20261201-090000-abcdef", empty, "+4915550001", dt_util.utcnow())
        is None
    )
    await hass.async_block_till_done()
    [event] = bus_events
    assert event.data["kept"] is False
    assert event.data["media_content_id"] is None
    assert event.data["ended_by"] == "hang_up"
    assert state_of(hass, "sensor", "new_voicemail").attributes["total"] == 0
    assert files_in(recordings / "voicemail") == []


async def test_a_transcript_comes_from_the_chosen_stt_engine_at_16_khz(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    engine = StubStt()
    engine_id = await add_stt(hass, engine)
    entry = await entry_factory(options={CONF_VOICEMAIL_STT: engine_id})
    message = await leave_message(hass, emulator, entry, seconds=1)
    assert message.transcript == "please call me back"
    assert engine.metadata is not None
    assert engine.metadata.sample_rate == stt.AudioSampleRates.SAMPLERATE_16000
    assert engine.metadata.language == "en-US"  # HA's language (en) found in the engine's
    assert len(engine.received) == 2 * 16000  # one second, 16-bit, at 16 kHz
    await hass.async_block_till_done()
    assert bus_events[-1].data["transcript"] == "please call me back"
    sidecar = json.loads((recordings / "voicemail" / f"{message.id}.json").read_text())
    assert sidecar["transcript"] == "please call me back"
    assert box_of(entry).store.get(message.id).transcript == "please call me back"


@pytest.mark.parametrize(
    ("engine", "log"),
    [
        (StubStt(fail=True), "Speech-to-text failed for a voicemail (ConnectionError)"),
        (StubStt(text=None), None),
        (None, "engine stt.missing is not available"),
    ],
)
async def test_a_failing_or_missing_stt_keeps_the_message(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    engine: StubStt | None,
    log: str | None,
) -> None:
    engine_id = await add_stt(hass, engine) if engine is not None else "stt.missing"
    entry = await entry_factory(options={CONF_VOICEMAIL_STT: engine_id})
    with caplog.at_level(logging.WARNING):
        message = await leave_message(hass, emulator, entry, seconds=1)
    assert message.transcript is None
    assert files_in(recordings / "voicemail") == [f"{message.id}.json", f"{message.id}.wav"]
    await hass.async_block_till_done()
    assert bus_events[-1].data["kept"] is True
    if log is not None:
        assert log in caplog.text
    assert emulator.identity.callers[0] not in caplog.text


async def test_private_data_stays_off_the_bus_when_asked(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    engine_id = await add_stt(hass, StubStt())
    entry = await entry_factory(
        options={CONF_VOICEMAIL_STT: engine_id, CONF_BUS_EVENT_PRIVATE_DATA: False}
    )
    await leave_message(hass, emulator, entry, seconds=1)
    await hass.async_block_till_done()
    data = bus_events[-1].data
    assert "number" not in data
    assert "transcript" not in data
    assert data["kept"] is True
    # The event entity keeps them for automations, out of the recorder.
    assert state_of(hass, "event", "call").attributes["transcript"] == "please call me back"


async def test_mark_heard_and_delete_actions(
    hass: HomeAssistant, emulator: Sim7600Emulator, recordings: Path, loaded_entry: Any
) -> None:
    first = await leave_message(hass, emulator, loaded_entry, seconds=1)
    second = await leave_message(hass, emulator, loaded_entry, seconds=1)
    content_id = f"media-source://callstack/{ENTRY_ID}/{first.id}"
    response = await call_action(
        hass, "mark_voicemail_heard", {"message_id": content_id}, return_response=True
    )
    assert response == {"marked": 1}
    assert state_of(hass, "sensor", "new_voicemail").state == "1"
    assert await call_action(hass, "mark_voicemail_heard", return_response=True) == {"marked": 1}
    assert state_of(hass, "sensor", "new_voicemail").state == "0"

    err = await action_error(hass, "delete_voicemail", {"message_id": [first.id, "vm-nope"]})
    assert_translated_error(err, ServiceValidationError, "voicemail_not_found", emulator)
    assert len(files_in(recordings / "voicemail")) == 4  # nothing deleted
    response = await call_action(
        hass, "delete_voicemail", {"message_id": first.id}, return_response=True
    )
    assert response == {"deleted": 1}
    assert files_in(recordings / "voicemail") == [f"{second.id}.json", f"{second.id}.wav"]
    assert state_of(hass, "sensor", "new_voicemail").attributes["total"] == 1
    root = await media_source.async_browse_media(hass, "media-source://callstack")
    assert [child.title for child in root.children] != []
    assert len(root.children) == 1


async def test_retention_removes_messages_and_their_metadata_together(
    hass: HomeAssistant, emulator: Sim7600Emulator, recordings: Path, entry_factory: EntryFactory
) -> None:
    entry = await entry_factory(options={CONF_VOICEMAIL_KEEP_COUNT: 2})
    messages = [await leave_message(hass, emulator, entry, seconds=1) for _ in range(3)]
    kept = {m.id for m in messages[1:]}
    names = files_in(recordings / "voicemail")
    assert {name.split(".")[0] for name in names} == kept
    assert len(names) == 4
    # Age: a message older than keep_days goes (at setup, as at every hourly check).
    box = box_of(entry)
    old = messages[1]
    await box.store.async_update(replace(old, received=dt_util.utcnow() - timedelta(days=8)))
    hass.config_entries.async_update_entry(
        entry, options={CONF_VOICEMAIL_KEEP_COUNT: 0, CONF_VOICEMAIL_KEEP_DAYS: 7}
    )
    await hass.async_block_till_done()
    await wait_until(hass, lambda: entry.state is ConfigEntryState.LOADED)
    assert {name.split(".")[0] for name in files_in(recordings / "voicemail")} == kept - {old.id}


async def test_a_restart_leaves_no_half_file_and_no_phantom_message(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    loaded_entry: Any,
) -> None:
    """What a crash can leave behind, cleaned up at the next start: the recorder's
    unfinished ``.part`` file, an indexed message whose WAV is gone, a sidecar whose WAV
    was deleted; and what it must not lose: a whole message the index never saved."""
    kept = await leave_message(hass, emulator, loaded_entry, seconds=1)
    gone = await leave_message(hass, emulator, loaded_entry, seconds=1)
    unindexed = await leave_message(hass, emulator, loaded_entry, seconds=1)
    folder = recordings / "voicemail"
    box = box_of(loaded_entry)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    (folder / ".callstack-abc123.wav.part").write_bytes(b"RIFF....WAVE")
    (folder / f"{gone.id}.wav").unlink()
    # The index as it was before the third message was saved (a crash in between).
    store = box.store._store
    await store.async_save({"messages": [m.stored() for m in (kept, gone)]})
    await setup_entry(hass, loaded_entry)
    assert loaded_entry.state is ConfigEntryState.LOADED
    ids = [m.id for m in box_of(loaded_entry).store.messages]
    assert ids == [unindexed.id, kept.id]
    assert files_in(folder) == sorted(
        [f"{kept.id}.json", f"{kept.id}.wav", f"{unindexed.id}.json", f"{unindexed.id}.wav"]
    )
    assert state_of(hass, "sensor", "new_voicemail").attributes["total"] == 2


# ---- voicemail answering calls (the options turn it on) ------------------------------------

VOICEMAIL_ON = {CONF_VOICEMAIL_ENABLED: True, CONF_VOICEMAIL_ANSWER_AFTER: 1}


async def test_voicemail_is_off_by_default(
    hass: HomeAssistant, emulator: Sim7600Emulator, recordings: Path, loaded_entry: Any
) -> None:
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.3)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming")
    await asyncio.sleep(1.5)
    assert state_of(hass, "sensor", "call_state").state == "incoming"


async def test_an_unanswered_call_leaves_a_message_everyone_sees(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    """Rings, answered after the set time, the caller speaks and hangs up: the event, the
    sensor and the media source all show the message."""
    engine_id = await add_stt(hass, StubStt())
    await entry_factory(options={**VOICEMAIL_ON, CONF_VOICEMAIL_STT: engine_id})
    caller = emulator.identity.callers[0]
    await emulator.incoming_call(caller, ring_interval=0.3)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming")
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "active", timeout=10
    )
    modem = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.modem
    # 2 s of the caller recorded (counted in samples, not waited for on the clock).
    await recorded(modem, 2.0)
    await emulator.remote_hang_up()
    await voicemail_event(hass, bus_events)
    data = bus_events[0].data
    assert data["kept"] is True
    assert data["number"] == caller
    assert data["ended_by"] == "hang_up"
    assert data["transcript"] == "please call me back"
    assert data["duration"] > 1.0
    assert state_of(hass, "sensor", "new_voicemail").state == "1"
    assert state_of(hass, "event", "call").attributes["event_type"] == "voicemail"
    root = await media_source.async_browse_media(hass, "media-source://callstack")
    assert [child.media_content_id for child in root.children] == [data["media_content_id"]]


async def test_an_automation_that_answers_first_wins(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [
                    {
                        "trigger": "event",
                        "event_type": "callstack_call",
                        "event_data": {"type": "incoming"},
                    }
                ],
                "actions": [{"action": "callstack.answer"}],
            }
        },
    )
    await entry_factory(options=VOICEMAIL_ON)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.3)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "active")
    modem = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.modem
    await asyncio.sleep(1.5)  # past the time voicemail would answer
    assert modem.audio._recording is None
    assert not modem.audio.busy
    assert bus_events == []
    await hang_up(hass)


async def test_a_restart_during_a_message_leaves_no_half_file_and_hangs_up(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    entry = await entry_factory(options=VOICEMAIL_ON)
    await caller_is_recorded(hass, emulator)
    folder = recordings / "voicemail"
    # A recording is underway (the executor makes its file just after _recording is set).
    await wait_until(
        hass,
        lambda: any(name.endswith(".part") for name in files_in(folder)),
        what="the recording's temporary file",
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert files_in(folder) == []
    assert any(command.startswith("AT+CHUP") for command in emulator.commands)
    # The caller is not left on a dead line.
    await wait_until(hass, lambda: emulator.call is None, what="the call to end")
    await setup_entry(hass, entry)
    assert state_of(hass, "sensor", "new_voicemail").attributes["total"] == 0
    assert bus_events == []


async def test_the_greeting_is_spoken_with_tts_then_the_beep(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    speech: SpeechEntity,  # noqa: F811 - the fixture imported from test_media
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    """The greeting text goes to the chosen TTS engine; the far end hears its speech, then
    the beep, and only then is the caller recorded."""
    greeting = "You reached the garage. Leave a message after the beep."
    await entry_factory(
        options={
            **VOICEMAIL_ON,
            CONF_VOICEMAIL_GREETING: greeting,
            CONF_VOICEMAIL_TTS: "tts.test_speech_wav",
        }
    )
    await caller_is_recorded(hass, emulator)
    assert [request[0] for request in speech.requests] == [greeting]
    beep = beep_pcm(8000)
    await wait_until(hass, lambda: beep in bytes(emulator.audio_received), what="the beep")
    heard = bytes(emulator.audio_received)
    before_beep = heard[: heard.index(beep)]
    assert len(before_beep) >= 1.4 * 16000  # the 1.5 s of speech TTS made
    assert max(abs(x) for x in memoryview(before_beep).cast("h")) > 1000
    await emulator.remote_hang_up()
    await voicemail_event(hass, bus_events)
    assert bus_events[0].data["kept"] is True


async def test_a_greeting_that_cannot_be_played_still_takes_the_message(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await entry_factory(options={**VOICEMAIL_ON, CONF_VOICEMAIL_GREETING_MEDIA: "missing.mp3"})
    await caller_is_recorded(hass, emulator)
    await asyncio.sleep(0.1)
    await emulator.remote_hang_up()
    await voicemail_event(hass, bus_events)
    assert bus_events[0].data["kept"] is True
    assert "The voicemail greeting cannot be played (file_not_found)" in caplog.text


async def test_the_caller_hanging_up_during_the_greeting_leaves_no_message(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    speech: SpeechEntity,  # noqa: F811 - the fixture imported from test_media
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    await entry_factory(options={**VOICEMAIL_ON, CONF_VOICEMAIL_TTS: "tts.test_speech_wav"})
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.3)
    modem = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.modem
    await wait_until(hass, lambda: modem.audio.busy, timeout=15, what="the greeting")
    await emulator.remote_hang_up()
    await voicemail_event(hass, bus_events)
    assert bus_events[0].data["kept"] is False
    assert files_in(recordings / "voicemail") == []
    assert state_of(hass, "sensor", "new_voicemail").attributes["total"] == 0


async def test_the_caller_presses_hash_to_end_the_message(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
) -> None:
    await entry_factory(options=VOICEMAIL_ON)
    await caller_is_recorded(hass, emulator)
    await asyncio.sleep(0.2)
    await emulator.send_dtmf("#")
    await voicemail_event(hass, bus_events)
    assert bus_events[0].data["ended_by"] == "key"
    await wait_until(hass, lambda: emulator.call is None, what="voicemail hanging up")


async def test_without_call_audio_voicemail_hangs_up_and_keeps_nothing(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
    bus_events: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await entry_factory(options=VOICEMAIL_ON)
    await emulator.drop_port("audio")
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.3)
    # The call may be up only for an instant (the port's absence can be known at once):
    # wait for what voicemail says, not for a state a poll could miss.
    await wait_until(
        hass, lambda: "the call audio did not start; hanging up" in caplog.text, timeout=15
    )
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", timeout=15
    )
    assert any("ATA" in command for command in emulator.commands)
    assert bus_events == []
    assert files_in(recordings / "voicemail") == []
