"""SMS through the driver: delivery reports, a full SIM, multipart groups that never
complete or reuse a reference, what else the SIM holds, and closing while actions wait."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from custom_components.callstack.sim7600 import sms as sms_module
from custom_components.callstack.sim7600.errors import ModemClosedError
from custom_components.callstack.sim7600.events import SmsDeliveryReport, SmsReceived
from custom_components.callstack.sim7600.ivr import DtmfRequest
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from custom_components.callstack.sim7600.sms import SmsSendInterruptedError
from custom_components.callstack.sim7600.sms_state import MemoryJournal
from sim7600_emulator import Identity, Sim7600Emulator, SmsStat, Variants
from tests.helpers import until

from .conftest import Recorder, config_for

SENDER = "+4915550000001"


async def test_delivery_report_names_the_sent_part(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    result = await modem.send_sms(SENDER, "Are you home?", request_delivery_report=True)
    assert emulator.sent_sms[-1].status_report
    await emulator.delivery_report(result.references[0])
    await until(lambda: events.of(SmsDeliveryReport))
    report = events.of(SmsDeliveryReport)[0]
    assert report.reference == result.references[0]
    assert report.delivered


async def test_a_full_sim_is_drained_and_nothing_is_lost_or_doubled(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    emulator.sms_storage.capacity = 5
    await emulator.drop_port("at")
    await until(lambda: not modem.connected)
    for index in range(8):  # 5 fit, 3 wait at the network until there is room
        await emulator.deliver_sms(SENDER, f"message {index}")
    await emulator.restore_port("at")
    await until(lambda: len(events.of(SmsReceived)) == 8, timeout=10)
    texts = sorted(event.message.text for event in events.of(SmsReceived))
    assert texts == sorted(f"message {index}" for index in range(8))
    await until(lambda: len(emulator.sms_storage) == 0)
    assert not modem.snapshot.sms_storage_full


async def test_storage_full_urc_raises_the_flag_until_drained(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    changes: list[bool] = []
    modem.subscribe(lambda event: changes.append(modem.snapshot.sms_storage_full))
    await emulator.send_garbage(b"\r\n+SMS FULL\r\n")
    await until(lambda: True in changes)
    await until(lambda: not modem.snapshot.sms_storage_full)


async def test_an_incomplete_multipart_message_is_delivered_when_it_times_out(
    emulator: Sim7600Emulator,
) -> None:
    events = Recorder()
    modem = Modem(config_for(emulator, sms_part_timeout=0.3, signal_interval=0.1))
    modem.subscribe(events)
    await modem.connect()
    try:
        await emulator.deliver_sms(SENDER, "abc " * 100, split=3, omit_parts=[2])
        await asyncio.sleep(0.1)
        assert events.of(SmsReceived) == []  # held, waiting for part 2
        await until(lambda: events.of(SmsReceived), timeout=3)
        message = events.of(SmsReceived)[0].message
        assert message.incomplete
        assert (message.parts, message.total, message.missing) == (2, 3, (2,))
        assert modem.sms.journal.state.to_dict()["reassembly"] == {"version": 1, "groups": []}
    finally:
        await modem.close()


# ---- what is on the SIM that is not ours, or that nobody can read ------------------------


async def test_only_received_messages_are_taken_from_the_sim(emulator: Sim7600Emulator) -> None:
    """The user's sent (stat 3) and draft (stat 2) messages stay, and so does a received PDU
    that cannot be decoded: it is counted once, however often the SIM is swept."""
    sent = emulator.store_sent_sms(SENDER, "kept: sent")
    draft = emulator.store_sent_sms(SENDER, "kept: draft", stat=SmsStat.STO_UNSENT)
    broken = emulator.store_raw_sms(bytes.fromhex("0004"))  # an SMS-DELIVER cut short
    await emulator.deliver_sms(SENDER, "for us")
    events = Recorder()
    modem = Modem(config_for(emulator))
    modem.subscribe(events)
    await modem.connect()
    try:
        await until(lambda: len(emulator.sms_storage) == 3)
        assert sorted(stored.index for stored in emulator.sms_storage) == [sent, draft, broken]
        assert [event.message.text for event in events.of(SmsReceived)] == ["for us"]
        assert modem.diagnostics()["sms"]["undecodable"] == 1
        await modem.sweep_sms()  # again, as after a reconnect
        assert len(emulator.sms_storage) == 3
        assert modem.diagnostics()["sms"]["undecodable"] == 1
        assert len(events.of(SmsReceived)) == 1
    finally:
        await modem.close()


# ---- a reused multipart reference --------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "gap"),
    [([1, 2], timedelta(0)), ([2, 1], timedelta(hours=2))],
    ids=["same_part_other_content", "other_part_hours_later"],
)
async def test_a_reused_reference_does_not_mix_two_messages(
    emulator: Sim7600Emulator,
    modem: Modem,
    events: Recorder,
    order: list[int],
    gap: timedelta,
) -> None:
    """Message A (ref 5) lost its part 2; message B reuses ref 5. A is delivered incomplete
    as soon as B's conflicting part shows, and B whole; nothing of A ends up in B."""
    first_text, second_text = "A" * 200, "B" * 200
    stamp = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    await emulator.deliver_sms(SENDER, first_text, reference=5, omit_parts=[2], timestamp=stamp)
    await until(lambda: len(emulator.sms_storage) == 0)
    await emulator.deliver_sms(SENDER, second_text, reference=5, order=order, timestamp=stamp + gap)
    await until(lambda: len(events.of(SmsReceived)) == 2)
    first, second = (event.message for event in events.of(SmsReceived))
    assert (first.incomplete, first.missing, first.parts, first.total) == (True, (2,), 1, 2)
    assert set(first.text) == {"A"}
    assert (second.text, second.incomplete, second.parts) == (second_text, False, 2)
    await until(lambda: len(emulator.sms_storage) == 0)
    assert len(modem.sms.reassembler) == 0


