"""Media and TTS → an audio source for the call: the one resolver every player uses.

``callstack.play``, ``callstack.say``, the media player entity and DTMF prompts all call
:func:`async_audio_source`, which returns a *started* driver
:class:`~.sim7600.audio_source.AudioSource` in the bridge's format, or raises a
translated error before anything is played. What ``media`` may be:

* a name in the recordings folder (``greeting.mp3``) or an absolute path inside HA's
  allowed directories;
* ``media-source://media_source/<dir>/<path>`` (local media): mapped to the file in
  ``hass.config.media_dirs`` here, without an HTTP round trip;
* ``media-source://tts/...`` and any other ``media-source://`` ID: resolved with
  ``media_source.async_resolve_media``. A TTS result (``/api/tts_proxy/<token>``) is read
  from ``tts.async_get_stream`` by its token; a local path (``PlayMedia.path``, HA
  2026.11) is opened like a file; any other URL on HA itself is signed with
  ``media_player.async_process_play_media_url`` and read by FFmpeg; a provider's own
  ``http(s)`` URL (internet radio) is read by FFmpeg;
* a URL on Home Assistant itself (what a media player is sometimes handed). Any other
  URL is refused (``url_not_allowed``): FFmpeg never fetches arbitrary addresses.

Files are opened once and then checked (:func:`open_regular_file`): the allowed-folder
test applies to the file that was opened. A file that starts with ``RIFF....WAVE`` and
holds integer PCM is streamed without FFmpeg (so plain WAV playback works without
FFmpeg installed); everything else goes through the FFmpeg binary of HA's ``ffmpeg``
integration. ``message`` asks TTS for the bridge's own format (wav, bridge rate, mono,
16-bit through the ``preferred_*`` options) so nothing is resampled twice.
"""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
import logging
import os
from pathlib import Path
import re
import shutil
from typing import Any
from urllib.parse import unquote, urlsplit

from homeassistant.components import media_source
from homeassistant.components.media_player.browse_media import async_process_play_media_url
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError, get_url, is_hass_url

from .const import CONF_RECORDINGS_FOLDER, DEFAULT_RECORDINGS_FOLDER, DOMAIN
from .coordinator import CallstackConfigEntry
from .sim7600.audio_source import (
    MAX_PLAY_SECONDS,
    AudioSource,
    FdReader,
    FfmpegInput,
    FfmpegSource,
    StreamReader,
    WavSource,
    is_riff_wave,
    open_regular_file,
)
from .sim7600.errors import DecoderMissingError, MediaError, MediaTooLongError

_LOGGER = logging.getLogger(__name__)

LOCAL_MEDIA_PREFIX = "media-source://media_source/"
_TTS_PROXY = re.compile(r"/api/tts_proxy/([A-Za-z0-9_\-]+\.[a-z0-9]{2,4})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,200}")
ISSUE_FFMPEG_MISSING = "ffmpeg_missing"


def media_dir(hass: HomeAssistant) -> Path:
    """HA's local media folder (``/media`` on HA OS, else ``config/media``)."""
    return Path(hass.config.media_dirs.get("local") or hass.config.path("media"))


def recordings_dir(hass: HomeAssistant, entry: CallstackConfigEntry) -> Path:
    """``<media dir>/<folder option>``: where recordings go and play reads relative names."""
    folder: str = entry.options.get(CONF_RECORDINGS_FOLDER, DEFAULT_RECORDINGS_FOLDER)
    return media_dir(hass) / folder


def prepare_folder(hass: HomeAssistant, folder: Path) -> Path | None:
    """Blocking: create a folder to write recordings in; its real path, or None when that
    lies outside the directories HA may use (raises OSError when it cannot be created)."""
    folder.mkdir(parents=True, exist_ok=True)
    resolved = folder.resolve()
    return resolved if hass.config.is_allowed_path(str(resolved)) else None


def _invalid_media(reason: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_media",
        translation_placeholders={"reason": reason},
    )


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def ffmpeg_binary(hass: HomeAssistant) -> str:
    """The FFmpeg binary HA's ``ffmpeg`` integration is configured with."""
    try:
        from homeassistant.components.ffmpeg import get_ffmpeg_manager

        return get_ffmpeg_manager(hass).binary
    except (ImportError, ValueError):
        return "ffmpeg"


async def async_check_ffmpeg(hass: HomeAssistant) -> bool:
    """Raise (or clear) the repairs issue that says FFmpeg is missing; True if present."""
    binary = ffmpeg_binary(hass)
    found = await hass.async_add_executor_job(shutil.which, binary) is not None
    if found:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_FFMPEG_MISSING)
    else:
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_FFMPEG_MISSING,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_FFMPEG_MISSING,
            learn_more_url="https://www.home-assistant.io/integrations/ffmpeg/",
        )
    return found


