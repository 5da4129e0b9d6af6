"""Tests of the Callstack config, reconfigure, USB discovery and options flows.

The modem is the project's SIM7600 emulator on a real PTY (or TCP for ser2net URLs); only
the host boundaries are patched: serialx's port listing and HA's by-id lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import json
import logging
import os
from pathlib import Path
import re
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant import data_entry_flow
from homeassistant.config_entries import SOURCE_USB, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import selector as ha_selector
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from serialx import SerialPortInfo
import voluptuous as vol

from custom_components.callstack import config_flow
from custom_components.callstack.config_flow import (
    MANUAL_ENTRY,
    audio_sibling,
    list_serial_ports,
    usb_interface,
    valid_port,
)
from custom_components.callstack.const import (
    CONF_ASSIST,
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_RINGS,
    CONF_ASSIST_SILENCE,
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_BUS_EVENT_PRIVATE_DATA,
    CONF_GNSS,
    CONF_GNSS_INTERVAL,
    CONF_LOGBOOK_MESSAGE_TEXT,
    CONF_NMEA_PORT,
    CONF_RECORDINGS_FOLDER,
    CONF_REGISTRATION_WATCHDOG,
    CONF_SIGNAL_INTERVAL,
    CONF_SIM_PIN,
    CONF_SMS_PART_TIMEOUT,
    CONF_SMS_RECIPIENTS,
    DOMAIN,
)
from custom_components.callstack.sim7600 import modem as modem_module
from custom_components.callstack.sim7600.model import ModemIdentity, SimStatus
from sim7600_emulator import Sim7600Emulator, Variants

from .conftest import FlowPtyResponder, Replies, modem_unique_id
from .ha_version import HA_VERSION, SERIAL_PORT_PICKER_SINCE

pytestmark = pytest.mark.usefixtures(
    "flow_usb_component", "flow_mock_setup_entry", "flow_fast_probe"
)

TRANSLATIONS = json.loads(
    (
        Path(__file__).parents[2] / "custom_components" / "callstack" / "translations" / "en.json"
    ).read_text(encoding="utf-8")
)
BY_ID_PREFIX = "usb-SimTech__Incorporated_SimTech__Incorporated_0123456789ABCDEF"
SIMCOM_VID = 0x1E0E


# ---- helpers ----------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def assert_translated(result: Any, section: str = "config") -> None:
    """Every step, field, error and abort reason of ``result`` has English text."""
    strings = TRANSLATIONS[section]
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in strings["abort"], result["reason"]
        return
    if result["type"] is not FlowResultType.FORM:
        return
    step = strings["step"][result["step_id"]]
    given = set((result.get("description_placeholders") or {}).keys())
    assert _placeholders(step.get("description", "")) <= given
    for marker, value in (result["data_schema"].schema if result["data_schema"] else {}).items():
        if isinstance(value, data_entry_flow.section):  # its own name and fields
            texts = step["sections"][str(marker)]
            assert texts["name"], marker
            for field in value.schema.schema:
                assert str(field) in texts["data"], field
                assert str(field) in texts["data_description"], field
            continue
        assert str(marker) in step["data"], marker
        assert str(marker) in step["data_description"], marker
    for error in (result.get("errors") or {}).values():
        assert error in strings["error"], error
        assert _placeholders(strings["error"][error]) <= given


def suggested(result: Any, key: str) -> Any:
    """The suggested value of ``key`` in a form, or None."""
    for marker in result["data_schema"].schema:
        if str(marker) == key:
            return (marker.description or {}).get("suggested_value")
    raise AssertionError(f"{key} is not in the form")


def select_options(result: Any) -> list[dict[str, str]]:
    """The options of the AT port picker."""
    for marker, selector in result["data_schema"].schema.items():
        if str(marker) == CONF_AT_PORT:
            options: list[dict[str, str]] = selector.config["options"]
            return options
    raise AssertionError("no port picker")


def port_info(
    device: str,
    vid: int | None = SIMCOM_VID,
    pid: int | None = 0x9001,
    serial: str | None = None,
    product: str | None = None,
    interface: int | None = None,
) -> SerialPortInfo:
    """What serialx's list_serial_ports() reports for one port (a USB one when ``vid``;
    ``product``: its product name)."""
    usb = vid is not None
    return SerialPortInfo(
        device=device,
        resolved_device=device,
        vid=vid,
        pid=pid,
        serial_number=(serial or "0123456789ABCDEF") if usb else None,
        manufacturer="SimTech, Incorporated" if usb else None,
        product=product or ("SimTech, Incorporated" if usb else None),
        bcd_device=0x0318 if usb else None,
        interface_description=None,
        interface_num=interface,
    )


@contextmanager
def host_ports(ports: list[SerialPortInfo], by_id: dict[str, str]) -> Iterator[None]:
    """Patch the host's serial port list and its /dev/serial/by-id links."""
    with (
        patch("serialx.list_serial_ports", return_value=ports),
        patch(
            "homeassistant.components.usb.get_serial_by_id",
            side_effect=lambda device: by_id.get(device, device),
        ),
    ):
        yield


def usb_info(device: str, pid: str = "9001") -> UsbServiceInfo:
    """What HA's usb component passes to a discovery flow."""
    return UsbServiceInfo(
        device=device,
        vid="1E0E",
        pid=pid,
        serial_number="0123456789ABCDEF",
        manufacturer="SimTech, Incorporated",
        description="SimTech, Incorporated",
    )


