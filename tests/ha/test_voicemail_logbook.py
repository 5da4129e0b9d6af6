"""Voicemail in the logbook: a message left through the emulator reads "voicemail from …
(3 s)" in Activity and on the device page (real recorder and logbook), every form of the
event in words, and the transcript only when the user asks for texts in the logbook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import CONF_LOGBOOK_MESSAGE_TEXT  # noqa: E402
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .fixtures import EntryFactory  # noqa: E402
from .test_logbook import _entries, logbook  # noqa: E402, F401 - the logbook fixture
from .voicemail_helpers import leave_message  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)
pytestmark = pytest.mark.usefixtures("logbook")

CALLER = "+4915123456789"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Any, enable_custom_integrations: None) -> None:
    """The suite's autouse fixture, after the recorder: it must exist before ``hass``."""


async def test_a_voicemail_in_the_call_log(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    recordings: Path,
    entry_factory: EntryFactory,
) -> None:
    since = dt_util.utcnow() - timedelta(seconds=1)
    entry = await entry_factory()
    await leave_message(hass, emulator, entry, seconds=3)
    caller = emulator.identity.callers[0]
    entries = await _entries(hass, hass_ws_client, since)
    assert f"voicemail from {caller} (3 s)" in [item["message"] for item in entries]
    on_device_page = await _entries(hass, hass_ws_client, since, entry.runtime_data.device_id)
    assert f"voicemail from {caller} (3 s)" in [item["message"] for item in on_device_page]


@pytest.mark.parametrize(
    ("options", "data", "message"),
    [
        (
            {},
            {"kept": True, "number": CALLER, "duration": 35.4, "transcript": "call me back"},
            f"voicemail from {CALLER} (35 s)",
        ),
        (
            {CONF_LOGBOOK_MESSAGE_TEXT: True},
            {"kept": True, "number": CALLER, "duration": 95, "transcript": "call me back"},
            f"voicemail from {CALLER} (1 min 35 s): call me back",
        ),
        (
            {},
            {"kept": True, "number": None, "duration": 4},
            "voicemail from a withheld number (4 s)",
        ),
        ({}, {"kept": False, "number": CALLER, "duration": 1.0}, f"{CALLER} left no voicemail"),
        # Numbers and transcripts kept off the bus.
        (
            {CONF_LOGBOOK_MESSAGE_TEXT: True},
            {"kept": True, "duration": 12},
            "voicemail from a caller (12 s)",
        ),
    ],
)
async def test_each_voicemail_event_in_words(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    entry_factory: EntryFactory,
    options: dict[str, Any],
    data: dict[str, Any],
    message: str,
) -> None:
    entry: MockConfigEntry = await entry_factory(options=options)
    since = dt_util.utcnow() - timedelta(seconds=1)
    hass.bus.async_fire("callstack_voicemail", {"config_entry_id": entry.entry_id, **data})
    (item,) = await _entries(hass, hass_ws_client, since)
    assert item["message"] == message
