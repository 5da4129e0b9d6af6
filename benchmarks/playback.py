"""Benchmark 4: playback pacing of a 60 s WAV into a real-time call.

HA plays the file with ``callstack.play``; the emulator, in its own process, stamps every
read of the audio port with its monotonic clock. Frame k (320 bytes at 8 kHz) has arrived
when the byte count reaches (k+1)·320. Against an ideal 20 ms clock started at frame 0:
drift_k = arrival_k - (arrival_0 + k·20 ms); jitter is how far each inter-arrival interval
is from 20 ms.
"""

from __future__ import annotations

from array import array
import asyncio
import itertools
import math
from pathlib import Path
import wave

from homeassistant.core import HomeAssistant

from .calls import answered_call
from .harness import DOMAIN
from .host import EmulatorHost
from .stats import Result, fmt_ms, percentile

RATE = 8000
FRAME_BYTES = 320
FRAME_NS = 20_000_000


def write_wav(path: Path, seconds: float) -> None:
    """A 16-bit mono 8 kHz WAV: a slow sweep, different in every frame."""
    count = round(seconds * RATE)
    samples = array(
        "h",
        (
            round(6000 * math.sin(2 * math.pi * (300 + n / count * 1500) * n / RATE))
            for n in range(count)
        ),
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.tobytes())


def frame_arrivals(times: list[list[int]]) -> list[int]:
    """The arrival time (ns) of each whole 320-byte frame, from (time, byte count) reads."""
    arrivals: list[int] = []
    total = 0
    for stamp, count in times:
        total += count
        while (len(arrivals) + 1) * FRAME_BYTES <= total:
            arrivals.append(stamp)
    return arrivals


async def run(hass: HomeAssistant, host: EmulatorHost, seconds: float) -> Result:
    """Play ``seconds`` of audio and compare arrivals with the ideal 20 ms clock."""
    result = Result("4 Playback pacing")
    media = Path(hass.config.media_dirs["local"]) / "callstack"
    media.mkdir(parents=True, exist_ok=True)
    wav_path = media / "bench-playback.wav"
    await hass.async_add_executor_job(write_wav, wav_path, seconds)
    async with answered_call(hass, host):
        await host.request("clear")
        response = await hass.services.async_call(
            DOMAIN,
            "play",
            {"file": wav_path.name, "wait": True},
            blocking=True,
            return_response=True,
        )
        expected = round(seconds * RATE) * 2 // FRAME_BYTES
        # The action returns once the last frame is written; give the emulator's process a
        # moment to read it before asking what arrived.
        for _ in range(40):
            received = await host.request("received", path=str(wav_path))
            if len(frame_arrivals(received["times"])) >= expected:
                break
            await asyncio.sleep(0.05)
    arrivals = frame_arrivals(received["times"])
    drift = [(t - arrivals[0] - k * FRAME_NS) / 1e6 for k, t in enumerate(arrivals)]
    jitter = [abs(b - a - FRAME_NS) / 1e6 for a, b in itertools.pairwise(arrivals)]
    max_drift = max(drift, key=abs) if drift else math.nan
    final = drift[-1] if drift else math.nan
    jitter99 = percentile(jitter, 99)
    result.data = {
        "frames_expected": expected,
        "frames_received": len(arrivals),
        "exact": received.get("exact"),
        "max_drift_ms": max_drift,
        "final_drift_ms": final,
        "jitter_p50_ms": percentile(jitter, 50),
        "jitter_p99_ms": jitter99,
        "response": response,
    }
    result.row(
        "frames received by the emulator",
        f"{len(arrivals)} of {expected}, "
        + ("sample-exact" if received.get("exact") else "NOT sample-exact"),
        f"{expected}",
        len(arrivals) == expected and bool(received.get("exact")),
    )
    result.row(
        f"drift vs ideal 20 ms clock over {seconds:.0f} s",
        f"max {max_drift:+.2f} ms, final {final:+.2f} ms",
        "≤ 20 ms",
        abs(max_drift) <= 20 and abs(final) <= 20,
    )
    result.row(
        "inter-frame jitter", f"p50 {fmt_ms(percentile(jitter, 50))}, p99 {fmt_ms(jitter99)}"
    )
    return result