async def start_manual(hass: HomeAssistant) -> Any:
    """A user flow on a host with no serial ports: it goes straight to manual entry."""
    with host_ports([], {}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert_translated(result)
    return result


async def configure(hass: HomeAssistant, result: Any, data: dict[str, Any]) -> Any:
    """Submit a step and check its outcome is translated."""
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert_translated(result)
    return result


@pytest.fixture
def reloads(hass: HomeAssistant) -> Iterator[AsyncMock]:
    """Count the reloads of config entries (the flow's own and HA's helpers')."""
    spy = AsyncMock(side_effect=hass.config_entries.async_reload)
    with patch.object(hass.config_entries, "async_reload", spy):
        yield spy


def pin_attempts(emu: Any) -> list[str]:
    """The PIN unlock commands the emulator received."""
    return [command for command in emu.commands if command.startswith("AT+CPIN=")]


@contextmanager
def no_port_opened() -> Iterator[AsyncMock]:
    """Spy on every way the flow opens a port (its own audio check and the driver's)."""
    spy = AsyncMock(side_effect=config_flow.open_port)
    with patch.object(config_flow, "open_port", spy), patch.object(modem_module, "open_port", spy):
        yield spy
    assert spy.await_count == 0, spy.await_args_list


def loaded_entry(hass: HomeAssistant, emu: Any, **data: Any) -> tuple[MockConfigEntry, AsyncMock]:
    """An entry that is LOADED with the emulator's modem, and its update listener.

    The runtime data is a stand-in holding what a connected modem knows (identity, SIM),
    so the test sees every command the flow itself sends to the emulator.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SIMCOM_SIM7600G-H",
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link, **data},
    )
    entry.add_to_hass(hass)
    entry.mock_state(hass, ConfigEntryState.LOADED)
    entry.runtime_data = SimpleNamespace(
        modem=SimpleNamespace(
            identity=ModemIdentity(
                manufacturer="SIMCOM INCORPORATED",
                model="SIMCOM_SIM7600G-H",
                imei=emu.identity.imei,
            ),
            sim=SimStatus.READY,
            gnss=SimpleNamespace(supported=True),
        )
    )
    listener = AsyncMock()
    entry.add_update_listener(listener)
    return entry, listener


def assert_private_data_hidden(result: Any, emulator: Any) -> None:
    """No IMEI in a created entry: not in its title, unique id or data."""
    imei = emulator.identity.imei
    assert imei not in result["title"]
    assert imei not in result["result"].unique_id
    assert imei not in json.dumps(result["data"])


# ---- pure helpers -----------------------------------------------------------------------


def test_modem_unique_id_hashes_the_imei() -> None:
    unique_id = modem_unique_id("861234567890123")
    assert re.fullmatch(r"[0-9a-f]{32}", unique_id)
    assert unique_id == modem_unique_id("861234567890123")
    assert unique_id != modem_unique_id("861234567890124")
    assert "861234567890123" not in unique_id


@pytest.mark.parametrize(
    ("at_port", "pid", "expected"),
    [
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if02-port0", None, f"{BY_ID_PREFIX}-if04-port0"),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if02-port0", "9001", f"{BY_ID_PREFIX}-if04-port0"),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if04-port0", "9011", f"{BY_ID_PREFIX}-if06-port0"),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if04-port0", None, f"{BY_ID_PREFIX}-if06-port0"),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if04-port0", "9001", None),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if03-port0", None, None),
        (f"{BY_ID_PREFIX}-if02-port0", None, f"{BY_ID_PREFIX}-if04-port0"),
        ("/dev/ttyUSB2", None, None),
        ("socket://modem.local:4001", None, None),
        ("rfc2217://192.168.1.2:4001", None, None),
    ],
)
def test_audio_sibling(at_port: str, pid: str | None, expected: str | None) -> None:
    sibling = audio_sibling(at_port, pid)
    if expected is None:
        assert sibling is None
    else:
        assert sibling is not None
        assert sibling.endswith(expected)
        assert sibling.rpartition("/")[0] == at_port.rpartition("/")[0]


def test_usb_interface() -> None:
    assert usb_interface(f"/dev/serial/by-id/{BY_ID_PREFIX}-if02-port0") == "02"
    assert usb_interface("/dev/ttyUSB2") is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("/dev/ttyUSB2", True),
        (f"/dev/serial/by-id/{BY_ID_PREFIX}-if02-port0", True),
        ("socket://192.168.1.20:4001", True),
        ("rfc2217://ser2net.local:2000", True),
        ("socket://[fe80::1]:4001", True),
        ("ttyUSB2", False),
        ("/dev/tty USB2", False),
        ("socket://host", False),
        ("loop://", False),
        ("http://host:80", False),
        ("", False),
    ],
)
def test_valid_port(value: str, valid: bool) -> None:
    assert valid_port(value) is valid


def test_list_serial_ports_puts_simcom_ports_first_by_name() -> None:
    ports = [
        port_info("/dev/ttyS0", vid=None, pid=None, product="n/a"),  # a built-in UART
        port_info("/dev/ttyUSB4"),
        port_info("/dev/ttyUSB2"),
        port_info("/dev/ttyUSB1"),
        port_info(
            "/dev/ttyACM0", vid=0x10C4, pid=0xEA60, product="CP2102 USB to UART Bridge Controller"
        ),
    ]
    by_id = {f"/dev/ttyUSB{n}": f"/dev/serial/by-id/{BY_ID_PREFIX}-if0{n}-port0" for n in (1, 2, 4)}
    with host_ports(ports, by_id):
        choices = list_serial_ports()
    assert [(choice.path, choice.label) for choice in choices] == [
        (by_id["/dev/ttyUSB2"], "SIMCom modem: AT port (interface 02) - /dev/ttyUSB2"),
        (by_id["/dev/ttyUSB1"], "SIMCom modem: GPS port (interface 01) - /dev/ttyUSB1"),
        (by_id["/dev/ttyUSB4"], "SIMCom modem: audio port (interface 04) - /dev/ttyUSB4"),
        ("/dev/ttyACM0", "/dev/ttyACM0 - CP2102 USB to UART Bridge Controller"),
        ("/dev/ttyS0", "/dev/ttyS0"),  # not "n/a - /dev/ttyS0, s/n: n/a"
    ]
    assert [choice.likely_at for choice in choices] == [True, False, False, False, False]
    assert [choice.pid for choice in choices] == ["9001", "9001", "9001", None, None]


def test_port_choice_of_the_rndis_composition_and_unknown_interfaces() -> None:
    assert config_flow.port_choice("/dev/ttyUSB2", "/x-if04-", "9011", "04", None).likely_at
    unknown = config_flow.port_choice("/dev/ttyUSB9", "/dev/ttyUSB9", "9001", None, None)
    assert unknown.label == "SIMCom modem: port - /dev/ttyUSB9"
    assert not unknown.likely_at


async def test_user_picker_preselects_no_port_that_is_not_a_modem(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """Only a built-in UART and an adapter: listed by name, neither chosen for the user;
    "Enter manually" comes first, as HA's form chooses a required list's first row."""
    ports = [
        port_info("/dev/ttyS0", None),
        port_info("/dev/ttyACM0", vid=0x10C4, pid=0xEA60, product="CP2102 USB to UART"),
    ]
    with host_ports(ports, {}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert [option["label"] for option in select_options(result)] == [
        "Enter manually",
        "/dev/ttyACM0 - CP2102 USB to UART",
        "/dev/ttyS0",
    ]
    assert suggested(result, CONF_AT_PORT) is None


def test_list_serial_ports_knows_the_interface_without_by_id_links() -> None:
    """Where udev made no /dev/serial/by-id links (some containers) the AT interface is
    still found: serialx reads its number from sysfs."""
    ports = [port_info("/dev/ttyUSB4", interface=4), port_info("/dev/ttyUSB2", interface=2)]
    with host_ports(ports, {}):
        choices = list_serial_ports()
    assert [choice.path for choice in choices] == ["/dev/ttyUSB2", "/dev/ttyUSB4"]
    assert choices[0].likely_at
    assert "interface 02" in choices[0].label
    assert not choices[1].likely_at


def test_list_serial_ports_reads_this_host() -> None:
    """Unpatched: serialx lists this machine's ports (possibly none) without failing."""
    assert all(choice.path.startswith("/dev/") for choice in list_serial_ports())


# ---- user flow --------------------------------------------------------------------------


async def test_user_picker_audio_prefill_creates_entry(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """Detected ports → AT port picked → audio sibling pre-filled → probe → entry."""
    emu = flow_emulator
    ports = [port_info(emu.audio_path), port_info(emu.at_path), port_info("/dev/ttyS0", None)]
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    with host_ports(ports, by_id):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "user"
        assert_translated(result)
        options = select_options(result)
        assert [option["value"] for option in options] == [
            emu.at_link,
            emu.audio_link,
            "/dev/ttyS0",
            MANUAL_ENTRY,
        ]
        assert suggested(result, CONF_AT_PORT) == emu.at_link

        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "audio"
        assert suggested(result, CONF_AUDIO_PORT) == emu.audio_link

        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "SIM7600G-H"  # AT+CGMM: SIMCOM_SIM7600G-H
    assert result["data"] == {CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link}
    assert result["result"].unique_id == modem_unique_id(emu.identity.imei)
    assert_private_data_hidden(result, emu)


async def test_the_audio_and_nmea_fields_are_the_serial_port_picker_where_ha_has_one(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """HA 2026: its serial port picker (the host's ports, and a manual entry); HA 2025.4,
    which has none: text boxes. Whichever it is, a typed path reaches the flow's own checks."""
    picker = hasattr(ha_selector, "SerialPortSelector")
    assert picker is (HA_VERSION >= SERIAL_PORT_PICKER_SINCE)
    emu = flow_emulator
    with host_ports([port_info(emu.at_path)], {emu.at_path: emu.at_link}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        assert result["step_id"] == "audio"
        fields = {
            str(key): value.selector_type
            for key, value in result["data_schema"].schema.items()
            if key in (CONF_AUDIO_PORT, CONF_NMEA_PORT)
        }
        expected = "serial_port" if picker else "text"
        assert fields == {CONF_AUDIO_PORT: expected, CONF_NMEA_PORT: expected}

        result = await configure(
            hass,
            result,
            {CONF_AUDIO_PORT: emu.audio_link, CONF_NMEA_PORT: "/dev/callstack-no-such-port"},
        )
        assert result["errors"] == {CONF_NMEA_PORT: "nmea_port_unavailable"}
        result = await configure(hass, result, {CONF_AUDIO_PORT: "/dev/callstack-no-such-port"})
    assert result["errors"] == {CONF_AUDIO_PORT: "audio_port_not_found"}


async def test_user_picker_manual_choice(hass: HomeAssistant, flow_emulator: Any) -> None:
    """'Enter manually' in the picker leads to the free-text step."""
    emu = flow_emulator
    with host_ports([port_info(emu.at_path)], {}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        # Without a by-id link the device path itself is offered (not chosen: without its
        # interface number it is not known to be the AT port).
        assert [option["value"] for option in select_options(result)] == [
            MANUAL_ENTRY,
            emu.at_path,
        ]
        result = await configure(hass, result, {CONF_AT_PORT: MANUAL_ENTRY})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    result = await configure(hass, result, {CONF_AT_PORT: f"  {emu.at_path} "})
    assert result["step_id"] == "audio"
    # A plain /dev/pts name has no by-id sibling: nothing is pre-filled.
    assert suggested(result, CONF_AUDIO_PORT) is None
    result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_AT_PORT: emu.at_path, CONF_AUDIO_PORT: None}


async def test_user_picker_probe_error_is_shown(
    hass: HomeAssistant, flow_silent_port: FlowPtyResponder, flow_emulator: Any
) -> None:
    """A failed probe shows the error on the picker, and picking the right port goes on."""
    silent = flow_silent_port
    ports = [port_info(silent.path), port_info(flow_emulator.at_path)]
    with host_ports(ports, {}):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await configure(hass, result, {CONF_AT_PORT: silent.path})
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "user"
        assert result["errors"] == {"base": "not_a_modem"}
        assert suggested(result, CONF_AT_PORT) == silent.path
        result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})
    assert result["step_id"] == "audio"


async def test_manual_socket_url(hass: HomeAssistant, flow_emulator_tcp: Any) -> None:
    """A modem shared by ser2net: socket://host:port, no audio."""
    emu = flow_emulator_tcp
    assert emu.at_url.startswith("socket://")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_url})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "audio"
    assert suggested(result, CONF_AUDIO_PORT) is None
    result = await configure(hass, result, {CONF_AUDIO_PORT: ""})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_AT_PORT: emu.at_url, CONF_AUDIO_PORT: None}
    assert result["result"].unique_id == modem_unique_id(emu.identity.imei)


