"""The "Callstack voicemail" media source: every modem's messages, newest first.

Each message is titled with its caller and time and resolves to the WAV's URL under HA's
local media (``/media/local/...``, which HA signs for the browser and for media players), so
it plays in the media browser and casts to any media player. Playing a message (resolving
it for playback) marks it heard: that is what a voicemail box does when you listen. Browsing
does not.

IDs: ``media-source://callstack/<config entry id>/<message id>``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import quote

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import CallstackConfigEntry
from .media import media_dir
from .voicemail_store import MESSAGE_ID, VoicemailMessage

NAME = "Callstack voicemail"
MIME_TYPE = "audio/wav"
# PlayMedia.path (a local file, for players that read it directly) exists from HA 2025.12.
# (Its fields, not inspect.signature: on Python 3.14 that evaluates HA's annotations, which
# name types HA imports only for type checking.)
_PLAY_MEDIA_HAS_PATH = "path" in {field.name for field in dataclasses.fields(PlayMedia)}


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """The media source of the integration."""
    return VoicemailMediaSource(hass)


def message_title(message: VoicemailMessage) -> str:
    """``+49 151 … · 2026-12-01 09:15`` (the caller, or Withheld number, and local time)."""
    caller = message.number or "Withheld number"
    return f"{caller} · {dt_util.as_local(message.received):%Y-%m-%d %H:%M}"


class VoicemailMediaSource(MediaSource):
    """Voicemail messages as playable media."""

    name = NAME

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    def _entries(self) -> list[CallstackConfigEntry]:
        return [
            entry
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        ]

    def _find(self, identifier: str) -> tuple[CallstackConfigEntry, VoicemailMessage | None]:
        entry_id, _, message_id = identifier.partition("/")
        entry = next((e for e in self._entries() if e.entry_id == entry_id), None)
        if entry is None:
            raise Unresolvable("This modem is not loaded")
        if not message_id:
            return entry, None
        message = (
            entry.runtime_data.voicemail.store.get(message_id)
            if MESSAGE_ID.fullmatch(message_id)
            else None
        )
        if message is None:
            raise Unresolvable("This voicemail does not exist (any more)")
        return entry, message

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """The message's URL; listening marks it heard."""
        entry, message = self._find(item.identifier or "")
        if message is None:
            raise Unresolvable("Not a voicemail message")
        box = entry.runtime_data.voicemail
        path = box.store.path(message)
        try:
            relative = path.relative_to(media_dir(self.hass))
        except ValueError as err:
            raise Unresolvable("The voicemail folder is outside the local media") from err
        await box.store.async_mark_heard([message.id])
        url = "/media/local/" + quote(relative.as_posix())
        if _PLAY_MEDIA_HAS_PATH:
            return PlayMedia(url, MIME_TYPE, path=Path(path))  # type: ignore[call-arg, unused-ignore]
        return PlayMedia(url, MIME_TYPE)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """The root (the one modem's messages, or one folder per modem), a modem, or one
        message."""
        identifier = item.identifier or ""
        if not identifier:
            entries = self._entries()
            if len(entries) == 1:
                return self._modem(entries[0], root=True)
            root = self._folder(None, NAME)
            root.children = [self._modem(entry, root=False) for entry in entries]
            return root
        try:
            entry, message = self._find(identifier)
        except Unresolvable as err:
            raise BrowseError(str(err)) from err
        if message is None:
            return self._modem(entry, root=False, children=True)
        return self._message(entry, message)

    def _modem(
        self, entry: CallstackConfigEntry, *, root: bool, children: bool | None = None
    ) -> BrowseMediaSource:
        folder = self._folder(None if root else entry.entry_id, NAME if root else entry.title)
        if root or children:
            folder.children = [
                self._message(entry, message)
                for message in entry.runtime_data.voicemail.store.messages
            ]
        return folder

    def _folder(self, identifier: str | None, title: str) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            children_media_class=MediaClass.MUSIC,
            title=title,
            can_play=False,
            can_expand=True,
        )

    def _message(self, entry: CallstackConfigEntry, message: VoicemailMessage) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry.entry_id}/{message.id}",
            media_class=MediaClass.MUSIC,
            media_content_type=MIME_TYPE,
            title=message_title(message),
            can_play=True,
            can_expand=False,
        )
