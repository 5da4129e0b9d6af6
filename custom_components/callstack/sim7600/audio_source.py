"""Streamed audio sources: what :meth:`AudioBridge.play` plays into a call.

The design (the HA layer, the media player and DTMF prompts all build on it):

* An :class:`AudioSource` is an async iterator of PCM frames in the bridge's own format
  (signed 16-bit little-endian mono at ``rate``); every frame is exactly
  :attr:`AudioSource.frame_bytes` long (20 ms) except possibly the last, which the bridge
  pads with silence. :meth:`AudioSource.start` opens it and reads ahead just enough to know
  the media is playable, so a bad file fails *before* anything reaches the call;
  :meth:`AudioSource.aclose` releases whatever it holds (file descriptor, subprocess) and
  is safe to call at any time and twice. ``play`` takes ownership: it starts the source if
  needed and always closes it.
* Sources never hold more than a bounded window of audio, whatever the length of the
  media: a one-hour file starts at once and costs the same memory as a one-second one.
  Every blocking read runs in the executor; the decoder is a subprocess read through pipes.
* Implementations:

  - :class:`WavSource`: a RIFF/WAVE file streamed from an already opened file descriptor
    (the caller opens it once and checks *what it opened*, so a path swapped for a symlink
    after the check cannot be played) or from any async byte stream (a TTS result). Any
    integer PCM width (8/16/24/32 bit), mono or stereo, and any rate is converted to the bridge
    format while it plays (stereo averaged, rate converted with ``audioop.ratecv``,
    whose state is kept across chunks). The header is parsed here, not by :mod:`wave`: a
    chunk size that lies raises :class:`MediaError` (``corrupt_header``), a data size of
    0 or 0xFFFFFFFF (a WAV streamed through a pipe) means "until the end", a data size
    beyond the end of the file is clamped to the file, and in a stream it is only an upper
    bound. A file whose length is above ``max_seconds`` is refused before playing
    (:class:`MediaTooLongError`); a stream is cut there.
  - :class:`FfmpegSource`: anything FFmpeg decodes (MP3, Ogg/Opus, FLAC, AAC, WAV of any
    kind), from an opened file descriptor (handed to the child, read through
    ``/dev/fd/N`` so it is the same file), an ``http(s)`` URL or an async byte stream
    (fed to FFmpeg's stdin). FFmpeg converts to ``-f s16le -ac 1 -ar <rate>``; stdout is
    read in frames, stderr is drained into a bounded tail used to name what was wrong;
    the protocols FFmpeg may use are whitelisted per input kind (a playlist file cannot
    make it open other files or the network); the process is killed on close. Output is
    cut at ``max_seconds``.
  - :class:`PcmSource`: PCM already in memory in the bridge format (tones, short prompts).

* Errors are :class:`MediaError` with a fixed ``reason`` token (never a path, URL or
  FFmpeg output): ``not_wav``, ``corrupt_header``, ``unsupported_encoding``, ``empty``,
  ``too_long``, ``undecodable``, ``no_audio``, ``not_found``, ``unreachable``,
  ``timeout``, ``stream_failed`` (the byte stream's producer raised),
  ``decoder_missing`` (:class:`DecoderMissingError`), ``decoder_failed``.
* :func:`apply_gain` scales a frame with saturation (``audioop.mul`` clips at the int16
  limits instead of wrapping around), for the volume of the media player.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import AsyncIterator
import contextlib
import logging
import math
import os
import struct
from typing import Protocol, Self

import audioop

from .errors import DecoderMissingError, MediaError, MediaTooLongError
from .pcm import SAMPLE_WIDTH, Whole, frame_bytes

_LOGGER = logging.getLogger(__name__)

MAX_PLAY_SECONDS = 4 * 3600.0
"""The longest media ``play`` accepts (and where a stream of unknown length is cut)."""

_READ_SECONDS = 0.5  # how much source audio one executor read fetches
_MAX_READ = 1 << 20
_MAX_SKIPPED_CHUNK = 1 << 20  # a non-audio chunk bigger than this before "data" is a lie
_FIRST_FRAME_TIMEOUT = 20.0  # FFmpeg opening a URL or probing a large file
_STDERR_TAIL = 4096
_CLOSE_TIMEOUT = 5.0  # a killed FFmpeg's pipes close within this
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
_PCM = 1
_EXTENSIBLE = 0xFFFE
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


class ByteReader(Protocol):
    """Where a source's bytes come from."""

    async def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""

    async def aclose(self) -> None:
        """Release the underlying resource."""


