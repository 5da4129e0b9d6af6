"""The PCM audio bridge: recording fails closed, playback is paced, the bridge follows calls."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
from pathlib import Path
import stat
import statistics
import wave

import pytest

from custom_components.callstack.sim7600 import audio as audio_module
from custom_components.callstack.sim7600.audio import DTMF_DIGITS
from custom_components.callstack.sim7600.audio_source import PcmSource
from custom_components.callstack.sim7600.caller_audio import AudioFrame, DtmfPress
from custom_components.callstack.sim7600.errors import (
    AudioBridgeLostError,
    AudioBridgeNotRunningError,
    InvalidArgumentError,
)
from custom_components.callstack.sim7600.events import DtmfEvent
from custom_components.callstack.sim7600.model import BridgeState, CallState
from custom_components.callstack.sim7600.modem import Modem
from sim7600_emulator import Identity, Sim7600Emulator, Variants, test_signal
from tests.helpers import until

from .conftest import CALLER, Recorder, answer, config_for, real_time_call


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def wav_pcm(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        return wav.readframes(wav.getnframes()), wav.getframerate()


async def test_record_while_idle_fails_before_creating_a_file(modem: Modem, tmp_path: Path) -> None:
    with pytest.raises(AudioBridgeNotRunningError):
        await modem.record(tmp_path / "idle.wav", 1.0)
    with pytest.raises(AudioBridgeNotRunningError):
        await modem.audio.record(tmp_path / "idle.wav", 1.0)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("duration", [0, -1, math.nan, math.inf, 3600.5])
async def test_impossible_durations_are_refused(
    in_call: Modem, tmp_path: Path, duration: float
) -> None:
    with pytest.raises(InvalidArgumentError):
        await in_call.record(tmp_path / "x.wav", duration)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("digits", ["x", "1#e", 5])
async def test_stop_digits_that_are_no_keys_are_refused(
    in_call: Modem, tmp_path: Path, digits: object
) -> None:
    """A stop key no phone can press would leave the recording running to its end."""
    with pytest.raises(InvalidArgumentError):
        await in_call.record(tmp_path / "x.wav", 1.0, stop_digits=digits)  # type: ignore[arg-type]
    assert files_in(tmp_path) == []


async def test_recording_holds_exactly_what_the_modem_sent(
    emulator: Sim7600Emulator, in_call: Modem, tmp_path: Path
) -> None:
    result = await in_call.record(tmp_path / "call.wav", 1.0)
    assert result.ended_by == "duration"
    assert result.duration == 1.0
    assert result.samples == 8000
    pcm, rate = wav_pcm(result.path)
    assert rate == 8000
    assert len(pcm) == 16000
    sent = bytes(emulator.audio_sent)
    offset = sent.find(pcm)
    assert offset >= 0
    assert offset % 2 == 0
    assert pcm == test_signal(offset // 2, 8000)  # sample-exact, no frame lost
    assert files_in(tmp_path) == ["call.wav"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
async def test_recording_has_the_mode_of_any_new_file(
    in_call: Modem, tmp_path: Path, umask: int, mode: int
) -> None:
    """0666 less the umask, as for every file HA writes (not mkstemp's 0600, which kept
    Samba and other add-ons from reading recordings); with and without hard links."""
    old = os.umask(umask)
    try:
        linked = await in_call.record(tmp_path / "linked.wav", 0.1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "link", _no_links)
            moved = await in_call.record(tmp_path / "moved.wav", 0.1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(linked.path).st_mode) == mode
    assert stat.S_IMODE(os.stat(moved.path).st_mode) == mode


def _no_links(source: object, target: object) -> None:
    raise PermissionError(1, "Operation not permitted")  # as on FAT or CIFS


async def test_a_real_time_stream_is_read_in_few_large_chunks(
    identity: Identity, tmp_path: Path
) -> None:
    """While only recording, the audio port is read every READ_HOLD_SECONDS (ten frames),
    not at each 20 ms frame; the recording stays sample-exact."""
    async with real_time_call(identity) as (emu, modem):
        reads, frames = modem.audio.stats.reads, emu.audio_frames_sent
        result = await modem.record(tmp_path / "call.wav", 1.0)
        reads, frames = modem.audio.stats.reads - reads, emu.audio_frames_sent - frames
        assert frames >= 40
        assert reads <= frames / 2  # about frames / 10; reading at once gives one per frame
        pcm, _ = wav_pcm(result.path)
        offset = bytes(emu.audio_sent).find(pcm)
        assert offset >= 0
        assert offset % 2 == 0
        assert pcm == test_signal(offset // 2, 8000)
        await modem.hang_up()


async def test_call_ending_midway_returns_what_was_recorded(
    emulator: Sim7600Emulator, in_call: Modem, tmp_path: Path
) -> None:
    recording = asyncio.ensure_future(in_call.record(tmp_path / "short.wav", 30.0))
    await asyncio.sleep(0.1)  # 2 s of audio at 20x
    await emulator.remote_hang_up()
    result = await recording
    assert result.ended_by == "call_ended"
    assert 0 < result.duration < 30
    pcm, _ = wav_pcm(result.path)
    assert len(pcm) == result.samples * 2
    assert pcm in bytes(emulator.audio_sent)


async def test_key_press_can_end_a_recording(
    emulator: Sim7600Emulator, in_call: Modem, tmp_path: Path
) -> None:
    recording = asyncio.ensure_future(
        in_call.record(tmp_path / "dtmf.wav", 30.0, stop_digits=DTMF_DIGITS)
    )
    await asyncio.sleep(0.1)
    await emulator.send_dtmf("#")
    result = await recording
    assert result.ended_by == "dtmf"


async def test_a_key_press_keeps_the_audio_held_back_before_it(
    identity: Identity, tmp_path: Path
) -> None:
    """Reads are held while recording, so when a key press ends the recording the last
    frames before it are still in the kernel: they are read and kept, not lost."""
    async with real_time_call(identity) as (emu, modem):
        recording = asyncio.ensure_future(
            modem.record(tmp_path / "dtmf.wav", 30.0, stop_digits=DTMF_DIGITS)
        )
        # Half-way through a hold: reads are held for ten frames from the stream's start.
        await until(lambda: emu.audio_frames_sent >= 35)
        sent_at_key = len(emu.audio_sent)
        await emu.send_dtmf("#")
        result = await recording
        assert result.ended_by == "dtmf"
        pcm, _ = wav_pcm(result.path)
        offset = bytes(emu.audio_sent).find(pcm)
        assert offset >= 0
        # The recording reaches the frame in flight at the key press; a held read
        # would have lost up to ten frames (3 200 bytes).
        assert offset + len(pcm) >= sent_at_key - 320
        await modem.hang_up()


async def test_port_drop_midway_raises_and_leaves_no_file(
    emulator: Sim7600Emulator, in_call: Modem, tmp_path: Path
) -> None:
    recording = asyncio.ensure_future(in_call.record(tmp_path / "lost.wav", 30.0))
    await asyncio.sleep(0.1)
    await emulator.drop_port("audio")
    with pytest.raises(AudioBridgeLostError):
        await recording
    assert files_in(tmp_path) == []  # not even the temporary file
    assert in_call.snapshot.bridge is BridgeState.FAILED
    assert in_call.snapshot.bridge_error == "port_lost"


async def test_a_stalled_stream_fails_the_recording_instead_of_hanging(
    in_call: Modem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio_module, "STALL_SECONDS", 0.3)
    recording = asyncio.ensure_future(in_call.record(tmp_path / "stall.wav", 600.0))
    await asyncio.sleep(0.1)
    await in_call.execute("AT+CPCMREG=0")  # the modem stops streaming; the call goes on
    with pytest.raises(AudioBridgeLostError):
        await recording
    assert files_in(tmp_path) == []
    assert in_call.snapshot.bridge_error == "stalled"
    assert in_call.snapshot.call_state is CallState.ACTIVE


async def test_a_cancelled_recording_leaves_no_file(
    emulator: Sim7600Emulator, in_call: Modem, tmp_path: Path
) -> None:
    recording = asyncio.ensure_future(in_call.record(tmp_path / "gone.wav", 600.0))
    await asyncio.sleep(0.1)
    recording.cancel()
    with pytest.raises(asyncio.CancelledError):
        await recording
    assert files_in(tmp_path) == []
    result = await in_call.record(tmp_path / "next.wav", 0.1)  # the bridge is free again
    assert result.samples == 800


async def test_recording_works_without_hard_links(
    in_call: Modem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", _no_links)
    result = await in_call.record(tmp_path / "fat.wav", 0.1)
    assert files_in(tmp_path) == ["fat.wav"]
    assert result.samples == 800
    with pytest.raises(FileExistsError):
        await in_call.record(tmp_path / "fat.wav", 0.1)
    assert files_in(tmp_path) == ["fat.wav"]


async def test_existing_file_is_not_replaced_unless_asked(in_call: Modem, tmp_path: Path) -> None:
    target = tmp_path / "keep.wav"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        await in_call.record(target, 0.1)
    assert target.read_bytes() == b"precious"
    assert files_in(tmp_path) == ["keep.wav"]
    result = await in_call.record(target, 0.1, overwrite=True)
    assert result.samples == 800


async def test_refused_registration_is_retried(identity: Identity, tmp_path: Path) -> None:
    async with Sim7600Emulator(identity, Variants(cpcmreg_refusals=2), audio_speed=20) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu))
        await modem.connect()
        try:
            await answer(emu, modem)
            assert emu.commands.count("AT+CPCMREG=1") == 3
            await modem.hang_up()
            await until(lambda: modem.snapshot.bridge is BridgeState.STOPPED)
        finally:
            await modem.close()


async def test_plain_unregister_refused_falls_back(identity: Identity) -> None:
    async with Sim7600Emulator(
        identity, Variants(reject_plain_cpcmreg0=True), audio_speed=20
    ) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu))
        await modem.connect()
        try:
            await answer(emu, modem)
            await modem.hang_up()
            await until(lambda: "AT+CPCMREG=0,1" in emu.commands)
        finally:
            await modem.close()


async def test_missing_audio_port_fails_the_bridge_not_the_call(
    emulator: Sim7600Emulator, tmp_path: Path
) -> None:
    events = Recorder()
    modem = Modem(config_for(emulator, audio_url=str(tmp_path / "no-such-port")))
    modem.subscribe(events)
    await modem.connect()
    try:
        await answer_without_bridge(emulator, modem)
        assert modem.snapshot.bridge is BridgeState.FAILED
        assert modem.snapshot.bridge_error == "port_unavailable"
        with pytest.raises(AudioBridgeNotRunningError):
            await modem.record(tmp_path / "x.wav", 1)
        assert files_in(tmp_path) == []
        await modem.hang_up()
    finally:
        await modem.close()


async def answer_without_bridge(emulator: Sim7600Emulator, modem: Modem) -> None:
    await emulator.incoming_call(CALLER, ring_interval=0.5)
    await until(lambda: modem.snapshot.call_state is CallState.INCOMING)
    await modem.answer()
    await until(lambda: modem.snapshot.bridge is BridgeState.FAILED)


async def test_playback_reaches_the_modem_sample_exact(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    pcm = test_signal(1000, 4000)  # 0.5 s
    result = await in_call.play(PcmSource(pcm, 8000))
    assert result.ended_by == "finished"
    assert result.frames == 25
    await until(lambda: len(emulator.audio_received) >= len(pcm))
    assert bytes(emulator.audio_received) == pcm


async def test_playback_pads_the_last_frame_with_silence(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    pcm = test_signal(0, 100)
    await in_call.play(PcmSource(pcm, 8000))
    await until(lambda: len(emulator.audio_received) >= 320)
    assert bytes(emulator.audio_received) == pcm + bytes(320 - len(pcm))


async def test_playback_pacing_does_not_drift(identity: Identity) -> None:
    """60 s of audio on a 6x clock (3000 frames, 3.3 ms apart): the typical lateness of
    the last tenth is within three frames (10 ms) of the first tenth's. A loaded machine
    moves the typical wake-up by a few ms; pacing that drifted (each frame timed from the
    previous one, say) would be late by a wake-up per frame, far more over 3000 frames."""
    speed = 6.0
    async with Sim7600Emulator(identity, audio_speed=speed) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu, audio_speed=speed))
        await modem.connect()
        try:
            await answer(emu, modem)
            emu.audio_received_times.clear()
            pcm = test_signal(0, 60 * 8000)
            result = await modem.play(PcmSource(pcm, 8000))
            await until(lambda: len(emu.audio_received) >= len(pcm))
            assert result.frames == 3000
            interval = 0.02 / speed
            # Lateness of each read against an ideal 20 ms clock started at the first frame;
            # drift is how much the typical lateness grew from the first to the last tenth.
            lateness, received = [], 0
            start = emu.audio_received_times[0][0]
            for when, count in emu.audio_received_times:
                received += count
                lateness.append(when - start - (received // 320 - 1) * interval)
            tenth = max(1, len(lateness) // 10)
            drift = statistics.median(lateness[-tenth:]) - statistics.median(lateness[:tenth])
            assert abs(drift) < 3 * interval
            assert bytes(emu.audio_received)[-640:] == pcm[-640:]
            await modem.hang_up()
        finally:
            await modem.close()


async def test_playback_needs_a_call(modem: Modem) -> None:
    with pytest.raises(AudioBridgeNotRunningError):
        await modem.play(PcmSource(bytes(320), 8000))


async def test_sixteen_khz_bridge(identity: Identity, tmp_path: Path) -> None:
    async with Sim7600Emulator(identity, audio_speed=20) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu, sample_rate=16000))
        await modem.connect()
        try:
            assert emu.settings.cpcmfrm == 1
            await answer(emu, modem)
            result = await modem.record(tmp_path / "wide.wav", 0.5)
            pcm, rate = wav_pcm(result.path)
            assert rate == 16000
            offset = bytes(emu.audio_sent).find(pcm)
            assert offset >= 0
            assert pcm == test_signal(offset // 2, 8000, rate=16000)
            await modem.hang_up()
        finally:
            await modem.close()


async def test_recordings_start_on_a_sample_boundary_whatever_the_reads(
    identity: Identity, tmp_path: Path
) -> None:
    """At full speed reads end anywhere, mid-sample included; every recording must still
    be sample-aligned with the stream."""
    async with Sim7600Emulator(identity, audio_speed=0) as emu:
        await emu.start_pty()
        modem = Modem(config_for(emu))
        await modem.connect()
        try:
            await answer(emu, modem)
            for index in range(5):
                result = await modem.record(tmp_path / f"fast-{index}.wav", 0.5)
                pcm, _ = wav_pcm(result.path)
                offset = bytes(emu.audio_sent).find(pcm)
                assert offset >= 0
                assert offset % 2 == 0
            await modem.hang_up()
        finally:
            await modem.close()


async def test_a_recording_started_mid_sample_drops_the_half_sample() -> None:
    """The bridge counts the stream's bytes; a recording that starts after an odd count
    skips one byte, so its samples are the stream's samples, not byte-shifted ones."""
    stream = test_signal(0, 100)
    recording = audio_module._Recording(samples_wanted=10, stop_digits="", skip=1)
    recording.feed(stream[41:44])  # the stream has already delivered 41 bytes
    recording.feed(stream[44:80])
    assert bytes(recording.buffer) == stream[42:62]


