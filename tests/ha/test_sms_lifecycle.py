"""SMS exactly once through Home Assistant's own life cycle: an unload or reload in the
middle of a journal write, HA stopping (storage defers writes), a damaged journal, and
actions that wait on the modem when the entry closes."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
import logging
from pathlib import Path
import threading
from typing import Any
from unittest.mock import patch
import wave

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import DOMAIN, EVENT_SMS_RECEIVED  # noqa: E402
from sim7600_emulator import Identity, Sim7600Emulator, Variants  # noqa: E402
from tests.conftest import FAST_AUDIO  # noqa: E402
from tests.helpers import until  # noqa: E402

from .fixtures import (  # noqa: E402
    ENTRY_ID,
    EntryFactory,
    answered_call,
    assert_translated_error,
    call_action,
    setup_entry,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)

JOURNAL_KEY = f"{DOMAIN}.{ENTRY_ID}.sms"
MARKER = "The last SMS of the test"
LONG = "A multipart message whose parts must arrive once, in order, whatever happens. " * 3


class WriteGate:
    """Holds HA's write of the SMS journal (the harness keeps ``.storage`` in memory) until
    the test lets it go, so an unload can land while the write is in progress, as a slow
    SD card makes it in real life. Like a file, the journal is only read again after a
    write in progress has landed."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = asyncio.Event()
        self.landed = asyncio.Event()
        self.release = threading.Event()

    def open(self) -> None:
        self.armed = False
        self.release.set()


@pytest.fixture
def journal_write_gate(hass: HomeAssistant) -> Generator[WriteGate]:
    gate = WriteGate()
    write = Store._async_write_data  # the harness's in-memory write
    load = Store.async_load

    # The written data comes last: (path, data) on HA 2025.4, (data) from 2026.x.
    async def gated_write(store: Store[Any], *path_and_data: Any) -> None:
        if not (gate.armed and store.key == JOURNAL_KEY):
            await write(store, *path_and_data)
            return
        gate.entered.set()

        async def slow_write() -> None:
            await hass.async_add_executor_job(gate.release.wait, 10)
            await write(store, *path_and_data)
            gate.landed.set()

        # A write in the executor runs to its end even when its caller is cancelled.
        await asyncio.shield(hass.async_create_task(slow_write()))

    async def load_after_write(store: Store[Any]) -> Any:
        if store.key == JOURNAL_KEY and gate.entered.is_set() and not gate.landed.is_set():
            gate.open()
            await gate.landed.wait()
        return await load(store)

    with (
        patch.object(Store, "_async_write_data", gated_write),
        patch.object(Store, "async_load", load_after_write),
    ):
        yield gate
    gate.open()


async def settle_sms(hass: HomeAssistant, emulator: Sim7600Emulator, events: list[Any]) -> None:
    """Let the modem's SMS handling finish: a marker SMS sent last is handled last."""
    await emulator.deliver_sms(emulator.identity.callers[0], MARKER)
    await wait_until(
        hass, lambda: any(event.data["text"] == MARKER for event in events), what="the marker"
    )
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="an empty SIM")


# ---- item 3: an unload or reload during the journal write --------------------------------


@pytest.mark.parametrize("how", ["unload_and_setup", "reload"])
async def test_unload_during_the_journal_write_delivers_later_exactly_once(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    journal_write_gate: WriteGate,
    how: str,
) -> None:
    """The entry goes away while the part's journal entry is being written (the write itself
    lands): after the entry is back, the message is delivered once, and not before."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    entry = await entry_factory()
    sender, text = emulator.identity.callers[0], emulator.identity.sms_bodies[0]
    journal_write_gate.armed = True
    await emulator.deliver_sms(sender, text)
    await asyncio.wait_for(journal_write_gate.entered.wait(), 5)

    if how == "reload":
        going = hass.async_create_task(hass.config_entries.async_reload(entry.entry_id))
    else:
        going = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await asyncio.wait({going}, timeout=0.5)  # the unload may wait for the write
    journal_write_gate.open()
    assert await going
    if how == "unload_and_setup":
        assert events == []  # nobody delivered it in between
        await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED

    await settle_sms(hass, emulator, events)
    assert [event.data["text"] for event in events].count(text) == 1
    assert len(events) == 2


async def test_a_multipart_message_interrupted_at_its_last_part_is_delivered_once(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    journal_write_gate: WriteGate,
) -> None:
    """The write that completes a two-part message is interrupted: the whole message comes
    later, once, not part 2 alone and not twice."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    entry = await entry_factory()
    sender = emulator.identity.callers[1]
    await emulator.deliver_sms(sender, LONG, reference=9, omit_parts=[2])
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="part 1 held")
    journal_write_gate.armed = True
    await emulator.deliver_sms(sender, LONG, reference=9, omit_parts=[1])
    await asyncio.wait_for(journal_write_gate.entered.wait(), 5)
    going = hass.async_create_task(hass.config_entries.async_reload(entry.entry_id))
    await asyncio.wait({going}, timeout=0.5)
    journal_write_gate.open()
    assert await going

    await settle_sms(hass, emulator, events)
    texts = [event.data["text"] for event in events]
    assert texts.count(LONG) == 1
    assert len(texts) == 2
    assert next(event for event in events if event.data["text"] == LONG).data["parts"] == 2


