"""Benchmark 8: any audio into a call (issue 13): start latency, decoding cost, long playback.

8a. Action → first PCM frame on the audio port, p50/p99, measured from the service call to
    the emulator's read of the first frame (both stamp CLOCK_MONOTONIC): ``callstack.say``
    with a cached TTS result (a TTS entity that speaks a real WAV; HA converts it to the
    bridge format once and caches it), ``callstack.play`` of a 44.1 kHz stereo MP3 (FFmpeg
    starts for each play) and of a PCM WAV (read natively), side by side. Target ≤ 150 ms.
8b. CPU per second of audio: a 44.1 kHz stereo MP3 decoded by FFmpeg and converted to 8 kHz
    mono, next to a 44.1 kHz stereo WAV converted natively and an 8 kHz mono WAV, each played
    through ``callstack.play`` into an accelerated call (the per-frame work is the same as
    in real time). CPU is this process's plus FFmpeg's (reaped children), net of idle.
    Target ≤ 1 % of a core for the MP3.
8c. A 10-minute MP3 into a real-time call: every frame received, drift against an ideal
    20 ms clock ≤ 20 ms, peak RSS growth of the HA process while it plays ≤ 5 MB.

Run alone with ``python -m benchmarks.voice [--quick]``; ``python -m benchmarks`` runs it too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
from pathlib import Path
import resource
import shutil
import subprocess
import sys
import time
from typing import Any

from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import psutil

from .calls import answered_call
from .harness import DOMAIN, running_hass
from .host import EmulatorHost
from .playback import frame_arrivals
from .stats import Result, fmt_ms, percentile

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FRAME_BYTES = 320
FRAME_NS = 20_000_000
SPEED = 10.0  # benchmark 8b's accelerated call


def make_media(
    path: Path, seconds: float, codec: list[str], rate: int = 44100, channels: int = 2
) -> Path:
    """A tone-and-noise test file made by FFmpeg's lavfi sources (no Python buffers)."""
    layout = "stereo" if channels == 2 else "mono"
    subprocess.run(
        [
            *(FFMPEG, "-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"sine=frequency=330:sample_rate={rate}:duration={seconds}"),
            *("-f", "lavfi", "-i", f"anoisesrc=a=0.05:r={rate}:d={seconds}"),
            *("-filter_complex", f"amix=inputs=2,aformat=channel_layouts={layout}"),
            *("-ar", str(rate), *codec, str(path)),
        ],
        check=True,
    )
    return path


def decoded_samples(path: Path) -> int:
    """How many 8 kHz mono samples FFmpeg makes of ``path`` (what the call should get)."""
    out = subprocess.run(
        [
            *(FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(path)),
            *("-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1"),
        ],
        check=True,
        capture_output=True,
    ).stdout
    return len(out) // 2


class CachedSpeech(TextToSpeechEntity):
    """A TTS entity that speaks a real 22.05 kHz WAV (made once by FFmpeg)."""

    _attr_name = "Bench speech"
    _attr_unique_id = "callstack-bench-speech"
    _attr_supported_languages = ["en"]
    _attr_default_language = "en"

    def __init__(self, wav: Path) -> None:
        self.audio = wav.read_bytes()
        self.calls = 0

    def get_tts_audio(self, message: str, language: str, options: dict[str, Any]) -> TtsAudioType:
        self.calls += 1
        return "wav", self.audio


def cpu_seconds() -> float:
    """CPU of this process (all threads) plus that of reaped children (FFmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def first_frame_ns(host: EmulatorHost, since: int, timeout: float = 5.0) -> int:
    """Nanoseconds from ``since`` to the emulator's read of the first whole frame."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = await host.request("received")
        arrivals = frame_arrivals(received["times"])
        if arrivals:
            return arrivals[0] - since
        await asyncio.sleep(0.005)
    raise TimeoutError("no frame arrived")


async def latency(hass: HomeAssistant, host: EmulatorHost, media: Path, runs: int) -> Result:
    """8a: p50/p99 from the action call to the first frame at the modem."""
    result = Result("8a Media → first frame")
    speech_wav = make_media(media / "speech.wav", 3.0, ["-c:a", "pcm_s16le"], 22050, 1)
    mp3 = make_media(media / "song.mp3", 30.0, ["-c:a", "libmp3lame", "-b:a", "128k"])
    wav = make_media(media / "song.wav", 30.0, ["-c:a", "pcm_s16le"], 8000, 1)
    assert await async_setup_component(hass, "tts", {})
    speech = CachedSpeech(speech_wav)
    await hass.data["tts"].async_add_entities([speech])
    await hass.async_block_till_done()
    cases = {
        "say (cached TTS)": {"action": "say", "message": "The smoke alarm went off."},
        "play MP3 44.1 kHz stereo (FFmpeg)": {"action": "play", "media": mp3.name},
        "play WAV 8 kHz mono (native)": {"action": "play", "media": wav.name},
    }
    figures: dict[str, list[float]] = {name: [] for name in cases}
    async with answered_call(hass, host) as entry:
        modem = entry.runtime_data.modem
        # Warm-up: fills TTS's cache (and the OS's file cache) before measuring.
        for case in cases.values():
            await _start(hass, case)
            await asyncio.sleep(0.1)
            await _stopped(modem)
        await asyncio.sleep(0.2)
        engine_calls = speech.calls
        for _ in range(runs):
            for name, case in cases.items():
                await host.request("clear")
                start = time.perf_counter_ns()
                await _start(hass, case)
                figures[name].append((await first_frame_ns(host, start)) / 1e6)
                await _stopped(modem)
        result.data = {
            "runs": runs,
            "ms": figures,
            "engine_calls_after_warm_up": speech.calls - engine_calls,
        }
    for name, values in figures.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        result.row(
            f"{name}: action → first frame at the modem ({runs} runs)",
            f"p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}",
            "≤ 150 ms",
            p99 <= 150,
        )
    return result


async def _stopped(modem: Any) -> None:
    """Stop the playback and wait until the bridge is free."""
    modem.stop_playback()
    async with asyncio.timeout(5):
        while modem.audio.busy:  # noqa: ASYNC110 - the bridge has no event for it
            await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)


