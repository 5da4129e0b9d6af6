"""The modem's ports are kept under keys Home Assistant's usb component reads.

HA 2026.10+ lists every serial port with the config entries using it (the websocket
command ``usb/list_serial_ports`` behind Settings > Connectivity > Serial), reading only a
fixed set of entry data keys. Entries of version 1 kept the ports under ``at_port``,
``audio_port`` and ``nmea_port``, which it does not read; version 2 keeps them under
``device``, ``serial_port`` and ``port`` (see ``async_migrate_entry``). The migration runs
the same on every supported HA; the listing exists from 2026.10, and on HA 2025.4 its
absence is asserted, so the listing test cannot pass there by accident.
"""

from __future__ import annotations

import importlib.util
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.config_flow import CallstackConfigFlow  # noqa: E402
from custom_components.callstack.const import (  # noqa: E402
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_NMEA_PORT,
    CONF_SIM_PIN,
    DOMAIN,
)
from custom_components.callstack.unique_id import keyed_unique_id  # noqa: E402
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .conftest import UNIQUE_ID_KEY  # noqa: E402
from .fixtures import EntryFactory, setup_entry  # noqa: E402
from .ha_version import HA_VERSION, PORT_USERS_SINCE  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)

CURRENT = (CallstackConfigFlow.VERSION, CallstackConfigFlow.MINOR_VERSION)
# The keys HA 2026.10's usb component reads a port from (consumers.SERIAL_PORT_KEY_PATHS).
USB_COMPONENT_KEYS = {"device", "device_path", "filename", "host", "port", "serial_port"}
USB_COMPONENT_KEYS |= {"socket_path", "usb_path"}


