"""The voicemail box of one modem: messages on disk and in HA storage, kept consistent.

Each message is a WAV in ``<recordings folder>/voicemail/`` with a metadata sidecar beside
it (``<id>.json``: caller, time, duration, how it ended, transcript), so the folder alone
says everything about its messages (a backup, a Samba share, another tool). HA storage
indexes them and adds what only HA needs (heard or not).

The files are the truth and the index follows them. A message exists once its WAV is
committed (the recorder writes a hidden ``.part`` file and links it into place whole) and
its sidecar written (atomically, through a temporary file), and only then does the index
list it. Loading reconciles: ``.part`` files (a recording cut by a crash) are removed, an
index entry whose WAV is gone is dropped with its sidecar, and a WAV with a sidecar that
the index never saved (a crash in between) is listed again. So a restart mid-voicemail
leaves no half file and no phantom message. Retention and deletion remove the WAV first,
then the sidecar, then the index entry: a crash in between leaves a sidecar without a WAV,
which the next load removes.

All file work runs in the executor.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
import json
import logging
import os
from pathlib import Path
import re
import secrets
from typing import Any
import wave

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
FOLDER = "voicemail"
MESSAGE_ID = re.compile(r"vm-\d{8}-\d{6}-[0-9a-f]{6}")
_PART = re.compile(r"\.callstack-.*\.part")


@dataclass(frozen=True, slots=True)
class VoicemailMessage:
    """One stored message. ``number`` is private (None: withheld or unknown)."""

    id: str
    number: str | None
    received: datetime
    duration: float
    ended_by: str
    transcript: str | None = None
    heard: bool = False

    @property
    def filename(self) -> str:
        """The WAV's name in the voicemail folder."""
        return f"{self.id}.wav"

    def metadata(self) -> dict[str, Any]:
        """What the sidecar holds (everything but HA's own ``heard``)."""
        data = asdict(self)
        data["received"] = self.received.isoformat()
        data.pop("heard")
        return data

    def stored(self) -> dict[str, Any]:
        """What HA storage holds."""
        return {**self.metadata(), "heard": self.heard}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoicemailMessage:
        """Read a sidecar or storage record; raises ValueError/KeyError/TypeError on junk."""
        received = dt_util.parse_datetime(str(data["received"]))
        if received is None or not MESSAGE_ID.fullmatch(str(data["id"])):
            raise ValueError("not a voicemail record")
        number = data.get("number")
        transcript = data.get("transcript")
        return cls(
            id=str(data["id"]),
            number=str(number) if number is not None else None,
            received=received,
            duration=float(data["duration"]),
            ended_by=str(data["ended_by"]),
            transcript=str(transcript) if transcript is not None else None,
            heard=bool(data.get("heard", False)),
        )


