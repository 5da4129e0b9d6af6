"""Callstack: the SIMCom SIM7600 LTE modem as a phone line and SMS gateway for Home Assistant."""

from __future__ import annotations

import functools
from typing import Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_setup_component

from . import websocket_api
from .assist_options import AssistOptions
from .card import async_register_card
from .config_flow import CallstackConfigFlow, entries_using_port
from .const import (
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_GNSS,
    CONF_GNSS_INTERVAL,
    CONF_NMEA_PORT,
    CONF_REGISTRATION_WATCHDOG,
    CONF_SIGNAL_INTERVAL,
    CONF_SIM_PIN,
    CONF_SMS_PART_TIMEOUT,
    DEFAULT_GNSS_INTERVAL,
    DEFAULT_REGISTRATION_WATCHDOG,
    DEFAULT_SIGNAL_INTERVAL,
    DEFAULT_SMS_PART_TIMEOUT,
    DOMAIN,
    GNSS_KEY_PREFIX,
)
from .coordinator import (
    CallstackConfigEntry,
    CallstackCoordinator,
    CallstackRuntime,
    async_delete_issues,
    async_set_puk_issue,
)
from .media import async_check_ffmpeg, recordings_dir
from .services import async_setup_services
from .sim7600.errors import Sim7600Error, SimPinError, SimPukRequiredError
from .sim7600.model import SimStatus
from .sim7600.modem import Modem, ModemConfig
from .sms_journal import StoreJournal
from .unique_id import async_unique_id_key, keyed_unique_id
from .voicemail import VoicemailBox, voicemail_folder

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DEVICE_TRACKER,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.NOTIFY,
    Platform.SENSOR,
]
# Assist over a call: only for a modem with call audio whose options turn it on, so that
# HA's voice stack (assist_pipeline and what it pulls in) loads only where it is used.
ASSIST_PLATFORMS: list[Platform] = [Platform.ASSIST_SATELLITE, Platform.SELECT]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the phone card and its websocket commands once for all modems."""
    async_setup_services(hass)
    websocket_api.async_setup(hass)
    await async_register_card(hass)
    return True


# Where entries of version 1 kept the ports (see async_migrate_entry).
_PORT_KEYS_OF_VERSION_1: Final = {
    "at_port": CONF_AT_PORT,
    "audio_port": CONF_AUDIO_PORT,
    "nmea_port": CONF_NMEA_PORT,
}


async def async_migrate_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> bool:
    """Bring an entry of an older Callstack up to date, without its modem.

    1.1 -> 1.2: the unique id, a plain hash of the IMEI that ~10^6 guesses reverse, becomes
    that hash under the installation's key (see unique_id.py).

    1.x -> 2.1: the ports move from ``at_port``, ``audio_port`` and ``nmea_port`` to keys
    that Home Assistant's usb component reads. From HA 2026.10 it lists each serial port
    with the entries using it (``usb/list_serial_ports``: Settings > Connectivity > Serial),
    looking only at fixed keys of an entry's data: ``device``, ``device_path``,
    ``filename``, ``host``, ``port``, ``serial_port``, ``socket_path``, ``usb_path``; under
    the old names the modem's ports showed as free. Of those, the ones right for a port
    that is a device path or a ser2net URL alike: ``device`` (HA's ``CONF_DEVICE``, what
    serial integrations call the port they talk to) for the AT port, the one the modem is
    probed and driven through; ``serial_port`` for the audio port; ``port`` (HA's
    ``CONF_PORT``) for the NMEA port. (``device_path`` and ``usb_path`` misname a URL;
    ``host``, ``socket_path`` and ``filename`` are other things.) HA 2025.4 reads none of
    them: the rename changes nothing there.

    A major version, because an older Callstack cannot read the new keys: HA sets up an
    entry of a newer minor version with the older code, which would fail on the missing
    ``at_port`` (a KeyError at setup and in its reconfigure flow). An entry of version 2
    is refused instead, state "Migration error" (by the older Callstack's own migration,
    which turns down any version above 1, and on HA 2026 by HA first); installing this
    version again, or restoring the backup made before the update, brings the modem back
    (README, Troubleshooting).
    """
    if entry.version > CallstackConfigFlow.VERSION:
        return False  # from a newer Callstack: refuse rather than guess
    if entry.version == 1:
        unique_id = entry.unique_id
        if entry.minor_version < 2 and unique_id is not None:
            unique_id = keyed_unique_id(await async_unique_id_key(hass), unique_id)
        # A port under its new key already was written since (a discovery updating an entry
        # that was disabled at the update): it is newer than the old key's.
        data = {
            new_key: entry.data[old_key]
            for old_key, new_key in _PORT_KEYS_OF_VERSION_1.items()
            if old_key in entry.data
        } | {key: value for key, value in entry.data.items() if key not in _PORT_KEYS_OF_VERSION_1}
        hass.config_entries.async_update_entry(
            entry,
            unique_id=unique_id,
            data=data,
            version=CallstackConfigFlow.VERSION,
            minor_version=CallstackConfigFlow.MINOR_VERSION,
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> bool:
    """Connect to the modem, then add its device and entities."""
    await _async_refuse_shared_ports(hass, entry)
    journal = StoreJournal(hass, entry.entry_id)
    await journal.async_load()
    modem = Modem(
        ModemConfig(
            at_url=entry.data[CONF_AT_PORT],
            audio_url=entry.data.get(CONF_AUDIO_PORT) or None,
            pin=entry.data.get(CONF_SIM_PIN) or None,
            signal_interval=float(entry.options.get(CONF_SIGNAL_INTERVAL, DEFAULT_SIGNAL_INTERVAL)),
            registration_watchdog=60.0
            * float(entry.options.get(CONF_REGISTRATION_WATCHDOG, DEFAULT_REGISTRATION_WATCHDOG)),
            sms_part_timeout=3600.0
            * float(entry.options.get(CONF_SMS_PART_TIMEOUT, DEFAULT_SMS_PART_TIMEOUT)),
            gnss=bool(entry.options.get(CONF_GNSS, False)),
            nmea_url=entry.data.get(CONF_NMEA_PORT) or None,
            gnss_interval=float(entry.options.get(CONF_GNSS_INTERVAL, DEFAULT_GNSS_INTERVAL)),
        ),
        sms_journal=journal,
    )
    try:
        # Stored SMS are swept once the entities listen (below), not during connect.
        await modem.connect(sweep_sms=False)
    except SimPinError as err:
        await modem.close()
        # Never send a rejected PIN again (each try costs one of the SIM's few attempts):
        # forget it and ask the user through the re-authentication flow.
        hass.config_entries.async_update_entry(
            entry, data={key: value for key, value in entry.data.items() if key != CONF_SIM_PIN}
        )
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="sim_pin_rejected"
        ) from err
    except SimPukRequiredError as err:
        await modem.close()
        async_set_puk_issue(hass, entry)
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="sim_puk_required"
        ) from err
    except Sim7600Error as err:
        await modem.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        ) from err

    if modem.sim is SimStatus.PIN_REQUIRED:
        # No PIN stored: ask the user (re-authentication) rather than run without a SIM.
        await modem.close()
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="sim_pin_required")

    identity = modem.identity
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer="SIMCom",
        model=identity.model_name,
        sw_version=identity.firmware,
        name=entry.title,
    )
    coordinator = CallstackCoordinator(hass, entry, modem, device.id)
    assist = modem.audio.url is not None and AssistOptions.from_options(entry.options).enabled
    if assist and not await async_setup_component(hass, "assist_satellite", {}):
        # (The satellite's selects need the pipeline's data before either platform loads.)
        await modem.close()
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="assist_unavailable")
    voicemail = VoicemailBox(hass, entry, voicemail_folder(recordings_dir(hass, entry)))
    entry.runtime_data = CallstackRuntime(
        modem,
        coordinator,
        voicemail,
        gnss_entities=modem.config.gnss and bool(modem.gnss.supported),
        assist=assist,
    )
    entry.async_on_unload(functools.partial(_async_close, modem, journal, voicemail))
    entry.async_on_unload(lambda: async_delete_issues(hass, entry.entry_id))
    coordinator.async_start()
    await voicemail.async_setup()
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    if not entry.options.get(CONF_GNSS, False):
        _remove_gnss_entities(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, _platforms(entry))
    voicemail.async_start_engine()  # once the entities that show its messages listen
    entry.async_create_background_task(hass, modem.sweep_sms(), "callstack SMS sweep")
    if modem.audio.url is not None:
        # Only MP3 and friends need FFmpeg; say so once, in repairs, if it is missing.
        entry.async_create_background_task(hass, async_check_ffmpeg(hass), "callstack ffmpeg")
    return True


async def _async_refuse_shared_ports(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    """Stop before opening a port another entry uses (AT, audio or NMEA, under any name):
    two drivers on one port garble each other's commands, split each other's replies and
    NMEA stream, and stall each other's audio. The flows refuse this; an entry configured
    before they did, or edited by hand, is told."""
    kinds = (CONF_AT_PORT, CONF_AUDIO_PORT, CONF_NMEA_PORT)
    others = {
        other.entry_id: [other.data.get(kind) for kind in kinds]
        for other in hass.config_entries.async_entries(
            DOMAIN, include_ignore=False, include_disabled=False
        )
        if other.entry_id != entry.entry_id
    }
    for port in (entry.data.get(kind) for kind in kinds):
        if not port or not others:
            continue
        using = await hass.async_add_executor_job(entries_using_port, port, others)
        if using:
            other = hass.config_entries.async_get_entry(using[0])
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="port_in_use",
                translation_placeholders={"title": other.title if other else "?"},
            )


async def async_unload_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> bool:
    """Unload the entities; the modem's ports and tasks close through async_on_unload."""
    return await hass.config_entries.async_unload_platforms(entry, _platforms(entry))


