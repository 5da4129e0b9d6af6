"""Assist over a call, through HA's real pipeline (stub STT, agent and TTS) and the
emulator: who is answered and when, the turns, the events, the satellite's states, and
every way a conversation ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

pytest.register_assert_rewrite("tests.ha.fixtures", "tests.ha.assist_stack")

from custom_components.callstack.const import (  # noqa: E402
    CONF_ASSIST,
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_DIAL,
    CONF_ASSIST_RINGS,
    CONF_ASSIST_SILENCE,
    EVENT_CALL,
)
from custom_components.callstack.sim7600.assist_audio import chime, prompt_tone  # noqa: E402
from sim7600_emulator import Sim7600Emulator  # noqa: E402
from tests.conftest import FAST_AUDIO, pty_emulator  # noqa: E402

from .assist_stack import AssistStack  # noqa: E402
from .fixtures import EntryFactory, entity_id, far_end_heard, state_of, wait_until  # noqa: E402

pytest_plugins = ("tests.ha.fixtures", "tests.ha.assist_stack")

RING_INTERVAL = 0.1
# A slower emulator for a test that needs wall time inside the caller's silence: the
# pipeline listens to at most 15 s of audio (HA's VAD timeout), 0.75 s at 20x but 3 s here.
SLOW_AUDIO = 5.0


def assist_options(callers: list[str], *, rings: int = 2, silence: int = 3) -> dict[str, Any]:
    return {
        CONF_ASSIST: {
            CONF_ASSIST_CALLERS: callers,
            CONF_ASSIST_RINGS: rings,
            CONF_ASSIST_SILENCE: silence,
        }
    }


async def assist_entry(
    entry_factory: EntryFactory, emulator: Sim7600Emulator, **options: Any
) -> Any:
    """The modem with Assist for caller 0 (national form in the list: it must match)."""
    entry = await entry_factory(
        emulator, options=assist_options([emulator.identity.callers_national[0]], **options)
    )
    entry.runtime_data.modem.audio.speed = FAST_AUDIO  # play as fast as the emulator
    return entry


@pytest.fixture
async def slow_emulator(identity: Any) -> AsyncGenerator[Sim7600Emulator]:
    """The emulator streaming at ``SLOW_AUDIO`` (name it before ``entry_factory``, so the
    entries are unloaded before it stops)."""
    async with pty_emulator(identity, SLOW_AUDIO) as emu:
        yield emu


def satellite(hass: HomeAssistant) -> Any:
    return state_of(hass, "assist_satellite", "assist_satellite")


def states_seen(
    hass: HomeAssistant, platform: str, key: str, attribute: str | None = None
) -> list[Any]:
    """Every state (or ``attribute`` of it) one of the modem's entities takes from now on."""
    seen: list[Any] = []
    target = entity_id(hass, platform, key)

    def listener(event: Any) -> None:
        if event.data["entity_id"] == target and (new := event.data["new_state"]) is not None:
            seen.append(new.state if attribute is None else new.attributes.get(attribute))

    hass.bus.async_listen("state_changed", listener)
    return seen


def satellite_states(hass: HomeAssistant) -> list[str]:
    """Every state the satellite takes from now on."""
    return states_seen(hass, "assist_satellite", "assist_satellite")


def say_next_once_listening(hass: HomeAssistant, turns: Any) -> list[str | None]:
    """The caller starts their next utterance the moment the satellite first listens.

    It happens in the loop as the state changes, not after a poll: a poll's delay is
    wall time, which a loaded machine stretches, and at 20x every wall millisecond is
    20 ms of the caller's silence counted against the pipeline's patience. Returns the
    list the utterance's label lands in (``Turns.say_next()``'s result).
    """
    said: list[str | None] = []
    target = entity_id(hass, "assist_satellite", "assist_satellite")

    @callback
    def listener(event: Event[Any]) -> None:
        new = event.data["new_state"]
        if not said and event.data["entity_id"] == target and new and new.state == "listening":
            said.append(turns.say_next())

    hass.bus.async_listen("state_changed", listener)
    return said