# ---- the caller audio stream (what Assist hears) ----------------------------------------


async def test_caller_stream_yields_whole_frames_exactly_as_sent(
    emulator: Sim7600Emulator, in_call: Modem
) -> None:
    frames: list[bytes] = []
    async with in_call.audio.listen() as stream:
        async for item in stream:
            assert isinstance(item, AudioFrame)
            frames.append(item.pcm)
            if len(frames) == 100:
                break
    assert {len(frame) for frame in frames} == {320}  # 20 ms at 8 kHz
    heard = b"".join(frames)
    offset = bytes(emulator.audio_sent).find(heard)
    assert offset >= 0  # contiguous
    assert offset % 2 == 0  # on a sample boundary
    assert heard == test_signal(offset // 2, len(heard) // 2)


async def test_caller_stream_never_loses_a_key_press_when_the_consumer_lags(
    emulator: Sim7600Emulator, in_call: Modem, events: Recorder
) -> None:
    stream = in_call.audio.listen(max_frames=5)
    await emulator.send_dtmf("1")
    await until(lambda: stream.dropped > 100)  # far more than 5 frames came after it
    await emulator.send_dtmf("2#")
    # The digits reach the stream as they are published; then newer audio queues behind.
    await until(lambda: len(events.of(DtmfEvent)) == 3)
    heard = in_call.audio.stats.bytes_in
    await until(lambda: in_call.audio.stats.bytes_in >= heard + 10 * in_call.audio.frame_bytes)
    stream.end()  # read what is queued
    items = [item async for item in stream]
    stream.close()
    digits = [item.digit for item in items if isinstance(item, DtmfPress)]
    assert digits == ["1", "2", "#"]
    assert stream.dropped > 100  # old audio went, the digits did not
    # What audio is left is the newest, after the last digit, and no more than the bound.
    assert isinstance(items[-1], AudioFrame)
    assert 0 < sum(isinstance(item, AudioFrame) for item in items) <= 5


async def test_caller_stream_ends_with_the_call(emulator: Sim7600Emulator, in_call: Modem) -> None:
    stream = in_call.audio.listen()
    await anext(stream)
    await emulator.remote_hang_up()
    async with asyncio.timeout(5):
        async for _ in stream:
            pass
    assert stream.ended


async def test_caller_stream_needs_a_running_bridge(modem: Modem) -> None:
    with pytest.raises(AudioBridgeNotRunningError):
        modem.audio.listen()


async def test_a_closed_caller_stream_is_no_longer_fed(in_call: Modem) -> None:
    stream = in_call.audio.listen(max_frames=1000)
    await anext(stream)
    stream.close()
    await asyncio.sleep(0.2)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert not in_call.audio._listeners


async def test_a_caller_stream_is_fed_every_frame_not_in_held_batches(
    identity: Identity,
) -> None:
    """At real time the bridge holds reads (a few wake-ups a second) while it only
    records; a listener (Assist) gets each 20 ms frame as it comes instead, so the end of
    what the caller said is seen at once. Held, frames would come in 200 ms batches."""
    async with real_time_call(identity) as (_, modem):
        await asyncio.sleep(0.5)  # past the bridge's first moments (never held)
        stream = modem.audio.listen(max_frames=1000)
        times = []
        async for item in stream:
            if isinstance(item, AudioFrame):
                times.append(item.received)
            if len(times) == 40:
                break
        stream.close()
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[5:])]
    # Frame by frame the typical gap is the 20 ms frame; held, it would be 0 (one read
    # brings ten frames at once) with a 0.2 s gap every ten. A stall of a loaded machine
    # delays a frame or two, and what it held back then comes at once.
    assert 0.01 < statistics.median(gaps) < 0.04
    assert sum(gap >= 0.1 for gap in gaps) <= 2