@pytest.mark.parametrize("first_title", ["SIM7600G-H", "SIMCOM_SIM7600G-H"])
async def test_second_modem_of_the_same_model_is_named_apart_by_its_port(
    hass: HomeAssistant, flow_emulator: Any, first_title: str
) -> None:
    """Another entry has the name already (or the raw model it was named by before):
    the new one gets its AT port's short name after the model, nothing private."""
    emu = flow_emulator
    other = other_modem(hass)
    hass.config_entries.async_update_entry(other, title=first_title)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    device = os.path.realpath(emu.at_link).removeprefix("/dev/")  # e.g. pts/3 (ttyUSB2)
    assert result["title"] == f"SIM7600G-H ({device})"
    assert other.title == first_title  # an existing entry is never renamed
    assert_private_data_hidden(result, emu)


async def test_second_modem_on_ser2net_is_named_by_host_and_port(
    hass: HomeAssistant, flow_emulator_tcp: Any
) -> None:
    emu = flow_emulator_tcp
    hass.config_entries.async_update_entry(other_modem(hass), title="SIM7600G-H")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_url})
    result = await configure(hass, result, {CONF_AUDIO_PORT: ""})
    assert result["title"] == f"SIM7600G-H ({emu.at_url.removeprefix('socket://')})"


def test_short_port_name(tmp_path: Path) -> None:
    link = tmp_path / "usb-SimTech-if02-port0"
    link.symlink_to("/dev/ttyUSB2")
    assert config_flow.short_port_name(str(link)) == "ttyUSB2"
    assert config_flow.short_port_name("rfc2217://modem.lan:4001") == "modem.lan:4001"
    assert config_flow.short_port_name(str(tmp_path / "plain")) == "plain"


def _silent(command: str) -> list[str] | None:
    return None


def _quectel(command: str) -> list[str]:
    return ["Quectel", "OK"] if command.upper() == "AT+CGMI" else ["OK"]


def _refuses_setup(command: str) -> list[str]:
    return ["OK"] if command.upper() == "AT" else ["ERROR"]


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        (_silent, "not_a_modem"),
        (_quectel, "unsupported_modem"),
        (_refuses_setup, "cannot_connect"),
    ],
)
async def test_manual_probe_errors(
    hass: HomeAssistant,
    flow_pty_factory: Callable[[Replies], FlowPtyResponder],
    flow_emulator: Any,
    replies: Replies,
    error: str,
) -> None:
    """Each probe failure is shown on the form; the flow recovers with the right port."""
    port = flow_pty_factory(replies)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: port.path})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": error}
    assert port.commands  # the probe really talked to the port
    result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})
    assert result["step_id"] == "audio"


async def test_manual_port_that_does_not_exist(hass: HomeAssistant, tmp_path: Path) -> None:
    """A path with nothing at it says so at the field, and nothing is probed."""
    result = await start_manual(hass)
    with patch.object(config_flow, "probe", side_effect=AssertionError("probed")):
        result = await configure(hass, result, {CONF_AT_PORT: str(tmp_path / "ttyUSB9")})
    assert result["step_id"] == "manual"
    assert result["errors"] == {CONF_AT_PORT: "port_not_found"}
    assert_translated(result)


async def test_manual_port_cannot_be_opened(hass: HomeAssistant, tmp_path: Path) -> None:
    """Something is at the path, but it is no serial port."""
    (tmp_path / "ttyUSB9").write_text("")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: str(tmp_path / "ttyUSB9")})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_manual_probe_timeout(
    hass: HomeAssistant, flow_silent_port: FlowPtyResponder
) -> None:
    """A probe that hangs is cut off and reported as cannot_connect."""
    result = await start_manual(hass)
    with patch.object(config_flow, "PROBE_TIMEOUT", 0.1):
        result = await configure(hass, result, {CONF_AT_PORT: flow_silent_port.path})
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.parametrize("value", ["ttyUSB2", "loop://", "socket://host", "/dev/tty USB2"])
async def test_manual_invalid_port(hass: HomeAssistant, value: str) -> None:
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_AT_PORT: "invalid_port"}
    assert suggested(result, CONF_AT_PORT) == value


async def test_no_imei_aborts(
    hass: HomeAssistant, flow_pty_factory: Callable[[Replies], FlowPtyResponder]
) -> None:
    """A SIMCom that reports no IMEI cannot be told apart: abort."""

    def replies(command: str) -> list[str]:
        return {"AT+CGMI": ["SIMCOM INCORPORATED", "OK"], "AT+CPIN?": ["+CPIN: READY", "OK"]}.get(
            command.upper(), ["OK"]
        )

    port = flow_pty_factory(replies)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: port.path})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_imei"


@pytest.mark.parametrize("typed", ["at_path", "at_link"])
async def test_user_port_of_configured_modem_aborts_without_probing(
    hass: HomeAssistant, flow_emulator: Any, typed: str
) -> None:
    """The AT port of a configured modem is in use: abort before talking to it, also when
    it is typed under another name of the same device (its by-id link)."""
    MockConfigEntry(
        domain=DOMAIN, unique_id="y", data={CONF_AT_PORT: "socket://127.0.0.1:4001"}
    ).add_to_hass(hass)
    MockConfigEntry(
        domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: flow_emulator.at_path}
    ).add_to_hass(hass)
    result = await start_manual(hass)
    with no_port_opened():
        result = await configure(hass, result, {CONF_AT_PORT: getattr(flow_emulator, typed)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert flow_emulator.commands == []


async def test_user_replugged_modem_updates_entry(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """The same modem (same IMEI) on new ports: the entry gets the new paths, and its
    update listener reloads it once (the flow schedules no reload of its own)."""
    emu = flow_emulator
    entry, listener = loaded_entry(
        hass, emu, **{CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: "/dev/ttyUSB4"}
    )
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert suggested(result, CONF_AUDIO_PORT) == emu.audio_link
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link}
    await hass.async_block_till_done()
    listener.assert_awaited_once()
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


# ---- audio port -------------------------------------------------------------------------


@pytest.mark.parametrize(("exists", "error"), [(False, "audio_port_not_found"), (True, None)])
async def test_audio_unavailable_needs_confirmation(
    hass: HomeAssistant, flow_emulator: Any, tmp_path: Path, exists: bool, error: str | None
) -> None:
    """An audio port that cannot be opened (or is not there: said so) blocks until the
    user opts out of audio."""
    missing = str(tmp_path / "ttyUSB4")
    if exists:
        (tmp_path / "ttyUSB4").write_text("")  # there, but no serial port
    error = error or "audio_port_unavailable"
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})
    assert CONF_AUDIO_PORT in [str(marker) for marker in result["data_schema"].schema]
    assert "continue_without_audio" not in [str(m) for m in result["data_schema"].schema]

    result = await configure(hass, result, {CONF_AUDIO_PORT: missing})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "audio"
    assert result["errors"] == {CONF_AUDIO_PORT: error}
    assert suggested(result, CONF_AUDIO_PORT) == missing
    assert "continue_without_audio" in [str(m) for m in result["data_schema"].schema]

    # Submitting again without ticking the box changes nothing.
    result = await configure(
        hass, result, {CONF_AUDIO_PORT: missing, "continue_without_audio": False}
    )
    assert result["errors"] == {CONF_AUDIO_PORT: error}

    result = await configure(
        hass, result, {CONF_AUDIO_PORT: missing, "continue_without_audio": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_AT_PORT: flow_emulator.at_path, CONF_AUDIO_PORT: None}


async def test_audio_port_validation(hass: HomeAssistant, flow_emulator: Any) -> None:
    emu = flow_emulator
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
    result = await configure(hass, result, {CONF_AUDIO_PORT: "ttyUSB4"})
    assert result["errors"] == {CONF_AUDIO_PORT: "invalid_port"}
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.at_path})
    assert result["errors"] == {CONF_AUDIO_PORT: "same_port"}
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_path})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_AUDIO_PORT] == emu.audio_path