def tts_options(rate: int, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The user's TTS options plus a request for the bridge's own format."""
    from homeassistant.components import tts

    return {
        **(options or {}),
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: rate,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    }


async def async_audio_source(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    *,
    media: str | None = None,
    message: str | None = None,
    tts_engine: str | None = None,
    language: str | None = None,
    options: Mapping[str, Any] | None = None,
    target_entity_id: str | None = None,
) -> AudioSource:
    """A started audio source for ``media`` or the TTS ``message`` (see the module doc).

    Raises :class:`ServiceValidationError` (``invalid_media`` with a reason, or
    ``path_not_allowed``/``file_not_found``/``media_too_long``) for media that cannot be
    played and :class:`HomeAssistantError` (``ffmpeg_missing``, ``tts_failed``) for what
    the installation lacks. Nothing is played before this returns.
    """
    rate = entry.runtime_data.modem.audio.sample_rate
    if message is not None:
        source = await _tts_message_source(
            hass, rate, message, engine=tts_engine, language=language, options=options
        )
    elif media is not None:
        source = await _media_source(hass, entry, rate, media.strip(), target_entity_id)
    else:
        raise _invalid_media("no_media")
    return await _started(hass, source)


async def _started(hass: HomeAssistant, source: AudioSource) -> AudioSource:
    try:
        await source.start()
    except MediaTooLongError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="media_too_long",
            translation_placeholders={"max": str(round(err.max_seconds))},
        ) from None
    except DecoderMissingError:
        await async_check_ffmpeg(hass)
        raise _error("ffmpeg_missing") from None
    except MediaError as err:
        if err.reason == "stream_failed":  # the TTS engine failed producing the audio
            _LOGGER.debug("TTS failed: %s", type(err.__cause__).__name__)
            raise _error("tts_failed") from None
        raise _invalid_media(err.reason) from None
    return source


async def _tts_message_source(
    hass: HomeAssistant,
    rate: int,
    message: str,
    *,
    engine: str | None,
    language: str | None,
    options: Mapping[str, Any] | None,
) -> AudioSource:
    if "tts" not in hass.config.components:
        raise _error("tts_not_set_up")
    from homeassistant.components import tts

    if not message.strip():
        raise _invalid_media("empty_message")
    resolved = tts.async_resolve_engine(hass, engine)
    if resolved is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="tts_not_found")
    try:
        stream = tts.async_create_stream(hass, resolved, language, tts_options(rate, options))
        stream.async_set_message(message)
    except HomeAssistantError as err:
        _LOGGER.debug("TTS refused the request: %s", err)
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="tts_options_refused"
        ) from None
    return _tts_stream_source(hass, stream, rate)


def _tts_stream_source(hass: HomeAssistant, stream: Any, rate: int) -> AudioSource:
    """A TTS result stream: WAV straight to the parser, anything else through FFmpeg."""
    reader = StreamReader(stream.async_stream_result())
    if stream.extension == "wav":
        return WavSource(reader, rate)
    return FfmpegSource(ffmpeg_binary(hass), FfmpegInput(stream=reader), rate)


async def _media_source(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    rate: int,
    media: str,
    target_entity_id: str | None,
) -> AudioSource:
    if "\0" in media or not media:
        raise _invalid_media("not_found")
    if media.startswith(LOCAL_MEDIA_PREFIX):
        dir_id, _, relative = media.removeprefix(LOCAL_MEDIA_PREFIX).partition("/")
        base = hass.config.media_dirs.get(dir_id)
        if base is None or not relative:
            raise _invalid_media("unresolvable")
        return await _file_source(hass, rate, os.path.join(base, relative))
    if media_source.is_media_source_id(media):
        return await _resolved_source(hass, rate, media, target_entity_id)
    try:
        scheme = urlsplit(media).scheme
    except ValueError:  # "Invalid IPv6 URL": a "[" left open in the host
        raise _invalid_media("url_not_allowed") from None
    if media.startswith("/api/") or scheme in ("http", "https"):
        return await _url_source(hass, rate, media)
    if scheme:
        raise _invalid_media("url_not_allowed")
    if os.path.isabs(media):
        return await _file_source(hass, rate, media)
    if not _NAME.fullmatch(media) or ".." in media:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="path_not_allowed")
    return await _file_source(hass, rate, str(recordings_dir(hass, entry) / media))


async def _resolved_source(
    hass: HomeAssistant, rate: int, media: str, target_entity_id: str | None
) -> AudioSource:
    try:
        resolved = await media_source.async_resolve_media(hass, media, target_entity_id)
    except HomeAssistantError as err:  # Unresolvable, or a provider's own error
        _LOGGER.debug("Media source could not resolve the ID: %s", type(err).__name__)
        raise _invalid_media("unresolvable") from None
    path = getattr(resolved, "path", None)  # HA 2025.12+: a local file behind the URL
    if path is not None and not _TTS_PROXY.fullmatch(urlsplit(resolved.url).path):
        return await _file_source(hass, rate, str(path))
    # A TTS result is read by its token, also where HA gives its cache file's path: that
    # file lies outside the folders a user allows, and the stream is what TTS itself reads.
    return await _url_source(hass, rate, resolved.url, provider=True)


async def _url_source(
    hass: HomeAssistant, rate: int, url: str, *, provider: bool = False
) -> AudioSource:
    """A URL: a TTS result by token, a local media file, or, only when a media source
    resolved it, any other URL on HA (signed) or the provider's own http(s) URL. Given
    directly, other URLs are refused: FFmpeg is never pointed at an arbitrary address, nor
    at HA's API with a signature."""
    parts = urlsplit(url)
    own = url.startswith("/") or _is_hass_url(hass, url)
    if own and (match := _TTS_PROXY.fullmatch(parts.path)):
        from homeassistant.components import tts

        stream = tts.async_get_stream(hass, match.group(1)) if "tts" in hass.data else None
        if stream is None:
            raise _invalid_media("unresolvable")
        return _tts_stream_source(hass, stream, rate)
    if own and parts.path.startswith("/media/") and not parts.query:
        dir_id, _, relative = unquote(parts.path.removeprefix("/media/")).partition("/")
        if (base := hass.config.media_dirs.get(dir_id)) is not None and relative:
            return await _file_source(hass, rate, os.path.join(base, relative))
    if not provider:
        raise _invalid_media("url_not_allowed")
    if own:
        try:
            url = async_process_play_media_url(hass, url)
        except NoURLAvailableError:
            raise _invalid_media("unreachable") from None
    if urlsplit(url).scheme not in ("http", "https"):
        raise _invalid_media("url_not_allowed")
    return FfmpegSource(ffmpeg_binary(hass), FfmpegInput(url=url), rate)


def _is_hass_url(hass: HomeAssistant, url: str) -> bool:
    """Whether ``url`` points at this HA. A URL that does not parse (a host IDNA refuses,
    such as one with a lone surrogate: UnicodeError, a ValueError) is not HA's."""
    with contextlib.suppress(NoURLAvailableError, ValueError):
        return is_hass_url(hass, url) or url.startswith(get_url(hass) + "/")
    return False


async def _file_source(hass: HomeAssistant, rate: int, path: str) -> AudioSource:
    """Open the file once, check *what was opened* is inside the allowed folders, and
    stream it: integer-PCM WAV natively, everything else through FFmpeg."""
    fd, kind, size = await hass.async_add_executor_job(_open_allowed, hass, path)
    if kind == "wav":
        return _WavOrFfmpeg(hass, FdReader(fd), rate, size)
    return FfmpegSource(ffmpeg_binary(hass), FfmpegInput(fd=fd), rate)


_PATH_MAX = 4096  # Linux's PATH_MAX, with the final NUL: open() refuses anything longer


def _open_allowed(hass: HomeAssistant, path: str) -> tuple[int, str, int]:
    """Blocking: check the name (so nothing outside can even be probed for existence),
    open, check the opened file's real path (so a swap after the first check cannot
    reach anything else), sniff its kind."""
    try:
        # Longer than any path the kernel opens: refused unread, as HA's own check of
        # the allowed folders walks a path's parents (quadratic on Python 3.14's
        # pathlib: a megabyte of "a/a/..." held a worker thread for minutes).
        allowed = len(path) < _PATH_MAX and hass.config.is_allowed_path(os.path.abspath(path))
    except (OSError, ValueError):  # a name no file system can hold
        allowed = False
    if not allowed:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="path_not_allowed")
    try:
        fd, real = open_regular_file(path)
    except (MediaError, OSError, ValueError):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="file_not_found"
        ) from None
    try:
        if not hass.config.is_allowed_path(real):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="path_not_allowed"
            )
        size = os.fstat(fd).st_size
        if size == 0:
            raise _invalid_media("empty")
        kind = "wav" if is_riff_wave(fd) else "other"
    except BaseException:
        os.close(fd)
        raise
    return fd, kind, size


