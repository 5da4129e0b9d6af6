"""GNSS entities through the emulator: the device tracker and the diagnostic sensors."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
from typing import Any

from homeassistant.components.diagnostics import REDACTED
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_GNSS,
    CONF_GNSS_INTERVAL,
    CONF_NMEA_PORT,
    DOMAIN,
)
from custom_components.callstack.diagnostics import (  # noqa: E402
    async_get_config_entry_diagnostics,
)
from sim7600_emulator import (  # noqa: E402
    GnssPosition,
    GnssTrack,
    Identity,
    Sim7600Emulator,
    Variants,
)

from .fixtures import DEVICE_SLUG, TITLE, EntryFactory, entity_id, state_of, wait_until  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)

HOME = GnssPosition(52.520008, 13.404954, 34.0)
GNSS_VARIANTS = Variants(gnss_epoch=0.1, gnss_cold_start=0.2)
GNSS_ON = {CONF_GNSS: True, CONF_GNSS_INTERVAL: 1}


@pytest.fixture
async def gnss_emulator() -> AsyncGenerator[Sim7600Emulator]:
    """A modem standing at HOME, epochs ten times faster than real time."""
    emu = Sim7600Emulator(identity=Identity.seeded(0), variants=GNSS_VARIANTS, audio_speed=20)
    await emu.start_pty()
    emu.set_gnss_track(GnssTrack.fixed(HOME.latitude, HOME.longitude, HOME.altitude))
    try:
        yield emu
    finally:
        await emu.stop()


async def gnss_entry(
    entry_factory: EntryFactory, emu: Sim7600Emulator, *, nmea: bool = True
) -> MockConfigEntry:
    data = {CONF_NMEA_PORT: emu.nmea_link} if nmea else {}
    return await entry_factory(emu, data=data, options=GNSS_ON)


def tracker(hass: HomeAssistant) -> Any:
    return state_of(hass, "device_tracker", "gnss_location")


async def fixed(hass: HomeAssistant) -> None:
    await wait_until(
        hass, lambda: tracker(hass).state != STATE_UNAVAILABLE, what="a fix", timeout=10
    )


GNSS_SENSORS = ("gnss_fix", "gnss_satellites_in_use", "gnss_satellites_in_view", "gnss_hdop")
GNSS_ENTITIES = (("device_tracker", "gnss_location"), *(("sensor", key) for key in GNSS_SENSORS))


async def test_gnss_entities_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    ha_snapshot: SnapshotAssertion,
    entry_factory: EntryFactory,
    gnss_emulator: Sim7600Emulator,
) -> None:
    """With a 3D fix at HOME: the GNSS sensors (snapshots) and the tracker's registry entry.

    The tracker's state is checked field by field in the tests below rather than snapshotted:
    HA 2026 adds attributes of its own to every tracker (``in_zones``, ``tracking_type``).
    """
    entry = await gnss_entry(entry_factory, gnss_emulator)
    await wait_until(
        hass, lambda: entry.runtime_data.modem.snapshot.gnss.position is not None, what="a fix"
    )
    await hass.async_block_till_done()
    for key in GNSS_SENSORS:
        found = entity_id(hass, "sensor", key)
        assert entity_registry.async_get(found) == ha_snapshot(name=f"{found}-entry")
        assert hass.states.get(found) == ha_snapshot(name=f"{found}-state")
    registered = entity_registry.async_get(entity_id(hass, "device_tracker", "gnss_location"))
    assert registered is not None
    assert registered.entity_id == f"device_tracker.{DEVICE_SLUG}_location"
    assert (registered.translation_key, registered.original_name) == ("location", "Location")
    assert registered.unique_id == f"{entry.entry_id}_gnss_location"
    state = tracker(hass)
    assert state.name == f"{TITLE} Location"
    assert state.state == "not_home"  # the test home zone is in San Diego


@pytest.mark.parametrize("nmea", [True, False], ids=["nmea", "poll"])
async def test_fix_acquired_puts_the_tracker_at_the_right_place(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator, nmea: bool
) -> None:
    await gnss_entry(entry_factory, gnss_emulator, nmea=nmea)
    assert tracker(hass).state == STATE_UNAVAILABLE  # the cold start takes a while
    await fixed(hass)
    state = tracker(hass)
    assert state.state == "not_home"  # the test home zone is in San Diego
    assert state.attributes["source_type"] == "gps"
    assert state.attributes["latitude"] == pytest.approx(HOME.latitude, abs=1e-6)
    assert state.attributes["longitude"] == pytest.approx(HOME.longitude, abs=1e-6)
    assert state.attributes["altitude"] == HOME.altitude
    assert state.attributes["speed"] == 0.0
    if nmea:
        assert state.attributes["gps_accuracy"] == 4  # HDOP 0.9 x 5 m
        assert state_of(hass, "sensor", "gnss_fix").state == "3d"
        assert state_of(hass, "sensor", "gnss_satellites_in_use").state == "7"
        assert state_of(hass, "sensor", "gnss_satellites_in_view").state == "10"
        assert state_of(hass, "sensor", "gnss_hdop").state == "0.9"
    else:
        assert state.attributes["gps_accuracy"] == 0  # +CGPSINFO has no HDOP
        assert state_of(hass, "sensor", "gnss_fix").state == "3d"
        assert state_of(hass, "sensor", "gnss_satellites_in_use").state == "unknown"


async def test_states_follow_a_moving_track(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    gnss_emulator.set_gnss_track(GnssTrack.line(HOME, speed_kmh=90.0, course=270.0))
    await gnss_entry(entry_factory, gnss_emulator)
    await fixed(hass)
    start = tracker(hass).attributes["longitude"]
    await wait_until(
        hass,
        lambda: tracker(hass).attributes.get("longitude", start) < start - 0.001,
        what="the tracker moving west",
    )
    state = tracker(hass)
    assert state.attributes["latitude"] == pytest.approx(HOME.latitude, abs=1e-6)
    assert state.attributes["speed"] == pytest.approx(90.0, abs=0.2)
    assert state.attributes["course"] == 270.0


async def test_fix_lost_makes_the_tracker_unavailable_until_it_returns(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    entry = await gnss_entry(entry_factory, gnss_emulator)
    await fixed(hass)
    gnss_emulator.set_gnss_sky(visible=False)
    await wait_until(hass, lambda: tracker(hass).state == STATE_UNAVAILABLE, what="fix lost")
    assert state_of(hass, "sensor", "gnss_fix").state == "none"
    last = entry.runtime_data.modem.snapshot.gnss.last_position
    assert last is not None  # the last known position is kept
    assert last.latitude == pytest.approx(HOME.latitude, abs=1e-6)
    gnss_emulator.set_gnss_sky(visible=True)
    await fixed(hass)
    assert tracker(hass).attributes["latitude"] == pytest.approx(HOME.latitude, abs=1e-6)


async def test_no_gnss_entities_while_the_option_is_off(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    entry = await entry_factory(gnss_emulator)
    registered = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert not [e for e in registered if e.domain == "device_tracker" or "gnss" in e.unique_id]
    assert not gnss_emulator.gnss_on
    assert entry.runtime_data.modem.gnss.supported  # the option would be offered


async def test_coordinates_stay_out_of_diagnostics_and_other_entities(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    entry = await gnss_entry(entry_factory, gnss_emulator)
    await fixed(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["snapshot"]["gnss"]["position"] == REDACTED
    assert diagnostics["snapshot"]["gnss"]["last_position"] == REDACTED
    assert diagnostics["driver"]["gnss"]["sentences"] > 0
    text = json.dumps(diagnostics, default=str)
    for secret in ("52.52", "13.40", "5231.", "01324."):
        assert secret not in text
    tracker_id = entity_id(hass, "device_tracker", "gnss_location")
    for registered in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        state = hass.states.get(registered.entity_id)
        if state is not None and state.entity_id != tracker_id:
            assert "latitude" not in state.attributes, state.entity_id
            assert "longitude" not in state.attributes, state.entity_id


async def test_turning_the_option_off_removes_the_gnss_entities(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    entry = await gnss_entry(entry_factory, gnss_emulator)
    registry = er.async_get(hass)

    def keys() -> set[str]:
        prefix = f"{entry.entry_id}_"
        return {
            e.unique_id.removeprefix(prefix)
            for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        }

    assert {key for _, key in GNSS_ENTITIES} <= keys()
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_GNSS: False})
    await hass.async_block_till_done()
    await wait_until(hass, lambda: not any(key.startswith("gnss_") for key in keys()))
    assert "call_state" in keys()


async def test_unload_and_reload_when_the_modem_answers_cgps_only_after_a_restart(
    hass: HomeAssistant, entry_factory: EntryFactory, gnss_emulator: Sim7600Emulator
) -> None:
    """The platforms an entry unloads are the ones it set up. A modem that did not answer
    ``AT+CGPS?`` in time at set-up got no tracker; once it answers after a restart, the
    entry must still unload (not try to unload a tracker it never had) and load again."""
    # Loaded in every real installation (person, mobile_app, ... need it).
    assert await async_setup_component(hass, "device_tracker", {})
    gnss_emulator.hang_command("AT+CGPS?")
    entry = await gnss_entry(entry_factory, gnss_emulator)
    modem = entry.runtime_data.modem
    assert modem.gnss.supported is False
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id("device_tracker", DOMAIN, f"{entry.entry_id}_gnss_location")
        is None
    )
    await gnss_emulator.reboot()
    # Set up again at PB DONE (or after _BOOT_WAIT without it); now AT+CGPS? answers.
    await wait_until(hass, lambda: modem.gnss.supported, what="AT+CGPS? answered", timeout=40)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # Set up afresh, the modem answers at once: now it has its tracker.
    await fixed(hass)
    assert tracker(hass).attributes["latitude"] == pytest.approx(HOME.latitude, abs=1e-6)
