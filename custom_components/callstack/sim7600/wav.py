"""WAV recordings of call audio, written off the event loop (playback streams WAVs
through :mod:`.audio_source`).

A recording goes to a hidden temporary file in the target folder and only becomes the
named file at :meth:`WavWriter.commit`, which links it into place without ever replacing
an existing file (unless asked to). A failed recording is discarded, so a half-written or
empty WAV can never pose as a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from pathlib import Path
import secrets
from typing import BinaryIO
import wave

from .pcm import SAMPLE_WIDTH

CHANNELS = 1


class WavWriter:
    """Append PCM to a temporary WAV in the executor; commit or discard it at the end."""

    def __init__(
        self, temp_path: Path, handle: BinaryIO, wav: wave.Wave_write, channels: int = 1
    ) -> None:
        self.temp_path = temp_path
        self._handle = handle
        self._wav = wav
        self.channels = channels
        self.frames = 0  # samples per channel

    @classmethod
    async def create(cls, folder: Path, sample_rate: int, channels: int = CHANNELS) -> WavWriter:
        """Create the temporary file in ``folder`` (the folder must exist)."""
        return await asyncio.get_running_loop().run_in_executor(
            None, cls._create_sync, folder, sample_rate, channels
        )

    @classmethod
    def _create_sync(cls, folder: Path, sample_rate: int, channels: int) -> WavWriter:
        fd, name = _create_temporary(folder)
        handle = os.fdopen(fd, "wb")
        wav = wave.open(handle, "wb")  # noqa: SIM115 - closed in commit/discard
        wav.setnchannels(channels)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        return cls(Path(name), handle, wav, channels)

    async def write(self, pcm: bytes) -> None:
        """Append whole sample frames (interleaved when stereo)."""
        if pcm:
            await asyncio.get_running_loop().run_in_executor(None, self._wav.writeframesraw, pcm)
            self.frames += len(pcm) // (SAMPLE_WIDTH * self.channels)

    async def commit(self, target: Path, *, overwrite: bool = False) -> None:
        """Finish the header and move the file to ``target`` atomically."""
        await asyncio.get_running_loop().run_in_executor(None, self._commit_sync, target, overwrite)

    def _commit_sync(self, target: Path, overwrite: bool) -> None:
        self._close_sync()
        try:
            if overwrite:
                os.replace(self.temp_path, target)
            else:
                _move_without_replacing(self.temp_path, target)
        except OSError:
            self._unlink_sync()
            raise

    async def discard(self) -> None:
        """Close and delete the temporary file."""
        await asyncio.get_running_loop().run_in_executor(None, self._discard_sync)

    def _discard_sync(self) -> None:
        self._close_sync()
        self._unlink_sync()

    def _close_sync(self) -> None:
        with contextlib.suppress(OSError, wave.Error):
            self._wav.close()
        with contextlib.suppress(OSError):
            self._handle.close()

    def _unlink_sync(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp_path)


_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create_temporary(folder: Path) -> tuple[int, str]:
    """A new hidden ``.callstack-*.wav.part`` file in ``folder``, opened for writing.

    Created like any file Home Assistant writes (mode 0666 less the umask, or the folder's
    default ACL), not 0600 as :func:`tempfile.mkstemp` makes it: the recording keeps this
    mode when it is linked into place, and Samba or another add-on must be able to read
    it. The random name and O_EXCL keep mkstemp's guarantee that no file is taken over.
    """
    for _ in range(100):
        name = os.path.join(folder, f".callstack-{secrets.token_hex(8)}.wav.part")
        try:
            return os.open(name, _TEMPORARY_FLAGS, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "No free temporary name", str(folder))


def _move_without_replacing(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, failing with FileExistsError if ``target`` exists."""
    try:
        os.link(source, target)  # atomic, and fails if the target exists
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this file system (FAT, CIFS): claim the name, then move.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        os.replace(source, target)
        return
    os.unlink(source)
