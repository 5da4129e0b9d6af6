"""The SMS journal in Home Assistant's ``.storage``.

The driver commits each received part here before deleting it from the SIM, so a crash
or restart between the two never delivers a message twice, and multipart groups still
waiting for parts survive a restart. Part keys are hashes: the file holds no number or
text of a finished message (held parts of unfinished ones are the exception, and leave
the file as soon as their group completes or expires).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN

STORAGE_VERSION = 1
MAX_PART_KEYS = 2000  # far more than a SIM holds; older keys can no longer come back


class StoreJournal:
    """An :class:`~.sim7600.sms.SmsJournal` backed by a HA ``Store``."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.sms", private=True
        )
        self._parts: deque[str] = deque(maxlen=MAX_PART_KEYS)
        self._known: set[str] = set()
        self.reassembly: dict[str, object] = {}

    async def async_load(self) -> None:
        """Read the journal written before the last restart."""
        data = await self._store.async_load() or {}
        for key in data.get("parts", []):
            self._remember(str(key))
        self.reassembly = dict(data.get("reassembly") or {})

    def has_part(self, key: str) -> bool:
        """Whether the part was handled already."""
        return key in self._known

    async def commit(self, part_key: str, reassembly: dict[str, object]) -> None:
        """Write the part key and held groups to disk before the SIM copy goes."""
        self._remember(part_key)
        self.reassembly = reassembly
        await self._store.async_save({"parts": list(self._parts), "reassembly": reassembly})

    async def async_remove(self) -> None:
        """Delete the file when the modem is removed."""
        await self._store.async_remove()

    def _remember(self, key: str) -> None:
        if key in self._known:
            return
        if len(self._parts) == self._parts.maxlen:
            self._known.discard(self._parts[0])
        self._parts.append(key)
        self._known.add(key)