async def test_a_repeated_part_is_still_a_duplicate(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """The network delivers part 1 twice (same time stamp, same content): one message."""
    text = "C" * 200
    stamp = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    await emulator.deliver_sms(SENDER, text, reference=7, order=[1, 1, 2], timestamp=stamp)
    await until(lambda: events.of(SmsReceived))
    await until(lambda: len(emulator.sms_storage) == 0)
    assert [event.message.text for event in events.of(SmsReceived)] == [text]


# ---- closing ends what waits on the modem ------------------------------------------------


async def test_close_ends_a_ussd_wait_at_once(identity: Identity) -> None:
    emu = Sim7600Emulator(identity=identity, variants=Variants(ussd_delay=60.0))
    await emu.start_pty()
    modem = Modem(config_for(emu))
    await modem.connect()
    try:
        waiting = asyncio.create_task(modem.send_ussd("*100#", timeout=120))
        await emu.wait_for_command("AT+CUSD=1")
        await asyncio.sleep(0.05)  # OK received: the answer is awaited
        await modem.close()
        async with asyncio.timeout(1):
            with pytest.raises(ModemClosedError):
                await waiting
    finally:
        await modem.close()
        await emu.stop()


async def test_close_ends_collecting_dtmf_at_once(emulator: Sim7600Emulator, modem: Modem) -> None:
    await emulator.incoming_call(emulator.identity.callers[0])
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    waiting = asyncio.create_task(modem.collect_dtmf(DtmfRequest(4, 60, 60)))
    await asyncio.sleep(0.05)
    await modem.close()
    async with asyncio.timeout(1):
        with pytest.raises(ModemClosedError):
            await waiting


# ---- the journal decides what may be delivered and deleted -------------------------------


class DeferringJournal(MemoryJournal):
    """A journal whose writes are deferred (as HA's storage defers them while it stops)
    until ``durable`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.durable = False

    async def save(self) -> bool:
        await super().save()
        return self.durable


async def test_nothing_is_delivered_or_deleted_before_the_journal_is_durable(
    emulator: Sim7600Emulator,
) -> None:
    journal = DeferringJournal()
    events = Recorder()
    modem = Modem(config_for(emulator), sms_journal=journal)
    modem.subscribe(events)
    await modem.connect()
    try:
        await emulator.deliver_sms(SENDER, "while stopping")
        await emulator.deliver_sms(SENDER, "x" * 200, split=2)
        await until(lambda: len(journal.state.outbox) == 2)
        await asyncio.sleep(0.1)
        assert events.of(SmsReceived) == []
        assert len(emulator.sms_storage) == 3
        assert not [c for c in emulator.commands if c.startswith("AT+CMGD")]
    finally:
        await modem.close()

    # The next start: the journal (as written at the final write) is durable again.
    journal.durable = True
    events = Recorder()
    modem = Modem(config_for(emulator), sms_journal=journal)
    modem.subscribe(events)
    await modem.connect()
    try:
        await until(lambda: len(emulator.sms_storage) == 0)
        texts = sorted(event.message.text for event in events.of(SmsReceived))
        assert texts == ["while stopping", "x" * 200]
        assert modem.sms.duplicates == 3  # the SIM copies, known to the journal
    finally:
        await modem.close()


async def test_a_sim_filled_by_what_stays_on_it_stays_flagged_full(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    """Messages that are not ours keep the SIM full: the flag (and the repair notice built
    on it) stays until the user makes room."""
    emulator.sms_storage.capacity = 2
    emulator.store_sent_sms(SENDER, "mine")
    emulator.store_sent_sms(SENDER, "mine too")
    before = len(emulator.commands)
    await emulator.send_garbage(b"\r\n+SMS FULL\r\n")
    await until(lambda: modem.snapshot.sms_storage_full)
    await emulator.wait_for_command('AT+CPMS="SM"', after=before)  # the sweep's last word
    await asyncio.sleep(0.1)
    assert modem.snapshot.sms_storage_full
    assert len(emulator.sms_storage) == 2
    emulator.sms_storage.delete(0)  # the user deletes one with a phone
    await emulator.send_garbage(b"\r\n+SMS FULL\r\n")
    await until(lambda: not modem.snapshot.sms_storage_full)


# ---- a send the modem does not finish in time ---------------------------------------------


async def test_a_part_the_network_never_confirms_is_not_reported_as_failed(
    emulator: Sim7600Emulator, modem: Modem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body went to the modem, ``+CMGS`` does not come in time: the SMS may go out all
    the same, so the caller is told "maybe sent", never a plain failure that invites a
    retry (the same rule as a close in the middle)."""
    monkeypatch.setattr(sms_module, "SEND_TIMEOUT", 0.5)
    emulator.sms_send_delay = 2.0
    with pytest.raises(SmsSendInterruptedError) as raised:
        await modem.send_sms(SENDER, "Are you home?")
    assert (raised.value.sent, raised.value.parts, raised.value.unconfirmed) == (0, 1, True)
    await until(lambda: emulator.sent_sms, timeout=5)  # and it did go out


async def test_a_timeout_after_confirmed_parts_reports_what_went_out(
    emulator: Sim7600Emulator, modem: Modem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 1 of 2 confirmed, the modem never prompts for part 2: 1 of 2 sent, and
    nothing uncertain (part 2's body never left)."""
    monkeypatch.setattr(sms_module, "SEND_TIMEOUT", 0.5)
    emulator.sms_send_delay = 0.3
    sending = asyncio.create_task(modem.send_sms(SENDER, "B" * 200))
    await emulator.wait_for_command("AT+CMGS")
    emulator.hang_command("AT+CMGS")  # the next one: part 2
    with pytest.raises(SmsSendInterruptedError) as raised:
        await sending
    assert (raised.value.sent, raised.value.parts, raised.value.unconfirmed) == (1, 2, False)
    assert len(emulator.sent_sms) == 1


@pytest.mark.parametrize(
    ("action", "command"),
    [("dial", "ATD"), ("ussd", "AT+CUSD=1")],
)
async def test_a_command_queued_when_close_begins_never_reaches_the_modem(
    emulator: Sim7600Emulator, modem: Modem, action: str, command: str
) -> None:
    """A dial or USSD code waits behind the driver's own work (here reading an SMS) when the
    modem is closed. Close cancels that work, which frees the line: the queued command must
    end with ModemClosedError, not go out (a call nobody follows or ends, a USSD session,
    possibly a paid one, whose answer nobody gets)."""
    emulator.hang_command("AT+CMGR")
    await emulator.deliver_sms(SENDER, "Are you home?")
    await emulator.wait_for_command("AT+CMGR")  # the driver's read now holds the line
    queued = asyncio.create_task(
        modem.dial(SENDER) if action == "dial" else modem.send_ussd("*100#", timeout=60)
    )
    await asyncio.sleep(0.05)
    await modem.close()
    async with asyncio.timeout(2):
        with pytest.raises(ModemClosedError):
            await queued
    await asyncio.sleep(0.2)  # anything written reaches the emulator by now
    assert not any(sent.startswith(command) for sent in emulator.commands)