class _WavOrFfmpeg(WavSource):
    """A WAV file: streamed natively when it holds integer PCM; a WAV of another
    encoding (float, A-law, ADPCM...) is handed to FFmpeg from the same descriptor."""

    def __init__(self, hass: HomeAssistant, reader: FdReader, rate: int, size: int) -> None:
        super().__init__(reader, rate, size=size, max_seconds=MAX_PLAY_SECONDS)
        self._hass = hass
        self._fd_reader = reader
        self._fallback: FfmpegSource | None = None

    async def start(self) -> None:
        # Started once (``play`` starts the source again): by then the reader's own
        # descriptor may be closed (handed to FFmpeg as a dup) and its number reused.
        if self._started:
            return
        spare = os.dup(self._fd_reader.fd)  # FFmpeg reopens it through /dev/fd: offset 0
        try:
            await super().start()
        except MediaError as err:
            if err.reason != "unsupported_encoding":
                os.close(spare)
                raise
            self._fallback = FfmpegSource(
                ffmpeg_binary(self._hass), FfmpegInput(fd=spare), self.rate
            )
            await self._fallback.start()
        except BaseException:
            os.close(spare)
            raise
        else:
            os.close(spare)

    async def __anext__(self) -> bytes:
        if self._fallback is not None:
            frame = await self._fallback.__anext__()
            self.cut = self._fallback.cut
            return frame
        return await super().__anext__()

    async def aclose(self) -> None:
        if self._fallback is not None:
            await self._fallback.aclose()
        await super().aclose()
