"""Calls through the emulator: every sequence of shared/sim7600.md section 3 and its variants."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.callstack.sim7600.calls import DialResult
from custom_components.callstack.sim7600.errors import CallStateError, InvalidArgumentError
from custom_components.callstack.sim7600.events import CallEvent, DtmfEvent
from custom_components.callstack.sim7600.ivr import DtmfEnd, DtmfRequest, DtmfResult
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import Identity, Sim7600Emulator, Variants
from tests.helpers import until

from .conftest import Recorder, config_for

CALLER = "+4915550000001"


def call_events(events: Recorder) -> list[tuple[str, str | None]]:
    return [(event.kind, event.reason) for event in events.of(CallEvent)]


async def test_inbound_answered_then_remote_hang_up(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.2)
    await until(lambda: events.of(CallEvent))
    assert events.of(CallEvent)[0] == CallEvent("incoming", "inbound", CALLER)
    assert modem.snapshot.call_state is CallState.INCOMING

    await modem.answer()
    await until(lambda: modem.audio.running)
    assert modem.snapshot.call_state is CallState.ACTIVE
    assert "AT+CPCMREG=1" in emulator.commands

    await emulator.remote_hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE and not modem.audio.busy)
    await until(lambda: any(cmd.startswith("AT+CPCMREG=0") for cmd in emulator.commands))
    assert call_events(events) == [
        ("incoming", None),
        ("answered", None),
        ("ended", "remote_hang_up"),
    ]
    ended = events.of(CallEvent)[-1]
    assert ended.number == CALLER
    assert ended.duration is not None


async def test_each_ring_is_counted_on_the_ringing_call(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    """What "answer after N rings" counts: every RING, not the +CLIP that follows it."""
    await emulator.incoming_call(CALLER, ring_interval=0.1)
    await until(lambda: modem.snapshot.call is not None and modem.snapshot.call.rings >= 3)
    rings = modem.snapshot.call.rings  # type: ignore[union-attr]
    assert emulator.commands.count("ATA") == 0
    await modem.answer()
    await until(lambda: modem.snapshot.call_state is CallState.ACTIVE)
    await asyncio.sleep(0.3)
    assert modem.snapshot.call.rings in (rings, rings + 1)  # type: ignore[union-attr]


async def test_ring_repeats_announce_once(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.05)
    await asyncio.sleep(0.4)
    assert call_events(events) == [("incoming", None)]
    await emulator.missed_call()
    await until(lambda: len(events.of(CallEvent)) == 2)
    assert events.of(CallEvent)[-1] == CallEvent("missed", "inbound", CALLER)
    assert modem.snapshot.call_state is CallState.IDLE


async def test_missed_call_without_clip_or_clcc_still_reports_the_number(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await modem.execute("AT+CLIP=0")
    await modem.execute("AT+CLCC=0")
    await emulator.incoming_call(CALLER, ring_interval=0.1)
    await until(lambda: events.of(CallEvent), timeout=2)
    assert events.of(CallEvent)[0].number is None  # announced after the caller-ID grace
    await emulator.missed_call()
    await until(lambda: len(events.of(CallEvent)) == 2)
    assert events.of(CallEvent)[-1].number == CALLER  # MISSED_CALL names it


async def test_reject_a_ringing_call(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.2)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    assert call_events(events)[-1] == ("ended", "rejected")
    assert "AT+CHUP" in emulator.commands


@pytest.mark.parametrize(
    ("outcome", "result", "reason"),
    [
        ("answer", DialResult.ANSWERED, None),
        ("busy", DialResult.BUSY, "busy"),
        ("no_answer", DialResult.NO_ANSWER, "no_answer"),
        ("no_carrier", DialResult.FAILED, "failed"),
    ],
)
async def test_dial_outcomes(
    emulator: Sim7600Emulator,
    modem: Modem,
    events: Recorder,
    outcome: str,
    result: DialResult,
    reason: str | None,
) -> None:
    emulator.set_dial_outcome(outcome, delay=0.05)  # type: ignore[arg-type]
    assert await modem.dial(CALLER, timeout=5) is result
    assert f"ATD{CALLER};" in emulator.commands
    if result is DialResult.ANSWERED:
        assert modem.snapshot.call_state is CallState.ACTIVE
        await modem.hang_up()
        await until(lambda: modem.snapshot.call_state is CallState.IDLE)
        assert call_events(events) == [("answered", None), ("ended", "local_hang_up")]
    else:
        assert modem.snapshot.call_state is CallState.IDLE
        assert call_events(events) == [("ended", reason)]


async def test_failed_dial_with_end_urc_first(identity: Identity, events: Recorder) -> None:
    async with Sim7600Emulator(identity, Variants(failed_dial_end=True)) as emulator:
        await emulator.start_pty()
        modem = Modem(config_for(emulator))
        modem.subscribe(events)
        await modem.connect()
        try:
            emulator.set_dial_outcome("busy", delay=0.05)
            assert await modem.dial(CALLER, timeout=5) is DialResult.BUSY
        finally:
            await modem.close()


async def test_dial_timeout_hangs_up(emulator: Sim7600Emulator, modem: Modem) -> None:
    emulator.set_dial_outcome("none")
    assert await modem.dial(CALLER, timeout=0.3) is DialResult.TIMEOUT
    await until(lambda: "AT+CHUP" in emulator.commands)
    assert modem.snapshot.call_state is CallState.IDLE


async def test_operations_that_do_not_fit_the_call_state(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    with pytest.raises(CallStateError):
        await modem.answer()
    with pytest.raises(CallStateError):
        await modem.hang_up()
    with pytest.raises(CallStateError):
        await modem.send_dtmf("1")
    emulator.set_dial_outcome("answer", delay=0.05)
    await modem.dial(CALLER, timeout=5)
    with pytest.raises(CallStateError):
        await modem.dial(CALLER)
    await modem.hang_up()


async def test_a_number_written_with_spaces_and_dashes_is_dialled_compact(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    emulator.set_dial_outcome("busy", delay=0.05)
    written = f"{CALLER[:3]} ({CALLER[3:6]}) {CALLER[6:9]}-{CALLER[9:]}"
    assert await modem.dial(written, timeout=5) is DialResult.BUSY
    assert f"ATD{CALLER};" in emulator.commands


@pytest.mark.parametrize("number", ["123;ATH", "+49 1x1", "12", '1"2', "12\r34", "*#"])
async def test_invalid_numbers_never_reach_the_modem(
    emulator: Sim7600Emulator, modem: Modem, number: str
) -> None:
    with pytest.raises(InvalidArgumentError):
        await modem.dial(number)
    assert not any(command.startswith("ATD") for command in emulator.commands)


async def test_dtmf_both_ways(emulator: Sim7600Emulator, modem: Modem, events: Recorder) -> None:
    emulator.set_dial_outcome("answer", delay=0.05)
    await modem.dial(CALLER, timeout=5)
    await modem.send_dtmf("12#", duration_ms=200)
    assert emulator.dtmf_sent == "12#"
    assert "AT+VTS=1,2" in emulator.commands
    await emulator.send_dtmf("9*")
    await until(lambda: len(events.of(DtmfEvent)) == 2)
    assert events.of(DtmfEvent) == [DtmfEvent("9"), DtmfEvent("*")]
    collected = asyncio.ensure_future(modem.collect_dtmf(DtmfRequest(4, 2, 2, "#")))
    await asyncio.sleep(0.05)
    await emulator.send_dtmf("42#7")
    assert await collected == DtmfResult("42", DtmfEnd.TERMINATOR)
    await modem.hang_up()


@pytest.mark.parametrize(
    "variants",
    [
        Variants(ata_begin_first=False),
        Variants(hangup_ok_first=False, hangup_no_carrier=True),
        Variants(end_format="bare"),
        Variants(end_format="hhmmss"),
    ],
    ids=["ok-before-begin", "end-before-ok", "bare-end", "hhmmss-end"],
)
async def test_sequence_variants(identity: Identity, variants: Variants) -> None:
    events = Recorder()
    async with Sim7600Emulator(identity, variants) as emulator:
        await emulator.start_pty()
        modem = Modem(config_for(emulator))
        modem.subscribe(events)
        await modem.connect()
        try:
            await emulator.incoming_call(CALLER, ring_interval=0.2)
            await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
            await modem.answer()
            await until(lambda: modem.snapshot.call_state is CallState.ACTIVE)
            await modem.hang_up()
            await until(lambda: modem.snapshot.call_state is CallState.IDLE)
            await asyncio.sleep(0.1)  # a trailing NO CARRIER must not create another event
            assert call_events(events) == [
                ("incoming", None),
                ("answered", None),
                ("ended", "local_hang_up"),
            ]
        finally:
            await modem.close()


async def test_reconnect_reconciles_an_ongoing_call(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    emulator.set_dial_outcome("answer", delay=0.05)
    await modem.dial(CALLER, timeout=5)
    await emulator.drop_port("at")
    await until(lambda: not modem.connected)
    assert call_events(events)[-1] == ("ended", "connection_lost")
    await emulator.restore_port("at")
    await until(lambda: modem.connected, timeout=5)
    # The emulator still has the call up: AT+CLCC brings the state back.
    assert modem.snapshot.call_state is CallState.ACTIVE


async def test_a_late_missed_call_line_does_not_report_the_call_twice(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.2)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.hang_up()
    await until(lambda: modem.snapshot.call_state is CallState.IDLE)
    await emulator.send_garbage(f"\r\nMISSED_CALL: 11:53AM {CALLER}\r\n".encode())
    await asyncio.sleep(0.1)
    assert call_events(events) == [("incoming", None), ("ended", "rejected")]


@pytest.mark.parametrize("ok_first", [True, False])
async def test_a_dial_timeout_ends_with_reason_timeout(identity: Identity, ok_first: bool) -> None:
    events = Recorder()
    async with Sim7600Emulator(identity, Variants(hangup_ok_first=ok_first)) as emulator:
        await emulator.start_pty()
        modem = Modem(config_for(emulator))
        modem.subscribe(events)
        await modem.connect()
        try:
            emulator.set_dial_outcome("none")
            assert await modem.dial(CALLER, timeout=0.3) is DialResult.TIMEOUT
            await until(lambda: modem.snapshot.call_state is CallState.IDLE)
            assert call_events(events) == [("ended", "timeout")]
        finally:
            await modem.close()


async def test_an_empty_call_list_taken_before_our_atd_does_not_end_the_dial(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """A re-initialisation may read AT+CLCC while our ATD still waits for the line: the
    dial's call exists only once ATD is written, so that list cannot end it."""
    emulator.hang_command("AT+COPS?")
    busy = asyncio.ensure_future(modem.execute("AT+COPS?", timeout=0.5))
    await emulator.wait_for_command("AT+COPS?")
    emulator.set_dial_outcome("answer", delay=0.05)
    dial = asyncio.ensure_future(modem.dial(CALLER, timeout=5))
    await asyncio.sleep(0.05)
    assert modem.snapshot.call_state is CallState.IDLE
    modem.calls.reconcile([])  # the list of a modem that has not seen our ATD yet
    with pytest.raises(Exception):  # noqa: B017, PT011 - the hung command times out
        await busy
    assert await dial is DialResult.ANSWERED
    await modem.hang_up()
