"""Repairs issues: raised when the modem shows a problem, cleared when it goes away."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_AUDIO_PORT,
    CONF_SIGNAL_INTERVAL,
    DOMAIN,
)
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .fixtures import (  # noqa: E402
    ENTRY_ID,
    TITLE,
    TRANSLATIONS,
    EntryFactory,
    answered_call,
    call_action,
    call_state,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)


def issue(hass: HomeAssistant, key: str) -> ir.IssueEntry | None:
    """The Callstack issue ``<key>_<entry_id>``, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{ENTRY_ID}")


def assert_issue(hass: HomeAssistant, key: str) -> None:
    """The issue is raised with its translation and the modem's title, and is documented."""
    found = issue(hass, key)
    assert found is not None, f"no {key} issue"
    assert found.translation_key == key
    assert found.translation_placeholders == {"title": TITLE}
    assert found.severity is ir.IssueSeverity.ERROR
    assert not found.is_fixable
    assert key in TRANSLATIONS["issues"]


async def test_no_sim_raises_an_issue_until_a_sim_is_inserted(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """No SIM: the modem still loads, with a repairs issue that goes once a SIM is found."""
    emulator.set_sim("absent")
    entry = await entry_factory()
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor", "sim_status").state == "not_inserted"
    assert_issue(hass, "sim_not_inserted")
    assert issue(hass, "sim_puk_required") is None

    emulator.set_sim("ready")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor", "sim_status").state == "ready"
    assert issue(hass, "sim_not_inserted") is None


async def test_blocked_sim_raises_an_issue(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """A SIM that needs its PUK: an issue, and no PIN or PUK is ever tried."""
    emulator.set_sim("puk")
    entry = await entry_factory()
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor", "sim_status").state == "puk_required"
    assert_issue(hass, "sim_puk_required")
    assert not [c for c in emulator.commands if c.startswith("AT+CPIN=")]

    emulator.set_sim("ready")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, "sim_puk_required") is None


async def test_missing_audio_port_raises_an_issue_on_a_call(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    tmp_path: Path,
) -> None:
    """An audio port that does not exist shows up as an issue as soon as a call needs it."""
    await entry_factory(data={CONF_AUDIO_PORT: str(tmp_path / "ttyUSB4-missing")})
    assert issue(hass, "audio_port_unavailable") is None

    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await call_action(hass, "answer")
    await wait_until(
        hass, lambda: issue(hass, "audio_port_unavailable") is not None, what="the issue"
    )
    assert_issue(hass, "audio_port_unavailable")
    bridge = state_of(hass, "binary_sensor", "audio_bridge")
    assert bridge.state == "off"
    assert bridge.attributes == bridge.attributes | {"state": "failed", "error": "port_unavailable"}
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")


async def test_audio_port_issue_stays_until_the_bridge_works(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    media_dir: Any,
) -> None:
    """The issue outlives the call that raised it and clears on a call whose audio works."""
    await emulator.drop_port("audio")  # the by-id link of the audio port is gone
    await entry_factory()
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await call_action(hass, "answer")
    await wait_until(
        hass, lambda: issue(hass, "audio_port_unavailable") is not None, what="the issue"
    )
    assert_issue(hass, "audio_port_unavailable")
    await emulator.remote_hang_up()
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    assert issue(hass, "audio_port_unavailable") is not None
    assert state_of(hass, "binary_sensor", "audio_bridge").attributes["error"] == (
        "port_unavailable"
    )

    await emulator.restore_port("audio")
    await answered_call(hass, emulator, emulator.identity.callers[1])
    assert issue(hass, "audio_port_unavailable") is None
    response = await call_action(
        hass, "record", {"duration": 0.1, "filename": "back.wav"}, return_response=True
    )
    assert response["ended_by"] == "duration"
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")


async def test_audio_port_issue_clears_between_calls(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """When the port returns, the slow poll notices it without waiting for a call."""
    await emulator.drop_port("audio")
    await entry_factory(options={CONF_SIGNAL_INTERVAL: 0.2})
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="incoming")
    await call_action(hass, "answer")
    await wait_until(
        hass, lambda: issue(hass, "audio_port_unavailable") is not None, what="the issue"
    )
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")
    await asyncio.sleep(0.5)
    await hass.async_block_till_done()
    assert issue(hass, "audio_port_unavailable") is not None

    await emulator.restore_port("audio")
    await wait_until(
        hass, lambda: issue(hass, "audio_port_unavailable") is None, what="the issue to clear"
    )
    assert "error" not in state_of(hass, "binary_sensor", "audio_bridge").attributes


async def test_issues_are_removed_with_the_entry(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    """Removing the modem drops its issues."""
    emulator.set_sim("absent")
    entry = await entry_factory()
    assert_issue(hass, "sim_not_inserted")
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, "sim_not_inserted") is None