# ---- item 4: HA stopping ------------------------------------------------------------------


@pytest.mark.parametrize("final_write", [True, False], ids=["final_write", "power_lost"])
async def test_while_stopping_parts_stay_on_the_sim_until_the_journal_is_on_disk(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory, final_write: bool
) -> None:
    """During HA's stop, storage only writes at the final-write stage: nothing is deleted
    from the SIM (or delivered to a stopping HA); the next start delivers each message once,
    whether the final write reached the disk or the power went first."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    entry = await entry_factory()
    identity = emulator.identity
    hass.set_state(CoreState.stopping)
    before = len(emulator.commands)
    await emulator.deliver_sms(identity.callers[0], identity.sms_bodies[0])
    await emulator.deliver_sms(identity.callers[1], LONG, split=2)
    # The driver handles stored messages one at a time: the next read means this one is done.
    await emulator.deliver_sms(identity.callers[2], identity.sms_bodies[2])
    for index in range(3):
        await emulator.wait_for_command(f"AT+CMGR={index}", after=before)
    await emulator.wait_for_command("AT+CMGR=3", after=before)
    await hass.async_block_till_done()
    assert len(emulator.sms_storage) == 4
    assert not [c for c in emulator.commands[before:] if c.startswith("AT+CMGD")]

    if final_write:
        hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
        await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.set_state(CoreState.running)  # the next start (the journal is read from disk)
    await setup_entry(hass, entry)

    await settle_sms(hass, emulator, events)
    texts = sorted(event.data["text"] for event in events)
    assert texts == sorted([identity.sms_bodies[0], LONG, identity.sms_bodies[2], MARKER])


# ---- item 7: a damaged journal ------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        {"parts": 5, "reassembly": {}},
        {"parts": [], "reassembly": "garbage"},
        ["x"],
        {"parts": [], "reassembly": {"version": 1, "groups": [{"sender": 1}]}},
        {"parts": [], "reassembly": {}, "outbox": [{"text": None}]},
    ],
    ids=["parts_int", "reassembly_str", "data_list", "bad_group", "bad_outbox"],
)
async def test_a_damaged_journal_is_moved_aside_and_the_modem_starts(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    caplog: pytest.LogCaptureFixture,
    damage: Any,
) -> None:
    """Valid JSON of the wrong shape: logged once (no private data), moved aside, and the
    entry loads; SMS still on the SIM are then delivered as new."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    identity = emulator.identity
    hass_storage[JOURNAL_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": JOURNAL_KEY,
        "data": damage,
    }
    await emulator.deliver_sms(identity.callers[0], identity.sms_bodies[0])

    with caplog.at_level(logging.WARNING):
        entry = await entry_factory()
    assert entry.state is ConfigEntryState.LOADED
    warnings = [r for r in caplog.records if "journal" in r.getMessage().lower()]
    assert len(warnings) == 1
    for secret in identity.secrets():
        assert secret not in caplog.text
    assert hass_storage[f"{JOURNAL_KEY}.corrupt"]["data"] == damage

    await wait_until(hass, lambda: len(events) == 1, what="the stored SMS, swept as new")
    assert events[0].data["text"] == identity.sms_bodies[0]
    await wait_until(hass, lambda: len(emulator.sms_storage) == 0, what="deletion")
    assert hass_storage[JOURNAL_KEY]["data"]["parts"]  # a good journal again


# ---- item 8: close ends every waiting action ----------------------------------------------


@pytest.fixture
async def slow_network_emulator(identity: Identity) -> Any:
    """An emulator whose network takes a minute to answer USSD codes."""
    emu = Sim7600Emulator(
        identity=identity, audio_speed=FAST_AUDIO, variants=Variants(ussd_delay=60.0)
    )
    await emu.start_pty()
    try:
        yield emu
    finally:
        await emu.stop()


async def _start_then_unload(
    hass: HomeAssistant, entry: Any, action: str, data: dict[str, Any], started: Any
) -> tuple[BaseException | None, float]:
    """Call ``action``; once ``started()`` is true unload the entry; return what the action
    raised and how long it took after the unload began."""
    loop = asyncio.get_running_loop()
    # A plain task: the harness's block_till_done would wait for the action to end.
    task = loop.create_task(call_action(hass, action, data, return_response=True))
    await until(started, timeout=5)
    await asyncio.sleep(0.1)  # the command's body (or the OK before a USSD answer) is through
    begun = loop.time()
    assert await hass.config_entries.async_unload(entry.entry_id)
    try:
        async with asyncio.timeout(5):
            await task
    except HomeAssistantError as err:
        return err, loop.time() - begun
    return None, loop.time() - begun


