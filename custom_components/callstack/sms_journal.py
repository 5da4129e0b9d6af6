"""The SMS journal in Home Assistant's ``.storage``.

The driver commits each received part here before deleting it from the SIM, so a crash
or restart between the two never delivers a message twice, and multipart groups still
waiting for parts survive a restart. Part keys are hashes: the file holds no number or
text of a finished message (held parts of unfinished ones are the exception, and leave
the file as soon as their group completes or expires).
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .sim7600.sms import RecentKeys

STORAGE_VERSION = 1


class StoreJournal:
    """An :class:`~.sim7600.sms.SmsJournal` backed by a HA ``Store``."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.sms", private=True
        )
        self._parts = RecentKeys()
        self.reassembly: dict[str, object] = {}

    async def async_load(self) -> None:
        """Read the journal written before the last restart."""
        data = await self._store.async_load() or {}
        self._parts = RecentKeys(str(key) for key in data.get("parts", []))
        self.reassembly = dict(data.get("reassembly") or {})

    def has_part(self, key: str) -> bool:
        """Whether the part was handled already."""
        return key in self._parts

    async def commit(self, part_key: str | None, reassembly: dict[str, object]) -> None:
        """Write the part key and held groups to disk before the SIM copy goes."""
        if part_key is not None:
            self._parts.add(part_key)
        self.reassembly = reassembly
        await self._store.async_save({"parts": list(self._parts), "reassembly": reassembly})

    async def async_remove(self) -> None:
        """Delete the file when the modem is removed."""
        await self._store.async_remove()