class FdReader:
    """Read an open file descriptor in the executor; owns the descriptor.

    The descriptor is closed exactly once, by :meth:`aclose`, and never under a read that
    is still running in the executor (a cancelled caller does not stop the thread): by
    then the number could belong to another file, which the read would consume. After
    the close :attr:`fd` is -1.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._closed = False
        self._reading: asyncio.Future[bytes] | None = None

    @property
    def size(self) -> int | None:
        """The file's size if it is a regular file."""
        with contextlib.suppress(OSError):
            info = os.fstat(self.fd)
            if info.st_mode & 0o170000 == 0o100000:
                return info.st_size
        return None

    async def read(self, size: int) -> bytes:
        if self._closed:
            return b""
        reading = asyncio.get_running_loop().run_in_executor(None, os.read, self.fd, size)
        self._reading = reading
        # Shielded: cancelling the caller leaves the read to finish in its thread, and
        # aclose() waits for it before closing the descriptor.
        return await asyncio.shield(reading)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        reading, self._reading = self._reading, None
        if reading is None or reading.done():
            self._close_fd()
            return
        # Closed when the read in flight is done, even if this caller is cancelled.
        reading.add_done_callback(lambda _: self._close_fd())
        await asyncio.wait([reading])

    def _close_fd(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


class StreamReader:
    """Read from an async iterator of byte chunks (a TTS result stream)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._done = False

    async def read(self, size: int) -> bytes:
        while not self._buffer and not self._done:
            try:
                self._buffer = await anext(self._chunks)
            except StopAsyncIteration:
                self._done = True
            except Exception as err:
                # Whatever the producer raised (a TTS engine failing midway), the player
                # sees one typed error; the cause stays chained for debug logs.
                self._done = True
                raise MediaError("stream_failed") from err
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    async def aclose(self) -> None:
        self._done = True
        self._buffer = b""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def apply_gain(frame: bytes, gain: float) -> bytes:
    """``frame`` (16-bit PCM) scaled by ``gain``, clipped at the int16 limits."""
    if gain == 1.0:
        return frame
    if gain <= 0.0:
        return bytes(len(frame))
    return audioop.mul(frame, SAMPLE_WIDTH, gain)


class AudioSource(ABC):
    """PCM frames of 20 ms in the bridge format; see the module docstring."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.frame_bytes = frame_bytes(rate)
        self.duration: float | None = None  # seconds, when known before playing
        self.cut = False  # True once the source stopped at max_seconds
        self._started = False
        self._pending = bytearray()
        self._ended = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def start(self) -> None:
        """Open the media and check it is playable; raises :class:`MediaError`."""
        if self._started:
            return
        self._started = True
        try:
            await self._open()
            await self._fill()
            if not self._pending:
                raise MediaError("empty")
        except BaseException:
            await self.aclose()
            raise

    async def __anext__(self) -> bytes:
        if not self._started:
            await self.start()
        if len(self._pending) < self.frame_bytes and not self._ended:
            await self._fill()
        if not self._pending:
            raise StopAsyncIteration
        frame = bytes(self._pending[: self.frame_bytes])
        del self._pending[: self.frame_bytes]
        return frame

    async def _fill(self) -> None:
        """Read until a whole frame is pending or the media ended."""
        while len(self._pending) < self.frame_bytes and not self._ended:
            data = await self._read_pcm()
            if data is None:
                self._ended = True
            else:
                self._pending += data

    @abstractmethod
    async def _open(self) -> None:
        """Open the media (may raise :class:`MediaError`)."""

    @abstractmethod
    async def _read_pcm(self) -> bytes | None:
        """The next PCM in the bridge format (any length), None at the end."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release everything; safe to repeat."""


class PcmSource(AudioSource):
    """PCM already in the bridge format, in memory (tones, short prompts)."""

    def __init__(self, pcm: bytes, rate: int) -> None:
        super().__init__(rate)
        self._pcm: bytes | None = pcm
        self.duration = len(pcm) / SAMPLE_WIDTH / rate

    async def _open(self) -> None:
        pass

    async def _read_pcm(self) -> bytes | None:
        pcm, self._pcm = self._pcm, None
        return pcm or None

    async def aclose(self) -> None:
        self._pcm = None


def tone(rate: int, frequency: float, seconds: float, *, amplitude: int, fade: float) -> bytes:
    """A sine tone as 16-bit mono PCM at ``rate``, ramped up and down over ``fade``
    seconds at its ends so it starts and stops without a click (beeps, prompt cues)."""
    samples, ramp = round(seconds * rate), round(fade * rate)
    pcm = bytearray()
    for n in range(samples):
        envelope = min(1.0, n / ramp, (samples - 1 - n) / ramp)
        value = round(amplitude * envelope * math.sin(2 * math.pi * frequency * n / rate))
        pcm += value.to_bytes(2, "little", signed=True)
    return bytes(pcm)


class _Converter:
    """Integer PCM of any width, channel count and rate → 16-bit mono at ``out_rate``."""

    def __init__(self, width: int, channels: int, in_rate: int, out_rate: int) -> None:
        self.width = width
        self.channels = channels
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._state: tuple[int, tuple[tuple[int, int], ...]] | None = None
        self._blocks = Whole(width * channels)

    def convert(self, data: bytes) -> bytes:
        data = self._blocks.take(data)
        if not data:
            return b""
        if self.width == 1:
            data = audioop.bias(data, 1, -128)  # WAV's 8-bit PCM is unsigned
        if self.width != SAMPLE_WIDTH:
            data = audioop.lin2lin(data, self.width, SAMPLE_WIDTH)
        if self.channels == 2:
            data = audioop.tomono(data, SAMPLE_WIDTH, 0.5, 0.5)
        if self.in_rate != self.out_rate:
            data, self._state = audioop.ratecv(
                data, SAMPLE_WIDTH, 1, self.in_rate, self.out_rate, self._state
            )
        return data


class WavSource(AudioSource):
    """A RIFF/WAVE stream of integer PCM, converted to the bridge format as it plays."""

    def __init__(
        self,
        reader: ByteReader,
        rate: int,
        *,
        size: int | None = None,
        max_seconds: float = MAX_PLAY_SECONDS,
    ) -> None:
        super().__init__(rate)
        self._reader = reader
        self._size = size  # the file's size, when known, to clamp a lying data size
        self.max_seconds = max_seconds
        self._remaining: int | None = None  # data bytes left; None = until the end
        self._converter: _Converter | None = None
        self._chunk = 0
        self._budget = 0  # input bytes left before max_seconds
        self._header = b""

    async def _read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = await self._reader.read(size - len(data))
            if not part:
                break
            data += part
        return data

    async def _open(self) -> None:
        riff = await self._read_exact(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise MediaError("not_wav")
        offset = 12
        fmt: tuple[int, int, int, int] | None = None
        while True:
            head = await self._read_exact(8)
            if len(head) < 8:
                raise MediaError("corrupt_header")
            chunk_id, chunk_size = head[:4], struct.unpack("<I", head[4:])[0]
            offset += 8
            if chunk_id == b"data":
                break
            if chunk_size > _MAX_SKIPPED_CHUNK:
                raise MediaError("corrupt_header")
            body = await self._read_exact(chunk_size + (chunk_size & 1))
            if len(body) < chunk_size:
                raise MediaError("corrupt_header")
            offset += len(body)
            if chunk_id == b"fmt ":
                fmt = _parse_fmt(body[:chunk_size])
        if fmt is None:
            raise MediaError("corrupt_header")
        tag_width, channels, in_rate, width = fmt
        del tag_width
        block = width * channels
        if chunk_size in _UNKNOWN_SIZES:
            self._remaining = None
        elif self._size is None:
            # A stream: its header was written before the length was known (espeak-ng
            # --stdout says 0x7FFFF000), so the size is only an upper bound.
            self._remaining = chunk_size - chunk_size % block
        else:
            chunk_size = min(chunk_size, max(0, self._size - offset))
            self._remaining = chunk_size - chunk_size % block
            self.duration = self._remaining / block / in_rate
            if self.duration > self.max_seconds:
                raise MediaTooLongError(self.max_seconds)
        if self._remaining == 0:
            raise MediaError("empty")
        self._budget = int(self.max_seconds * in_rate) * block
        self._chunk = max(block, min(_MAX_READ, int(in_rate * _READ_SECONDS) * block))
        self._converter = _Converter(width, channels, in_rate, self.rate)

    async def _read_pcm(self) -> bytes | None:
        assert self._converter is not None
        want = self._chunk
        if self._remaining is not None:
            want = min(want, self._remaining)
        if want > self._budget:
            want = self._budget
            self.cut = self._remaining is None or self._remaining > self._budget
        if want <= 0:
            return None
        data = await self._reader.read(want)
        if not data:
            return None
        if self._remaining is not None:
            self._remaining -= len(data)
        self._budget -= len(data)
        return self._converter.convert(data)

    async def aclose(self) -> None:
        await self._reader.aclose()


def _parse_fmt(body: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, rate, bytes per sample) of a ``fmt `` chunk, validated."""
    if len(body) < 16:
        raise MediaError("corrupt_header")
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _PCM_GUID_TAIL:
            raise MediaError("unsupported_encoding")
        tag = struct.unpack("<H", body[24:26])[0]
    if tag != _PCM:
        raise MediaError("unsupported_encoding")
    if bits not in (8, 16, 24, 32):
        raise MediaError("unsupported_encoding")
    width = bits // 8
    if not 1 <= channels <= 16 or not 1000 <= rate <= 768000:
        raise MediaError("corrupt_header")
    if channels > 2:  # surround layouts: FFmpeg knows how to mix them down
        raise MediaError("unsupported_encoding")
    if block_align != width * channels or byte_rate != rate * block_align:
        raise MediaError("corrupt_header")
    return tag, channels, rate, width


class FfmpegInput:
    """What FFmpeg reads: an open file descriptor, an http(s) URL or a byte stream."""

    def __init__(
        self,
        *,
        fd: int | None = None,
        url: str | None = None,
        stream: ByteReader | None = None,
    ) -> None:
        if sum(item is not None for item in (fd, url, stream)) != 1:
            raise ValueError("exactly one of fd, url, stream")
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("only http(s) URLs")
        self.fd = fd
        self.url = url
        self.stream = stream

    def arguments(self) -> list[str]:
        """FFmpeg's input arguments, protocols limited to what this kind of input needs."""
        if self.fd is not None:
            return ["-protocol_whitelist", "file", "-i", f"file:/dev/fd/{self.fd}"]
        if self.url is not None:
            protocols = "http,https,tcp,tls,crypto"
            return ["-protocol_whitelist", protocols, "-i", self.url]
        return ["-protocol_whitelist", "pipe", "-i", "pipe:0"]

    async def aclose(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        if self.stream is not None:
            await self.stream.aclose()


class FfmpegSource(AudioSource):
    """Decode anything FFmpeg reads into the bridge format, in a subprocess."""

    def __init__(
        self,
        binary: str,
        media: FfmpegInput,
        rate: int,
        *,
        max_seconds: float = MAX_PLAY_SECONDS,
        first_frame_timeout: float = _FIRST_FRAME_TIMEOUT,
    ) -> None:
        super().__init__(rate)
        self.binary = binary
        self.media = media
        self.max_seconds = max_seconds
        self.first_frame_timeout = first_frame_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._stderr_tail = bytearray()
        self._helpers: list[asyncio.Task[None]] = []
        self._produced = 0
        self._limit = int(max_seconds * rate) * SAMPLE_WIDTH

    def command(self) -> list[str]:
        """The full FFmpeg command line."""
        return [
            self.binary,
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            *self.media.arguments(),
            "-map",
            "0:a:0",
            "-vn",
            "-sn",
            "-dn",
            "-ac",
            "1",
            "-ar",
            str(self.rate),
            "-acodec",
            "pcm_s16le",
            "-f",
            "s16le",
            "-t",
            f"{self.max_seconds:.3f}",
            "pipe:1",
        ]

    async def _open(self) -> None:
        pass_fds = (self.media.fd,) if self.media.fd is not None else ()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.PIPE
                if self.media.stream is not None
                else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise DecoderMissingError from None
        except OSError as err:
            _LOGGER.debug("FFmpeg could not be started: %s", type(err).__name__)
            raise MediaError("decoder_failed") from None
        # The child has its own copy of the descriptor now.
        if self.media.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.media.fd)
            self.media.fd = None
        loop = asyncio.get_running_loop()
        self._helpers.append(loop.create_task(self._drain_stderr(), name="ffmpeg stderr"))
        if self.media.stream is not None:
            self._helpers.append(loop.create_task(self._feed_stdin(), name="ffmpeg stdin"))

    async def start(self) -> None:
        """Start FFmpeg and wait for the first frame (or for what went wrong)."""
        try:
            async with asyncio.timeout(self.first_frame_timeout):
                await super().start()
        except TimeoutError:
            await self.aclose()
            raise MediaError("timeout") from None

    async def _drain_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        while data := await self._process.stderr.read(4096):
            self._stderr_tail += data
            del self._stderr_tail[:-_STDERR_TAIL]

    async def _feed_stdin(self) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        assert self.media.stream is not None
        stdin = self._process.stdin
        try:
            while data := await self.media.stream.read(65536):
                stdin.write(data)
                await stdin.drain()
        except (ConnectionError, BrokenPipeError):
            return  # FFmpeg stopped reading: it has what it needs or failed
        finally:
            with contextlib.suppress(ConnectionError, BrokenPipeError, RuntimeError):
                stdin.close()

    async def _read_pcm(self) -> bytes | None:
        assert self._process is not None
        assert self._process.stdout is not None
        if self._produced >= self._limit:
            self.cut = True
            return None
        data = await self._process.stdout.read(max(self.frame_bytes * 25, 4096))
        if not data:
            await self._finished()
            return None
        self._produced += len(data)
        return data

    async def _finished(self) -> None:
        """Stdout ended: if nothing was produced, say why from FFmpeg's exit and stderr."""
        assert self._process is not None
        code = await self._process.wait()
        for task in self._helpers:
            if task.get_name() == "ffmpeg stderr":
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 1.0)
        if self._produced == 0:
            raise MediaError("empty" if code == 0 else _reason(bytes(self._stderr_tail)))

    async def aclose(self) -> None:
        # Cleanup runs to its end even if the caller is cancelled meanwhile (an unload):
        # a process left half reaped would keep its pipes open past the event loop.
        cleanup = asyncio.ensure_future(self._close())
        try:
            await asyncio.shield(cleanup)
        except asyncio.CancelledError:
            await cleanup
            raise

    async def _close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            with contextlib.suppress(Exception):
                # Read what is left in the pipe first: FFmpeg decodes ahead, and a full
                # stdout buffer pauses the pipe, so wait() (which waits for every pipe to
                # close) would never return.
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    assert process.stdout is not None
                    while await process.stdout.read(65536):
                        pass
                    await process.wait()
        for task in self._helpers:
            task.cancel()
        for task in self._helpers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._helpers.clear()
        await self.media.aclose()


_REASONS = (
    (b"No such file", "not_found"),
    (b"does not contain any stream", "no_audio"),
    (b"matches no streams", "no_audio"),
    (b"not on whitelist", "unreachable"),
    (b"Server returned", "unreachable"),
    (b"Connection refused", "unreachable"),
    (b"Failed to resolve", "unreachable"),
    (b"HTTP error", "unreachable"),
    (b"Invalid data found", "undecodable"),
)


def _reason(stderr: bytes) -> str:
    """A fixed token for what FFmpeg said went wrong (its text is never passed on)."""
    for needle, reason in _REASONS:
        if needle in stderr:
            return reason
    return "undecodable"


def open_regular_file(path: str) -> tuple[int, str]:
    """Open ``path`` read-only and return the descriptor and the real path *of what was
    opened* (blocking: run it in the executor).

    The caller checks the returned path (allowed folders) and then plays from the
    descriptor, so check and use are the same file: swapping the path for a symlink after
    the check changes nothing. FIFOs and devices are refused (``O_NONBLOCK`` keeps the open
    itself from hanging on a FIFO); raises :class:`MediaError` (``not_found``) or
    :class:`OSError`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise MediaError("not_found") from None
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o170000 != 0o100000:
            raise MediaError("not_found")
        os.set_blocking(fd, True)
        real = _opened_path(fd, path, info)
    except BaseException:
        os.close(fd)
        raise
    return fd, real


def _opened_path(fd: int, path: str, info: os.stat_result) -> str:
    """The real path of an open file: from ``/proc`` where there is one, else the
    resolved path provided it still names the very inode that is open."""
    with contextlib.suppress(OSError):
        link = os.readlink(f"/proc/self/fd/{fd}")
        if link.startswith("/") and not link.endswith(" (deleted)"):
            return link
    real = os.path.realpath(path)
    now = os.stat(real)
    if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
        raise MediaError("not_found")
    return real


def is_riff_wave(fd: int) -> bool:
    """Whether the open file starts like a RIFF/WAVE file (blocking; does not move the
    file position)."""
    head = os.pread(fd, 12, 0)
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"
