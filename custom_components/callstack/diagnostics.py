"""Diagnostics download: configuration, snapshot and counters, with private data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_DIAL,
    CONF_SIM_PIN,
    CONF_SMS_RECIPIENTS,
    CONF_VOICEMAIL_KNOWN_NUMBERS,
)
from .coordinator import CallstackConfigEntry

TO_REDACT = {
    CONF_SIM_PIN,
    CONF_SMS_RECIPIENTS,
    # Phone numbers in the options (the Assist ones inside its section).
    CONF_VOICEMAIL_KNOWN_NUMBERS,
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_DIAL,
    "imei",
    "imsi",
    "iccid",
    "number",
    "unique_id",
    # Where the modem is (and was) is private.
    "position",
    "last_position",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CallstackConfigEntry
) -> dict[str, Any]:
    """Return what helps debugging a modem, and nothing that identifies a person."""
    modem = entry.runtime_data.modem
    return async_redact_data(
        {
            "entry": {
                "data": dict(entry.data),
                "options": dict(entry.options),
                "unique_id": entry.unique_id,
            },
            "snapshot": asdict(modem.snapshot),
            "driver": modem.diagnostics(),
        },
        TO_REDACT,
    )
