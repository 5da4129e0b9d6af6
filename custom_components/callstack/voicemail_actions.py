"""The voicemail actions: ``callstack.mark_voicemail_heard`` and
``callstack.delete_voicemail``.

Both take ``message_id``: one ID or a list, each either the message ID of the event
(``vm-20261201-091500-a1b2c3``) or its ``media_content_id``. Mark heard without it marks
every message heard. An ID that names no message of this modem is an input error, and
nothing is changed.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN
from .coordinator import CallstackConfigEntry
from .voicemail import media_content_id

ATTR_MESSAGE_ID = "message_id"

MARK_HEARD_FIELDS: dict[vol.Marker, Any] = {vol.Optional(ATTR_MESSAGE_ID): cv.ensure_list_csv}
DELETE_FIELDS: dict[vol.Marker, Any] = {vol.Required(ATTR_MESSAGE_ID): cv.ensure_list_csv}


def _message_ids(entry: CallstackConfigEntry, values: list[Any]) -> list[str]:
    """The message IDs named (media-content IDs of this modem reduced to IDs)."""
    store = entry.runtime_data.voicemail.store
    prefix = media_content_id(entry.entry_id, "")
    ids = []
    for value in values:
        text = str(value).strip()
        message_id = text.removeprefix(prefix)
        if store.get(message_id) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="voicemail_not_found"
            )
        ids.append(message_id)
    return list(dict.fromkeys(ids))


async def async_mark_heard(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    """Mark messages (all, without ``message_id``) heard."""
    values = call.data.get(ATTR_MESSAGE_ID)
    ids = None if values is None else _message_ids(entry, values)
    changed = await entry.runtime_data.voicemail.store.async_mark_heard(ids)
    return {"marked": changed}


async def async_delete(
    hass: HomeAssistant, entry: CallstackConfigEntry, call: ServiceCall
) -> ServiceResponse:
    """Delete messages: WAV, metadata and index entry together."""
    ids = _message_ids(entry, call.data[ATTR_MESSAGE_ID])
    deleted = await entry.runtime_data.voicemail.store.async_delete(ids)
    return {"deleted": deleted}
