"""The SMS journal in Home Assistant's ``.storage``.

The driver journals each received part here before it delivers the message and before
it deletes the part from the SIM (see ``sim7600/sms.py``), so an unload, a reload, a
stop or a crash in between never loses a message or delivers it twice. Part keys are
hashes; numbers and texts are only held while a multipart group waits for parts or a
message waits in the outbox, and leave the file as soon as that is over.

Two Home Assistant facts shape this class. While HA stops, ``Store.async_save`` only
records the data for the final-write stage: such a save is reported as not durable, so
the driver leaves the part on the SIM. And a save whose caller is cancelled (an unload)
still runs to its end, shielded, so a later save can never be overtaken by it; the
unload then writes the state once more (:meth:`StoreJournal.async_flush`).

A journal file of the wrong shape (hand-edited, truncated by a full disk, written by a
buggy version) is logged once, kept aside as ``<key>.corrupt`` and replaced by an empty
journal: the modem still starts, and the messages still on the SIM are delivered again
as new (see the README).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .sim7600.sms_state import JournalState, MalformedStateError

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
SAVE_SOON_DELAY = 1.0  # seconds; a delivered message leaving the outbox can wait that long


class StoreJournal:
    """An :class:`~.sim7600.sms_state.SmsJournal` backed by a HA ``Store``."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._key = f"{DOMAIN}.{entry_id}.sms"
        self._store: Store[Any] = Store(hass, STORAGE_VERSION, self._key, private=True)
        self.state = JournalState()

    async def async_load(self) -> None:
        """Read the journal written before; set a damaged one aside and start empty."""
        data = await self._store.async_load()
        try:
            self.state = JournalState.from_dict(data)
        except MalformedStateError:
            _LOGGER.warning(
                "The SMS journal %s was damaged; it was moved aside to %s.corrupt and a new "
                "one started. Messages still on the SIM will be delivered again as new",
                self._key,
                self._key,
            )
            aside: Store[Any] = Store(
                self._hass, STORAGE_VERSION, f"{self._key}.corrupt", private=True
            )
            await aside.async_save(data)
            self.state = JournalState()
            await self.save()

    async def save(self) -> bool:
        """Write the state now; True once it is on disk, False while HA stops (storage
        then keeps the write for its final-write stage)."""
        durable = self._hass.state is not CoreState.stopping
        await asyncio.shield(self._store.async_save(self.state.to_dict()))
        return durable

    def save_soon(self) -> None:
        """Write the state shortly, or at HA's final write at the latest."""
        self._store.async_delay_save(self.state.to_dict, SAVE_SOON_DELAY)

    async def async_flush(self) -> None:
        """Write what is in memory (on unload: the next setup reads it back)."""
        await self.save()

    async def async_remove(self) -> None:
        """Delete the file when the modem is removed."""
        await self._store.async_remove()