async def _start(hass: HomeAssistant, case: dict[str, str]) -> None:
    data = {key: value for key, value in case.items() if key != "action"}
    await hass.services.async_call(
        DOMAIN, case["action"], {**data, "wait": False}, blocking=True, return_response=True
    )


async def cpu_cost(hass: HomeAssistant, host: EmulatorHost, media: Path, seconds: float) -> Result:
    """8b: CPU per second of audio, MP3 via FFmpeg next to WAV."""
    result = Result("8b Decode CPU")
    files = {
        "MP3 44.1 kHz stereo → 8 kHz mono (FFmpeg)": make_media(
            media / "cpu.mp3", seconds, ["-c:a", "libmp3lame", "-b:a", "128k"]
        ),
        "WAV 44.1 kHz stereo → 8 kHz mono (native)": make_media(
            media / "cpu44.wav", seconds, ["-c:a", "pcm_s16le"]
        ),
        "WAV 8 kHz mono (native, no conversion)": make_media(
            media / "cpu8.wav", seconds, ["-c:a", "pcm_s16le"], 8000, 1
        ),
    }
    per_second: dict[str, float] = {}
    async with answered_call(hass, host) as entry:
        entry.runtime_data.modem.audio.speed = SPEED
        wall0, cpu0 = time.monotonic(), cpu_seconds()
        await asyncio.sleep(seconds / SPEED)
        idle = (cpu_seconds() - cpu0) / (time.monotonic() - wall0)
        for name, path in files.items():
            wall0, cpu0 = time.monotonic(), cpu_seconds()
            response: Any = await hass.services.async_call(
                DOMAIN, "play", {"media": path.name}, blocking=True, return_response=True
            )
            await asyncio.sleep(0.2)  # FFmpeg reaped, its CPU counted
            wall, cpu = time.monotonic() - wall0, cpu_seconds() - cpu0
            per_second[name] = max(0.0, cpu - idle * wall) / response["duration"]
    mp3 = next(iter(per_second.values()))
    result.data = {"idle_cpu_per_s": idle, "cpu_per_audio_s": per_second, "speed": SPEED}
    for name, value in per_second.items():
        is_mp3 = value is mp3
        result.row(
            f"{name}: CPU per second of audio (net of idle)",
            f"{value * 100:.3f} % of a core"
            + ("" if is_mp3 else f" (MP3 costs {mp3 / value:.1f} times as much)" if value else ""),
            "≤ 1 %" if is_mp3 else "",
            value <= 0.01 if is_mp3 else None,
        )
    return result