async def test_unload_during_send_ussd_ends_the_action_at_once(
    hass: HomeAssistant, slow_network_emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    emu = slow_network_emulator
    entry = await entry_factory(emu)
    err, took = await _start_then_unload(
        hass,
        entry,
        "send_ussd",
        {"code": "*100#", "timeout": 120},
        lambda: any(c.startswith("AT+CUSD=1") for c in emu.commands),
    )
    assert err is not None
    assert_translated_error(err, HomeAssistantError, "modem_closed", emu)
    assert took < 2


def bodies_through(emulator: Sim7600Emulator) -> int:
    """How many SMS bodies (each ends in Ctrl-Z) the modem has read on its AT port."""
    return sum(
        entry.data.count(b"\x1a")
        for entry in emulator.transcript
        if entry.port == "at" and entry.direction == "host->modem"
    )


async def test_unload_while_the_network_takes_the_sms_is_not_reported_as_failed(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """The body went to the modem, the network has not confirmed yet: the action ends at
    once, and says the SMS may have gone out (a plain failure would invite a retry that
    sends it twice)."""
    entry = await entry_factory()
    emulator.sms_send_delay = 3.0
    number, text = emulator.identity.callers[0], emulator.identity.sms_bodies[0]
    err, took = await _start_then_unload(
        hass,
        entry,
        "send_sms",
        {"number": number, "message": text},
        lambda: bodies_through(emulator) == 1,  # the network has it: 3 s to its answer
    )
    assert err is not None
    assert_translated_error(
        err, HomeAssistantError, "sms_send_interrupted", emulator, {"sent": "0", "parts": "1"}
    )
    assert took < 2.5  # well before the network's answer
    await until(lambda: emulator.sent_sms, timeout=5)
    assert [part.text for part in emulator.sent_sms] == [text]  # it did go out


async def test_unload_between_the_parts_of_an_sms_reports_what_went_out(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """Part 1 of 3 confirmed by +CMGS, part 2 on its way: 1 of 3 sent, the rest uncertain."""
    entry = await entry_factory()
    emulator.sms_send_delay = 1.0
    number = emulator.identity.callers[0]
    err, _ = await _start_then_unload(
        hass,
        entry,
        "send_sms",
        {"number": number, "message": "B" * 400},
        # Part 1 confirmed, part 2's body with the network (1 s to its answer).
        lambda: bodies_through(emulator) == 2,
    )
    assert err is not None
    assert_translated_error(
        err, HomeAssistantError, "sms_send_interrupted", emulator, {"sent": "1", "parts": "3"}
    )


async def test_an_sms_the_network_confirmed_is_reported_sent_even_if_the_ok_is_lost(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """``+CMGS: <mr>`` arrived, the final OK had not when the entry closed: the SMS went
    out, and the action says so."""
    entry = await entry_factory()
    emulator.delay_final("AT+CMGS", 5.0)
    number, text = emulator.identity.callers[0], emulator.identity.sms_bodies[1]
    loop = asyncio.get_running_loop()
    task = loop.create_task(
        call_action(hass, "send_sms", {"number": number, "message": text}, return_response=True)
    )
    await until(lambda: emulator.sent_sms, timeout=5)
    # +CMGS crosses the pty meanwhile (the driver shows no sign of having read it); the OK
    # comes 4 s later, and the action must end within 2 s of the unload, long before.
    await asyncio.sleep(1.0)
    assert await hass.config_entries.async_unload(entry.entry_id)
    async with asyncio.timeout(2):
        response = await task
    assert response == {"references": [emulator.sent_sms[0].reference], "parts": 1}


async def test_unload_during_dial_ends_the_action_with_modem_closed(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """The far end never answers; the entry unloads: not a "failed" call, a closed modem."""
    entry = await entry_factory()
    emulator.set_dial_outcome("none")
    err, took = await _start_then_unload(
        hass,
        entry,
        "dial",
        {"number": emulator.identity.callers[0], "timeout": 120},
        lambda: any(c.startswith("ATD") for c in emulator.commands),
    )
    assert err is not None
    assert_translated_error(err, HomeAssistantError, "modem_closed", emulator)
    assert took < 2


async def test_unload_during_play_ends_it_at_once_and_says_why(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    media_dir: Path,
) -> None:
    entry = await entry_factory()
    path = media_dir / "long.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x01\x00" * 8000 * 600)  # ten minutes (30 s at the test's speed)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    loop = asyncio.get_running_loop()
    task = loop.create_task(call_action(hass, "play", {"file": str(path)}, return_response=True))
    await until(lambda: len(emulator.audio_received) > 3200, timeout=5)
    assert await hass.config_entries.async_unload(entry.entry_id)
    async with asyncio.timeout(2):
        response = await task
    assert response["ended_by"] == "closed"
    assert 0 < response["duration"] < 600
