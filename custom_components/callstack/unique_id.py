"""The config entry's unique ID: a keyed hash of the modem's IMEI that cannot be reversed.

An IMEI is a model's 8-digit type code (public), a 6-digit serial and a check digit, so
a plain hash of it falls to about 10^6 guesses. The unique ID is instead HMAC-SHA256
under a random 256-bit key that this installation keeps in its own storage
(``.storage/callstack.unique_id_key``, file mode 0600) and never shows: without the key
the ID says nothing about the IMEI, yet it stays the same for the same modem, so USB
discovery, a re-plugged modem and reconfigure still recognise their entry.

The message under the key is the old unique ID (entries of minor version 1 hold
``sha256(IMEI)[:16]``), so migrating an entry needs neither its modem nor its IMEI.
Losing the key file (only that file) makes the modems look new: discovery then offers
them again, and the old entries must be removed by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

STORAGE_KEY = f"{DOMAIN}.unique_id_key"
STORAGE_VERSION = 1
KEY_BYTES = 32
_CACHE: HassKey[UniqueIdKey] = HassKey(f"{DOMAIN}_unique_id_key")


def imei_hash(imei: str) -> str:
    """The unique ID of minor version 1 entries: reversible by trying every serial."""
    return hashlib.sha256(imei.encode()).hexdigest()[:16]


def keyed_unique_id(key: bytes, old_unique_id: str) -> str:
    """The unique ID of minor version 2: the old one under the installation's key."""
    return hmac.new(key, old_unique_id.encode(), hashlib.sha256).hexdigest()[:32]


def modem_unique_id(key: bytes, imei: str) -> str:
    """The unique ID of the modem with ``imei``."""
    return keyed_unique_id(key, imei_hash(imei))


class UniqueIdKey:
    """Loads the installation's key once, creating it on first use (one at a time)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._store: Store[dict[str, str]] = Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True)
        self._lock = asyncio.Lock()
        self._key: bytes | None = None

    async def async_get(self) -> bytes:
        """The key; a new random one is stored when there is none (or it is damaged)."""
        async with self._lock:
            if self._key is None:
                stored = await self._store.async_load()
                key = _parse(stored)
                if key is None:
                    key = secrets.token_bytes(KEY_BYTES)
                    await self._store.async_save({"key": key.hex()})
                self._key = key
            return self._key


def _parse(stored: object) -> bytes | None:
    if not isinstance(stored, dict) or not isinstance(text := stored.get("key"), str):
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


async def async_unique_id_key(hass: HomeAssistant) -> bytes:
    """This installation's unique ID key."""
    if (holder := hass.data.get(_CACHE)) is None:
        holder = hass.data[_CACHE] = UniqueIdKey(hass)
    return await holder.async_get()


async def async_modem_unique_id(hass: HomeAssistant, imei: str) -> str:
    """The unique ID of the modem with ``imei`` in this installation."""
    return modem_unique_id(await async_unique_id_key(hass), imei)
