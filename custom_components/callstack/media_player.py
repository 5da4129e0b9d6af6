"""A media player for the phone line: what it plays, the caller hears.

``off`` with no call audio, ``idle`` during a call, ``playing`` while something plays
into it. ``play_media`` takes anything :func:`.media.async_audio_source` resolves (so
``tts.speak`` with this player, ``media_player.play_media`` and the media browser's
"play on" all reach the caller), starts it and returns; a second ``play_media`` (an
announcement too) replaces the first, and nothing resumes afterwards. Stop, or the call
ending, stops it before the next 20 ms frame. The volume is a digital gain (1.0 = as
recorded), applied from the next frame on, clipped at full scale.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components import media_source
from homeassistant.components.media_player import (  # type: ignore[attr-defined,unused-ignore]
    MediaPlayerDeviceClass,  # defined here in HA 2025.4, re-exported from .const in 2026.x
    MediaPlayerEntity,
    MediaPlayerEntityDescription,
)
from homeassistant.components.media_player.browse_media import BrowseMedia
from homeassistant.components.media_player.const import (
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import CallstackConfigEntry, CallstackCoordinator
from .entity import CallstackEntity
from .media import async_audio_source
from .sim7600.audio_source import AudioSource
from .sim7600.errors import Sim7600Error
from .sim7600.model import BridgeState, CallState

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0

LINE = MediaPlayerEntityDescription(key="line", translation_key="line")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One player per modem that has an audio port."""
    if entry.runtime_data.modem.audio.url is not None:
        async_add_entities([CallstackMediaPlayer(entry.runtime_data.coordinator)])


class CallstackMediaPlayer(CallstackEntity, MediaPlayerEntity):
    """Plays media and TTS into the active call."""

    _attr_device_class = MediaPlayerDeviceClass.SPEAKER
    _attr_media_content_type = MediaType.MUSIC
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.STOP
        | MediaPlayerEntityFeature.VOLUME_SET
        | MediaPlayerEntityFeature.BROWSE_MEDIA
        | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
    )

    def __init__(self, coordinator: CallstackCoordinator) -> None:
        super().__init__(coordinator, LINE)
        self._attr_volume_level = 1.0
        self._current: object | None = None  # our playback, while it runs

    @property
    def state(self) -> MediaPlayerState:
        """``off`` without call audio, ``idle`` in a call, ``playing`` while playing."""
        snapshot = self.coordinator.data
        if snapshot.call_state is not CallState.ACTIVE or snapshot.bridge is not (
            BridgeState.RUNNING
        ):
            return MediaPlayerState.OFF
        return MediaPlayerState.PLAYING if snapshot.playing else MediaPlayerState.IDLE

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Resolve and start ``media_id``, replacing whatever plays (announce too)."""
        if self.state is MediaPlayerState.OFF:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="audio_bridge_not_running"
            )
        source = await async_audio_source(
            self.hass,
            self.coordinator.config_entry,
            media=media_id,
            target_entity_id=self.entity_id,
        )
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self._play(source), "callstack media player"
        )

    async def _play(self, source: AudioSource) -> None:
        self._current = token = object()
        try:
            await self.coordinator.modem.play(
                source, gain=self._attr_volume_level or 0.0, replace=True
            )
        except Sim7600Error as err:
            _LOGGER.warning("Playback into the call stopped: %s", type(err).__name__)
        finally:
            if self._current is token:
                self._current = None

    async def async_media_stop(self) -> None:
        """Stop at once; the call goes on."""
        self.coordinator.modem.stop_playback()

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the gain for this and later playbacks (from the next frame on)."""
        self._attr_volume_level = volume
        if self._current is not None:
            self.coordinator.modem.audio.set_gain(volume)
        self.async_write_ha_state()

    async def async_browse_media(
        self, media_content_type: MediaType | str | None = None, media_content_id: str | None = None
    ) -> BrowseMedia:
        """Browse the media sources, audio only."""
        return await media_source.async_browse_media(
            self.hass,
            media_content_id,
            content_filter=lambda item: item.media_content_type.startswith("audio/"),
        )