async def test_the_satellite_and_its_selects_exist_per_modem(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    await assist_entry(entry_factory, emulator)
    assert satellite(hass).state == "idle"
    entry_id = "01JCALLSTACKTESTENTRY00001"
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    pipeline = registry.async_get_entity_id("select", "callstack", f"{entry_id}-pipeline")
    vad = registry.async_get_entity_id("select", "callstack", f"{entry_id}-vad_sensitivity")
    assert pipeline is not None
    assert vad is not None
    assert hass.states.get(pipeline).state == "preferred"
    assert hass.states.get(vad).state == "default"


async def test_a_caller_not_on_the_list_is_a_normal_call(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """It rings on and on: never answered, never a pipeline run."""
    await assist_entry(entry_factory, emulator, rings=1)
    await emulator.incoming_call(emulator.identity.callers[1], ring_interval=RING_INTERVAL)
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming", what="ringing"
    )
    await asyncio.sleep(10 * RING_INTERVAL)
    assert "ATA" not in emulator.commands
    assert assist_stack.stt.heard == []
    assert satellite(hass).state == "idle"
    assert state_of(hass, "sensor", "call_state").state == "incoming"


async def test_a_withheld_number_is_never_answered(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    await assist_entry(entry_factory, emulator, rings=1)
    await emulator.incoming_call("", ring_interval=RING_INTERVAL)
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming", what="ringing"
    )
    await asyncio.sleep(10 * RING_INTERVAL)
    assert "ATA" not in emulator.commands
    assert assist_stack.stt.heard == []


async def test_an_allowed_caller_is_answered_after_the_rings_and_silence_ends_the_call(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """Answered at the third RING; the prompt tone reaches the caller; the caller says
    nothing for 3 s (the emulator's test signal is not speech), so Assist hangs up. The
    turn is an assist_start / assist_end pair with the pipeline run id, on the bus and
    the call event entity; the satellite listened, then went back to idle."""
    entry = await assist_entry(entry_factory, emulator, rings=3, silence=3)
    events = async_capture_events(hass, EVENT_CALL)
    states = satellite_states(hass)
    call_event_types = states_seen(hass, "event", "call", "event_type")
    # Rings 0.5 s apart: ATA has that long to reach the modem after the third RING before
    # a fourth one counts (0.1 s was too short on a loaded machine).
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=0.5)
    await wait_until(hass, lambda: "ATA" in emulator.commands, what="the answer")
    call = entry.runtime_data.modem.snapshot.call
    assert call is not None
    assert call.rings == 3
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "call_state").state == "idle",
        timeout=15,
        what="the hang-up",
    )
    assert any(command.startswith("AT+CHUP") or command == "ATH" for command in emulator.commands)
    await wait_until(  # its last frames may cross the pty after the call state changed
        hass, lambda: prompt_tone(8000) in bytes(emulator.audio_received), what="the prompt"
    )
    kinds = [(event.data["type"], event.data.get("outcome")) for event in events]
    assert ("assist_start", None) in kinds
    assert ("assist_end", "silence") in kinds
    start = next(event.data for event in events if event.data["type"] == "assist_start")
    # The run id is the one HA's pipeline debug view lists for this run.
    debug = hass.data["assist_pipeline"].pipeline_debug
    (runs,) = debug.values()
    assert list(runs) == [start["pipeline_run_id"]]
    assert start["conversation_id"]
    assert "listening" in states
    assert satellite(hass).state == "idle"
    # The call event entity took each Assist event as a state of its own, in order.
    assist_types = [kind for kind in call_event_types if kind in ("assist_start", "assist_end")]
    assert assist_types == ["assist_start", "assist_end"]
    assert assist_stack.agent.requests == []  # nothing was said, nothing was acted on


async def test_a_silence_longer_than_ha_listens_to_a_request_is_waited_out(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """HA's VAD ends any request after 15 s of audio; with 40 s of patience set, the caller
    is listened to on in new runs (no new prompt tone) and the call ends on the 40 s, as
    "silence", not after three failed turns as "errors"."""
    from sim7600_emulator.far_end_voice import Voice

    await assist_entry(entry_factory, emulator, rings=1, silence=40)
    # A line that is silent, not the test signal: over 40 s, pymicro-vad took that signal
    # for speech once in a while, which is another turn, not what this test is about.
    emulator.set_voice(Voice(bytes(320), 8000, label="silence"))
    events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=RING_INTERVAL)
    await wait_until(
        hass,
        lambda: any(event.data.get("outcome") == "silence" for event in events),
        timeout=20,
        what="the end on silence",
    )
    outcomes = [event.data.get("outcome") for event in events if event.data["type"] == "assist_end"]
    assert outcomes == ["no_speech", "no_speech", "silence"]  # 15 s + 15 s + 10 s
    heard = await far_end_heard(hass, emulator, len(prompt_tone(8000)))
    assert heard.count(prompt_tone(8000)) == 1
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="the hang-up"
    )
    assert assist_stack.agent.requests == []


