"""Real media files for the playback tests, made with Debian's FFmpeg, and the measures
that compare what the far end heard with them.

The source signal is speech-like (a few harmonics gliding between 200 Hz and 3 kHz under a
syllable-rate envelope, plus a little noise) and differs between the stereo channels, so a
wrong channel mix or a time shift shows up as a drop in correlation.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess
import wave

import numpy as np

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
CODECS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    "opus": ["-c:a", "libopus", "-b:a", "64k"],
    "flac": ["-c:a", "flac"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
}


def speech_like(seconds: float, rate: int = 44100, channels: int = 2, seed: int = 7) -> np.ndarray:
    """int16 samples, shape (n, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    out = np.zeros((t.size, channels))
    for channel in range(channels):
        pitch = 180 + 60 * channel + 40 * np.sin(2 * np.pi * 0.7 * t + channel)
        phase = 2 * np.pi * np.cumsum(pitch) / rate
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        envelope = 0.55 + 0.45 * np.sin(2 * np.pi * (3.1 + channel * 0.4) * t) ** 2
        out[:, channel] = 0.3 * voice * envelope + 0.01 * rng.standard_normal(t.size)
    return (np.clip(out, -1, 1) * 20000).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int = 2) -> Path:
    """A PCM WAV of ``samples`` (int16, shape (n, channels)) at ``width`` bytes a sample."""
    data = samples.astype("<i2")
    if width == 1:
        raw = ((data.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = data.tobytes()
    elif width == 3:
        wide = data.astype("<i4") << 8
        raw = wide.view(np.uint8).reshape(-1, 4)[:, 1:].tobytes()
    else:
        raw = (data.astype("<i4") << 16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(raw)
    return path


def encode(source: Path, target: Path) -> Path:
    """``source`` encoded by FFmpeg with the codec its suffix names."""
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(source)]
        + CODECS[target.suffix[1:]]
        + [str(target)],
        check=True,
    )
    return target


def make_media(folder: Path, name: str, seconds: float = 2.0) -> Path:
    """A speech-like 44.1 kHz stereo file ``name`` (its suffix picks the codec)."""
    source = write_wav(folder / f".{name}.source.wav", speech_like(seconds), 44100)
    if name.endswith(".wav"):
        return source.rename(folder / name)
    target = encode(source, folder / name)
    source.unlink()
    return target


def decode(path: Path, rate: int = 8000) -> np.ndarray:
    """What FFmpeg makes of ``path`` at the bridge's format (int16 mono), the reference."""
    raw = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "s16le",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, "<i2")


def pcm(data: bytes) -> np.ndarray:
    """int16 samples of little-endian PCM bytes."""
    return np.frombuffer(bytes(data)[: len(data) - len(data) % 2], "<i2")


def best_match(heard: np.ndarray, reference: np.ndarray) -> tuple[float, int]:
    """(normalised correlation, lag) of ``reference`` within ``heard`` at the best lag."""
    a = heard.astype(np.float64)
    b = reference.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(a.size + b.size)))
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    cross = np.fft.irfft(spectrum, size)[: a.size]
    lag = int(np.argmax(cross))
    window = a[lag : lag + b.size]
    part = b[: window.size]
    denominator = np.linalg.norm(window) * np.linalg.norm(part)
    return (float(np.dot(window, part) / denominator) if denominator else 0.0), lag