def version_1_entry(emulator: Sim7600Emulator, minor_version: int, **data: Any) -> MockConfigEntry:
    """An entry as Callstack 1.x stored it: the three ports and the PIN under their old keys."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=minor_version,
        unique_id="callstack-test-modem",
        title="SIM7600G-H",
        data={
            "at_port": emulator.at_link,
            "audio_port": emulator.audio_link,
            "nmea_port": emulator.nmea_link,
            **data,
        },
    )


def has_port_listing() -> bool:
    """Whether this HA's usb component lists the entries using each port; asserted to be
    so exactly from PORT_USERS_SINCE (see ha_version.py)."""
    listing = importlib.util.find_spec("homeassistant.components.usb.consumers") is not None
    assert listing is (HA_VERSION >= PORT_USERS_SINCE)
    return listing


def test_every_port_is_kept_under_its_own_key_that_the_usb_component_reads() -> None:
    ports = (CONF_AT_PORT, CONF_AUDIO_PORT, CONF_NMEA_PORT)
    assert ports == ("device", "serial_port", "port")
    assert set(ports) <= USB_COMPONENT_KEYS
    if has_port_listing():
        from homeassistant.components.usb.consumers import SERIAL_PORT_KEY_PATHS

        assert {(key,) for key in USB_COMPONENT_KEYS} <= set(SERIAL_PORT_KEY_PATHS)


async def test_an_entry_of_version_1_2_keeps_its_ports_under_the_new_keys(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """The ports (and everything else) are kept, only renamed; the modem is then set up on
    exactly those ports. The unique ID, keyed in 1.2 already, stays as it is."""
    entry = version_1_entry(emulator, 2, **{CONF_SIM_PIN: emulator.identity.pin})
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == CURRENT
    assert dict(entry.data) == {
        CONF_AT_PORT: emulator.at_link,
        CONF_AUDIO_PORT: emulator.audio_link,
        CONF_NMEA_PORT: emulator.nmea_link,
        CONF_SIM_PIN: emulator.identity.pin,
    }
    assert entry.unique_id == "callstack-test-modem"
    config = entry.runtime_data.modem.config
    assert (config.at_url, config.audio_url, config.nmea_url) == (
        emulator.at_link,
        emulator.audio_link,
        emulator.nmea_link,
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_of_version_1_1_comes_up_to_date_in_one_migration(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """Both steps, without the modem (its port is gone): the unique ID is keyed (1.2) and
    the ports renamed (2.1); an audio port of None (no call audio) stays None."""
    gone = "/dev/serial/by-id/usb-SimTech-gone-if02-port0"
    entry = version_1_entry(emulator, 1, at_port=gone, audio_port=None)
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY  # migrated, then the port is missing
    assert (entry.version, entry.minor_version) == CURRENT
    assert dict(entry.data) == {
        CONF_AT_PORT: gone,
        CONF_AUDIO_PORT: None,
        CONF_NMEA_PORT: emulator.nmea_link,
    }
    assert entry.unique_id == keyed_unique_id(UNIQUE_ID_KEY, "callstack-test-modem")


async def test_a_port_written_under_its_new_key_since_wins_over_the_old_key(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """An entry disabled at the update is not migrated (HA migrates at setup), but a USB
    discovery of its modem writes the ports it found, under the new keys: when it is
    enabled, those are the ports it is set up on, not the stale ones."""
    stale = "/dev/serial/by-id/usb-SimTech-old-if02-port0"
    entry = version_1_entry(emulator, 2, at_port=stale)
    # (Either order of the two keys in the stored data: the new one comes first here.)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={CONF_AT_PORT: emulator.at_link, **entry.data}
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_AT_PORT] == emulator.at_link
    assert "at_port" not in entry.data
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_of_a_newer_minor_version_is_set_up_as_it_is(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """A newer Callstack 2.x may add to an entry but keeps it readable (that is what its
    minor version says): this one sets it up and leaves it alone."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=CallstackConfigFlow.VERSION,
        minor_version=CallstackConfigFlow.MINOR_VERSION + 1,
        unique_id="x",
        data={CONF_AT_PORT: emulator.at_link, CONF_AUDIO_PORT: None, "from_the_future": 1},
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == CallstackConfigFlow.MINOR_VERSION + 1
    assert entry.data["from_the_future"] == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_of_a_newer_major_version_is_refused(hass: HomeAssistant) -> None:
    """What this version's own entries get from Callstack 1.x after a downgrade."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=CallstackConfigFlow.VERSION + 1,
        unique_id="x",
        data={CONF_AT_PORT: "/dev/ttyUSB2"},
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.unique_id == "x"
    assert dict(entry.data) == {CONF_AT_PORT: "/dev/ttyUSB2"}


@pytest.mark.parametrize("front_door", ["pty", "ser2net"])
async def test_home_assistant_lists_each_port_of_the_modem_as_used_by_its_entry(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    front_door: str,
) -> None:
    """HA 2026.10+: the AT, audio and NMEA ports each show this entry as their (active) user,
    whether they are device paths (scanned by HA) or ser2net URLs (assumed present while an
    entry claims them). HA 2025.4 has no such listing (no module, no websocket command)."""
    if front_door == "pty":
        ports = (emulator.at_path, emulator.audio_path, emulator.nmea_path)
    else:
        await emulator.start_tcp()
        ports = (emulator.at_url, emulator.audio_url, emulator.nmea_url)
    entry = await entry_factory(
        data=dict(zip((CONF_AT_PORT, CONF_AUDIO_PORT, CONF_NMEA_PORT), ports, strict=True))
    )
    assert entry.state is ConfigEntryState.LOADED

    client = await hass_ws_client(hass)
    if not has_port_listing():
        await client.send_json_auto_id({"type": "usb/list_serial_ports", "include_usage": True})
        response = await client.receive_json()
        assert not response["success"]
        assert response["error"]["code"] == "unknown_command"
        return

    from homeassistant.components.usb.models import SerialDevice

    # What HA's scan finds of the modem: its three ttys (here the emulator's ptys).
    scanned = [
        SerialDevice(device=port, serial_number=None, manufacturer="SimTech", description=None)
        for port in ports
        if port.startswith("/dev/")
    ]
    with patch("homeassistant.components.usb.scan_serial_ports", return_value=scanned):
        await client.send_json_auto_id({"type": "usb/list_serial_ports", "include_usage": True})
        response = await client.receive_json()
    assert response["success"]
    listed = {port["device"]: port for port in response["result"]}
    user = {
        "kind": "config_entry",
        "title": entry.title,
        "active": True,
        "domain": DOMAIN,
        "config_entry_id": entry.entry_id,
        "slug": None,
    }
    for port in ports:
        assert listed[port]["present"] is True, port
        assert listed[port]["consumers"] == [user], port