async def long_mp3(hass: HomeAssistant, host: EmulatorHost, media: Path, seconds: float) -> Result:
    """8c: a long MP3 in real time: frames, drift, memory."""
    result = Result("8c Long MP3")
    path = make_media(media / "long.mp3", seconds, ["-c:a", "libmp3lame", "-b:a", "128k"])
    expected = -(-decoded_samples(path) // 160)
    process = psutil.Process()
    async with answered_call(hass, host):
        await host.request("clear")
        sampler = asyncio.get_running_loop().create_task(_rss_peak(process, 0.5))
        response: Any = await hass.services.async_call(
            DOMAIN, "play", {"media": path.name}, blocking=True, return_response=True
        )
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        base, peak = _RSS
        received: dict[str, Any] = {}
        for _ in range(40):
            received = await host.request("received")
            if len(frame_arrivals(received["times"])) >= expected:
                break
            await asyncio.sleep(0.05)
    arrivals = frame_arrivals(received["times"])
    drift = [(t - arrivals[0] - k * FRAME_NS) / 1e6 for k, t in enumerate(arrivals)]
    max_drift = max(drift, key=abs) if drift else math.nan
    jitter = [abs(b - a - FRAME_NS) / 1e6 for a, b in itertools.pairwise(arrivals)]
    growth = (peak - base) / (1 << 20)
    result.data = {
        "seconds": seconds,
        "frames_expected": expected,
        "frames_received": len(arrivals),
        "max_drift_ms": max_drift,
        "final_drift_ms": drift[-1] if drift else math.nan,
        "jitter_p99_ms": percentile(jitter, 99),
        "rss_base_mib": base / (1 << 20),
        "rss_peak_growth_mib": growth,
        "response": response,
    }
    result.row(
        f"{seconds / 60:.0f}-minute MP3: frames received",
        f"{len(arrivals)} of {expected} ({response['ended_by']})",
        f"{expected}",
        len(arrivals) == expected,
    )
    result.row(
        "drift vs ideal 20 ms clock",
        f"max {max_drift:+.2f} ms, final {drift[-1] if drift else math.nan:+.2f} ms; "
        f"jitter p99 {fmt_ms(percentile(jitter, 99))}",
        "≤ 20 ms",
        abs(max_drift) <= 20,
    )
    result.row(
        "peak RSS growth of the HA process while playing",
        f"{growth:.2f} MiB (from {base / (1 << 20):.0f} MiB)",
        "≤ 5 MB",
        growth * (1 << 20) <= 5_000_000,
    )
    return result


_RSS: list[int] = [0, 0]


async def _rss_peak(process: psutil.Process, interval: float) -> None:
    """Sample RSS: the first sample (playback just started) is the base, then the peak."""
    _RSS[0] = _RSS[1] = process.memory_info().rss
    while True:
        await asyncio.sleep(interval)
        _RSS[1] = max(_RSS[1], process.memory_info().rss)


async def run(
    hass: HomeAssistant, *, runs: int, cpu_seconds_of_audio: float, long_seconds: float
) -> list[Result]:
    """Every part of benchmark 8 on ``hass``, each with an emulator of its own."""
    media = Path(hass.config.media_dirs["local"]) / "callstack"
    media.mkdir(parents=True, exist_ok=True)
    results = []
    async with EmulatorHost() as host:
        results.append(await latency(hass, host, media, runs))
    async with EmulatorHost(audio_speed=SPEED) as host:
        results.append(await cpu_cost(hass, host, media, cpu_seconds_of_audio))
    async with EmulatorHost() as host:
        results.append(await long_mp3(hass, host, media, long_seconds))
    return results


def main() -> None:
    """``python -m benchmarks.voice [--quick]``: benchmark 8 alone, its rows printed;
    ``--write-doc`` puts them into a results table of BENCHMARKS.md."""
    from .__main__ import machine
    from .doc import SECTION, alone_about, table, write_rows

    parser = argparse.ArgumentParser(prog="python -m benchmarks.voice")
    parser.add_argument("--quick", action="store_true", help="20 runs, 30 s, 1-minute MP3")
    parser.add_argument("--write-doc", type=Path, help="put the rows into BENCHMARKS.md")
    parser.add_argument("--section", default=SECTION, help="its bench:<section> (HA version)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    facts = machine()
    start = time.perf_counter()

    async def go() -> list[Result]:
        async with running_hass() as hass:
            return await run(
                hass,
                runs=20 if args.quick else 50,
                cpu_seconds_of_audio=30.0 if args.quick else 120.0,
                long_seconds=60.0 if args.quick else 600.0,
            )

    results = asyncio.run(go())
    rows = [row for result in results for row in result.rows]
    print(table(rows))
    if args.write_doc:
        command = "python -m benchmarks.voice " + " ".join(sys.argv[1:])
        about = alone_about(command, time.perf_counter() - start, facts)
        write_rows(args.write_doc, rows, about, args.section)


if __name__ == "__main__":
    main()