# The options form's other fields, as the UI sends them.
OPTIONS = {
    "signal_interval": 60,
    "sms_part_timeout": 24,
    "recordings_folder": "callstack",
    "bus_event_private_data": True,
    "logbook_message_text": False,
}


async def send_assist_options(hass: HomeAssistant, section: dict[str, Any]) -> tuple[Any, Any]:
    """A modem's entry, and the options form sent with ``section`` as its Assist section."""
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.callstack.const import CONF_AT_PORT, DOMAIN

    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: "/dev/x"})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_ASSIST: section}
    )
    return entry, result


async def test_the_options_section_saves_and_checks_the_numbers(hass: HomeAssistant) -> None:
    from homeassistant.data_entry_flow import FlowResultType

    from custom_components.callstack.const import CONF_ASSIST_DIAL

    bad = {CONF_ASSIST_CALLERS: ["call me maybe"], CONF_ASSIST_RINGS: 2, CONF_ASSIST_SILENCE: 10}
    entry, result = await send_assist_options(hass, bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ASSIST: "invalid_assist_number"}
    good = {
        CONF_ASSIST_CALLERS: [" +49 1555 1234567 ", "", "+4915551234567", "(01555) 1234568"],
        CONF_ASSIST_RINGS: 3,
        CONF_ASSIST_SILENCE: 20,
        CONF_ASSIST_DIAL: "+4915551234567",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_ASSIST: good}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ASSIST] == {
        CONF_ASSIST_CALLERS: ["+4915551234567", "015551234568"],
        CONF_ASSIST_RINGS: 3,
        CONF_ASSIST_SILENCE: 20,
        CONF_ASSIST_DIAL: "+4915551234567",
    }


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        ({CONF_ASSIST_RINGS: 0}, {CONF_ASSIST_RINGS: "assist_rings_range"}),
        ({CONF_ASSIST_RINGS: 2.5}, {CONF_ASSIST_RINGS: "assist_rings_range"}),
        ({CONF_ASSIST_SILENCE: 121}, {CONF_ASSIST_SILENCE: "assist_silence_range"}),
    ],
)
async def test_the_options_section_says_the_range_of_its_numbers(
    hass: HomeAssistant, given: dict[str, Any], errors: dict[str, str]
) -> None:
    """As every number of the options form: a form error in words that names the range,
    not HA's "Value 0.0 is too small", and nothing silently rounded or clamped."""
    from homeassistant.data_entry_flow import FlowResultType

    section = {CONF_ASSIST_CALLERS: [], CONF_ASSIST_RINGS: 2, CONF_ASSIST_SILENCE: 10, **given}
    entry, result = await send_assist_options(hass, section)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert CONF_ASSIST not in entry.options


# ---- Assist calls out: announce and start_conversation ------------------------------------

DIAL = "+4915559876543"


async def calling_entry(
    entry_factory: EntryFactory, emulator: Sim7600Emulator, **options: Any
) -> Any:
    """The modem with a number for Assist to call (and nobody allowed to call in)."""
    settings = assist_options([], **options)
    settings[CONF_ASSIST][CONF_ASSIST_DIAL] = DIAL
    entry = await entry_factory(options=settings)
    entry.runtime_data.modem.audio.speed = FAST_AUDIO
    return entry


