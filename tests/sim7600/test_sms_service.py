"""SMS through the driver: delivery reports, a full SIM, and multipart groups that never
complete."""

from __future__ import annotations

import asyncio

from custom_components.callstack.sim7600.events import SmsDeliveryReport, SmsReceived
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import Sim7600Emulator
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
        assert modem.sms.journal.reassembly == {"version": 1, "groups": []}  # persisted
    finally:
        await modem.close()
