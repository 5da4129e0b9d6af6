"""Several calls on the line through the emulator: a waiting second caller, hold, swap,
and a dial that a ringing call beats (sim7600.md section 11, issue 12 items 1 and 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from custom_components.callstack.sim7600.calls import HangUpTarget
from custom_components.callstack.sim7600.errors import AtTimeoutError, CallStateError
from custom_components.callstack.sim7600.events import CallEvent
from custom_components.callstack.sim7600.ivr import DtmfEnd, DtmfRequest, DtmfResult
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import CallStat, Identity, Sim7600Emulator, Variants
from tests.conftest import FAST_AUDIO
from tests.helpers import until

from .conftest import Recorder, config_for

FIRST = "+4915550000001"
SECOND = "+4915550000002"


def call_events(events: Recorder) -> list[tuple[str, str | None, str | None]]:
    return [(event.kind, event.number, event.reason) for event in events.of(CallEvent)]


def pcm_off_sent(emulator: Sim7600Emulator, after: int = 0) -> bool:
    return any(cmd.startswith("AT+CPCMREG=0") for cmd in emulator.commands[after:])


async def active_call(emulator: Sim7600Emulator, modem: Modem) -> None:
    """FIRST calls in and is answered; the audio bridge runs."""
    await emulator.incoming_call(FIRST, ring_interval=5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    await until(lambda: modem.audio.running)


async def waiting_call(emulator: Sim7600Emulator, modem: Modem, events: Recorder) -> None:
    """During the active call SECOND calls: a ``waiting`` event with the number."""
    await emulator.incoming_call(SECOND, ring_interval=5)
    await until(lambda: ("waiting", SECOND, None) in call_events(events))
    await until(lambda: modem.snapshot.waiting_call is not None)


async def connected(identity: Identity, variants: Variants, events: Recorder) -> tuple:
    emulator = Sim7600Emulator(identity, variants, audio_speed=FAST_AUDIO)
    await emulator.start_pty()
    modem = Modem(config_for(emulator))
    modem.subscribe(events)
    await modem.connect()
    return emulator, modem


async def test_the_driver_turns_the_waiting_call_urc_on(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    """The +CCWA URC is off after power-up; the network service is left as the user set it."""
    assert "AT+CCWA=1" in emulator.commands
    assert emulator.settings.ccwa == 1


async def test_a_waiting_caller_who_gives_up_does_not_end_the_live_call(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """Issue 12 item 1 as reported: call 2 waits (+CLCC 2,1,5), gives up (+CLCC 2,1,6); HA
    fired ``ended``, showed idle, switched PCM off, and could not hang call 1 up."""
    await active_call(emulator, modem)
    await emulator.incoming_call(SECOND)
    await modem.execute("AT")  # the driver has read what the modem printed
    before = len(emulator.commands)
    await emulator.missed_call(2)
    await modem.execute("AT")
    assert "ended" not in [event.kind for event in events.of(CallEvent)]
    assert modem.snapshot.call_state is CallState.ACTIVE
    assert modem.audio.running
    assert not pcm_off_sent(emulator, before)
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert call_events(events)[-1] == ("ended", FIRST, "local_hang_up")
    assert emulator.calls == []


@pytest.mark.parametrize(
    "variants",
    [
        Variants(),
        Variants(waiting_gone_urcs=True),
        Variants(waiting_gone_urcs=True, waiting_missed_call=False),
        Variants(waiting_missed_call=False),
        Variants(waiting_ring=True),
    ],
    ids=["missed-call-line", "end-no-carrier-and-missed", "end-no-carrier", "list-only", "rings"],
)
async def test_a_waiting_caller_who_gives_up_leaves_the_active_call_alone(
    identity: Identity, variants: Variants
) -> None:
    """Issue 12 item 1: the waiting caller's +CLCC stat 6, END and NO CARRIER end only it."""
    events = Recorder()
    emulator, modem = await connected(identity, variants, events)
    try:
        await active_call(emulator, modem)
        await waiting_call(emulator, modem, events)
        snapshot = modem.snapshot
        assert snapshot.call_state is CallState.ACTIVE
        assert snapshot.call is not None
        assert snapshot.call.number == FIRST
        assert snapshot.waiting_call is not None
        assert snapshot.waiting_call.number == SECOND
        before = len(emulator.commands)

        await emulator.missed_call(2)
        await until(lambda: ("missed", SECOND, None) in call_events(events))
        await modem.execute("AT")  # whatever else the modem printed about call 2 is read
        snapshot = modem.snapshot
        assert snapshot.call_state is CallState.ACTIVE
        assert snapshot.waiting_call is None
        assert modem.audio.running
        assert not pcm_off_sent(emulator, before)
        assert call_events(events) == [
            ("incoming", FIRST, None),
            ("answered", FIRST, None),
            ("waiting", SECOND, None),
            ("missed", SECOND, None),
        ]

        await modem.hang_up()  # the first call is still ours to end
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
        assert call_events(events)[-1] == ("ended", FIRST, "local_hang_up")
        assert emulator.calls == []
    finally:
        await modem.close()
        await emulator.stop()


