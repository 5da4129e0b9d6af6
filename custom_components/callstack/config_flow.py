"""Config flow of the Callstack integration: pick the modem's ports, probe it, unlock its SIM.

Steps:

- ``user`` / ``reconfigure``: choose the AT port from the detected serial ports, or
  ``manual`` to type a device path, ``socket://host:port`` or ``rfc2217://host:port``. The
  modem on that port is probed (it must answer AT and be a SIMCom) before going on.
- ``audio``: the PCM audio port, pre-filled with the AT port's sibling interface; it may be
  left empty (no call audio). If it cannot be opened the user must confirm going on
  without audio. A modem with a GNSS receiver is also asked for its NMEA port (sibling
  ``-if01-``), optional: without it the position is polled on the AT port.
- ``pin``: only when the SIM asks for its PIN; the PIN is sent once per submit.
- ``reauth`` + ``reauth_confirm``: setup found the stored PIN rejected (and forgot it) or
  the SIM asking for a PIN; the same one-attempt-per-submit unlock, then the entry reloads.
- ``usb`` + ``usb_confirm``: USB discovery of the AT interface.

A port that a configured modem uses (by name, or the same device under another name) is
never opened by the flow: the running entry holds it, and opening a serial port flushes
its input. The update listener of a loaded entry reloads it when its data changes, so the
flow reloads only entries that are not loaded (and have no listener).

The unique id is a keyed hash of the IMEI that cannot be reversed (``unique_id.py``); the
IMEI itself, the PIN and phone numbers are never stored in the unique id, shown or logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import logging
import os
import re
from typing import Any

from homeassistant.components import usb
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import serialx
import voluptuous as vol

from . import voicemail_options
from .assist_options import assist_section, parse_assist_section
from .const import (
    CONF_ASSIST,
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
    DEFAULT_BUS_EVENT_PRIVATE_DATA,
    DEFAULT_GNSS_INTERVAL,
    DEFAULT_RECORDINGS_FOLDER,
    DEFAULT_REGISTRATION_WATCHDOG,
    DEFAULT_SIGNAL_INTERVAL,
    DEFAULT_SMS_PART_TIMEOUT,
    DOMAIN,
    USB_PIDS,
    USB_VID,
)
from .option_fields import number_box, phone_numbers, whole_number
from .sim7600 import validate
from .sim7600.errors import (
    InvalidArgumentError,
    NotAModemError,
    PortError,
    Sim7600Error,
    SimPinError,
    SimPukRequiredError,
    UnsupportedModemError,
)
from .sim7600.model import ModemIdentity, SimStatus
from .sim7600.modem import Modem, ModemConfig, ProbeResult, probe
from .sim7600.transport import open_port
from .unique_id import async_modem_unique_id

_LOGGER = logging.getLogger(__name__)

CONF_CONTINUE_WITHOUT_AUDIO = "continue_without_audio"
MANUAL_ENTRY = "manual"
MANUAL_ENTRY_LABEL = "Enter manually"
DEFAULT_TITLE = "SIM7600"

SIGNAL_INTERVAL_MIN = 10
SIGNAL_INTERVAL_MAX = 3600
WATCHDOG_MAX_MINUTES = 1440
SMS_PART_TIMEOUT_MAX_HOURS = 168
GNSS_INTERVAL_MIN = 1
GNSS_INTERVAL_MAX = 3600

# How long one AT command of the probe may take, and the whole probe or PIN unlock.
PROBE_COMMAND_TIMEOUT = 2.0
PROBE_TIMEOUT = 30.0

# The by-id interface numbers of the AT and audio ports per USB composition.
AT_INTERFACE: Mapping[str, str] = {"9001": "02", "9011": "04"}
AUDIO_INTERFACE: Mapping[str, str] = {"9001": "04", "9011": "06"}
# 9001: ModemManager's port rules; 9011: inferred from its layout (sim7600.md section 1).
NMEA_INTERFACE: Mapping[str, str] = {"9001": "01", "9011": "03"}

_INTERFACE = re.compile(r"-if([0-9]{2})-")
_NETWORK_URL = re.compile(r"(socket|rfc2217)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}")
_FOLDER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def usb_interface(path: str) -> str | None:
    """The ``NN`` of a ``/dev/serial/by-id/...-ifNN-portM`` name, if it has one."""
    match = _INTERFACE.search(os.path.basename(path))
    return match.group(1) if match else None


def audio_sibling(at_port: str, pid: str | None = None) -> str | None:
    """The audio port that belongs to ``at_port`` by its by-id name, or None.

    ``-if02-`` becomes ``-if04-`` (PID 9001) and ``-if04-`` becomes ``-if06-`` (PID 9011).
    When the PID is unknown both rules apply. Nothing is derived for URLs or plain
    ``/dev/ttyUSBn`` names. Whether the path exists is for the caller to check.
    """
    return _sibling(at_port, pid, AUDIO_INTERFACE)


def nmea_sibling(at_port: str, pid: str | None = None) -> str | None:
    """The NMEA port of ``at_port``: ``-if02-`` to ``-if01-`` (9001), ``-if04-`` to ``-if03-``
    (9011); like :func:`audio_sibling` otherwise."""
    return _sibling(at_port, pid, NMEA_INTERFACE)


def _sibling(at_port: str, pid: str | None, interfaces: Mapping[str, str]) -> str | None:
    if "://" in at_port:
        return None
    head, sep, name = at_port.rpartition("/")
    match = _INTERFACE.search(name)
    if match is None:
        return None
    interface = match.group(1)
    if pid is not None and pid in AT_INTERFACE:
        if interface != AT_INTERFACE[pid]:
            return None
        sibling = interfaces[pid]
    else:
        sibling_by_at = {at: interfaces[key] for key, at in AT_INTERFACE.items()}
        if interface not in sibling_by_at:
            return None
        sibling = sibling_by_at[interface]
    return f"{head}{sep}{name[: match.start()]}-if{sibling}-{name[match.end() :]}"


def short_port_name(port: str) -> str:
    """A port as a short name: ``ttyUSB2`` for a device path (the device a by-id link
    points to), ``host:port`` for a URL.

    Blocking I/O (``os.path.realpath``): run it in the executor.
    """
    if "://" in port:
        return port.partition("://")[2]
    device = os.path.realpath(port)
    return device.removeprefix("/dev/") if device.startswith("/dev/") else os.path.basename(device)


def valid_port(value: str) -> bool:
    """A device path, ``socket://host:port`` or ``rfc2217://host:port``."""
    if "://" in value:
        return _NETWORK_URL.fullmatch(value) is not None
    return value.startswith("/") and not any(char.isspace() for char in value)