async def test_announce_dials_speaks_and_hangs_up(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """The callee hears the chime, then the message as TTS made it in the bridge's own
    format (WAV, 8 kHz, mono, 16-bit); then Assist hangs up."""
    await calling_entry(entry_factory, emulator)
    emulator.set_dial_outcome("answer", 0.1)
    target = entity_id(hass, "assist_satellite", "assist_satellite")
    assert satellite(hass).attributes["supported_features"] == 3  # announce, start_conversation
    await hass.services.async_call(
        "assist_satellite",
        "announce",
        {"entity_id": target, "message": "The garage door is open"},
        blocking=True,
    )
    assert f"ATD{DIAL};" in emulator.commands
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="hang-up"
    )
    # The chime, then the 1 s answer as 8 kHz 16-bit mono (anything else is refused, not
    # played), padded to whole 20 ms frames: 8000 samples after the chime's frames.
    frames = -(-len(chime(8000)) // 320) + 8000 // 160
    heard = await far_end_heard(hass, emulator, frames * 320)
    assert heard.startswith(chime(8000))
    assert len(heard) == frames * 320
    assert [message for message, _ in assist_stack.tts.messages] == ["The garage door is open"]
    assert satellite(hass).state == "idle"


async def test_announce_that_nobody_answers_fails_plainly(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    from homeassistant.exceptions import HomeAssistantError

    await calling_entry(entry_factory, emulator)
    emulator.set_dial_outcome("busy", 0.1)
    target = entity_id(hass, "assist_satellite", "assist_satellite")
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            "assist_satellite",
            "announce",
            {"entity_id": target, "message": "Anyone there?"},
            blocking=True,
        )
    assert caught.value.translation_key == "assist_not_answered"
    assert caught.value.translation_placeholders == {"result": "busy"}
    assert emulator.audio_received == bytearray()
    assert satellite(hass).state == "idle"


async def test_without_a_number_to_call_the_satellite_offers_no_calling_out(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    from homeassistant.exceptions import HomeAssistantError

    await assist_entry(entry_factory, emulator)
    assert satellite(hass).attributes["supported_features"] == 0
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "assist_satellite",
            "announce",
            {"entity_id": entity_id(hass, "assist_satellite", "assist_satellite"), "message": "x"},
            blocking=True,
        )
    assert not any(command.startswith("ATD") for command in emulator.commands)


async def test_start_conversation_dials_speaks_then_listens(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """After the message the conversation goes on as for a call that came in: the
    prompt, then (the callee says nothing) silence ends it."""
    await calling_entry(entry_factory, emulator, silence=3)
    emulator.set_dial_outcome("answer", 0.1)
    events = async_capture_events(hass, EVENT_CALL)
    await hass.services.async_call(
        "assist_satellite",
        "start_conversation",
        {
            "entity_id": entity_id(hass, "assist_satellite", "assist_satellite"),
            "start_message": "The garage door is open. Shall I close it?",
        },
        blocking=True,
    )
    await wait_until(
        hass,
        lambda: state_of(hass, "sensor", "call_state").state == "idle",
        timeout=15,
        what="the end of the conversation",
    )
    await wait_until(
        hass, lambda: prompt_tone(8000) in bytes(emulator.audio_received), what="the prompt"
    )
    heard = bytes(emulator.audio_received)
    assert heard.index(chime(8000)) < heard.index(prompt_tone(8000))
    outcomes = [event.data.get("outcome") for event in events if event.data["type"] == "assist_end"]
    assert outcomes == ["silence"]


async def test_hanging_up_mid_turn_ends_the_run_and_leaves_no_task(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """The caller hangs up while Assist listens: the pipeline run is cancelled, the turn
    ends ``hang_up``, the satellite is idle and nothing of the conversation keeps running."""
    await assist_entry(entry_factory, emulator, rings=1, silence=60)
    events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=RING_INTERVAL)
    await wait_until(hass, lambda: satellite(hass).state == "listening", what="listening")
    await emulator.remote_hang_up()
    await wait_until(
        hass, lambda: any(e.data.get("outcome") == "hang_up" for e in events), what="the end"
    )
    await hass.async_block_till_done()
    assert satellite(hass).state == "idle"
    lingering = [
        task.get_name()
        for task in asyncio.all_tasks()
        if "assist" in task.get_name() or "pipeline" in task.get_name()
    ]
    assert lingering == []
    assert not any(command in ("ATH", "AT+CHUP") for command in emulator.commands)


async def test_a_call_whose_audio_never_starts_is_hung_up(
    hass: HomeAssistant,
    identity: Any,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Answered, but the modem keeps refusing PCM: nobody could hear anybody, so Assist
    hangs up (with one warning) instead of holding a silent line open."""
    from custom_components.callstack.sim7600 import audio
    from sim7600_emulator import Variants

    monkeypatch.setattr(audio, "REGISTER_TIMEOUT", 0.3)
    async with Sim7600Emulator(
        identity, Variants(cpcmreg_refusals=10_000), audio_speed=FAST_AUDIO
    ) as emu:
        await emu.start_pty()
        await assist_entry(entry_factory, emu, rings=1)
        await emu.incoming_call(emu.identity.callers[0], ring_interval=RING_INTERVAL)
        await wait_until(hass, lambda: "ATA" in emu.commands, what="the answer")
        await wait_until(
            hass,
            lambda: state_of(hass, "sensor", "call_state").state == "idle",
            timeout=10,
            what="the hang-up",
        )
        assert assist_stack.stt.heard == []
        assert satellite(hass).state == "idle"
        for entry in hass.config_entries.async_entries("callstack"):
            await hass.config_entries.async_unload(entry.entry_id)


# ---- conversations with a caller who speaks (the emulator's far end takes turns) ---------


async def test_two_turns_keep_the_conversation_and_each_answer_is_heard(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
    tmp_path: Any,
) -> None:
    """The caller (espeak-ng speech, spoken after each reply) asks twice: HA's pipeline
    VAD ends each request, the agent sees one conversation id for both, each answer is
    played into the call, and silence after the second ends the call."""
    from sim7600_emulator.far_end_turns import Turns
    from tests.speech import spoken_wav

    # The caller waits 6 s of quiet after each sound of ours before speaking (0.3 s on the
    # clock at 20x): the default 0.6 s were 30 ms, and a stall that long in the answer
    # made the caller speak over it (barge_in, not answered). Silence ends a turn after
    # 12 s, so the caller speaks well within it (and within HA's VAD cap of 15 s).
    await assist_entry(entry_factory, emulator, rings=1, silence=12)
    assist_stack.stt.texts.extend(["turn on the kitchen light", "and the hall"])
    emulator.set_voice(
        Turns(
            [
                spoken_wav("turn on the kitchen light", tmp_path / "one.wav"),
                spoken_wav("and the hall", tmp_path / "two.wav"),
            ],
            gap=6.0,
        )
    )
    events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=RING_INTERVAL)
    await wait_until(
        hass,
        lambda: any(e.data.get("outcome") == "silence" for e in events),
        timeout=30,
        what="the end of the conversation",
    )
    requests = assist_stack.agent.requests
    assert [text for text, _ in requests] == ["turn on the kitchen light", "and the hall"]
    assert requests[0][1] is not None
    assert requests[0][1] == requests[1][1]  # one conversation
    outcomes = [e.data.get("outcome") for e in events if e.data["type"] == "assist_end"]
    assert outcomes == ["answered", "answered", "silence"]
    # Both speech-to-text requests got 16 kHz audio with speech in it (not the silence
    # before): the stub kept what the pipeline streamed to it.
    assert all(len(audio) > 16000 for audio in assist_stack.stt.heard[:2])
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="hang-up"
    )


async def test_the_caller_is_heard_frame_by_frame_once_they_start_speaking(
    hass: HomeAssistant,
    slow_emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
    tmp_path: Any,
) -> None:
    """While the pipeline waits for the caller to start, the caller's stream is not live
    (the bridge may read it a few times a second: only the end of speech is waited for);
    from the moment HA's VAD hears speech, and while the answer plays (barge-in), it is."""
    from sim7600_emulator.far_end_turns import Turns
    from tests.speech import spoken_wav

    # The test holds the caller silent for 0.3 s of wall time and then has them speak: at
    # 20x the pipeline's 10 s (or, whatever the option, HA's VAD's 15 s) were 0.5 s on the
    # clock with two polls and the 0.3 s in it; at 5x, 12 s are 2.4 s.
    emulator = slow_emulator
    entry = await assist_entry(entry_factory, emulator, rings=1, silence=12)
    entry.runtime_data.modem.audio.speed = SLOW_AUDIO
    # "responding" lasts as long as the answer plays: 5 s of it are 1 s at 5x (the 1 s
    # answer was 50 ms on the clock at 20x, which a poll could miss).
    assist_stack.tts.seconds = 5.0
    assist_stack.stt.texts.append("turn on the kitchen light")
    turns = Turns([spoken_wav("turn on the kitchen light", tmp_path / "one.wav")], cue="ctl")
    emulator.set_voice(turns)
    listeners = entry.runtime_data.modem.audio._listeners

    def live() -> list[bool]:
        return [listener.live for listener in listeners]

    events = async_capture_events(hass, EVENT_CALL)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=RING_INTERVAL)
    await wait_until(hass, lambda: satellite(hass).state == "listening", what="listening")
    await wait_until(hass, lambda: live() == [False], what="the stream held while silent")
    await asyncio.sleep(0.3)
    assert live() == [False]  # still nobody speaking
    turns.say_next()
    await wait_until(hass, lambda: live() == [True], what="the stream live once speaking")
    await wait_until(hass, lambda: satellite(hass).state == "responding", what="the answer")
    assert live() == [True]
    await wait_until(
        hass,
        lambda: any(e.data.get("outcome") == "answered" for e in events),
        timeout=15,
        what="the answer played",
    )
    await emulator.remote_hang_up()
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="hang-up"
    )


async def test_speaking_over_the_answer_stops_it(
    hass: HomeAssistant,
    slow_emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
    tmp_path: Any,
) -> None:
    """Barge-in: while a 20 s answer plays, the caller speaks; the answer stops within a
    fraction of a second of audio, and what the caller said is the next request."""
    from sim7600_emulator.far_end_turns import Turns
    from tests.speech import spoken_wav

    # The caller speaks as the satellite starts listening (say_next_once_listening), and
    # may be silent 12 s first (2.4 s on the clock at 5x; 3 s at 20x were 150 ms, which a
    # poll on a loaded machine could miss). Not more: HA's VAD ends a request after 15 s
    # of audio whatever the option says. At 5x the words spoken over the answer last
    # 0.3 s on the clock, and the 250 frames the caller's stream queues are 1.25 s: a
    # stall cannot drop them unheard (at 20x, 250 ms could).
    emulator = slow_emulator
    entry = await assist_entry(entry_factory, emulator, rings=1, silence=12)
    # The answer plays in real time, not as fast as the emulator: at 20x its 20 s were 1 s
    # on the clock, which a loaded machine let run out before the barge-in was heard (then
    # the turn ends "answered" and nothing was tested).
    entry.runtime_data.modem.audio.speed = 1.0
    assist_stack.tts.seconds = 20.0
    assist_stack.stt.texts.extend(["tell me a story", "stop"])
    turns = Turns(
        [
            spoken_wav("tell me a story", tmp_path / "one.wav"),
            spoken_wav("stop, that is enough", tmp_path / "two.wav"),
        ],
        cue="ctl",
    )
    emulator.set_voice(turns)
    events = async_capture_events(hass, EVENT_CALL)
    said = say_next_once_listening(hass, turns)
    await emulator.incoming_call(emulator.identity.callers[0], ring_interval=RING_INTERVAL)
    await wait_until(hass, lambda: said, what="listening")
    assert said == ["one.wav"]
    prompt = len(prompt_tone(8000))
    await wait_until(hass, lambda: satellite(hass).state == "responding", what="the answer")
    # Once 2 s of the answer reached the caller, the caller speaks over it.
    await wait_until(
        hass,
        lambda: len(emulator.audio_received) > 2 * prompt + 2 * 8000 * 2,
        timeout=10,
        what="the answer playing",
    )
    spoke_at = len(emulator.audio_received)
    assert turns.say_next() == "two.wav"
    stopped_at: list[int] = []

    def barged_in() -> bool:
        if any(e.data.get("outcome") == "barge_in" for e in events):
            stopped_at.append(len(emulator.audio_received))
        return bool(stopped_at)

    await wait_until(hass, barged_in, timeout=15, what="the barge-in")
    # The answer stopped within 2 s of its audio after the caller began (the detector needs
    # 60 ms of speech; the rest is room for a loaded machine), not at its end.
    assert stopped_at[0] - spoke_at < 2 * 8000 * 2
    await wait_until(
        hass, lambda: len(assist_stack.agent.requests) == 2, timeout=15, what="the next turn"
    )
    assert [text for text, _ in assist_stack.agent.requests] == ["tell me a story", "stop"]
    # Far less than the 20 s answer reached the caller (8000 samples a second).
    assert len(emulator.audio_received) < 2 * 8000 * 12
