"""The Voicemail section of the options form: off by default, its values stored as
options, bad input refused with words, and a form saved without the section keeps them."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.callstack import voicemail_options
from custom_components.callstack.const import (
    CONF_BUS_EVENT_PRIVATE_DATA,
    CONF_LOGBOOK_MESSAGE_TEXT,
    CONF_RECORDINGS_FOLDER,
    CONF_SIGNAL_INTERVAL,
    CONF_SMS_PART_TIMEOUT,
    CONF_VOICEMAIL_CALLERS,
    CONF_VOICEMAIL_ENABLED,
    CONF_VOICEMAIL_KEEP_COUNT,
    CONF_VOICEMAIL_KNOWN_NUMBERS,
    CONF_VOICEMAIL_SILENCE,
    CONF_VOICEMAIL_STT,
)
from custom_components.callstack.sim7600.voicemail import CallerFilter

from .test_config_flow import _configure_options, _options

pytestmark = pytest.mark.usefixtures(
    "flow_usb_component", "flow_mock_setup_entry", "flow_fast_probe"
)

BASE = {
    CONF_SIGNAL_INTERVAL: 60,
    CONF_SMS_PART_TIMEOUT: 24,
    CONF_RECORDINGS_FOLDER: "callstack",
    CONF_BUS_EVENT_PRIVATE_DATA: True,
    CONF_LOGBOOK_MESSAGE_TEXT: False,
}
# What the form sends back untouched (an empty entity picker sends nothing).
FORM_DEFAULTS = {k: v for k, v in voicemail_options.DEFAULTS.items() if v is not None}


def section_suggestions(result: Any) -> dict[str, Any]:
    for marker, value in result["data_schema"].schema.items():
        if str(marker) == voicemail_options.SECTION:
            return {
                str(field): (field.description or {}).get("suggested_value")
                for field in value.schema.schema
            }
    raise AssertionError("no voicemail section")


async def test_voicemail_is_off_by_default_and_its_section_collapsed(hass: HomeAssistant) -> None:
    _, result = await _options(hass)
    suggestions = section_suggestions(result)
    assert suggestions[CONF_VOICEMAIL_ENABLED] is False
    assert suggestions == voicemail_options.DEFAULTS
    [section] = [
        v for k, v in result["data_schema"].schema.items() if str(k) == voicemail_options.SECTION
    ]
    assert section.options["collapsed"] is True


async def test_the_section_is_stored_as_options(hass: HomeAssistant) -> None:
    entry, result = await _options(hass)
    section = {
        **FORM_DEFAULTS,
        CONF_VOICEMAIL_ENABLED: True,
        CONF_VOICEMAIL_CALLERS: CallerFilter.KNOWN.value,
        CONF_VOICEMAIL_KNOWN_NUMBERS: [" +44 1234 567890 ", "", "+441234567890", "+4915550001"],
        CONF_VOICEMAIL_SILENCE: 7.0,
        CONF_VOICEMAIL_STT: "stt.pocketsphinx",
    }
    result = await _configure_options(hass, result, {**BASE, voicemail_options.SECTION: section})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_VOICEMAIL_ENABLED] is True
    assert entry.options[CONF_VOICEMAIL_KNOWN_NUMBERS] == ["+441234567890", "+4915550001"]
    assert entry.options[CONF_VOICEMAIL_SILENCE] == 7
    assert isinstance(entry.options[CONF_VOICEMAIL_SILENCE], int)
    assert voicemail_options.answer_rules(entry.options).accepts("+44 1234 567890")
    assert not voicemail_options.answer_rules(entry.options).accepts("+441234567891")
    assert voicemail_options.message_rules(entry.options).silence_seconds == 7.0

    # Saved again without opening the section: the voicemail options stay.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert section_suggestions(result)[CONF_VOICEMAIL_ENABLED] is True
    result = await _configure_options(hass, result, BASE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_VOICEMAIL_ENABLED] is True
    assert entry.options[CONF_VOICEMAIL_STT] == "stt.pocketsphinx"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {CONF_VOICEMAIL_KNOWN_NUMBERS: ["+44123", "not a number"]},
            {CONF_VOICEMAIL_KNOWN_NUMBERS: "invalid_known_number"},
        ),
        (
            {CONF_VOICEMAIL_CALLERS: CallerFilter.KNOWN.value, CONF_VOICEMAIL_KNOWN_NUMBERS: []},
            {CONF_VOICEMAIL_KNOWN_NUMBERS: "no_known_numbers"},
        ),
        (
            {CONF_VOICEMAIL_KEEP_COUNT: -1},
            {CONF_VOICEMAIL_KEEP_COUNT: "voicemail_keep_count_range"},
        ),
        ({CONF_VOICEMAIL_SILENCE: 2.5}, {CONF_VOICEMAIL_SILENCE: "voicemail_silence_range"}),
    ],
)
async def test_bad_voicemail_input_is_refused_in_words(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    entry, result = await _options(hass)
    section = {**FORM_DEFAULTS, **changes}
    result = await _configure_options(hass, result, {**BASE, voicemail_options.SECTION: section})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert CONF_VOICEMAIL_ENABLED not in entry.options
