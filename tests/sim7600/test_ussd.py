"""USSD through the driver and the emulator: odd texts never wedge the AT line, and an
answer is only ever taken for the code that was actually sent."""

from __future__ import annotations

import asyncio

from custom_components.callstack.sim7600.events import UssdReceived
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem
from custom_components.callstack.sim7600.ussd import UssdResult
from sim7600_emulator import Sim7600Emulator, UssdReply
from tests.helpers import until

from .conftest import Recorder

CALLER = "+4915550000001"


async def test_a_multi_line_menu_arrives_whole(emulator: Sim7600Emulator, modem: Modem) -> None:
    emulator.ussd_responses["*100#"] = UssdReply(1, "Menu\r\n1 Balance\n2 Data")
    result = await modem.send_ussd("*100#", timeout=5)
    assert result == UssdResult("needs_reply", "Menu\n1 Balance\n2 Data")


async def test_a_stray_quote_in_the_answer_leaves_the_line_working(
    emulator: Sim7600Emulator, modem: Modem
) -> None:
    """One ``"`` in the text: the answer arrives, and so do the replies and calls after it."""
    emulator.ussd_responses["*100#"] = UssdReply(0, 'Say "hi')
    emulator.ussd_responses["*101#"] = UssdReply(0, "Balance 5")
    assert await modem.send_ussd("*100#", timeout=5) == UssdResult("done", 'Say "hi')
    assert await modem.execute("AT+CSQ") == ["+CSQ: 20,99"]
    assert await modem.send_ussd("*101#", timeout=5) == UssdResult("done", "Balance 5")
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    assert modem.connected


async def test_a_text_that_never_closes_arrives_once_the_line_is_quiet(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.send_garbage(b'\r\n+CUSD: 2,"Welcome to the network\r\n')
    await until(lambda: events.of(UssdReceived), timeout=5)
    assert events.of(UssdReceived) == [UssdReceived("network_ended", "Welcome to the network")]


async def test_a_ring_after_a_text_that_never_closes_is_reported(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    await emulator.send_garbage(b'\r\n+CUSD: 2,"Welcome\r\n')
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await until(lambda: modem.snapshot.call is not None and modem.snapshot.call.number == CALLER)
    assert events.of(UssdReceived) == [UssdReceived("network_ended", "Welcome")]


async def test_a_queued_ussd_does_not_take_a_network_push_as_its_answer(
    emulator: Sim7600Emulator, modem: Modem, events: Recorder
) -> None:
    """The code waits behind an SMS; a push that comes meanwhile is a push, not the answer."""
    emulator.ussd_responses["*100#"] = UssdReply(0, "Balance 5")
    await modem.send_ussd("*100#", timeout=5)  # turns USSD presentation on
    emulator.sms_send_delay = 2.0
    sms = asyncio.ensure_future(modem.send_sms(CALLER, "Hello"))
    await emulator.wait_for_command("AT+CMGS")
    sent_before = len(emulator.commands)
    ussd = asyncio.ensure_future(modem.send_ussd("*100#", timeout=5))
    await asyncio.sleep(0.1)  # the USSD is queued behind the SMS
    await emulator.ussd_push(2, "Promotion")
    await until(lambda: events.of(UssdReceived), timeout=5)
    # The push came while the code still waited for its turn.
    assert not any(cmd.startswith("AT+CUSD") for cmd in emulator.commands[sent_before:])
    assert events.of(UssdReceived) == [UssdReceived("network_ended", "Promotion")]
    assert await ussd == UssdResult("done", "Balance 5")
    await sms