async def test_without_call_list_urcs_the_driver_asks_which_call_ended(
    identity: Identity,
) -> None:
    """No +CLCC URCs: the bare END / NO CARRIER of the waiting caller leaves the driver in
    doubt, so it reads AT+CLCC instead of ending the call it knows best."""
    events = Recorder()
    variants = Variants(waiting_gone_urcs=True, waiting_missed_call=False)
    emulator, modem = await connected(identity, variants, events)
    try:
        await modem.execute("AT+CLCC=0")
        await active_call(emulator, modem)
        await waiting_call(emulator, modem, events)  # from +CCWA alone
        before = len(emulator.commands)
        await emulator.missed_call(2)
        await until(lambda: ("missed", SECOND, None) in call_events(events))
        assert "AT+CLCC" in emulator.commands[before:]
        assert modem.snapshot.call_state is CallState.ACTIVE
        assert modem.audio.running
        assert not pcm_off_sent(emulator, before)
        await modem.hang_up()
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    finally:
        await modem.close()
        await emulator.stop()


async def test_reject_the_waiting_call(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    before = len(emulator.commands)
    await modem.hang_up(HangUpTarget.WAITING)
    await until(lambda: ("ended", SECOND, "rejected") in call_events(events))
    assert "AT+CHLD=0" in emulator.commands[before:]
    assert "AT+CHUP" not in emulator.commands[before:]
    assert [(call.id, call.stat) for call in emulator.calls] == [(1, CallStat.ACTIVE)]
    await modem.execute("AT")
    assert modem.snapshot.call_state is CallState.ACTIVE
    assert modem.snapshot.waiting_call is None
    assert modem.audio.running
    with pytest.raises(CallStateError):
        await modem.hang_up(HangUpTarget.WAITING)  # nothing waits any more
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)