async def test_audio_open_timeout(hass: HomeAssistant, flow_emulator: Any, tmp_path: Path) -> None:
    """An audio port whose open hangs counts as unavailable."""
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})

    async def hang(url: str) -> None:
        raise TimeoutError

    with patch.object(config_flow, "open_port", hang):
        result = await configure(hass, result, {CONF_AUDIO_PORT: flow_emulator.audio_path})
    assert result["errors"] == {CONF_AUDIO_PORT: "audio_port_unavailable"}


# ---- SIM PIN ----------------------------------------------------------------------------


async def _to_pin_step(hass: HomeAssistant, emu: Any) -> Any:
    emu.set_sim("pin")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pin"
    return result


def _wrong_pin(emu: Any) -> str:
    # Not "1234": the emulator's USB serial number 0123456789ABCDEF is in the by-id path,
    # which serialx logs at DEBUG when it opens the port.
    return "8642" if emu.identity.pin != "8642" else "2468"


async def test_pin_wrong_then_right(
    hass: HomeAssistant, flow_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong PIN shows the attempts left; the right one unlocks and is stored."""
    caplog.set_level(logging.DEBUG)
    emu = flow_emulator
    result = await _to_pin_step(hass, emu)

    result = await configure(hass, result, {CONF_SIM_PIN: "12"})
    assert result["errors"] == {CONF_SIM_PIN: "invalid_pin_format"}

    result = await configure(hass, result, {CONF_SIM_PIN: _wrong_pin(emu)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pin"
    assert result["errors"] == {CONF_SIM_PIN: "invalid_pin"}
    assert result["description_placeholders"]["attempts"] == "2"

    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_SIM_PIN: emu.identity.pin,
    }
    for secret in (emu.identity.pin, emu.identity.imei, emu.identity.imsi, emu.identity.iccid):
        assert secret not in caplog.text
    assert_private_data_hidden(result, emu)


async def test_pin_attempts_exhausted_aborts_puk(
    hass: HomeAssistant, flow_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Each submit sends the PIN once; when the SIM blocks, the flow stops with PUK help."""
    caplog.set_level(logging.DEBUG)
    emu = flow_emulator
    result = await _to_pin_step(hass, emu)
    for left in ("2", "1"):
        result = await configure(hass, result, {CONF_SIM_PIN: _wrong_pin(emu)})
        assert result["errors"] == {CONF_SIM_PIN: "invalid_pin"}
        assert result["description_placeholders"]["attempts"] == left
    result = await configure(hass, result, {CONF_SIM_PIN: _wrong_pin(emu)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"
    assert emu.identity.pin not in caplog.text


async def test_pin_wrong_attempts_unknown(
    hass: HomeAssistant, flow_pty_factory: Callable[[Replies], FlowPtyResponder]
) -> None:
    """A modem without AT+SPIC: the wrong-PIN error still shows, with '?' as the count."""

    def replies(command: str) -> list[str]:
        upper = command.upper()
        if upper == "AT+CGMI":
            return ["SIMCOM INCORPORATED", "OK"]
        if upper == "AT+CGSN":
            return ["861234567890123", "OK"]
        if upper == "AT+CPIN?":
            return ["+CPIN: SIM PIN", "OK"]
        if upper.startswith(("AT+CPIN=", "AT+SPIC")):
            return ["+CME ERROR: 16"] if upper.startswith("AT+CPIN=") else ["ERROR"]
        return ["OK"]

    port = flow_pty_factory(replies)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: port.path})
    result = await configure(hass, result, {})
    assert result["step_id"] == "pin"
    result = await configure(hass, result, {CONF_SIM_PIN: "1234"})
    assert result["errors"] == {CONF_SIM_PIN: "invalid_pin"}
    assert result["description_placeholders"]["attempts"] == "?"
    assert sum(command.upper().startswith("AT+CPIN=") for command in port.commands) == 1


async def test_pin_sim_became_ready_or_blocked_meanwhile(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """The SIM state is read again before the PIN goes out."""
    emu = flow_emulator
    result = await _to_pin_step(hass, emu)
    emu.set_sim("puk")
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"

    result = await _to_pin_step(hass, emu)
    emu.set_sim("ready")  # unlocked elsewhere: the PIN is not sent again, but stored
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SIM_PIN] == emu.identity.pin
    assert pin_attempts(emu) == []


@pytest.mark.parametrize("unlocked_elsewhere", [False, True])
async def test_pin_step_leaves_stored_sms_alone(
    hass: HomeAssistant, flow_emulator: Any, unlocked_elsewhere: bool
) -> None:
    """The modem the PIN step borrows has nobody listening: it must not read (AT+CMGL)
    and delete the SMS stored on the SIM; the entry's own setup sweeps them later."""
    emu = flow_emulator
    result = await _to_pin_step(hass, emu)
    if unlocked_elsewhere:
        emu.set_sim("ready")  # the SIM is ready at connect: the SMS layer initialises
    await emu.deliver_sms(emu.identity.callers[0], "stored while nobody listens")
    stored = list(emu.sms_storage)
    assert stored
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert not [command for command in emu.commands if command.startswith("AT+CMGL")]
    assert not [command for command in emu.commands if command.startswith("AT+CMGD")]
    assert list(emu.sms_storage) == stored


async def test_pin_modem_gone(
    hass: HomeAssistant, flow_emulator: Any, flow_by_id_dir: Path
) -> None:
    """The modem vanished before the PIN was sent: cannot_connect, nothing spent."""
    emu = flow_emulator
    emu.set_sim("pin")
    link = flow_by_id_dir / f"{BY_ID_PREFIX}-if02-port0"
    link.symlink_to(emu.at_path)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: str(link)})
    result = await configure(hass, result, {})
    assert result["step_id"] == "pin"
    link.unlink()  # unplugged
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_puk_at_probe_aborts(hass: HomeAssistant, flow_emulator: Any) -> None:
    flow_emulator.set_sim("puk")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"


async def test_no_sim_still_creates_entry(hass: HomeAssistant, flow_emulator: Any) -> None:
    """Without a SIM the modem is still set up (the integration raises a repair issue)."""
    flow_emulator.set_sim("absent")
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: flow_emulator.at_path})
    result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_SIM_PIN not in result["data"]


# ---- USB discovery ----------------------------------------------------------------------


async def _discover(hass: HomeAssistant, info: UsbServiceInfo, by_id: dict[str, str]) -> Any:
    with host_ports([], by_id):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=info
        )
    assert_translated(result)
    return result


