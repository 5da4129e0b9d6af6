"""Benchmark 9, latency: the end of what the caller said → the first frame of the answer.

The emulator's far end takes turns (``far_end_turns.Turns``): it speaks a phrase (espeak-ng
speech, so HA's pipeline VAD hears speech) after each prompt tone, and stamps the frame that
carries the phrase's last sample right before it writes it (``perf_counter_ns``); it also
stamps every read of the host's writes on its audio port. A turn's latency runs from the
first stamp to the first read after it: the first frame of the TTS answer (nothing else is
played in between: the next prompt comes after the answer).

In between, HA's real pipeline runs with the stub providers of ``tests/ha/assist_stack.py``
(zero cost: the STT returns a queued text the moment its stream ends, the agent answers at
once, the TTS returns a ready WAV): the pipeline's VAD waits out its end-of-speech silence
window (``VadSensitivity.to_seconds`` of the satellite's VAD sensitivity select: 0.7 s at
"default"), then STT, the agent, TTS with HA's conversion to the bridge format (FFmpeg:
every answer is a new text, so nothing comes from HA's TTS cache), the satellite opens the
result stream and plays it. Reported: the total, the total minus the silence window, the
window itself, and the median time each pipeline event came after the end of speech
(stamped in the satellite's event handler), so what is HA's and what is ours shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import os
from pathlib import Path
import tempfile
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_pipeline.vad import VadSensitivity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_platform

from .harness import DOMAIN, EVENT_CALL, EventWaiter, load, make_entry, remove
from .host import EmulatorHost
from .stats import Result, fmt_ms, percentile

if TYPE_CHECKING:
    from tests.ha.assist_stack import AssistStack

PHRASE = "turn on the kitchen light"
ANSWER_SECONDS = 0.3  # the stub TTS's answer: short, so turns follow each other quickly
TURN_GAP = 0.3  # the far end speaks this long after the prompt tone has ended
LATENCY_TARGET_MS = 300.0  # p50, without the VAD's silence window
# Pipeline events stamped, in the order they come after the end of speech.
STAGES = (
    PipelineEventType.STT_VAD_END,
    PipelineEventType.STT_END,
    PipelineEventType.INTENT_END,
    PipelineEventType.TTS_END,
    PipelineEventType.RUN_END,
)


def _satellite(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    """The entry's satellite entity object (its assist_satellite platform's one entity)."""
    for platform in entity_platform.async_get_platforms(hass, DOMAIN):
        if platform.domain == "assist_satellite" and platform.config_entry is entry:
            for satellite in platform.entities.values():
                return satellite
    raise RuntimeError("the modem has no Assist satellite")


def _stamp_events(satellite: Any) -> dict[PipelineEventType, list[int]]:
    """perf_counter_ns of each pipeline event the satellite gets, by type, from now on."""
    stamps: dict[PipelineEventType, list[int]] = {stage: [] for stage in STAGES}
    handler: Callable[[PipelineEvent], None] = satellite.on_pipeline_event

    def on_pipeline_event(event: PipelineEvent) -> None:
        if event.type in stamps:
            stamps[event.type].append(time.perf_counter_ns())
        handler(event)

    satellite.on_pipeline_event = on_pipeline_event
    return stamps


def _silence_window(hass: HomeAssistant, satellite: Any) -> float:
    """Seconds of silence HA's pipeline VAD waits for: what the satellite's select says."""
    state = hass.states.get(satellite.vad_sensitivity_entity_id)
    return VadSensitivity.to_seconds(state.state if state else VadSensitivity.DEFAULT)


async def turns(
    hass: HomeAssistant, host: EmulatorHost, stack: AssistStack, count: int
) -> dict[str, Any]:
    """``count`` turns of one call; per turn the end of speech, the first frame of the
    answer and the pipeline events, all in perf_counter_ns."""
    from tests.speech import spoken_wav

    from .assist import assist_options

    stack.tts.seconds = ANSWER_SECONDS
    stack.stt.texts.extend(f"{PHRASE} {turn}" for turn in range(count))  # new answers
    with tempfile.TemporaryDirectory(prefix="callstack-bench-assist-") as folder:
        wav = spoken_wav(PHRASE, Path(folder) / "phrase.wav")
        await host.request("turns", paths=[str(wav)] * count, gap=TURN_GAP)
        entry = make_entry(host.at, host.audio)  # the entry of the CPU figures, unloaded
        if hass.config_entries.async_get_entry(entry.entry_id) is None:
            entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(entry, options=assist_options(host.caller, 10))
        await load(hass, entry)
        satellite = _satellite(hass, entry)
        stamps = _stamp_events(satellite)
        waiter = EventWaiter(hass, EVENT_CALL)
        try:
            ends = [
                waiter.expect(lambda event: event.data["type"] == "assist_end")
                for _ in range(count)
            ]
            await host.request("ring", number=host.caller, interval=30.0)
            wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            outcomes = []
            for end in ends:  # a turn takes about 3.5 s
                _, event = await asyncio.wait_for(end, 30)
                outcomes.append(event.data["outcome"])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            children = _children_cpu() - children
            await asyncio.sleep(0.2)  # the last answer's frames cross the pty
            spoken = await host.request("spoken")
            received = await host.request("received")
            window = _silence_window(hass, satellite)
            # The turn after the last one has started meanwhile: its events are not ours.
            events = {str(stage): stamps[stage][:count] for stage in STAGES}
        finally:
            waiter.close()
            with contextlib.suppress(Exception):
                await host.request("hangup")
            await asyncio.sleep(0.3)
            await remove(hass, entry)
    if outcomes != ["answered"] * count:
        raise RuntimeError(f"not every turn was answered: {outcomes}")
    ended = [utterance["ended_ns"] for utterance in spoken]
    reads = [stamp for stamp, _ in received["times"]]
    answers = [min(read for read in reads if read > end) for end in ended]
    return {
        "turns": count,
        "silence_window_s": window,
        "speech_end_ns": ended,
        "answer_ns": answers,
        "events_ns": events,
        "wall_s": wall,
        "cpu_s": cpu,
        "children_cpu_s": children,
    }


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children (HA's FFmpeg, converting TTS)."""
    times = os.times()
    return times.children_user + times.children_system


