"""Benchmark 9 (assist): Assist over a call, what it costs and how fast it answers.

a) **Audio path**: CPU per second of call audio of what the satellite adds on the caller's
   stream — the half-band 8 → 16 kHz upsampler and the pymicro-vad speech detector —
   measured in this process, next to ``audioop.ratecv`` (linear interpolation, what a
   bridge would use otherwise) in the same run.
b) **HA side**: CPU time of the HA process (this one; the emulator runs in its own, as a
   modem would) per second of a call Assist listens to — resampling, HA's pipeline with
   its own VAD and audio enhancer, the stub STT reading the stream — minus the same seconds
   of a plain answered call with the bridge running (both in this run, one after the
   other). Target ≤ 2 % of a core. The emulator's test signal is not speech, so this is a
   caller who has not started speaking: the satellite lets the bridge hold reads then
   (:data:`~custom_components.callstack.sim7600.audio.READ_HOLD_SECONDS`). In the plain
   call, two more stages are measured so the difference shows where it goes: a caller
   stream read as it comes (live, as from the first speech on: reads no longer held back)
   and that stream turned into 16 kHz chunks as the satellite does. A speaking caller is
   in the CPU figure of the latency turns below.
c) **Latency** (:mod:`.assist_latency`): end of the caller's speech → first frame of the
   answer, over turns of one call with zero-cost stub STT, agent and TTS behind HA's real
   pipeline; the VAD's silence window apart. Target ≤ 300 ms p50. Then the CPU per second
   of those turns (a conversation), over the plain call.

HA's ``voip`` is not run next to it. It would run HA's same pipeline, but not on the same
audio and not to the same end point: it takes calls only over SIP (UDP) with Opus in RTP
(48 kHz stereo, resampled by ``audioop.ratecv`` to 16 kHz), and after speech-to-text it
plays its 0.65 s "processing" tone and sends the TTS answer only once the tone is done, so
its first answer frame comes a tone later by design. Driving it needs ``voip-utils`` and
``opuslib`` (in neither test environment; HA pins voip-utils 0.3.1 in 2025.4 and 0.5.0 in
2026.10, so one pin per environment), a caller (voip-utils' outgoing-call protocol, the one
HA dials out with, could place the SIP call; an Opus RTP sender of the phrase and a
receiver that stamps the answer's packets would be new code) and voip's per-device "allow
calls" switch turned on (new callers are refused). All it could compare is the part after
the VAD's decision (the VAD and its window are the same code on both), about 0.1 s here
against voip's 0.65 s tone: not worth two dependency sets and a SIP/RTP caller.

Run alone with ``python -m benchmarks.assist [--quick] [--write-doc BENCHMARKS.md
[--section results-newest]] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
import sys
import time
from typing import Any

import audioop
from homeassistant.core import HomeAssistant

from . import assist_latency
from .harness import EVENT_CALL, EventWaiter, load, make_entry, remove, running_hass, unload
from .host import EmulatorHost
from .stats import Result

FRAME_8K = 320  # bytes of 20 ms at 8 kHz
CPU_TARGET = 0.02  # of one core


def audio_path(seconds: float) -> dict[str, float]:
    """ms of CPU per second of call audio: upsampler, speech detector, ratecv."""
    from custom_components.callstack.sim7600.assist_audio import SpeechDetector
    from custom_components.callstack.sim7600.resample import Upsampler

    frames = round(seconds / 0.02)
    frame = bytes(range(256)) + bytes(64)  # any content: the cost does not depend on it
    upsampler, detector = Upsampler(), SpeechDetector()
    start = time.process_time()
    wide = b""
    for _ in range(frames):
        wide = upsampler.process(frame)
    upsample = time.process_time() - start
    start = time.process_time()
    for _ in range(frames):
        detector.process(wide)
    detect = time.process_time() - start
    state = None
    start = time.process_time()
    for _ in range(frames):
        _, state = audioop.ratecv(frame, 2, 1, 8000, 16000, state)
    linear = time.process_time() - start
    return {
        "upsample_ms_per_s": 1000 * upsample / seconds,
        "vad_ms_per_s": 1000 * detect / seconds,
        "ratecv_ms_per_s": 1000 * linear / seconds,
    }


def assist_options(number: str, silence: int) -> dict[str, Any]:
    """Assist on for ``number``, answering at the first ring."""
    return {
        "assist": {"assist_callers": [number], "assist_rings": 1, "assist_silence": silence},
    }


async def _listening_call(hass: HomeAssistant, host: EmulatorHost, seconds: float) -> float:
    """CPU seconds of this process over ``seconds`` of a call Assist listens to (the
    emulator's test signal is not speech, so the turn listens until its silence limit,
    set beyond the measured window, its caller stream not live)."""
    entry = make_entry(host.at, host.audio)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options=assist_options(host.caller, silence=int(seconds) + 30)
    )
    await load(hass, entry)
    waiter = EventWaiter(hass, EVENT_CALL)
    try:
        started = waiter.expect(lambda event: event.data["type"] == "assist_start")
        await host.request("ring", number=host.caller, interval=30.0)
        await asyncio.wait_for(started, 20)
        await asyncio.sleep(0.5)  # the pipeline settles
        return await _cpu_over(seconds)
    finally:
        waiter.close()
        with contextlib.suppress(Exception):
            await host.request("hangup")
        await asyncio.sleep(0.3)
        await unload(hass, entry)


async def _cpu_over(seconds: float) -> float:
    """CPU seconds of this process over the next ``seconds``."""
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    return time.process_time() - cpu


async def _plain_call(hass: HomeAssistant, host: EmulatorHost, seconds: float) -> dict[str, float]:
    """CPU seconds of this process over ``seconds`` of an answered call, no Assist; then,
    in the same call, over half as long with a caller stream read as it comes and nothing
    done with it, and with the stream turned into 16 kHz chunks as the satellite does."""
    from custom_components.callstack.sim7600.assist_audio import CallerVoice

    from .calls import answered_call

    entry = make_entry(host.at, host.audio)
    await load(hass, entry)
    try:
        async with answered_call(hass, host, entry):
            audio = entry.runtime_data.modem.audio
            await asyncio.sleep(0.5)
            cpu = {"plain": await _cpu_over(seconds)}
            for stage in ("listener", "voice"):
                stream: Any = audio.listen(max_frames=250)
                if stage == "voice":
                    stream = CallerVoice(stream, audio.sample_rate)
                    stream.detect = False  # as while the pipeline listens
                reader = asyncio.create_task(_drain(stream))
                await asyncio.sleep(0.3)
                cpu[stage] = await _cpu_over(seconds / 2) * 2
                reader.cancel()
                stream.close()
            return cpu
    finally:
        await remove(hass, entry)  # the next entry takes the same ports


async def _drain(stream: Any) -> None:
    """Read a caller stream until cancelled (what the satellite's STT feed does per frame)."""
    while True:
        async with asyncio.timeout(2.0):
            await anext(stream)


async def run(hass: HomeAssistant, host: EmulatorHost, seconds: float, turns: int) -> Result:
    """Benchmark 9: the figures above, as rows."""
    from tests.ha.assist_stack import async_setup_assist_stack

    result = Result("9 Assist over a call")
    path = audio_path(max(seconds, 10.0))
    stack = await async_setup_assist_stack(hass)
    plain = await _plain_call(hass, host, seconds)
    listening = await _listening_call(hass, host, seconds)
    base = plain["plain"]
    extra = max(0.0, listening - base) / seconds
    stages = {
        "reading every frame": plain["listener"] - base,
        "16 kHz chunks": plain["voice"] - plain["listener"],
    }
    result.data = {
        **path,
        "seconds": seconds,
        "plain_call_cpu_per_s": base / seconds,
        "listener_cpu_per_s": plain["listener"] / seconds,
        "voice_cpu_per_s": plain["voice"] / seconds,
        "assist_call_cpu_per_s": listening / seconds,
        "assist_share_of_core": extra,
    }
    ours = path["upsample_ms_per_s"] + path["vad_ms_per_s"]
    result.row(
        "caller audio path per second of call (upsampler + speech detector)",
        f"{ours:.2f} ms ({path['upsample_ms_per_s']:.2f} + {path['vad_ms_per_s']:.2f}); "
        f"audioop.ratecv alone {path['ratecv_ms_per_s']:.2f} ms",
        "≤ 20 ms (2 %)",
        ours <= 1000 * CPU_TARGET,
    )
    result.row(
        f"HA process CPU, {seconds:.0f} s of a call Assist listens to (nobody speaking yet), "
        "over a plain call",
        f"{100 * extra:.2f} % of a core (Assist call {100 * listening / seconds:.2f} %, "
        f"plain call {100 * base / seconds:.2f} %)",
        "≤ 2 %",
        extra <= CPU_TARGET,
    )
    result.row(
        "a live caller stream (as for a caller speaking), each stage over the one before, "
        "in the plain call",
        "; ".join(f"{name} {100 * cpu / seconds:+.2f} %" for name, cpu in stages.items()),
    )
    figures = await assist_latency.turns(hass, host, stack, turns)
    assist_latency.rows(result, figures)
    conversation = (figures["cpu_s"] - base / seconds * figures["wall_s"]) / figures["wall_s"]
    result.data["conversation_share_of_core"] = conversation
    result.row(
        f"HA process CPU per second of those {turns} turns (prompt, speech, answer with "
        "barge-in detection), over a plain call",
        f"{100 * conversation:.2f} % of a core over {figures['wall_s']:.0f} s; HA's FFmpeg "
        f"converting the answers {100 * figures['children_cpu_s'] / figures['wall_s']:.2f} %",
        "≤ 2 %",
        conversation <= CPU_TARGET,
    )
    return result


async def run_alone(seconds: float, turns: int) -> Result:
    """Benchmark 9 in a Home Assistant and an emulator of its own."""
    async with running_hass() as hass, EmulatorHost() as host:
        return await run(hass, host, seconds, turns)


def main() -> None:
    """``python -m benchmarks.assist``: benchmark 9 alone, its rows and figures printed;
    ``--write-doc`` puts its rows into a results table of BENCHMARKS.md."""
    from .__main__ import machine
    from .doc import SECTION, alone_about, write_rows

    parser = argparse.ArgumentParser(prog="python -m benchmarks.assist")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--write-doc", type=Path, help="put the rows into BENCHMARKS.md")
    parser.add_argument("--section", default=SECTION, help="its bench:<section> (HA version)")
    args = parser.parse_args()
    facts = machine()
    start = time.perf_counter()
    result = asyncio.run(run_alone(5.0, 8) if args.quick else run_alone(30.0, 40))
    seconds = time.perf_counter() - start
    for row in result.rows:
        target = row.target or "-"
        print(f"{row.metric}: {row.value} [target {target}] {row.status}", file=sys.stderr)
    print(json.dumps(result.data))
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, **result.data}, indent=2))
    if args.write_doc:
        command = "python -m benchmarks.assist " + " ".join(sys.argv[1:])
        write_rows(args.write_doc, result.rows, alone_about(command, seconds, facts), args.section)


if __name__ == "__main__":
    main()
