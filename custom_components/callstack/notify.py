"""Notify entity: send an SMS to the recipients chosen in the options."""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_SMS_RECIPIENTS, DOMAIN
from .coordinator import CallstackConfigEntry
from .entity import CallstackEntity
from .sms_actions import async_send_sms

PARALLEL_UPDATES = 1  # one SMS at a time per modem

SMS_NOTIFY = NotifyEntityDescription(key="sms", translation_key="sms")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the SMS notify entity."""
    async_add_entities([CallstackSmsNotify(entry.runtime_data.coordinator, SMS_NOTIFY)])


class CallstackSmsNotify(CallstackEntity, NotifyEntity):
    """Sends each notification as an SMS to every configured recipient."""

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send ``title`` and ``message`` as one SMS to each recipient."""
        entry = self.coordinator.config_entry
        recipients: list[str] = list(entry.options.get(CONF_SMS_RECIPIENTS, []))
        if not recipients:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_recipients")
        text = f"{title}\n{message}" if title else message
        for number in recipients:
            await async_send_sms(entry, number, text)