async def test_answer_the_waiting_call_hold_and_resume(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """answer() takes the waiting call and holds the active one (AT+CHLD=2); when the far
    end of the call taken hangs up, the held call stays held until answer() resumes it."""
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    before = len(emulator.commands)
    await modem.answer()
    await until(lambda: ("answered", SECOND, None) in call_events(events))
    assert "AT+CHLD=2" in emulator.commands[before:]
    assert "ATA" not in emulator.commands[before:]
    await until(lambda: modem.snapshot.held_call is not None)
    snapshot = modem.snapshot
    assert snapshot.call_state is CallState.ACTIVE
    assert snapshot.call is not None
    assert snapshot.call.number == SECOND
    assert snapshot.held_call is not None
    assert snapshot.held_call.number == FIRST
    assert snapshot.waiting_call is None
    assert modem.audio.running
    assert [(call.id, call.stat) for call in emulator.calls] == [
        (1, CallStat.HELD),
        (2, CallStat.ACTIVE),
    ]

    await emulator.remote_hang_up(2)
    await until(lambda: ("ended", SECOND, "remote_hang_up") in call_events(events))
    await modem.execute("AT")
    snapshot = modem.snapshot
    assert snapshot.call_state is CallState.HELD
    assert snapshot.call is not None
    assert snapshot.call.number == FIRST
    assert not pcm_off_sent(emulator, before)  # a call is left: the bridge stays

    await modem.answer()  # resume the held call
    await until(lambda: modem.snapshot.call_state is CallState.ACTIVE)
    assert [(call.id, call.stat) for call in emulator.calls] == [(1, CallStat.ACTIVE)]
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert [kind for kind, _, _ in call_events(events)] == [
        "incoming",
        "answered",
        "waiting",
        "answered",
        "ended",
        "ended",
    ]
    assert call_events(events)[-1] == ("ended", FIRST, "local_hang_up")


async def test_the_active_caller_hangs_up_and_the_waiting_call_rings(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    await emulator.remote_hang_up(1)
    await until(lambda: ("ended", FIRST, "remote_hang_up") in call_events(events))
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    snapshot = modem.snapshot
    assert snapshot.call is not None
    assert snapshot.call.number == SECOND
    assert snapshot.waiting_call is None
    before = len(emulator.commands)
    await modem.answer()
    await until(lambda: ("answered", SECOND, None) in call_events(events))
    assert "ATA" in emulator.commands[before:]
    await until(lambda: modem.audio.running)
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert [kind for kind, _, _ in call_events(events)].count("incoming") == 1


async def test_hang_up_the_active_call_only(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """With a waiting call, ending the active call releases that call alone (AT+CHLD=1X),
    and the waiting call rings on."""
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    before = len(emulator.commands)
    await modem.hang_up(HangUpTarget.ACTIVE)
    await until(lambda: ("ended", FIRST, "local_hang_up") in call_events(events))
    assert "AT+CHLD=11" in emulator.commands[before:]
    assert "AT+CHUP" not in emulator.commands[before:]
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    assert [(call.id, call.stat) for call in emulator.calls] == [(2, CallStat.INCOMING)]
    await modem.hang_up()
    await until(lambda: ("ended", SECOND, "rejected") in call_events(events))
    assert modem.snapshot.call_state is CallState.IDLE


async def test_hang_up_all_calls(emulator: Sim7600Emulator, modem: Modem, events: Recorder) -> None:
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    before = len(emulator.commands)
    await modem.hang_up(HangUpTarget.ALL)
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert "AT+CHUP" in emulator.commands[before:]
    await until(lambda: pcm_off_sent(emulator, before))
    assert sorted(call_events(events)[-2:]) == [
        ("ended", FIRST, "local_hang_up"),
        ("ended", SECOND, "rejected"),
    ]
    assert emulator.calls == []


async def test_operations_that_need_a_second_call(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    with pytest.raises(CallStateError):
        await modem.hang_up(HangUpTarget.ALL)
    await active_call(emulator, modem)
    before = len(emulator.commands)
    with pytest.raises(CallStateError):
        await modem.answer()  # nothing rings or waits
    with pytest.raises(CallStateError):
        await modem.hang_up(HangUpTarget.WAITING)
    with pytest.raises(CallStateError):
        await modem.hang_up(HangUpTarget.HELD)
    assert emulator.commands[before:] == []
    await modem.hang_up()


async def test_end_the_held_call(emulator: Sim7600Emulator, modem: Modem, events: Recorder) -> None:
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    await modem.answer()
    await until(lambda: modem.snapshot.held_call is not None)
    before = len(emulator.commands)
    await modem.hang_up(HangUpTarget.HELD)
    await until(lambda: ("ended", FIRST, "local_hang_up") in call_events(events))
    assert "AT+CHLD=11" in emulator.commands[before:]
    await until(lambda: modem.snapshot.held_call is None)
    assert modem.snapshot.call_state is CallState.ACTIVE
    assert modem.audio.running
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)


async def test_a_reconnect_picks_up_both_calls(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await active_call(emulator, modem)
    await waiting_call(emulator, modem, events)
    await emulator.drop_port("at")
    await until(lambda: not modem.connected)
    await emulator.restore_port("at")
    await until(lambda: modem.connected, timeout=5)
    snapshot = modem.snapshot
    assert snapshot.call_state is CallState.ACTIVE
    assert snapshot.waiting_call is not None
    assert snapshot.waiting_call.number == SECOND


# ---- issue 12 item 2: a dial queued behind another command ---------------------------


async def test_a_call_that_rings_before_our_atd_is_sent_wins(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """The dial waits behind a slow command; a caller rings meanwhile. The dial fails as
    "a call is in progress" without sending ATD, the caller is reported (incoming, then
    missed) and no AT+CHUP is sent at them."""
    emulator.hang_command("AT+COPS?")
    # The hung command must outlast the RING's way to the driver on a loaded machine.
    busy = asyncio.ensure_future(modem.execute("AT+COPS?", timeout=3.0))
    await emulator.wait_for_command("AT+COPS?")
    dial = asyncio.ensure_future(modem.dial(SECOND, timeout=5))
    await asyncio.sleep(0.05)
    await emulator.incoming_call(FIRST, ring_interval=0.2)
    await until(lambda: ("incoming", FIRST, None) in call_events(events))
    with pytest.raises(AtTimeoutError):
        await busy
    with pytest.raises(CallStateError):
        await dial
    assert not any(cmd.startswith("ATD") for cmd in emulator.commands)
    assert "AT+CHUP" not in emulator.commands
    assert modem.snapshot.call_state is CallState.INCOMING
    assert emulator.call is not None
    assert emulator.call.stat is CallStat.INCOMING
    await emulator.missed_call()
    await until(lambda: ("missed", FIRST, None) in call_events(events))
    assert call_events(events) == [("incoming", FIRST, None), ("missed", FIRST, None)]


async def test_a_second_dial_while_one_is_queued_is_refused(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    emulator.hang_command("AT+COPS?")
    busy = asyncio.ensure_future(modem.execute("AT+COPS?", timeout=0.5))
    await emulator.wait_for_command("AT+COPS?")
    emulator.set_dial_outcome("answer", delay=0.05)
    dial = asyncio.ensure_future(modem.dial(SECOND, timeout=5))
    await asyncio.sleep(0.05)
    assert modem.snapshot.call_state is CallState.IDLE  # not dialing until ATD is sent
    with pytest.raises(CallStateError):
        await modem.dial(FIRST)
    with pytest.raises(AtTimeoutError):
        await busy
    assert await dial == "answered"
    assert [cmd for cmd in emulator.commands if cmd.startswith("ATD")] == [f"ATD{SECOND};"]
    await modem.hang_up()


# ---- what runs on the active call -----------------------------------------------------


async def test_a_waiting_caller_does_not_stop_collecting_digits_or_recording(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder, tmp_path: Path
) -> None:
    """Both run on past the waiting caller (a recording long enough to still be going,
    whatever the machine's load) and both end on the first caller's key."""
    await active_call(emulator, modem)
    collected = asyncio.ensure_future(modem.collect_dtmf(DtmfRequest(4, 5, 5, "#")))
    recording = asyncio.ensure_future(modem.record(tmp_path / "first.wav", 600.0, stop_digits="#"))
    await until(lambda: modem.audio._recording is not None)
    await waiting_call(emulator, modem, events)
    await emulator.missed_call(2)
    await until(lambda: ("missed", SECOND, None) in call_events(events))
    assert not recording.done()
    assert modem.audio._recording is not None
    before_the_key = modem.audio._recording.samples
    await emulator.send_dtmf("42#")
    assert await collected == DtmfResult("42", DtmfEnd.TERMINATOR)
    result = await recording
    assert result.ended_by == "dtmf"
    assert result.samples >= before_the_key > 0
    await modem.hang_up()


async def test_a_recording_ends_when_its_call_goes_on_hold(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder, tmp_path: Path
) -> None:
    """Taking the waiting call puts the first on hold: its recording ends as at a call's
    end, while the bridge runs on for the call taken."""
    await active_call(emulator, modem)
    recording = asyncio.ensure_future(modem.record(tmp_path / "first.wav", 600.0))
    await waiting_call(emulator, modem, events)
    await modem.answer()
    result = await asyncio.wait_for(recording, timeout=5)
    assert result.ended_by == "call_ended"
    assert result.samples > 0
    assert modem.audio.running
    second = await modem.record(tmp_path / "second.wav", 0.5)
    assert second.ended_by == "duration"
    await modem.hang_up(HangUpTarget.ALL)
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)


@pytest.mark.parametrize(
    "variants",
    [Variants(chld_begin=False), Variants(chld_begin=True)],
    ids=["no-begin", "begin"],
)
async def test_calls_followed_without_call_list_urcs(
    identity: Identity, variants: Variants
) -> None:
    """With AT+CLCC=0 the driver learns indexes from its own AT+CLCC reads: take the
    waiting call, then the far end of the held call hangs up, then the caller taken."""
    events = Recorder()
    emulator, modem = await connected(identity, variants, events)
    try:
        await modem.execute("AT+CLCC=0")
        await active_call(emulator, modem)
        await waiting_call(emulator, modem, events)
        await modem.answer()
        snapshot = modem.snapshot
        assert snapshot.call is not None
        assert snapshot.call.number == SECOND
        assert snapshot.held_call is not None
        await emulator.remote_hang_up(1)  # the held caller gives up on us
        await until(lambda: ("ended", FIRST, "remote_hang_up") in call_events(events))
        assert modem.snapshot.call_state is CallState.ACTIVE
        assert modem.snapshot.held_call is None
        assert modem.audio.running
        await emulator.remote_hang_up(2)
        await until(lambda: ("ended", SECOND, "remote_hang_up") in call_events(events))
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    finally:
        await modem.close()
        await emulator.stop()


async def test_the_active_caller_hangs_up_without_call_list_urcs(identity: Identity) -> None:
    events = Recorder()
    emulator, modem = await connected(identity, Variants(), events)
    try:
        await modem.execute("AT+CLCC=0")
        await active_call(emulator, modem)
        await waiting_call(emulator, modem, events)
        await emulator.remote_hang_up(1)
        await until(lambda: ("ended", FIRST, "remote_hang_up") in call_events(events))
        await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
        assert modem.snapshot.call is not None
        assert modem.snapshot.call.number == SECOND
        await modem.answer()
        await until(lambda: ("answered", SECOND, None) in call_events(events))
        await modem.hang_up()
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    finally:
        await modem.close()
        await emulator.stop()


async def test_hang_up_cancels_a_dial_that_waits_for_the_line(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """Hanging up while ATD still waits behind another command: it never goes out."""
    emulator.hang_command("AT+COPS?")
    busy = asyncio.ensure_future(modem.execute("AT+COPS?", timeout=0.5))
    await emulator.wait_for_command("AT+COPS?")
    dial = asyncio.ensure_future(modem.dial(SECOND, timeout=5))
    await asyncio.sleep(0.05)
    await modem.hang_up()
    with pytest.raises(AtTimeoutError):
        await busy
    assert await dial == "failed"
    assert not any(cmd.startswith(("ATD", "AT+CHUP")) for cmd in emulator.commands)
    assert call_events(events) == [("ended", SECOND, "local_hang_up")]
    assert modem.snapshot.call_state is CallState.IDLE


@pytest.mark.parametrize("stops", [False, True], ids=["pcm-survives", "pcm-stops"])
async def test_call_audio_after_a_swap(identity: Identity, stops: bool, tmp_path: Path) -> None:
    """After AT+CHLD makes another call active the driver reads AT+CPCMREG? and switches
    PCM on again if the swap turned it off; the call taken can be recorded."""
    events = Recorder()
    emulator, modem = await connected(identity, Variants(chld_stops_pcm=stops), events)
    try:
        await active_call(emulator, modem)
        await waiting_call(emulator, modem, events)
        before = len(emulator.commands)
        await modem.answer()
        await until(lambda: "AT+CPCMREG?" in emulator.commands[before:])
        await until(lambda: emulator.status()["audio"]["streaming"])
        assert ("AT+CPCMREG=1" in emulator.commands[before:]) is stops
        result = await modem.record(tmp_path / "second.wav", 0.5)
        assert (result.ended_by, result.samples) == ("duration", 4000)
        await modem.hang_up(HangUpTarget.ALL)
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    finally:
        await modem.close()
        await emulator.stop()