@dataclass(frozen=True, slots=True)
class SerialPortChoice:
    """One detected serial port as the picker shows it."""

    path: str  # the /dev/serial/by-id name when there is one
    label: str
    pid: str | None
    likely_at: bool


def entries_using_port(port: str, ports: Mapping[str, Iterable[Any]]) -> list[str]:
    """The ids of the entries (``ports``: entry id to the ports it uses) that use ``port``:
    the same name, or for device paths the same device (a /dev/serial/by-id link and its
    /dev/ttyUSBn are one port). URLs compare by name only.

    Blocking I/O (``os.path.realpath``): run it in the executor.
    """
    target = None if "://" in port else os.path.realpath(port)

    def same(other: Any) -> bool:
        if other == port:
            return True
        return (
            target is not None
            and isinstance(other, str)
            and "://" not in other
            and os.path.realpath(other) == target
        )

    return [entry_id for entry_id, used in ports.items() if any(map(same, used))]


class _WrongModemError(Exception):
    """The modem on the port is not the one the flow is about (another IMEI)."""


def list_serial_ports() -> list[SerialPortChoice]:
    """The serial ports on this host: the SIMCom AT port first, then the modem's other
    interfaces, then every other port (a built-in ttyS0, adapters), each by name.

    Blocking I/O: run it in the executor.
    """
    choices: list[SerialPortChoice] = []
    for info in serialx.list_serial_ports():
        device = info.resolved_device  # /dev/ttyUSBn; ``device`` may be the by-id link
        path = usb.get_serial_by_id(device)
        vid = f"{info.vid:04X}" if info.vid is not None else None
        pid = f"{info.pid:04X}" if info.pid is not None else None
        # The USB interface number comes from sysfs, so it is known even where udev made
        # no /dev/serial/by-id links (some containers).
        interface = (
            f"{info.interface_num:02x}" if info.interface_num is not None else usb_interface(path)
        )
        simcom = vid == USB_VID and pid in USB_PIDS
        choices.append(port_choice(device, path, pid if simcom else None, interface, info.product))
    choices.sort(key=lambda choice: (not choice.likely_at, choice.pid is None, choice.path))
    return choices


# What each USB interface of a SIM7600 carries, per composition (PID): see sim7600.md.
INTERFACE_ROLES: Mapping[str, Mapping[str, str]] = {
    "9001": {"00": "diagnostics", "01": "GPS", "02": "AT", "03": "modem", "04": "audio"},
    "9011": {"02": "diagnostics", "03": "GPS", "04": "AT", "05": "modem", "06": "audio"},
}