async def test_usb_discovery_creates_entry(hass: HomeAssistant, flow_emulator: Any) -> None:
    emu = flow_emulator
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    result = await _discover(hass, usb_info(emu.at_path), by_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    placeholders = result["description_placeholders"]
    assert placeholders["model"] == "SIM7600G-H"
    assert placeholders["audio"] == emu.audio_link
    assert emu.identity.imei not in json.dumps(placeholders)
    flows = hass.config_entries.flow.async_progress()
    assert flows[0]["context"]["title_placeholders"] == {"name": placeholders["model"]}

    result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_NMEA_PORT: emu.nmea_link,  # the emulated modem has GNSS and its -if01- port
    }
    assert result["result"].unique_id == modem_unique_id(emu.identity.imei)
    assert_private_data_hidden(result, emu)


async def test_usb_discovery_other_interfaces_abort(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    result = await _discover(hass, usb_info(emu.audio_path), by_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_at_interface"
    # No by-id name: the interface cannot be told, so the user adds it by hand.
    result = await _discover(hass, usb_info(emu.at_path), {})
    assert result["reason"] == "not_at_interface"
    # On the RNDIS composition interface 02 is the diagnostics port.
    result = await _discover(hass, usb_info(emu.at_path, pid="9011"), by_id)
    assert result["reason"] == "not_at_interface"


async def test_usb_discovery_pid_9011(
    hass: HomeAssistant, flow_emulator: Any, flow_by_id_dir: Path
) -> None:
    """RNDIS composition: AT on interface 04, audio on 06."""
    emu = flow_emulator
    at_link = flow_by_id_dir / f"{BY_ID_PREFIX}-if04-port0"
    audio_link = flow_by_id_dir / f"{BY_ID_PREFIX}-if06-port0"
    at_link.symlink_to(emu.at_path)
    audio_link.symlink_to(emu.audio_path)
    by_id = {emu.at_path: str(at_link), emu.audio_path: str(audio_link)}
    result = await _discover(hass, usb_info(emu.at_path, pid="9011"), by_id)
    assert result["step_id"] == "usb_confirm"
    result = await configure(hass, result, {})
    assert result["data"] == {CONF_AT_PORT: str(at_link), CONF_AUDIO_PORT: str(audio_link)}


async def test_usb_discovery_without_audio_sibling(
    hass: HomeAssistant, flow_emulator: Any, flow_by_id_dir: Path
) -> None:
    emu = flow_emulator
    at_link = flow_by_id_dir / f"{BY_ID_PREFIX}-if02-port0"
    at_link.symlink_to(emu.at_path)
    result = await _discover(hass, usb_info(emu.at_path), {emu.at_path: str(at_link)})
    assert result["description_placeholders"]["audio"] == "-"
    result = await configure(hass, result, {})
    assert result["data"] == {CONF_AT_PORT: str(at_link), CONF_AUDIO_PORT: None}


async def test_usb_discovery_duplicate_aborts(hass: HomeAssistant, flow_emulator: Any) -> None:
    emu = flow_emulator
    by_id = {emu.at_path: emu.at_link}
    first = await _discover(hass, usb_info(emu.at_path), by_id)
    assert first["step_id"] == "usb_confirm"
    second = await _discover(hass, usb_info(emu.at_path), by_id)
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    assert len(hass.config_entries.flow.async_progress()) == 1


async def test_usb_discovery_updates_configured_modem(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """A configured modem that came back on other paths gets them, without a new entry;
    its update listener reloads it once (the flow schedules no reload of its own)."""
    emu = flow_emulator
    entry, listener = loaded_entry(
        hass, emu, **{CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None, CONF_SIM_PIN: "1234"}
    )
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    result = await _discover(hass, usb_info(emu.at_path), by_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_NMEA_PORT: emu.nmea_link,
        CONF_SIM_PIN: "1234",
    }
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    await hass.async_block_till_done()
    listener.assert_awaited_once()
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


async def test_usb_discovery_same_port_configured_aborts_without_probing(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    MockConfigEntry(domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: emu.at_link}).add_to_hass(
        hass
    )
    with no_port_opened():
        result = await _discover(hass, usb_info(emu.at_path), {emu.at_path: emu.at_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert emu.commands == []


async def test_usb_discovery_same_device_under_other_name_aborts_without_probing(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """An entry stores the plain device name; discovery sees its by-id link: same device,
    so the port the running entry holds is not touched (and the entry is left as it is)."""
    emu = flow_emulator
    MockConfigEntry(
        domain=DOMAIN, unique_id="tcp", data={CONF_AT_PORT: "socket://127.0.0.1:4001"}
    ).add_to_hass(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: emu.at_path, CONF_AUDIO_PORT: emu.audio_path},
    )
    entry.add_to_hass(hass)
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    with no_port_opened():
        result = await _discover(hass, usb_info(emu.at_path), by_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert emu.commands == []
    assert entry.data == {CONF_AT_PORT: emu.at_path, CONF_AUDIO_PORT: emu.audio_path}


async def test_usb_discovery_probe_fails(
    hass: HomeAssistant, flow_silent_port: FlowPtyResponder, flow_by_id_dir: Path
) -> None:
    link = flow_by_id_dir / f"{BY_ID_PREFIX}-if02-port0"
    link.symlink_to(flow_silent_port.path)
    result = await _discover(
        hass, usb_info(flow_silent_port.path), {flow_silent_port.path: str(link)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_modem"


async def test_usb_discovery_no_imei(
    hass: HomeAssistant,
    flow_pty_factory: Callable[[Replies], FlowPtyResponder],
    flow_by_id_dir: Path,
) -> None:
    port = flow_pty_factory(
        lambda command: ["SIMCOM INCORPORATED", "OK"] if command == "AT+CGMI" else ["OK"]
    )
    link = flow_by_id_dir / f"{BY_ID_PREFIX}-if02-port0"
    link.symlink_to(port.path)
    result = await _discover(hass, usb_info(port.path), {port.path: str(link)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_imei"


async def test_usb_discovery_with_pin(
    hass: HomeAssistant, flow_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = flow_emulator
    emu.set_sim("pin")
    result = await _discover(hass, usb_info(emu.at_path), {emu.at_path: emu.at_link})
    result = await configure(hass, result, {})
    assert result["step_id"] == "pin"
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SIM_PIN] == emu.identity.pin
    assert emu.identity.pin not in caplog.text


async def test_usb_discovery_puk_aborts(hass: HomeAssistant, flow_emulator: Any) -> None:
    emu = flow_emulator
    emu.set_sim("puk")
    result = await _discover(hass, usb_info(emu.at_path), {emu.at_path: emu.at_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"


# ---- reconfigure ------------------------------------------------------------------------


async def test_reconfigure_same_modem_updates_ports(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """An entry that is not loaded has no update listener: the flow reloads it, once."""
    emu = flow_emulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SIMCOM_SIM7600G-H",
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: "/dev/ttyUSB4", CONF_SIM_PIN: "1234"},
    )
    entry.add_to_hass(hass)
    ports = [port_info(emu.at_path), port_info(emu.audio_path)]
    by_id = {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}
    with host_ports(ports, by_id):
        result = await entry.start_reconfigure_flow(hass)
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "reconfigure"
        assert_translated(result)
        # Not detected now, still listed (first) and chosen: not only under "Enter manually".
        assert select_options(result)[0] == {
            "value": "/dev/ttyUSB2",
            "label": "/dev/ttyUSB2 (current)",
        }
        assert suggested(result, CONF_AT_PORT) == "/dev/ttyUSB2"
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        assert result["step_id"] == "audio"
        assert suggested(result, CONF_AUDIO_PORT) == emu.audio_link
        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_SIM_PIN: "1234",
    }
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_awaited_once()
    reloads.assert_awaited_once()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_ser2net_modem_shows_its_current_ports(
    hass: HomeAssistant, flow_emulator_tcp: Any
) -> None:
    """A socket:// modem: its URL is the chosen row of the picker, its audio port filled."""
    emu = flow_emulator_tcp
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SIM7600G-H",
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: emu.at_url, CONF_AUDIO_PORT: "socket://127.0.0.1:1"},
    )
    entry.add_to_hass(hass)
    with host_ports([port_info("/dev/ttyS0", None)], {}):
        result = await entry.start_reconfigure_flow(hass)
        assert [option["value"] for option in select_options(result)] == [
            emu.at_url,
            "/dev/ttyS0",
            MANUAL_ENTRY,
        ]
        assert suggested(result, CONF_AT_PORT) == emu.at_url
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_url})
    assert result["step_id"] == "audio"
    assert suggested(result, CONF_AUDIO_PORT) == "socket://127.0.0.1:1"


async def test_reconfigure_loaded_entry_same_ports_are_not_opened(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """The running entry holds its ports: reconfiguring it with its own AT port (here
    under its plain device name) asks the loaded modem for the IMEI instead of probing,
    and its own audio port is not opened either. The update listener reloads it once."""
    emu = flow_emulator
    entry, listener = loaded_entry(hass, emu, **{CONF_SIM_PIN: "1234"})
    with host_ports([], {}), no_port_opened():
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "manual"
        assert suggested(result, CONF_AT_PORT) == emu.at_link
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
        assert result["step_id"] == "audio"
        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert emu.commands == []
    assert entry.data == {
        CONF_AT_PORT: emu.at_path,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_SIM_PIN: "1234",
    }
    await hass.async_block_till_done()
    listener.assert_awaited_once()
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


async def test_reconfigure_loaded_entry_other_modem_on_its_port(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """The loaded modem's own identity decides: another IMEI there is the wrong modem."""
    emu = flow_emulator
    entry, _ = loaded_entry(hass, emu)
    hass.config_entries.async_update_entry(entry, unique_id=modem_unique_id("860000000000000"))
    with host_ports([], {}), no_port_opened():
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_modem"
    assert emu.commands == []


async def test_reconfigure_port_of_another_entry_is_refused(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """The port another configured modem uses (here by its by-id link) is not probed."""
    emu = flow_emulator
    MockConfigEntry(domain=DOMAIN, unique_id="other", data={CONF_AT_PORT: emu.at_link}).add_to_hass(
        hass
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id("860000000000000"),
        data={CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None},
    )
    entry.add_to_hass(hass)
    with host_ports([], {}), no_port_opened():
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": "port_in_use"}
    assert emu.commands == []
    assert entry.data == {CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None}


async def test_reconfigure_keeps_audio_of_unchanged_at_port(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """Same AT port: the current audio port is suggested; clearing it removes audio."""
    emu = flow_emulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: emu.at_path, CONF_AUDIO_PORT: emu.audio_path},
    )
    entry.add_to_hass(hass)
    with host_ports([], {}):
        result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "manual"
    assert suggested(result, CONF_AT_PORT) == emu.at_path
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
    assert suggested(result, CONF_AUDIO_PORT) == emu.audio_path
    result = await configure(hass, result, {CONF_AUDIO_PORT: ""})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_AT_PORT: emu.at_path, CONF_AUDIO_PORT: None}
    await hass.async_block_till_done()


async def test_reconfigure_other_modem_aborts(hass: HomeAssistant, flow_emulator: Any) -> None:
    emu = flow_emulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id("860000000000000"),
        data={CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None},
    )
    entry.add_to_hass(hass)
    with host_ports([port_info(emu.at_path)], {emu.at_path: emu.at_link}):
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_modem"
    assert entry.data == {CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None}


async def test_reconfigure_probe_error(
    hass: HomeAssistant, flow_quectel_port: FlowPtyResponder
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: "/dev/ttyUSB2"})
    entry.add_to_hass(hass)
    with host_ports([port_info(flow_quectel_port.path)], {}):
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: flow_quectel_port.path})
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "unsupported_modem"}


# ---- re-authentication (SIM PIN) --------------------------------------------------------


def _reauth_entry(hass: HomeAssistant, emu: Any, unique_id: str | None = None) -> MockConfigEntry:
    """An entry whose setup failed on the SIM PIN (setup already dropped the stored PIN)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SIMCOM_SIM7600G-H",
        unique_id=unique_id or modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link},
    )
    entry.add_to_hass(hass)
    entry.mock_state(hass, ConfigEntryState.SETUP_ERROR)
    return entry


async def _start_reauth(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert_translated(result)
    assert result["description_placeholders"]["name"] == entry.title
    return result


async def test_reauth_wrong_then_right_pin(
    hass: HomeAssistant,
    flow_emulator: Any,
    flow_mock_setup_entry: AsyncMock,
    reloads: AsyncMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One PIN per submit; the right one is stored and the entry reloads once."""
    caplog.set_level(logging.DEBUG)
    emu = flow_emulator
    emu.set_sim("pin")
    entry = _reauth_entry(hass, emu)
    result = await _start_reauth(hass, entry)
    assert emu.commands == []  # showing the form touches nothing

    result = await configure(hass, result, {CONF_SIM_PIN: "12"})
    assert result["errors"] == {CONF_SIM_PIN: "invalid_pin_format"}
    assert pin_attempts(emu) == []

    wrong = _wrong_pin(emu)
    result = await configure(hass, result, {CONF_SIM_PIN: wrong})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {CONF_SIM_PIN: "invalid_pin"}
    assert result["description_placeholders"]["attempts"] == "2"
    assert CONF_SIM_PIN not in entry.data
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()

    result = await configure(hass, result, {CONF_SIM_PIN: f" {emu.identity.pin} "})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: emu.audio_link,
        CONF_SIM_PIN: emu.identity.pin,
    }
    assert pin_attempts(emu) == [f'AT+CPIN="{wrong}"', f'AT+CPIN="{emu.identity.pin}"']
    assert not [command for command in emu.commands if command.startswith("AT+CMGL")]
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_awaited_once()
    reloads.assert_awaited_once()
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress()
    for secret in (emu.identity.pin, wrong, emu.identity.imei):
        assert secret not in caplog.text


async def test_reauth_sim_no_longer_locked(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """The SIM needs no PIN any more: nothing is sent or stored, the entry reloads."""
    emu = flow_emulator
    entry = _reauth_entry(hass, emu)
    result = await _start_reauth(hass, entry)
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert pin_attempts(emu) == []
    assert CONF_SIM_PIN not in entry.data
    assert not [command for command in emu.commands if command.startswith("AT+CMGL")]
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_awaited_once()
    reloads.assert_awaited_once()


async def test_reauth_attempts_exhausted_aborts_puk(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """When the SIM blocks, the flow stops; the reload lets setup raise the PUK repair."""
    emu = flow_emulator
    emu.set_sim("pin")
    entry = _reauth_entry(hass, emu)
    result = await _start_reauth(hass, entry)
    for left in ("2", "1"):
        result = await configure(hass, result, {CONF_SIM_PIN: _wrong_pin(emu)})
        assert result["description_placeholders"]["attempts"] == left
    result = await configure(hass, result, {CONF_SIM_PIN: _wrong_pin(emu)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"
    assert len(pin_attempts(emu)) == 3
    assert CONF_SIM_PIN not in entry.data
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_awaited_once()
    reloads.assert_awaited_once()


async def test_reauth_sim_blocked_meanwhile(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """A SIM that already wants its PUK gets no PIN (the reload raises the PUK repair)."""
    emu = flow_emulator
    emu.set_sim("puk")
    entry = _reauth_entry(hass, emu)
    result = await _start_reauth(hass, entry)
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_puk_required"
    assert pin_attempts(emu) == []
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_awaited_once()
    reloads.assert_awaited_once()


async def test_reauth_other_modem_on_the_port_gets_no_pin(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """The port now holds another modem (another IMEI): its SIM is not sent the PIN."""
    emu = flow_emulator
    emu.set_sim("pin")
    entry = _reauth_entry(hass, emu, unique_id=modem_unique_id("860000000000000"))
    result = await _start_reauth(hass, entry)
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_modem"
    assert pin_attempts(emu) == []
    assert CONF_SIM_PIN not in entry.data
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


async def test_reauth_modem_gone(
    hass: HomeAssistant,
    flow_emulator: Any,
    flow_mock_setup_entry: AsyncMock,
    reloads: AsyncMock,
    tmp_path: Path,
) -> None:
    emu = flow_emulator
    entry = _reauth_entry(hass, emu)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_AT_PORT: str(tmp_path / "ttyUSB-gone")}
    )
    result = await _start_reauth(hass, entry)
    result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


async def test_reauth_entry_loaded_meanwhile(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock, reloads: AsyncMock
) -> None:
    """The entry came up meanwhile (SIM unlocked elsewhere): its port is not touched."""
    emu = flow_emulator
    emu.set_sim("pin")
    entry = _reauth_entry(hass, emu)
    result = await _start_reauth(hass, entry)
    entry.mock_state(hass, ConfigEntryState.LOADED)
    with no_port_opened():
        result = await configure(hass, result, {CONF_SIM_PIN: emu.identity.pin})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sim_already_unlocked"
    assert emu.commands == []
    assert CONF_SIM_PIN not in entry.data
    await hass.async_block_till_done()
    flow_mock_setup_entry.assert_not_awaited()
    reloads.assert_not_awaited()


# ---- options ----------------------------------------------------------------------------


async def _options(hass: HomeAssistant, options: dict[str, Any] | None = None) -> Any:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: "/dev/x"}, options=options or {}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert_translated(result, "options")
    return entry, result


async def _configure_options(hass: HomeAssistant, result: Any, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_configure(result["flow_id"], data)
    assert_translated(result, "options")
    return result


async def test_options_defaults_and_valid(hass: HomeAssistant) -> None:
    entry, result = await _options(hass)
    assert suggested(result, CONF_SIGNAL_INTERVAL) == 60
    assert suggested(result, CONF_RECORDINGS_FOLDER) == "callstack"
    assert suggested(result, CONF_SMS_RECIPIENTS) == []
    assert suggested(result, CONF_REGISTRATION_WATCHDOG) == 0
    assert suggested(result, CONF_SMS_PART_TIMEOUT) == 24
    assert suggested(result, CONF_BUS_EVENT_PRIVATE_DATA) is True
    assert suggested(result, CONF_LOGBOOK_MESSAGE_TEXT) is False
    result = await _configure_options(
        hass,
        result,
        {
            CONF_SIGNAL_INTERVAL: 120.0,
            CONF_REGISTRATION_WATCHDOG: 15.0,
            CONF_SMS_PART_TIMEOUT: 48.0,
            CONF_RECORDINGS_FOLDER: " calls_2-a ",
            CONF_SMS_RECIPIENTS: ["+441234567890", " 0155512345 ", "", "+44 1234 567890"],
            CONF_BUS_EVENT_PRIVATE_DATA: False,
            CONF_LOGBOOK_MESSAGE_TEXT: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    expected = {
        CONF_SIGNAL_INTERVAL: 120,
        CONF_REGISTRATION_WATCHDOG: 15,
        CONF_SMS_PART_TIMEOUT: 48,
        CONF_RECORDINGS_FOLDER: "calls_2-a",
        CONF_SMS_RECIPIENTS: ["+441234567890", "0155512345"],
        CONF_BUS_EVENT_PRIVATE_DATA: False,
        CONF_LOGBOOK_MESSAGE_TEXT: True,
        # Assist over a call: off (nobody allowed, nobody called), the defaults kept.
        CONF_ASSIST: {CONF_ASSIST_CALLERS: [], CONF_ASSIST_RINGS: 2, CONF_ASSIST_SILENCE: 10},
    }
    assert result["data"] == expected
    assert entry.options == expected
    assert isinstance(entry.options[CONF_SIGNAL_INTERVAL], int)


REQUIRED_OPTIONS = {
    CONF_SIGNAL_INTERVAL: 30,
    CONF_SMS_PART_TIMEOUT: 12,
    CONF_RECORDINGS_FOLDER: "x",
    CONF_BUS_EVENT_PRIVATE_DATA: True,
    CONF_LOGBOOK_MESSAGE_TEXT: False,
}


async def test_options_empty_optional_fields_mean_off(hass: HomeAssistant) -> None:
    """Emptying the watchdog turns it off; emptying the recipients leaves none."""
    entry, result = await _options(
        hass,
        {**REQUIRED_OPTIONS, CONF_REGISTRATION_WATCHDOG: 30, CONF_SMS_RECIPIENTS: ["+4912345"]},
    )
    assert suggested(result, CONF_SMS_RECIPIENTS) == ["+4912345"]
    assert suggested(result, CONF_REGISTRATION_WATCHDOG) == 30
    required = {str(m) for m in result["data_schema"].schema if isinstance(m, vol.Required)}
    assert required == set(REQUIRED_OPTIONS)
    result = await _configure_options(hass, result, REQUIRED_OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        **REQUIRED_OPTIONS,
        CONF_REGISTRATION_WATCHDOG: 0,
        CONF_SMS_RECIPIENTS: [],
        CONF_ASSIST: {CONF_ASSIST_CALLERS: [], CONF_ASSIST_RINGS: 2, CONF_ASSIST_SILENCE: 10},
    }


@pytest.mark.parametrize("emptied", sorted(REQUIRED_OPTIONS))
async def test_options_required_fields_cannot_be_emptied(hass: HomeAssistant, emptied: str) -> None:
    """A required field left empty is refused, not silently reset to its default."""
    entry, result = await _options(hass, {**REQUIRED_OPTIONS, CONF_SIGNAL_INTERVAL: 300})
    data = {key: value for key, value in REQUIRED_OPTIONS.items() if key != emptied}
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(result["flow_id"], data)
    assert entry.options[CONF_SIGNAL_INTERVAL] == 300


@pytest.mark.parametrize("folder", ["../etc", "a/b", "", "with space", "dots.are.out", "é"])
async def test_options_invalid_folder(hass: HomeAssistant, folder: str) -> None:
    _, result = await _options(hass)
    result = await _configure_options(
        hass, result, {**REQUIRED_OPTIONS, CONF_RECORDINGS_FOLDER: folder}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_RECORDINGS_FOLDER: "invalid_folder"}
    assert suggested(result, CONF_RECORDINGS_FOLDER) == folder


@pytest.mark.parametrize(
    "number", ["12", '+4412345";AT', "abc123456", "*100#", "+44123#4567", "+44 1x34 567890"]
)
async def test_options_invalid_number(hass: HomeAssistant, number: str) -> None:
    """What no SMS can go to is refused, * and # included (they dial service codes)."""
    _, result = await _options(hass)
    result = await _configure_options(
        hass, result, {**REQUIRED_OPTIONS, CONF_SMS_RECIPIENTS: ["+441234567890", number]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SMS_RECIPIENTS: "invalid_number"}


async def test_options_recipients_as_people_write_them(hass: HomeAssistant) -> None:
    """Spaces, dashes, dots and parentheses are dropped; the number is stored compact."""
    entry, result = await _options(hass)
    written = ["+44 (0)20 7946-0958", "+49 151 555.000.01", "(030) 555 0001"]
    result = await _configure_options(
        hass, result, {**REQUIRED_OPTIONS, CONF_SMS_RECIPIENTS: written}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SMS_RECIPIENTS] == ["+442079460958", "+4915155500001", "0305550001"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CONF_SIGNAL_INTERVAL, 5),
        (CONF_SIGNAL_INTERVAL, 3601),
        (CONF_SIGNAL_INTERVAL, 30.5),
        (CONF_REGISTRATION_WATCHDOG, -1),
        (CONF_REGISTRATION_WATCHDOG, 1441),
        (CONF_SMS_PART_TIMEOUT, 0),
        (CONF_SMS_PART_TIMEOUT, 169),
        (CONF_SMS_PART_TIMEOUT, 1.5),
    ],
)
async def test_options_number_out_of_range_says_its_range(
    hass: HomeAssistant, key: str, value: float
) -> None:
    """A form error in words (whole units, the range), not HA's "Value 5.0 is too small"."""
    entry, result = await _options(hass)
    result = await _configure_options(hass, result, {**REQUIRED_OPTIONS, key: value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {key: f"{key}_range"}
    assert entry.options == {}


# ---- ports another configured modem uses ---------------------------------------------


def other_modem(hass: HomeAssistant, **ports: Any) -> MockConfigEntry:
    """A configured entry of another modem that uses ``ports``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="another-modem",
        data={CONF_AT_PORT: "/dev/ttyUSB12", CONF_AUDIO_PORT: "/dev/ttyUSB14", **ports},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize(
    ("claimed", "typed"),
    [("audio_path", "audio_link"), ("audio_link", "audio_path"), ("audio_link", "audio_link")],
)
async def test_user_audio_port_of_another_modem_is_refused_unopened(
    hass: HomeAssistant, flow_emulator: Any, claimed: str, typed: str
) -> None:
    """Another entry's audio port, under any of its names, is refused with a form error;
    it is not even opened (that would flush the other modem's call audio)."""
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: getattr(emu, claimed)})
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert result["step_id"] == "audio"
    assert suggested(result, CONF_AUDIO_PORT) is None  # not suggested either
    with no_port_opened():
        result = await configure(hass, result, {CONF_AUDIO_PORT: getattr(emu, typed)})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_AUDIO_PORT: "port_in_use"}
    result = await configure(hass, result, {CONF_AUDIO_PORT: ""})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: None}


async def test_user_at_port_that_another_modem_uses_for_audio_is_refused_unprobed(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: emu.at_path})
    result = await start_manual(hass)
    with no_port_opened():
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "port_in_use"}
    assert emu.commands == []


async def test_audio_port_that_is_the_at_port_under_another_name_is_refused(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
    with no_port_opened():
        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.at_link})
    assert result["errors"] == {CONF_AUDIO_PORT: "same_port"}


async def test_reconfigure_audio_port_of_another_modem_is_refused_unopened(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: emu.audio_path})
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None},
    )
    entry.add_to_hass(hass)
    with host_ports([], {}):
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        assert result["step_id"] == "audio"
        with no_port_opened():
            result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_AUDIO_PORT: "port_in_use"}
    assert entry.data == {CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None}


