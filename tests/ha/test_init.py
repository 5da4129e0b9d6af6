"""Setting up and unloading a modem entry: device, ports, tasks, SIM PIN, ser2net URLs."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_GNSS,
    CONF_NMEA_PORT,
    CONF_SIM_PIN,
    CONF_SMS_RECIPIENTS,
)
from sim7600_emulator import Identity, Sim7600Emulator  # noqa: E402

from .conftest import modem_unique_id  # noqa: E402
from .fixtures import (  # noqa: E402
    EntryFactory,
    answered_call,
    call_action,
    entity_id,
    entry_device,
    expected_message,
    make_entry,
    setup_entry,
    state_of,
    wait_until,
)

pytest_plugins = ("tests.ha.fixtures",)


def open_fds_to(path: str) -> int:
    """How many file descriptors of this process point at ``path`` (a pty slave)."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue
    return count


def callstack_tasks() -> list[asyncio.Task[object]]:
    """Tasks the driver or the integration started (they are all named ``callstack ...``)."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("callstack") and not task.done()
    ]


def wrong_pin(emu: Sim7600Emulator) -> str:
    """A well-formed PIN that is not the SIM's."""
    return "12345678" if emu.identity.pin != "12345678" else "87654321"


def pin_attempts(emu: Sim7600Emulator) -> list[str]:
    return [command for command in emu.commands if command.startswith("AT+CPIN=")]


def reauth_flows(hass: HomeAssistant, entry_id: str) -> list[dict]:
    """The re-authentication flows in progress for the entry."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == "reauth" and flow["context"].get("entry_id") == entry_id
    ]


async def test_setup_creates_device_without_imei(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The entry loads and its device says what the modem is, but not who it is."""
    device = entry_device(device_registry)
    assert device.manufacturer == "SIMCom"
    assert device.model == "SIM7600G-H"  # AT+CGMM says SIMCOM_SIM7600G-H
    assert device.sw_version == emulator.variants.firmware
    assert device.name == "SIM7600G-H"
    described = repr((device.name, device.identifiers, device.serial_number, device.connections))
    for secret in emulator.identity.secrets():
        assert secret not in described
    assert loaded_entry.runtime_data.device_id == device.id


async def test_unload_closes_both_ports_and_tasks(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    media_dir: Path,
) -> None:
    """Unloading during a call closes the AT and the audio port and ends every task."""
    at_before = open_fds_to(emulator.at_path)
    audio_before = open_fds_to(emulator.audio_path)
    entry = await entry_factory()
    await answered_call(hass, emulator, emulator.identity.callers[0])
    assert open_fds_to(emulator.at_path) > at_before
    assert open_fds_to(emulator.audio_path) > audio_before
    assert callstack_tasks()
    modem = entry.runtime_data.modem

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.NOT_LOADED
    await wait_until(
        hass,
        lambda: (
            open_fds_to(emulator.at_path) == at_before
            and open_fds_to(emulator.audio_path) == audio_before
        ),
        what="both ports to close",
    )
    assert not callstack_tasks()
    assert not modem.connected
    for state in hass.states.async_all():
        assert state.state == "unavailable"