def vad_offline(window: float) -> dict[str, float]:
    """HA's pipeline VAD (its enhancer's pymicro-vad and its segmenter) on the phrase as
    the satellite hands it over (upsampled to 16 kHz), 0.3 s of silence before and 3 s
    after, without a call: ms after the phrase's last sample until pymicro-vad last scores
    a 10 ms chunk speech (above the segmenter's in-command threshold) and until the
    segmenter ends the command."""
    from homeassistant.components.assist_pipeline.audio_enhancer import MicroVadSpeexEnhancer
    from homeassistant.components.assist_pipeline.vad import VoiceCommandSegmenter

    from custom_components.callstack.sim7600.resample import Upsampler
    from sim7600_emulator.far_end_turns import trimmed
    from tests.speech import spoken

    phrase = trimmed(spoken(PHRASE), 8000)
    before = bytes(round(0.3 * 8000) * 2)
    wide = Upsampler().process(before + phrase + bytes(3 * 8000 * 2))
    enhancer = MicroVadSpeexEnhancer(0, 0, True)
    segmenter = VoiceCommandSegmenter(silence_seconds=window)
    chunk = 320  # 10 ms at 16 kHz
    end_ms = 1000 * (len(before) + len(phrase)) / 16000 + 1000 * Upsampler.delay / 8000
    last_speech = ended = float("nan")
    for offset in range(0, len(wide) - chunk + 1, chunk):
        at_ms = (offset + chunk) / 32
        probability = enhancer.enhance_chunk(wide[offset : offset + chunk], 0).speech_probability
        if (probability or 0.0) > segmenter.in_command_speech_threshold:
            last_speech = at_ms
        if not segmenter.process(0.01, probability):
            ended = at_ms
            break
    return {"speech_until_ms": last_speech - end_ms, "segmenter_end_ms": ended - end_ms}


def rows(result: Result, figures: dict[str, Any]) -> None:
    """The latency rows of benchmark 9 (and its figures in ``result.data``)."""
    ended, answers = figures["speech_end_ns"], figures["answer_ns"]
    window_ms = 1000 * figures["silence_window_s"]
    total = [(answer - end) / 1e6 for end, answer in zip(ended, answers, strict=True)]
    net = [value - window_ms for value in total]
    after = {
        stage: [(stamp - end) / 1e6 for end, stamp in zip(ended, stamps, strict=True)]
        for stage, stamps in figures["events_ns"].items()
    }
    vad_end = after[str(PipelineEventType.STT_VAD_END)]
    past_vad = [value - vad for value, vad in zip(total, vad_end, strict=True)]
    offline = vad_offline(figures["silence_window_s"])

    def p50_p99(values: list[float]) -> str:
        return f"p50 {fmt_ms(percentile(values, 50))}, p99 {fmt_ms(percentile(values, 99))}"

    summary = {
        "total_p50_ms": percentile(total, 50),
        "total_p99_ms": percentile(total, 99),
        "net_p50_ms": percentile(net, 50),
        "net_p99_ms": percentile(net, 99),
        "silence_window_ms": window_ms,
        "vad_end_p50_ms": percentile(vad_end, 50),
        "vad_end_p99_ms": percentile(vad_end, 99),
        "past_vad_p50_ms": percentile(past_vad, 50),
        "past_vad_p99_ms": percentile(past_vad, 99),
        "stage_p50_ms": {stage: percentile(values, 50) for stage, values in after.items()},
        "vad_offline": offline,
    }
    result.data["latency"] = {**figures, **summary}
    count = figures["turns"]
    result.row(
        f"end of the caller's speech → first frame of the answer, n={count} turns "
        "(stub STT/agent/TTS, HA's pipeline)",
        f"total {p50_p99(total)}; without the VAD's {window_ms:.0f} ms silence window "
        f"{p50_p99(net)}",
        "≤ 300 ms p50 (window apart)",
        summary["net_p50_ms"] <= LATENCY_TARGET_MS,
    )
    result.row(
        "of which HA's VAD: end of speech → its end-of-speech decision (stt-vad-end)",
        f"{p50_p99(vad_end)} ({window_ms:.0f} ms window + pymicro-vad's tail; offline on "
        f"the same phrase: scored speech until +{offline['speech_until_ms']:.0f} ms, "
        f"command ended +{offline['segmenter_end_ms']:.0f} ms)",
    )
    stages = summary["stage_p50_ms"]
    result.row(
        "after the VAD's decision → first frame (STT, agent, TTS + HA's FFmpeg conversion, "
        "playback start)",
        f"{p50_p99(past_vad)}; p50 after the end of speech: "
        + " → ".join(
            f"{label} {fmt_ms(stages[str(stage)])}"
            for label, stage in zip(
                ("VAD end", "STT end", "intent end", "TTS end", "run end"), STAGES, strict=True
            )
        )
        + f" → first frame {fmt_ms(summary['total_p50_ms'])}",
    )