async def test_reconfigure_at_port_that_another_modem_uses_for_audio_is_refused(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: emu.at_link})
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: "/dev/ttyUSB2", CONF_AUDIO_PORT: None},
    )
    entry.add_to_hass(hass)
    with host_ports([], {}), no_port_opened():
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_path})
    assert result["errors"] == {"base": "port_in_use"}
    assert emu.commands == []


async def test_reconfigure_keeps_its_own_audio_port_under_another_name_unopened(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """The loaded entry's own audio port, typed by its device name, is its own: held by
    its bridge, so not opened, and not refused."""
    emu = flow_emulator
    entry, _ = loaded_entry(hass, emu)
    with host_ports([], {}), no_port_opened():
        result = await entry.start_reconfigure_flow(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_path})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_AUDIO_PORT] == emu.audio_path


async def test_usb_discovery_does_not_suggest_the_audio_port_of_another_modem(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: emu.audio_path})
    with host_ports([], {emu.at_path: emu.at_link, emu.audio_path: emu.audio_link}):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=usb_info(emu.at_path)
        )
        assert result["step_id"] == "usb_confirm"
        result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_AT_PORT: emu.at_link,
        CONF_AUDIO_PORT: None,
        CONF_NMEA_PORT: emu.nmea_link,  # its own -if01- port: nobody else uses it
    }