def port_choice(
    device: str, path: str, pid: str | None, interface: str | None, product: str | None
) -> SerialPortChoice:
    """One port as the picker lists it, named for what it is.

    A SIMCom port says which of the modem's ports it is ("SIMCom modem: AT port
    (interface 02) - /dev/ttyUSB2"); any other port is its device and, when the system
    knows one, its product name ("/dev/ttyACM0 - CP2102 USB to UART"), never "n/a".
    ``pid`` is set for SIMCom ports only; the AT port is the only likely one.
    """
    if pid is not None:
        role = INTERFACE_ROLES[pid].get(interface or "")
        what = f"{role} port" if role else "port"
        where = f" (interface {interface})" if interface else ""
        label = f"SIMCom modem: {what}{where} - {device}"
        return SerialPortChoice(path, label, pid, role == "AT")
    known = product is not None and product.strip() not in ("", "n/a", os.path.basename(device))
    label = f"{device} - {product.strip()}" if known and product else device
    return SerialPortChoice(path, label, None, False)


def _serial_port_selector() -> Any:
    """The audio and NMEA port fields: HA's serial port picker where HA has one (2026.x),
    else a text box.

    The picker lists the host's ports and keeps a manual entry, so socket:// and rfc2217://
    URLs can still be typed; older HA has only the text box. (The AT port keeps the flow's
    own picker, which names each of the modem's interfaces for what it carries.)
    """
    serial_port_selector = getattr(selector, "SerialPortSelector", None)
    return TextSelector() if serial_port_selector is None else serial_port_selector()


class CallstackConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one SIM7600 modem."""

    # 1.2: the unique id is a keyed hash; 2.1: the ports under keys HA's usb component
    # reads (see async_migrate_entry).
    VERSION = 2
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._at_port: str | None = None
        self._audio_port: str | None = None
        self._nmea_port: str | None = None
        self._pid: str | None = None
        self._ports: list[SerialPortChoice] = []
        self._probe: ProbeResult | None = None
        self._audio_failed = False

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> CallstackOptionsFlow:
        """Options: signal interval, recordings folder, SMS recipients."""
        return CallstackOptionsFlow()

    # ---- AT port: picker, manual entry, reconfigure ----------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the AT port from the detected serial ports."""
        return await self._async_step_pick_port("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the ports of a configured modem; it must be the same modem."""
        return await self._async_step_pick_port("reconfigure", user_input)

    async def _async_step_pick_port(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            choice: str = user_input[CONF_AT_PORT]
            if choice == MANUAL_ENTRY:
                return await self.async_step_manual()
            self._pid = next((port.pid for port in self._ports if port.path == choice), None)
            if (result := await self._async_use_at_port(choice, errors)) is not None:
                return result
        else:
            self._ports = await self.hass.async_add_executor_job(list_serial_ports)
            if not self._ports:
                return await self.async_step_manual()

        options = [SelectOptionDict(value=port.path, label=port.label) for port in self._ports]
        current = self._current_at_port()
        if current is not None and all(port.path != current for port in self._ports):
            # A ser2net URL, or a port not detected now: still shown, and chosen.
            options.insert(0, SelectOptionDict(value=current, label=f"{current} (current)"))
        # Only a port that looks like the modem's AT port is chosen for the user: probing
        # another (a built-in ttyS0) would only time out. HA's form chooses the first row
        # of a required list by itself, so without such a port "Enter manually" is first.
        suggested = current or next((port.path for port in self._ports if port.likely_at), None)
        manual = SelectOptionDict(value=MANUAL_ENTRY, label=MANUAL_ENTRY_LABEL)
        if suggested is None:
            options.insert(0, manual)
        else:
            options.append(manual)
        if user_input is not None:
            suggested = user_input[CONF_AT_PORT]
        schema = vol.Schema(
            {
                vol.Required(CONF_AT_PORT): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_AT_PORT: suggested} if suggested else {}
            ),
            errors=errors,
        )

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Type the AT port: a device path, socket://host:port or rfc2217://host:port."""
        errors: dict[str, str] = {}
        suggested = self._current_at_port()
        if user_input is not None:
            at_port = str(user_input[CONF_AT_PORT]).strip()
            suggested = at_port
            self._pid = None
            if not valid_port(at_port):
                errors[CONF_AT_PORT] = "invalid_port"
            elif (result := await self._async_use_at_port(at_port, errors)) is not None:
                return result
        schema = vol.Schema({vol.Required(CONF_AT_PORT): TextSelector()})
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_AT_PORT: suggested}),
            errors=errors,
        )

    def _current_at_port(self) -> str | None:
        if self.source == SOURCE_RECONFIGURE:
            at_port: str = self._get_reconfigure_entry().data[CONF_AT_PORT]
            return at_port
        return None

    async def _async_entries_using_port(
        self, port: str, kinds: Iterable[str] = (CONF_AT_PORT,)
    ) -> list[str]:
        """The ids of the configured entries that use ``port`` (by any name) as one of
        ``kinds`` (their AT port, audio port or both)."""
        ports = {
            entry.entry_id: [entry.data.get(kind) for kind in kinds]
            for entry in self._async_current_entries(include_ignore=False)
        }
        return await self.hass.async_add_executor_job(entries_using_port, port, ports)

    async def _async_port_of_another_entry(self, port: str) -> bool:
        """Whether another modem's entry uses ``port``, AT, audio or NMEA. The entry being
        reconfigured is not another, nor, once the probe named the modem, an entry of the
        same modem (its ports are about to be updated)."""
        own = {
            entry.entry_id
            for entry in self._async_current_entries(include_ignore=False)
            if self.unique_id is not None and entry.unique_id == self.unique_id
        }
        if self.source == SOURCE_RECONFIGURE:
            own.add(self._get_reconfigure_entry().entry_id)
        using = await self._async_entries_using_port(
            port, (CONF_AT_PORT, CONF_AUDIO_PORT, CONF_NMEA_PORT)
        )
        return any(entry_id not in own for entry_id in using)

    async def _async_use_at_port(
        self, at_port: str, errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Probe the modem on ``at_port``; None with ``errors`` filled when it fails."""
        reconfiguring = self.source == SOURCE_RECONFIGURE
        using = await self._async_entries_using_port(at_port)
        if not reconfiguring and using:
            # The port of a configured modem is held open by it: do not talk over it.
            return self.async_abort(reason="already_configured")
        if await self._async_port_of_another_entry(at_port):
            errors["base"] = "port_in_use"  # e.g. the audio port of another modem
            return None
        if not await self._async_path_exists(at_port):
            errors[CONF_AT_PORT] = "port_not_found"
            return None
        if not reconfiguring:
            error = await self._async_probe(at_port)
        else:
            entry = self._get_reconfigure_entry()
            if entry.entry_id in using and entry.state is ConfigEntryState.LOADED:
                # Its own port, held open by the running entry: ask its modem instead.
                modem: Modem = entry.runtime_data.modem
                # (A reconfigure flow does not look at the SIM state.)
                self._probe = ProbeResult(
                    modem.identity, modem.sim or SimStatus.ERROR, bool(modem.gnss.supported)
                )
                error = None
            else:
                error = await self._async_probe(at_port)
        if error is not None:
            errors["base"] = error
            return None
        assert self._probe is not None
        if not self._probe.identity.imei:
            return self.async_abort(reason="no_imei")
        unique_id = await async_modem_unique_id(self.hass, self._probe.identity.imei)
        await self.async_set_unique_id(unique_id, raise_on_progress=False)
        if reconfiguring:
            self._abort_if_unique_id_mismatch(reason="wrong_modem")
        elif self._probe.sim is SimStatus.PUK_REQUIRED:
            return self.async_abort(reason="sim_puk_required")
        self._at_port = at_port
        return await self.async_step_audio()

    async def _async_probe(self, at_port: str) -> str | None:
        """Probe ``at_port`` into ``self._probe``; returns an error key on failure."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                self._probe = await probe(at_port, timeout=PROBE_COMMAND_TIMEOUT)
        except PortError:
            return "cannot_connect"
        except NotAModemError:
            return "not_a_modem"
        except UnsupportedModemError:
            return "unsupported_modem"
        except (Sim7600Error, TimeoutError) as err:
            _LOGGER.debug("The modem probe failed: %s", type(err).__name__)
            return "cannot_connect"
        return None

    # ---- audio port ------------------------------------------------------------------

    async def async_step_audio(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the PCM audio port; empty means no call audio."""
        assert self._at_port is not None
        errors: dict[str, str] = {}
        gnss = self._probe is not None and self._probe.gnss
        if user_input is None:
            self._audio_failed = False
            suggested = await self._async_suggest_port(CONF_AUDIO_PORT, audio_sibling)
            self._nmea_port = (
                await self._async_suggest_port(CONF_NMEA_PORT, nmea_sibling) if gnss else None
            )
        else:
            suggested = str(user_input.get(CONF_AUDIO_PORT) or "").strip()
            audio_port = suggested or None
            nmea_error = await self._async_check_nmea_port(user_input) if gnss else None
            if nmea_error is not None:
                errors[CONF_NMEA_PORT] = nmea_error
            elif audio_port is not None and not valid_port(audio_port):
                errors[CONF_AUDIO_PORT] = "invalid_port"
            elif audio_port is not None and await self._async_same_port(audio_port, self._at_port):
                errors[CONF_AUDIO_PORT] = "same_port"
            elif audio_port is not None and await self._async_port_of_another_entry(audio_port):
                errors[CONF_AUDIO_PORT] = "port_in_use"
            elif (
                audio_port is not None
                and not await self._async_audio_port_held(audio_port)
                and (
                    not (found := await self._async_path_exists(audio_port))
                    or not await self._async_can_open(audio_port)
                )
            ):
                if user_input.get(CONF_CONTINUE_WITHOUT_AUDIO):
                    self._audio_port = None
                    return await self._async_finish()
                self._audio_failed = True
                errors[CONF_AUDIO_PORT] = (
                    "audio_port_unavailable" if found else "audio_port_not_found"
                )
            else:
                self._audio_port = audio_port
                return await self._async_finish()

        fields: dict[vol.Marker, Any] = {vol.Optional(CONF_AUDIO_PORT): _serial_port_selector()}
        if self._audio_failed:
            fields[vol.Optional(CONF_CONTINUE_WITHOUT_AUDIO, default=False)] = BooleanSelector()
        if gnss:
            fields[vol.Optional(CONF_NMEA_PORT)] = _serial_port_selector()
        schema = vol.Schema(fields)
        suggestions = {CONF_AUDIO_PORT: suggested, CONF_NMEA_PORT: self._nmea_port}
        return self.async_show_form(
            step_id="audio",
            data_schema=self.add_suggested_values_to_schema(
                schema, {key: value for key, value in suggestions.items() if value}
            ),
            errors=errors,
        )

    async def _async_check_nmea_port(self, user_input: dict[str, Any]) -> str | None:
        """Take the optional NMEA port into ``_nmea_port``; an error key if it will not do."""
        nmea_port = str(user_input.get(CONF_NMEA_PORT) or "").strip() or None
        self._nmea_port = nmea_port
        if nmea_port is None:
            return None
        if not valid_port(nmea_port):
            return "invalid_port"
        audio_port = str(user_input.get(CONF_AUDIO_PORT) or "").strip() or None
        for other in (self._at_port, audio_port):
            if await self._async_same_port(nmea_port, other):
                return "same_nmea_port"
        if await self._async_port_of_another_entry(nmea_port):
            return "port_in_use"
        held = (
            self.source == SOURCE_RECONFIGURE
            and self._get_reconfigure_entry().state is ConfigEntryState.LOADED
            and await self._async_same_port(
                nmea_port, self._get_reconfigure_entry().data.get(CONF_NMEA_PORT)
            )
        )
        if held or await self._async_can_open(nmea_port):
            return None
        return "nmea_port_unavailable"

    async def _async_suggest_port(
        self, key: str, sibling: Callable[[str, str | None], str | None]
    ) -> str | None:
        """The audio or NMEA port (``key``) to pre-fill: the current one when reconfiguring
        the same AT port, else the AT port's ``sibling`` interface when it exists and no
        other entry uses it."""
        assert self._at_port is not None
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            if entry.data[CONF_AT_PORT] == self._at_port:
                current: str | None = entry.data.get(key)
                return current
        path = sibling(self._at_port, self._pid)
        if (
            path is not None
            and await self.hass.async_add_executor_job(os.path.exists, path)
            and not await self._async_port_of_another_entry(path)
        ):
            return path
        return None

    async def _async_same_port(self, port: str, other: str | None) -> bool:
        """Whether ``port`` and ``other`` are one port (by name, or one device)."""
        if other is None:
            return False
        return bool(await self.hass.async_add_executor_job(entries_using_port, port, {"": [other]}))

    async def _async_audio_port_held(self, audio_port: str) -> bool:
        """Whether the loaded entry being reconfigured uses ``audio_port``, by any name (its
        audio bridge may have it open: opening it here would flush the call audio)."""
        if self.source != SOURCE_RECONFIGURE:
            return False
        entry = self._get_reconfigure_entry()
        return entry.state is ConfigEntryState.LOADED and await self._async_same_port(
            audio_port, entry.data.get(CONF_AUDIO_PORT)
        )

    async def _async_path_exists(self, port: str) -> bool:
        """Whether a device path exists (a URL is for the probe to try)."""
        if "://" in port:
            return True
        return bool(await self.hass.async_add_executor_job(os.path.exists, port))

    async def _async_can_open(self, audio_port: str) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                port = await open_port(audio_port)
                await port.close()
        except (PortError, TimeoutError):
            return False
        return True

    async def _async_finish(self) -> ConfigFlowResult:
        """Both ports are chosen: update the reconfigured entry, or go on to create one."""
        assert self._probe is not None
        ports = self._ports_data()
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            loaded = entry.state is ConfigEntryState.LOADED
            # A loaded entry's update listener reloads it (once) when the data changes;
            # one that is not loaded has no listener, so it is reloaded here.
            data = {**entry.data, **ports}
            if CONF_NMEA_PORT not in ports:  # cleared, or a modem without GNSS now
                data.pop(CONF_NMEA_PORT, None)
            self.hass.config_entries.async_update_entry(entry, data=data)
            if not loaded:
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_abort(reason="reconfigure_successful")
        self._abort_if_unique_id_configured(updates=ports, reload_on_update=False)
        if self._probe.sim is SimStatus.PIN_REQUIRED:
            return await self.async_step_pin()
        return await self._async_create()

    # ---- SIM PIN and re-authentication ---------------------------------------------

    async def async_step_pin(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Unlock the SIM with its PIN: sent once per submit, never retried by itself."""
        return await self._async_step_sim_pin("pin", user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Setup found the stored PIN rejected (it was forgotten) or the SIM wanting one."""
        self._at_port = entry_data[CONF_AT_PORT]
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the SIM PIN; the entry is not loaded, so the flow may use its port."""
        if self._get_reauth_entry().state is ConfigEntryState.LOADED:
            # Set up meanwhile (the SIM was unlocked elsewhere): its modem holds the port.
            return self.async_abort(reason="sim_already_unlocked")
        return await self._async_step_sim_pin("reauth_confirm", user_input)

    async def _async_step_sim_pin(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"attempts": "?"}
        if user_input is not None:
            try:
                sim_pin = validate.pin(str(user_input[CONF_SIM_PIN]).strip())
            except InvalidArgumentError:
                errors[CONF_SIM_PIN] = "invalid_pin_format"
            else:
                try:
                    async with asyncio.timeout(PROBE_TIMEOUT):
                        sent = await self._async_unlock_sim(sim_pin)
                except SimPukRequiredError:
                    if self.source == SOURCE_REAUTH:
                        # Setup then raises the PUK repair issue, which says what to do.
                        self.hass.config_entries.async_schedule_reload(
                            self._get_reauth_entry().entry_id
                        )
                    return self.async_abort(reason="sim_puk_required")
                except _WrongModemError:
                    return self.async_abort(reason="wrong_modem")
                except SimPinError as err:
                    errors[CONF_SIM_PIN] = "invalid_pin"
                    if err.attempts_left is not None:
                        placeholders["attempts"] = str(err.attempts_left)
                except (Sim7600Error, TimeoutError) as err:
                    _LOGGER.debug("Unlocking the SIM failed: %s", type(err).__name__)
                    errors["base"] = "cannot_connect"
                else:
                    if self.source == SOURCE_REAUTH:
                        return self._async_finish_reauth(sim_pin if sent else None)
                    return await self._async_create(sim_pin)

        schema = vol.Schema(
            {
                vol.Required(CONF_SIM_PIN): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                )
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_unlock_sim(self, sim_pin: str) -> bool:
        """Connect, send the PIN once if the SIM still wants it, and always disconnect.

        Returns whether the PIN was sent (and accepted). Nothing listens to this borrowed
        modem, so the SMS stored on the SIM are left alone (no sweep). The modem must be
        the flow's own (same IMEI): a PIN is never spent on another SIM.
        """
        assert self._at_port is not None
        modem = Modem(ModemConfig(at_url=self._at_port))
        try:
            await modem.connect(sweep_sms=False)
            imei = modem.identity.imei
            if self.unique_id is not None and (
                not imei or await async_modem_unique_id(self.hass, imei) != self.unique_id
            ):
                raise _WrongModemError
            if modem.sim is SimStatus.PUK_REQUIRED:
                raise SimPukRequiredError("The SIM is blocked and needs its PUK")
            if modem.sim is not SimStatus.PIN_REQUIRED:
                return False
            await modem.unlock_sim(sim_pin)
            return True
        finally:
            await modem.close()

    @callback
    def _async_finish_reauth(self, sim_pin: str | None) -> ConfigFlowResult:
        """Store the PIN that unlocked the SIM (none if it needed none) and set up again."""
        entry = self._get_reauth_entry()
        if sim_pin is not None:
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_SIM_PIN: sim_pin}
            )
        # The entry failed to set up, so it has no update listener: reload it here, once.
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason="reauth_successful")

    # ---- USB discovery ---------------------------------------------------------------

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """A SIMCom modem was plugged in; every ttyUSB interface of it lands here."""
        at_port = await self.hass.async_add_executor_job(
            usb.get_serial_by_id, discovery_info.device
        )
        pid = discovery_info.pid.upper()
        interface = usb_interface(at_port)
        if interface is None or interface != AT_INTERFACE.get(pid):
            return self.async_abort(reason="not_at_interface")
        # A configured modem's port (AT or audio), maybe under another name: it holds it,
        # do not touch it.
        if await self._async_port_of_another_entry(at_port):
            return self.async_abort(reason="already_configured")
        self._pid = pid
        if (error := await self._async_probe(at_port)) is not None:
            return self.async_abort(reason=error)
        assert self._probe is not None
        if not self._probe.identity.imei:
            return self.async_abort(reason="no_imei")
        self._at_port = at_port
        await self.async_set_unique_id(
            await async_modem_unique_id(self.hass, self._probe.identity.imei)
        )
        self._audio_port = await self._async_suggest_port(CONF_AUDIO_PORT, audio_sibling)
        self._nmea_port = (
            await self._async_suggest_port(CONF_NMEA_PORT, nmea_sibling)
            if self._probe.gnss
            else None
        )
        self._abort_if_unique_id_configured(updates=self._ports_data(), reload_on_update=False)
        if self._probe.sim is SimStatus.PUK_REQUIRED:
            return self.async_abort(reason="sim_puk_required")
        self.context["title_placeholders"] = {"name": await self._async_title()}
        return await self.async_step_usb_confirm()

    async def async_step_usb_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to confirm the discovered modem."""
        assert self._probe is not None
        if user_input is not None:
            if self._probe.sim is SimStatus.PIN_REQUIRED:
                return await self.async_step_pin()
            return await self._async_create()
        return self.async_show_form(
            step_id="usb_confirm",
            description_placeholders={
                "model": await self._async_title(),
                "audio": self._audio_port or "-",
            },
        )

    # ---- entry -----------------------------------------------------------------------

    def _ports_data(self) -> dict[str, Any]:
        """The chosen ports as entry data; the NMEA port only when there is one."""
        data: dict[str, Any] = {CONF_AT_PORT: self._at_port, CONF_AUDIO_PORT: self._audio_port}
        if self._nmea_port is not None:
            data[CONF_NMEA_PORT] = self._nmea_port
        return data

    async def _async_title(self) -> str:
        """The model as people call it ("SIM7600G-H"); when another entry has that name
        already, with the AT port's short name after it ("SIM7600G-H (ttyUSB6)") so the
        two rows differ in every list and Modem picker. Nothing private (IMEI, ICCID, the
        number) goes into a title."""
        assert self._probe is not None
        assert self._at_port is not None
        name = self._probe.identity.model_name or DEFAULT_TITLE
        taken = {
            ModemIdentity(model=entry.title).model_name
            for entry in self._async_current_entries(include_ignore=False)
            if entry.unique_id != self.unique_id
        }
        if name not in taken:
            return name
        port = await self.hass.async_add_executor_job(short_port_name, self._at_port)
        return f"{name} ({port})"

    async def _async_create(self, sim_pin: str | None = None) -> ConfigFlowResult:
        data: dict[str, Any] = self._ports_data()
        if sim_pin is not None:
            data[CONF_SIM_PIN] = sim_pin
        return self.async_create_entry(title=await self._async_title(), data=data)


def _gnss_offered(entry: ConfigEntry) -> bool:
    """The GNSS options are offered only for a loaded modem that answered ``AT+CGPS?``."""
    if entry.state is not ConfigEntryState.LOADED:
        return False
    modem: Modem = entry.runtime_data.modem
    return bool(modem.gnss.supported)


# Each number option: its range, and the form error that says it.
_NUMBER_OPTIONS: Mapping[str, tuple[int, int]] = {
    CONF_SIGNAL_INTERVAL: (SIGNAL_INTERVAL_MIN, SIGNAL_INTERVAL_MAX),
    CONF_REGISTRATION_WATCHDOG: (0, WATCHDOG_MAX_MINUTES),
    CONF_SMS_PART_TIMEOUT: (1, SMS_PART_TIMEOUT_MAX_HOURS),
}


class CallstackOptionsFlow(OptionsFlow):
    """Signal refresh interval, watchdog, multipart wait, recordings folder, SMS
    recipients, private data on bus events and message texts in the logbook; GNSS where it
    exists.

    Required with a default: the signal interval, the multipart wait, the recordings
    folder, the switches and the GNSS interval (emptying them is refused, never silently
    undone). Optional, empty meaning off: the network watchdog and the SMS recipients.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate the options."""
        errors: dict[str, str] = {}
        gnss_offered = _gnss_offered(self.config_entry)
        values: dict[str, Any] = {
            CONF_GNSS: False,
            CONF_GNSS_INTERVAL: DEFAULT_GNSS_INTERVAL,
            CONF_SIGNAL_INTERVAL: DEFAULT_SIGNAL_INTERVAL,
            CONF_REGISTRATION_WATCHDOG: DEFAULT_REGISTRATION_WATCHDOG,
            CONF_SMS_PART_TIMEOUT: DEFAULT_SMS_PART_TIMEOUT,
            CONF_RECORDINGS_FOLDER: DEFAULT_RECORDINGS_FOLDER,
            CONF_SMS_RECIPIENTS: [],
            CONF_BUS_EVENT_PRIVATE_DATA: DEFAULT_BUS_EVENT_PRIVATE_DATA,
            CONF_LOGBOOK_MESSAGE_TEXT: False,
            **self.config_entry.options,
            voicemail_options.SECTION: voicemail_options.current(self.config_entry.options),
        }
        if user_input is not None:
            values = {
                **values,
                CONF_REGISTRATION_WATCHDOG: None,  # emptied: off
                CONF_SMS_RECIPIENTS: [],
                **user_input,
            }
            numbers: dict[str, int] = {}
            ranges = dict(_NUMBER_OPTIONS)
            if gnss_offered:
                ranges[CONF_GNSS_INTERVAL] = (GNSS_INTERVAL_MIN, GNSS_INTERVAL_MAX)
            for key, (minimum, maximum) in ranges.items():
                given = values[key]
                if key == CONF_REGISTRATION_WATCHDOG and given is None:
                    numbers[key] = 0
                elif (number := whole_number(given, minimum, maximum)) is None:
                    errors[key] = f"{key}_range"
                else:
                    numbers[key] = number
            folder = str(values[CONF_RECORDINGS_FOLDER]).strip()
            if not _FOLDER.fullmatch(folder):
                errors[CONF_RECORDINGS_FOLDER] = "invalid_folder"
            recipients: list[str] = []
            try:
                recipients = phone_numbers(values[CONF_SMS_RECIPIENTS], validate.sms_recipient)
            except InvalidArgumentError:
                errors[CONF_SMS_RECIPIENTS] = "invalid_number"
            assist, assist_errors = parse_assist_section(values)
            errors.update(assist_errors)
            # Without the (collapsed) Voicemail section, the voicemail options stay as they are.
            voicemail = {
                key: value
                for key, value in self.config_entry.options.items()
                if key in voicemail_options.DEFAULTS
            }
            if (section_input := user_input.get(voicemail_options.SECTION)) is not None:
                voicemail, section_errors = voicemail_options.validated(section_input)
                errors.update(section_errors)
            if not errors:
                return self.async_create_entry(
                    data={
                        **voicemail,
                        **numbers,
                        CONF_RECORDINGS_FOLDER: folder,
                        CONF_SMS_RECIPIENTS: recipients,
                        CONF_BUS_EVENT_PRIVATE_DATA: bool(values[CONF_BUS_EVENT_PRIVATE_DATA]),
                        CONF_LOGBOOK_MESSAGE_TEXT: bool(values[CONF_LOGBOOK_MESSAGE_TEXT]),
                        CONF_ASSIST: assist,
                    }
                    | self._gnss_options(values, numbers, offered=gnss_offered)
                )

        schema = vol.Schema(
            {
                vol.Required(CONF_SIGNAL_INTERVAL): number_box("s"),
                vol.Optional(CONF_REGISTRATION_WATCHDOG): number_box("min"),
                vol.Required(CONF_SMS_PART_TIMEOUT): number_box("h"),
                vol.Required(CONF_RECORDINGS_FOLDER): TextSelector(),
                vol.Optional(CONF_SMS_RECIPIENTS): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEL, multiple=True)
                ),
                vol.Required(CONF_BUS_EVENT_PRIVATE_DATA): BooleanSelector(),
                vol.Required(CONF_LOGBOOK_MESSAGE_TEXT): BooleanSelector(),
                **assist_section(),
                **voicemail_options.schema_entry(),
            }
        )
        if gnss_offered:
            schema = schema.extend(
                {
                    vol.Required(CONF_GNSS): BooleanSelector(),
                    vol.Required(CONF_GNSS_INTERVAL): number_box("s"),
                }
            )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, values),
            errors=errors,
        )

    def _gnss_options(
        self, values: dict[str, Any], numbers: dict[str, int], *, offered: bool
    ) -> dict[str, Any]:
        """The GNSS options to store: as entered when offered, else kept as they were (a
        modem not loaded now), or none at all for a modem that never offered them."""
        if not offered and CONF_GNSS not in self.config_entry.options:
            return {}
        return {
            CONF_GNSS: bool(values[CONF_GNSS]),
            CONF_GNSS_INTERVAL: numbers.get(CONF_GNSS_INTERVAL, int(values[CONF_GNSS_INTERVAL])),
        }
