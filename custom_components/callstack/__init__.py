"""Callstack: the SIMCom SIM7600 LTE modem as a phone line and SMS gateway for Home Assistant."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_AT_PORT,
    CONF_AUDIO_PORT,
    CONF_REGISTRATION_WATCHDOG,
    CONF_SIGNAL_INTERVAL,
    CONF_SIM_PIN,
    CONF_SMS_PART_TIMEOUT,
    DEFAULT_REGISTRATION_WATCHDOG,
    DEFAULT_SIGNAL_INTERVAL,
    DEFAULT_SMS_PART_TIMEOUT,
    DOMAIN,
)
from .coordinator import (
    CallstackConfigEntry,
    CallstackCoordinator,
    CallstackRuntime,
    async_delete_issues,
    async_set_puk_issue,
)
from .media import async_check_ffmpeg
from .services import async_setup_services
from .sim7600.errors import Sim7600Error, SimPinError, SimPukRequiredError
from .sim7600.model import SimStatus
from .sim7600.modem import Modem, ModemConfig
from .sms_journal import StoreJournal

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.NOTIFY,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once for all modems."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> bool:
    """Connect to the modem, then add its device and entities."""
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
        ),
        sms_journal=journal,
    )
    modem.sms.restore(journal.reassembly)
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
        model=identity.model,
        sw_version=identity.firmware,
        name=entry.title,
    )
    coordinator = CallstackCoordinator(hass, entry, modem, device.id)
    entry.runtime_data = CallstackRuntime(modem, coordinator)
    entry.async_on_unload(modem.close)
    entry.async_on_unload(lambda: async_delete_issues(hass, entry.entry_id))
    coordinator.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_create_background_task(hass, modem.sweep_sms(), "callstack SMS sweep")
    if modem.audio.url is not None:
        # Only MP3 and friends need FFmpeg; say so once, in repairs, if it is missing.
        entry.async_create_background_task(hass, async_check_ffmpeg(hass), "callstack ffmpeg")
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> bool:
    """Unload the entities; the modem's ports and tasks close through async_on_unload."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    """Drop the repairs issues and the SMS journal of a removed modem."""
    async_delete_issues(hass, entry.entry_id)
    await StoreJournal(hass, entry.entry_id).async_remove()


async def _async_options_updated(hass: HomeAssistant, entry: CallstackConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)