async def test_usb_discovery_of_a_port_another_modem_uses_for_audio_aborts_unprobed(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_AUDIO_PORT: emu.at_path})
    with host_ports([], {emu.at_path: emu.at_link}), no_port_opened():
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=usb_info(emu.at_path)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert emu.commands == []


async def test_user_replugged_modem_keeps_its_audio_port_though_its_entry_has_it(
    hass: HomeAssistant, flow_emulator: Any, flow_mock_setup_entry: AsyncMock
) -> None:
    """The same modem on a new AT port name: its own entry's audio port is not another
    modem's; the entry gets the new AT port and keeps its audio."""
    emu = flow_emulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=modem_unique_id(emu.identity.imei),
        data={CONF_AT_PORT: "/dev/ttyUSB7", CONF_AUDIO_PORT: emu.audio_link},
    )
    entry.add_to_hass(hass)
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert suggested(result, CONF_AUDIO_PORT) == emu.audio_link
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link}


# ---- GNSS: the NMEA port and the option ---------------------------------------------


async def test_gnss_modem_is_asked_for_its_nmea_port(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    """A modem that answers AT+CGPS? gets the NMEA field, pre-filled with its -if01- port."""
    emu = flow_emulator
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert result["step_id"] == "audio"
    assert suggested(result, CONF_NMEA_PORT) == emu.nmea_link
    assert config_flow.nmea_sibling(emu.at_link, "9001") == emu.nmea_link
    assert config_flow.nmea_sibling(emu.at_link.replace("-if02-", "-if04-"), "9011") == (
        emu.at_link.replace("-if02-", "-if03-")
    )
    assert config_flow.nmea_sibling("socket://host:1234") is None
    result = await configure(
        hass, result, {CONF_AUDIO_PORT: emu.audio_link, CONF_NMEA_PORT: emu.nmea_link}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_NMEA_PORT] == emu.nmea_link


async def test_nmea_port_is_optional_and_checked(
    hass: HomeAssistant, flow_emulator: Any, tmp_path: Path
) -> None:
    emu = flow_emulator
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    for nmea_port, error in (
        (str(tmp_path / "no-such-port"), "nmea_port_unavailable"),
        (emu.at_link, "same_nmea_port"),
        (emu.audio_link, "same_nmea_port"),
        ("not a path", "invalid_port"),
    ):
        result = await configure(
            hass, result, {CONF_AUDIO_PORT: emu.audio_link, CONF_NMEA_PORT: nmea_port}
        )
        assert result["errors"] == {CONF_NMEA_PORT: error}
    result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_NMEA_PORT not in result["data"]  # the position is polled on the AT port


async def test_nmea_port_of_another_modem_is_neither_suggested_nor_taken(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    emu = flow_emulator
    other_modem(hass, **{CONF_NMEA_PORT: emu.nmea_path})  # the same device, by its other name
    result = await start_manual(hass)
    result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
    assert suggested(result, CONF_NMEA_PORT) is None
    result = await configure(
        hass, result, {CONF_AUDIO_PORT: emu.audio_link, CONF_NMEA_PORT: emu.nmea_link}
    )
    assert result["errors"] == {CONF_NMEA_PORT: "port_in_use"}
    result = await configure(
        hass, result, {CONF_AUDIO_PORT: emu.audio_link, CONF_NMEA_PORT: emu.audio_path}
    )
    assert result["errors"] == {CONF_NMEA_PORT: "same_nmea_port"}  # the audio port by its tty


async def test_modem_without_gnss_is_not_asked_for_an_nmea_port(hass: HomeAssistant) -> None:
    async with Sim7600Emulator(variants=Variants(gnss=False)) as emu:
        await emu.start_pty()
        result = await start_manual(hass)
        result = await configure(hass, result, {CONF_AT_PORT: emu.at_link})
        assert result["step_id"] == "audio"
        with pytest.raises(AssertionError, match="not in the form"):
            suggested(result, CONF_NMEA_PORT)
        result = await configure(hass, result, {CONF_AUDIO_PORT: emu.audio_link})
        assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_gnss_options_offered_only_for_a_modem_with_gnss(
    hass: HomeAssistant, flow_emulator: Any
) -> None:
    entry, _ = loaded_entry(hass, flow_emulator)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert_translated(result, "options")
    assert suggested(result, CONF_GNSS) is False  # off by default
    assert suggested(result, CONF_GNSS_INTERVAL) == 10
    result = await _configure_options(
        hass,
        result,
        {**REQUIRED_OPTIONS, CONF_GNSS: True, CONF_GNSS_INTERVAL: 30.0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (entry.options[CONF_GNSS], entry.options[CONF_GNSS_INTERVAL]) == (True, 30)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _configure_options(
        hass, result, {**REQUIRED_OPTIONS, CONF_GNSS: True, CONF_GNSS_INTERVAL: 0}
    )
    assert result["errors"] == {CONF_GNSS_INTERVAL: "gnss_interval_range"}
    with pytest.raises(InvalidData):  # required when offered: emptying it is refused
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**REQUIRED_OPTIONS, CONF_GNSS: True}
        )

    entry.runtime_data.modem.gnss.supported = False
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(AssertionError, match="not in the form"):
        suggested(result, CONF_GNSS)
    result = await _configure_options(hass, result, REQUIRED_OPTIONS)
    assert entry.options[CONF_GNSS] is True  # kept as it was, not offered now