def _remove_gnss_entities(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    """The GNSS option was turned off: its tracker and sensors go, not linger as orphans."""
    registry = er.async_get(hass)
    prefix = f"{entry.entry_id}_{GNSS_KEY_PREFIX}"
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id.startswith(prefix):
            registry.async_remove(entity.entity_id)


def _platforms(entry: CallstackConfigEntry) -> list[Platform]:
    """The platforms of a loaded entry: the device tracker only where GNSS is on, the
    Assist satellite and its selects only where Assist over a call is (as decided at
    setup, so unloading takes down exactly what setup put up)."""
    gnss = entry.runtime_data.gnss_entities
    platforms = [p for p in PLATFORMS if p is not Platform.DEVICE_TRACKER or gnss]
    return platforms + ASSIST_PLATFORMS if entry.runtime_data.assist else platforms


async def async_remove_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    """Drop the repairs issues and the SMS journal of a removed modem."""
    async_delete_issues(hass, entry.entry_id)
    await StoreJournal(hass, entry.entry_id).async_remove()
    await VoicemailBox.async_remove_index(hass, entry.entry_id)


async def _async_close(modem: Modem, journal: StoreJournal, voicemail: VoicemailBox) -> None:
    """Stop voicemail (it hangs up a call it has, so the modem must still be open), close
    the modem, then write the SMS journal as the driver left it: an SMS whose journal
    write the close interrupted is delivered by the next setup, which reads it.

    One task in this order: HA runs the unload callbacks as concurrent tasks."""
    await voicemail.async_stop_engine()
    await modem.close()
    await journal.async_flush()


async def _async_options_updated(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)
