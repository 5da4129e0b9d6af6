"""The config entry's unique ID: stable for its modem, useless for finding the IMEI.

Version 1.1 entries held ``sha256(IMEI)[:16]``; an IMEI's serial has six digits, so
trying them recovers the IMEI. Now the ID is that hash under a random key kept in this
installation's ``.storage``; entries migrate without their modem, and discovery still
finds the entry of a modem that comes back on other ports.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USB, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.callstack import unique_id
from custom_components.callstack.config_flow import CallstackConfigFlow
from custom_components.callstack.const import CONF_AT_PORT, CONF_AUDIO_PORT, DOMAIN
from sim7600_emulator import Sim7600Emulator

from .conftest import modem_unique_id

pytestmark = pytest.mark.usefixtures("flow_usb_component")


def luhn_digit(body: str) -> str:
    """The check digit of an IMEI's first 14 digits."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def search_imei(known_unique_id: str, imei_near: str, window: int = 20_000) -> str | None:
    """An attacker's search: the model's type code is public, so try the serials (here
    a window around the true one, to keep the test quick) with their check digit and
    compare the plain hash with the unique ID."""
    tac, serial = imei_near[:8], int(imei_near[8:14])
    for candidate in range(max(0, serial - window // 2), min(10**6, serial + window // 2)):
        body = f"{tac}{candidate:06d}"
        imei = body + luhn_digit(body)
        if hashlib.sha256(imei.encode()).hexdigest()[:16] == known_unique_id[:16]:
            return imei
    return None


async def user_flow_for(hass: HomeAssistant, emulator: Sim7600Emulator) -> Any:
    """Set the emulator's modem up through the user flow (manual port entry)."""
    with patch("serialx.list_serial_ports", return_value=[]):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AT_PORT: emulator.at_link}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_PORT: emulator.audio_link}
    )


def test_the_imei_search_finds_an_imei_from_its_plain_hash(emulator: Sim7600Emulator) -> None:
    """The attack the keyed hash defeats: the old unique ID gives the IMEI away."""
    imei = emulator.identity.imei
    assert luhn_digit(imei[:14]) == imei[14]
    assert search_imei(unique_id.imei_hash(imei), imei) == imei


async def test_a_new_entry_s_unique_id_does_not_give_the_imei_away(
    hass: HomeAssistant, emulator: Sim7600Emulator, hass_storage: dict[str, Any]
) -> None:
    hass_storage.pop(unique_id.STORAGE_KEY)  # a fresh installation: no key yet
    with patch("custom_components.callstack.async_setup_entry", return_value=True):
        result = await user_flow_for(hass, emulator)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    imei = emulator.identity.imei
    assert re.fullmatch(r"[0-9a-f]{32}", entry.unique_id)
    assert imei not in entry.unique_id
    assert search_imei(entry.unique_id, imei) is None

    # The key was created once, at random, and kept; it is what makes the ID stable.
    stored = hass_storage[unique_id.STORAGE_KEY]["data"]["key"]
    key = bytes.fromhex(stored)
    assert len(key) == unique_id.KEY_BYTES
    assert entry.unique_id == unique_id.modem_unique_id(key, imei)
    assert await unique_id.async_unique_id_key(hass) == key
    # Another installation (another key) knows the same modem by another ID.
    assert unique_id.modem_unique_id(bytes(32), imei) != entry.unique_id


async def test_a_damaged_key_file_is_replaced(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[unique_id.STORAGE_KEY]["data"] = {"key": "not hex"}
    key = await unique_id.async_unique_id_key(hass)
    assert len(key) == unique_id.KEY_BYTES
    assert hass_storage[unique_id.STORAGE_KEY]["data"] == {"key": key.hex()}


async def test_an_entry_of_version_1_1_migrates_without_its_modem_and_is_still_found(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """The modem is away at the migration (its old port is gone): the ID is re-keyed all
    the same, and when the modem is discovered on other ports its entry is updated
    rather than a second one offered."""
    imei = emulator.identity.imei
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        unique_id=unique_id.imei_hash(imei),
        data={"at_port": "/dev/serial/by-id/gone-if02-port0", "audio_port": None},  # 1.x keys
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY  # migrated, then the port is gone
    current = (CallstackConfigFlow.VERSION, CallstackConfigFlow.MINOR_VERSION)
    assert (entry.version, entry.minor_version) == current
    assert entry.unique_id == modem_unique_id(imei)
    assert search_imei(entry.unique_id, imei) is None

    discovery = UsbServiceInfo(
        device=emulator.at_path,
        vid="1E0E",
        pid="9001",
        serial_number="0123456789ABCDEF",
        manufacturer="SimTech, Incorporated",
        description="SimTech, Incorporated",
    )
    by_id = {emulator.at_path: emulator.at_link, emulator.audio_path: emulator.audio_link}
    with (
        patch(
            "homeassistant.components.usb.get_serial_by_id",
            side_effect=lambda device: by_id.get(device, device),
        ),
        patch("custom_components.callstack.async_setup_entry", return_value=False),
    ):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=discovery
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_AT_PORT] == emulator.at_link
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
