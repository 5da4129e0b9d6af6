"""Diagnostics download: a snapshot, and no private data in it."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

pytest.register_assert_rewrite("tests.ha.fixtures", "tests.ha.assist_stack")

from custom_components.callstack.const import (  # noqa: E402
    CONF_ASSIST,
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_DIAL,
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_SIM_PIN,
    CONF_SMS_RECIPIENTS,
    CONF_VOICEMAIL_KNOWN_NUMBERS,
)
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .assist_stack import AssistStack  # noqa: E402
from .fixtures import EntryFactory, call_action, wait_until  # noqa: E402

pytest_plugins = ("tests.ha.fixtures", "tests.ha.assist_stack")

# Values that differ on every run: temporary port paths, timestamps, line counters.
VOLATILE = props(
    CONF_AT_PORT, CONF_AUDIO_PORT, "last_sms_received", "started", "executor", "bytes_in"
)


async def _loaded_with_private_data(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> Any:
    """An entry holding every kind of private value: PIN, recipients, IMEI as unique ID,
    a received SMS and a call with a number."""
    identity = emulator.identity
    emulator.set_sim("pin")
    entry = await entry_factory(
        data={CONF_SIM_PIN: identity.pin},
        options={CONF_SMS_RECIPIENTS: [identity.callers[0], identity.msisdn]},
        unique_id=identity.imei,
    )
    modem = entry.runtime_data.modem
    await emulator.deliver_sms(identity.callers[1], identity.sms_bodies[0])
    await wait_until(hass, lambda: modem.sms.received == 1, what="an SMS")
    return entry


async def test_diagnostics_snapshot_without_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    ha_snapshot: SnapshotAssertion,
) -> None:
    """The download is stable, and none of the seeded secrets appears in it, even while a
    call rings (ringing, not answered: streaming call audio would slow the HTTP request)."""
    entry = await _loaded_with_private_data(hass, emulator, entry_factory)
    await emulator.incoming_call(emulator.identity.callers[2])
    await wait_until(
        hass, lambda: entry.runtime_data.modem.calls.call is not None, what="the ringing call"
    )

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert diagnostics == ha_snapshot(exclude=VOLATILE)
    assert diagnostics["entry"]["data"][CONF_AT_PORT] == emulator.at_link
    assert diagnostics["entry"]["data"][CONF_SIM_PIN] == "**REDACTED**"
    assert diagnostics["entry"]["unique_id"] == "**REDACTED**"
    assert diagnostics["snapshot"]["call"]["number"] == "**REDACTED**"
    dumped = json.dumps(diagnostics)
    for secret in emulator.identity.secrets():
        assert secret not in dumped
    await call_action(hass, "hang_up")


async def test_diagnostics_redact_the_numbers_of_voicemail_and_assist(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    assist_stack: AssistStack,
) -> None:
    """The voicemail known numbers and the Assist callers and dial number are phone
    numbers too: the download shows that they are set, never what they are."""
    callers = emulator.identity.callers
    entry = await entry_factory(
        options={
            CONF_VOICEMAIL_KNOWN_NUMBERS: [callers[0]],
            CONF_ASSIST: {CONF_ASSIST_CALLERS: [callers[1]], CONF_ASSIST_DIAL: callers[2]},
        },
    )

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    options = diagnostics["entry"]["options"]
    assert options[CONF_VOICEMAIL_KNOWN_NUMBERS] == "**REDACTED**"
    assert options[CONF_ASSIST][CONF_ASSIST_CALLERS] == "**REDACTED**"
    assert options[CONF_ASSIST][CONF_ASSIST_DIAL] == "**REDACTED**"
    dumped = json.dumps(diagnostics)
    for number in callers[:3]:
        assert number not in dumped
