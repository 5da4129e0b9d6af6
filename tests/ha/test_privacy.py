"""Privacy audit: every scenario at DEBUG, and not one seeded secret in any log, error,
diagnostics download or repairs notice."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.callstack.const import DOMAIN
from sim7600_emulator import Sim7600Emulator, UssdReply

from .fixtures import TRANSLATIONS, EntryFactory, state_of, wait_until

pytest_plugins = ("tests.ha.fixtures",)

# HA core echoes every bus event and state change at DEBUG ("Bus:Handling ..."); the call
# and SMS events carry numbers by design, for automations. That echo is HA's, switched on
# by whoever sets homeassistant.core to DEBUG. The test harness's fake storage logs what
# is written (real HA does not). Everything else must stay clean.
HA_EVENT_ECHO = ("Bus:Handling", "Bus:Fired")
HARNESS_LOGGER = "pytest_homeassistant_custom_component"


async def call(hass: HomeAssistant, service: str, errors: list[str], **data: object) -> object:
    """Run an action, keeping the text of any error it raises."""
    try:
        return await hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=service in RESPONDS
        )
    except HomeAssistantError as err:
        errors.append(str(err))
        return None


RESPONDS = {"dial", "record", "play", "send_sms", "send_ussd"}


async def test_no_secret_leaks_anywhere(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    media_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = emulator.identity
    caller, other, third = identity.callers
    errors: list[str] = []

    emulator.set_sim("pin")
    entry = await entry_factory(data={"sim_pin": identity.pin})
    await wait_until(hass, lambda: state_of(hass, "binary_sensor", "connected").state == "on")

    # Calls: incoming with caller ID, answered, recorded, DTMF both ways, remote hang-up.
    await emulator.incoming_call(caller, ring_interval=0.3)
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming")
    await call(hass, "answer", errors)
    await wait_until(hass, lambda: state_of(hass, "binary_sensor", "audio_bridge").state == "on")
    await call(hass, "record", errors, duration=0.2, filename="privacy.wav")
    await call(hass, "send_dtmf", errors, digits="1234")
    await emulator.send_dtmf("42")
    await call(hass, "play", errors, file="privacy.wav")
    await emulator.remote_hang_up()
    await wait_until(hass, lambda: state_of(hass, "sensor", "call_state").state == "idle")

    # Outgoing busy, a missed call in national format, and actions refused in every way.
    emulator.set_dial_outcome("busy", delay=0.05)
    await call(hass, "dial", errors, number=other)
    await emulator.incoming_call(identity.callers_national[2], ring_interval=0.3)
    await asyncio.sleep(0.2)
    await emulator.missed_call()
    for number in (f"{caller};ATH", f"{other}\r", f'"{third}"'):
        await call(hass, "dial", errors, number=number)
        await call(hass, "send_sms", errors, number=number, message=identity.sms_bodies[0])
    await call(hass, "record", errors, duration=1)  # no call
    await call(hass, "send_dtmf", errors, digits=identity.pin)  # no call
    await call(hass, "play", errors, file=f"/etc/{identity.imei}.wav")

    # SMS in (single, multipart out of order, Unicode) and out; USSD both ways.
    await emulator.deliver_sms(caller, identity.sms_bodies[0])
    await emulator.deliver_sms(other, identity.sms_bodies[1] * 5, split=3, order=[3, 1, 2])
    await emulator.deliver_sms(third, identity.sms_bodies[-1], encoding="ucs2")
    await call(hass, "send_sms", errors, number=caller, message=identity.sms_bodies[0])
    emulator.sms_send_error = 331
    await call(hass, "send_sms", errors, number=caller, message=identity.sms_bodies[1])
    emulator.sms_send_error = None
    emulator.ussd_responses["*100#"] = UssdReply(0, identity.ussd_texts[0])
    await call(hass, "send_ussd", errors, code="*100#")
    await emulator.ussd_push(0, identity.ussd_texts[1])

    # Faults: garbage full of private lines, a lost and returning port, a modem restart.
    garbage = f'\r\n+CLIP: "{caller}"\r\n{identity.imei}\r\n+CUSD: 0,"{identity.ussd_texts[0]}\r\n'
    await emulator.send_garbage(garbage.encode())
    await emulator.drop_port("at")
    await wait_until(hass, lambda: state_of(hass, "binary_sensor", "connected").state == "off")
    await emulator.restore_port("at")
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor", "connected").state == "on", timeout=12
    )
    await emulator.reboot()
    await asyncio.sleep(0.5)
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    # Repairs: no SIM.
    emulator.set_sim("absent")
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    issues = [issue for (domain, _), issue in ir.async_get(hass).issues.items() if domain == DOMAIN]
    assert issues, "the audit must cover a repairs issue"
    repair_texts = [
        json.dumps(TRANSLATIONS["issues"][issue.translation_key]).replace(
            "{title}", (issue.translation_placeholders or {}).get("title", "")
        )
        for issue in issues
    ] + [json.dumps(issue.translation_placeholders) for issue in issues]

    assert errors, "the audit must cover refused actions"
    assert diagnostics["snapshot"]["identity"]["imei"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["sim_pin"] == "**REDACTED**"
    audited = [
        record
        for record in caplog.records
        if not record.getMessage().startswith(HA_EVENT_ECHO)
        and not record.name.startswith(HARNESS_LOGGER)
    ]
    logs = [record.getMessage() for record in audited] + [
        record.exc_text or "" for record in audited
    ]
    haystacks = {
        "logs": "\n".join(logs),
        "errors": "\n".join(errors),
        "diagnostics": json.dumps(diagnostics),
        "repairs": "\n".join(repair_texts),
    }
    leaks = {
        where: [secret for secret in identity.secrets() if secret in text]
        for where, text in haystacks.items()
    }
    if any(leaks.values()):  # name the offending records to make a failure actionable
        for record in audited:
            if any(secret in record.getMessage() for secret in identity.secrets()):
                print("LEAK", record.name, record.getMessage()[:300])
    assert leaks == {where: [] for where in haystacks}