async def test_a_caller_stream_that_is_not_live_lets_reads_be_held(
    identity: Identity,
) -> None:
    """A listener with no use for the moment frames arrive (Assist before the caller has
    spoken) gets the same frames in held batches, a few wake-ups a second; made live, it
    gets each frame as it comes again. Nothing is lost or reordered either way."""
    async with real_time_call(identity) as (emu, modem):
        await asyncio.sleep(0.5)  # past the bridge's first moments (never held)
        stream = modem.audio.listen(max_frames=1000)
        stream.live = False
        frames: list[AudioFrame] = []

        async def take(count: int) -> list[float]:
            times = []
            async for item in stream:
                if isinstance(item, AudioFrame):
                    frames.append(item)
                    times.append(item.received)
                if len(times) == count:
                    return times
            raise AssertionError("the call ended")

        reads = modem.audio.stats.reads
        held = await take(50)
        assert modem.audio.stats.reads - reads <= 25  # about 5; one a frame would be 50
        assert max(later - earlier for earlier, later in itertools.pairwise(held)) >= 0.1
        stream.live = True
        live = await take(40)
        stream.close()
        gaps = [later - earlier for earlier, later in itertools.pairwise(live[10:])]
        assert statistics.median(gaps) < 0.04
        pcm = b"".join(frame.pcm for frame in frames)
        offset = bytes(emu.audio_sent).find(pcm)
        assert offset >= 0
        assert pcm == test_signal(offset // 2, len(pcm) // 2)