async def test_port_that_cannot_open_retries_setup(
    hass: HomeAssistant, emulator: Sim7600Emulator, tmp_path: Path
) -> None:
    """A missing AT port is ConfigEntryNotReady: HA retries later."""
    entry = make_entry(emulator, data={CONF_AT_PORT: str(tmp_path / "ttyUSB-gone")})
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "cannot_connect"
    assert entry.reason == expected_message("cannot_connect")
    assert not callstack_tasks()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_wrong_stored_pin_is_sent_once_and_not_retried(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """A rejected PIN stops the setup (SETUP_ERROR) after exactly one attempt: it is
    forgotten, re-authentication asks for the right one, and a reload never resends it."""
    emulator.set_sim("pin")
    pin = wrong_pin(emulator)
    entry = make_entry(emulator, data={CONF_SIM_PIN: pin})
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "sim_pin_rejected"
    assert entry.reason == expected_message("sim_pin_rejected")
    assert pin not in (entry.reason or "")
    assert CONF_SIM_PIN not in entry.data
    assert pin not in entry.data.values()
    assert len(reauth_flows(hass, entry.entry_id)) == 1
    attempts = pin_attempts(emulator)
    assert attempts == [f'AT+CPIN="{pin}"']
    assert emulator.sim.pin_attempts == 2
    assert not callstack_tasks()

    # Nothing tries again on its own.
    await asyncio.sleep(0.5)
    await hass.async_block_till_done()
    assert pin_attempts(emulator) == attempts
    assert entry.state is ConfigEntryState.SETUP_ERROR

    # Nor does a reload by hand: there is no PIN left to send.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "sim_pin_required"
    assert pin_attempts(emulator) == attempts
    assert emulator.sim.pin_attempts == 2
    assert len(reauth_flows(hass, entry.entry_id)) == 1
    assert not callstack_tasks()


async def test_missing_pin_asks_for_it_without_sending_any(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """A SIM that wants a PIN when none is stored: re-authentication, nothing sent."""
    emulator.set_sim("pin")
    entry = make_entry(emulator)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "sim_pin_required"
    assert entry.reason == expected_message("sim_pin_required")
    assert len(reauth_flows(hass, entry.entry_id)) == 1
    assert pin_attempts(emulator) == []
    assert not callstack_tasks()


async def test_reauth_with_the_right_pin_sets_the_modem_up(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """The whole path: stored PIN rejected, the user enters the right one in the
    re-authentication flow, it is stored and the entry loads (one reload)."""
    emulator.set_sim("pin")
    pin = wrong_pin(emulator)
    entry = make_entry(
        emulator,
        data={CONF_SIM_PIN: pin},
        unique_id=modem_unique_id(emulator.identity.imei),
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = reauth_flows(hass, entry.entry_id)
    assert flow["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_SIM_PIN: emulator.identity.pin}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    try:
        await hass.async_block_till_done()
        await wait_until(
            hass, lambda: entry.state is ConfigEntryState.LOADED, what="the entry to load"
        )
        assert entry.data[CONF_SIM_PIN] == emulator.identity.pin
        # The wrong PIN once at setup, the right one once in the flow; the SIM is unlocked
        # when the entry sets up again, so nothing more is sent.
        assert pin_attempts(emulator) == [
            f'AT+CPIN="{pin}"',
            f'AT+CPIN="{emulator.identity.pin}"',
        ]
        assert not reauth_flows(hass, entry.entry_id)
        assert state_of(hass, "sensor", "sim_status").state == "ready"
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_right_stored_pin_unlocks_the_sim(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """With the right PIN stored, the SIM is unlocked and the entry loads."""
    emulator.set_sim("pin")
    entry = make_entry(emulator, data={CONF_SIM_PIN: emulator.identity.pin})
    await setup_entry(hass, entry)
    try:
        assert entry.state is ConfigEntryState.LOADED
        assert pin_attempts(emulator) == [f'AT+CPIN="{emulator.identity.pin}"']
        assert emulator.sim.state == "ready"
        assert state_of(hass, "sensor", "sim_status").state == "ready"
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_ser2net_socket_urls(
    hass: HomeAssistant,
    socket_enabled: None,
    emulator: Sim7600Emulator,
    media_dir: Path,
) -> None:
    """Both ports over ``socket://`` (ser2net raw): setup, a call with audio, unload."""
    await emulator.start_tcp()
    entry = make_entry(
        emulator, data={CONF_AT_PORT: emulator.at_url, CONF_AUDIO_PORT: emulator.audio_url}
    )
    await setup_entry(hass, entry)
    try:
        assert entry.state is ConfigEntryState.LOADED
        assert state_of(hass, "binary_sensor", "connected").state == "on"
        await answered_call(hass, emulator, emulator.identity.callers[1])
        response = await call_action(
            hass, "record", {"duration": 0.2, "filename": "tcp.wav"}, return_response=True
        )
        assert response["ended_by"] == "duration"
        await call_action(hass, "hang_up")
        await wait_until(
            hass, lambda: state_of(hass, "sensor", "call_state").state == "idle", what="idle"
        )
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not callstack_tasks()


async def test_changed_options_reload_the_modem(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry
) -> None:
    """Saving options reloads the entry, and the notify entity uses the new recipients."""
    old_modem = loaded_entry.runtime_data.modem
    recipient = emulator.identity.callers[2]
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_SMS_RECIPIENTS: [recipient]})
    await hass.async_block_till_done()
    await wait_until(
        hass,
        lambda: (
            loaded_entry.state is ConfigEntryState.LOADED
            and loaded_entry.runtime_data.modem is not old_modem
        ),
        what="the reload",
    )
    assert not old_modem.connected
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": entity_id(hass, "notify", "sms"), "message": "reloaded"},
        blocking=True,
    )
    assert [(sms.destination, sms.text) for sms in emulator.sent_sms] == [(recipient, "reloaded")]


@pytest.mark.parametrize("shared", [CONF_AT_PORT, CONF_AUDIO_PORT])
async def test_a_port_that_another_entry_uses_stops_the_setup_with_a_reason(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory, shared: str
) -> None:
    """Two entries configured with one port (before the flow refused that, or edited by
    hand): the second does not start a bridge that can only stall; it says why."""
    first = await entry_factory()
    assert first.state is ConfigEntryState.LOADED
    other = Sim7600Emulator(identity=Identity.seeded(5))
    await other.start_pty()
    try:
        ports = {CONF_AT_PORT: other.at_link, CONF_AUDIO_PORT: other.audio_link}
        # The first modem's port under its other name (device node, not by-id link).
        ports[shared] = emulator.at_path if shared == CONF_AT_PORT else emulator.audio_path
        second = make_entry(
            other, entry_id="01JCALLSTACKTESTENTRY00002", unique_id="another-modem", data=ports
        )
        await setup_entry(hass, second)
        assert second.state is ConfigEntryState.SETUP_ERROR
        assert second.error_reason_translation_key == "port_in_use"
        assert second.error_reason_translation_placeholders == {"title": first.title}
        assert expected_message("port_in_use", {"title": first.title})
        assert other.commands == []  # not even opened
        assert first.state is ConfigEntryState.LOADED
        assert state_of(hass, "binary_sensor", "connected").state == "on"
    finally:
        await other.stop()


@pytest.mark.parametrize(
    ("first_port", "second_port"),
    [
        (CONF_NMEA_PORT, CONF_AT_PORT),  # the second modem would talk AT into an NMEA stream
        (CONF_NMEA_PORT, CONF_NMEA_PORT),  # two readers would split one stream between them
        (CONF_AT_PORT, CONF_NMEA_PORT),  # the second would read the first modem's AT replies
    ],
)
async def test_an_nmea_port_is_a_port_in_use_too(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    entry_factory: EntryFactory,
    first_port: str,
    second_port: str,
) -> None:
    """The set-up check knows the NMEA port as the flows do: a port one modem uses as its
    NMEA port is not another modem's AT, audio or NMEA port, and the other way round."""
    first = await entry_factory(
        data={CONF_NMEA_PORT: emulator.nmea_link}, options={CONF_GNSS: True}
    )
    assert first.state is ConfigEntryState.LOADED
    other = Sim7600Emulator(identity=Identity.seeded(5))
    await other.start_pty()
    try:
        ports = {
            CONF_AT_PORT: other.at_link,
            CONF_AUDIO_PORT: other.audio_link,
            CONF_NMEA_PORT: other.nmea_link,
        }
        # The first modem's port under its other name (device node, not by-id link).
        ports[second_port] = (
            emulator.nmea_path if first_port == CONF_NMEA_PORT else emulator.at_path
        )
        second = make_entry(
            other,
            entry_id="01JCALLSTACKTESTENTRY00002",
            unique_id="another-modem",
            data=ports,
            options={CONF_GNSS: True},
        )
        await setup_entry(hass, second)
        assert second.state is ConfigEntryState.SETUP_ERROR
        assert second.error_reason_translation_key == "port_in_use"
        assert other.commands == []  # not even opened
        assert first.state is ConfigEntryState.LOADED
    finally:
        await other.stop()