def new_message_id(now: datetime) -> str:
    """A message ID that sorts by time and cannot collide within a second."""
    return f"vm-{dt_util.as_local(now):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class VoicemailStore:
    """The messages of one modem, newest first."""

    def __init__(self, hass: HomeAssistant, entry_id: str, folder: Path) -> None:
        self.hass = hass
        self.folder = folder
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.voicemail.{entry_id}", private=True
        )
        self._messages: dict[str, VoicemailMessage] = {}
        self._listeners: list[Callable[[], None]] = []

    # ---- reading -----------------------------------------------------------------------

    @property
    def messages(self) -> list[VoicemailMessage]:
        """Every message, newest first."""
        return sorted(self._messages.values(), key=lambda m: (m.received, m.id), reverse=True)

    @property
    def unheard(self) -> int:
        """How many messages nobody has marked heard (or played) yet."""
        return sum(not message.heard for message in self._messages.values())

    def get(self, message_id: str) -> VoicemailMessage | None:
        """A message by its ID."""
        return self._messages.get(message_id)

    def path(self, message: VoicemailMessage) -> Path:
        """Where its WAV is."""
        return self.folder / message.filename

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after every change; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # ---- loading -----------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the index and reconcile it with the folder (see the module docstring)."""
        stored = await self._store.async_load() or {}
        indexed: dict[str, VoicemailMessage] = {}
        for record in stored.get("messages", []):
            try:
                message = VoicemailMessage.from_dict(record)
            except (KeyError, TypeError, ValueError):
                _LOGGER.warning("Skipping a damaged voicemail record")
                continue
            indexed[message.id] = message
        self._messages = await self.hass.async_add_executor_job(_reconcile, self.folder, indexed)
        if self._messages != indexed:
            await self._async_save()

    # ---- changing ----------------------------------------------------------------------

    async def async_add(self, message: VoicemailMessage) -> None:
        """List a message whose WAV is in place: write its sidecar, then the index."""
        await self.hass.async_add_executor_job(_write_sidecar, self.folder, message)
        self._messages[message.id] = message
        await self._async_save()

    async def async_update(self, message: VoicemailMessage) -> None:
        """Replace a message's metadata (a transcript that arrived)."""
        if message.id not in self._messages:
            return
        await self.hass.async_add_executor_job(_write_sidecar, self.folder, message)
        self._messages[message.id] = message
        await self._async_save()

    async def async_mark_heard(self, message_ids: list[str] | None = None) -> int:
        """Mark the given messages (all when None) heard; returns how many changed."""
        changed = 0
        for message_id in self._messages if message_ids is None else message_ids:
            message = self._messages.get(message_id)
            if message is not None and not message.heard:
                self._messages[message_id] = replace(message, heard=True)
                changed += 1
        if changed:
            await self._async_save()
        return changed

    async def async_delete(self, message_ids: list[str]) -> int:
        """Delete messages (WAV, sidecar, index entry); returns how many were deleted."""
        doomed = [self._messages[i] for i in message_ids if i in self._messages]
        if not doomed:
            return 0
        await self.hass.async_add_executor_job(_remove_files, self.folder, doomed)
        for message in doomed:
            self._messages.pop(message.id, None)
        await self._async_save()
        return len(doomed)

    async def async_apply_retention(self, keep_days: int, keep_count: int) -> int:
        """Delete what is older than ``keep_days`` (0: no limit) and all but the newest
        ``keep_count`` (0: no limit); returns how many were deleted."""
        messages = self.messages
        doomed: list[str] = []
        if keep_count > 0:
            doomed += [message.id for message in messages[keep_count:]]
        if keep_days > 0:
            cutoff = dt_util.utcnow() - timedelta(days=keep_days)
            doomed += [m.id for m in messages if m.received < cutoff and m.id not in doomed]
        return await self.async_delete(doomed)

    async def async_remove_index(self) -> None:
        """Forget the index (the entry was removed; the files stay, like recordings)."""
        await self._store.async_remove()

    async def _async_save(self) -> None:
        await self._store.async_save({"messages": [message.stored() for message in self.messages]})
        for listener in list(self._listeners):
            listener()


# ---- file work (executor) ---------------------------------------------------------------


def _reconcile(folder: Path, indexed: dict[str, VoicemailMessage]) -> dict[str, VoicemailMessage]:
    if not folder.is_dir():
        return {}
    names = {path.name for path in folder.iterdir()}
    for name in names:
        if _PART.fullmatch(name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / name)
            _LOGGER.info("Removed an unfinished voicemail file")
    messages: dict[str, VoicemailMessage] = {}
    for name in sorted(names):
        stem, suffix = os.path.splitext(name)
        if not MESSAGE_ID.fullmatch(stem):
            continue
        sidecar = f"{stem}.json"
        if suffix == ".json" and f"{stem}.wav" not in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / name)  # its WAV was deleted: finish the deletion
        if suffix != ".wav":
            continue
        message = indexed.get(stem)
        if message is None and sidecar in names:
            try:
                message = VoicemailMessage.from_dict(json.loads((folder / sidecar).read_text()))
            except (OSError, KeyError, TypeError, ValueError):
                _LOGGER.warning("A voicemail's metadata cannot be read; listing it without")
        if message is None:
            # The WAV was committed and the process died before its sidecar was written:
            # the message is whole, only its caller is unknown.
            message = _from_wav(folder / name, stem)
        if message is None:
            continue
        if sidecar not in names:
            _write_sidecar(folder, message)
        messages[stem] = message
    return messages


def _from_wav(path: Path, message_id: str) -> VoicemailMessage | None:
    try:
        with wave.open(str(path), "rb") as wav:
            duration = wav.getnframes() / wav.getframerate()
        received = datetime.fromtimestamp(path.stat().st_mtime, dt_util.UTC)
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        _LOGGER.warning("Skipping a voicemail file that is not a readable WAV")
        return None
    return VoicemailMessage(message_id, None, received, round(duration, 3), "unknown")


def _write_sidecar(folder: Path, message: VoicemailMessage) -> None:
    """Write ``<id>.json`` whole or not at all (0666 less the umask, like HA's files)."""
    temp = folder / f".callstack-{secrets.token_hex(8)}.json.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(message.metadata(), handle, ensure_ascii=False, indent=2)
        os.replace(temp, folder / f"{message.id}.json")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _remove_files(folder: Path, messages: list[VoicemailMessage]) -> None:
    for message in messages:
        for name in (message.filename, f"{message.id}.json"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / name)
