"""Call audio over the USB PCM port (sim7600.md section 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path
import wave

import audioop
import pytest

from sim7600_emulator import TEST_SIGNAL_RATE, Sim7600Emulator, Variants, test_signal
from sim7600_emulator.control import execute
from tests.helpers import until

from .conftest import EmulatorFactory, HostFactory
from .host import HostPort

FRAME = 320  # bytes per 20 ms at 8 kHz


async def connected(emu: Sim7600Emulator, open_host: HostFactory, *setup: str) -> HostPort:
    """The AT port, echo off, `setup` done, with an answered incoming call."""
    at = open_host(emu.at_path)
    for command in ("ATE0", "AT+CMEE=1", *setup):
        await at.command(command)
    await emu.incoming_call("+4915551000001", ring_interval=10)
    await at.command("ATA")
    await at.settle(0.01)
    return at


async def test_cpcmreg_refused_before_connect_and_accepted_after(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    at = open_host(emu.at_path)
    await at.command("ATE0")
    assert await at.command("AT+CPCMREG=1") == b"\r\nERROR\r\n"
    await at.command("AT+CMEE=1")
    assert await at.command("AT+CPCMREG=1") == b"\r\n+CME ERROR: 3\r\n"
    assert await at.command("AT+CPCMREG=?") == b"\r\n+CPCMREG: (0-1),(0-1)\r\n\r\nOK\r\n"
    await emu.incoming_call("+4915551000001")
    assert await at.expect(b"\r\nRING\r\n") == b"\r\nRING\r\n"
    assert await at.command("AT+CPCMREG=1") == b"\r\n+CME ERROR: 3\r\n"  # ringing only
    await at.command("ATA")
    assert await at.command("AT+CPCMREG?") == b"\r\n+CPCMREG: 0\r\n\r\nOK\r\n"
    assert await at.command("AT+CPCMREG=1") == b"\r\nOK\r\n"
    assert await at.command("AT+CPCMREG?") == b"\r\n+CPCMREG: 1\r\n\r\nOK\r\n"


async def test_cpcmreg_refusals_after_connect(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(cpcmreg_refusals=2))
    at = await connected(emu, open_host)
    assert await at.command("AT+CPCMREG=1") == b"\r\n+CME ERROR: 3\r\n"
    assert await at.command("AT+CPCMREG=1") == b"\r\n+CME ERROR: 3\r\n"
    assert await at.command("AT+CPCMREG=1") == b"\r\nOK\r\n"


async def test_pcm_cadence_in_real_time(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    """At speed 1.0 frame k goes out k * 20 ms after the first, by the emulator's own clock
    (the transcript's send times: what the host reads lags by however long the loaded
    machine takes to hand it over). Times are read against the earliest start the frames
    allow, so every lateness is >= 0; a frame held up by a stall is caught up at once, so
    the median lateness stays under a frame, while a stream too fast or too slow by a few
    per cent drifts past it within the second."""
    emu = await make_emulator(audio_speed=1.0)
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    assert await at.command("AT+CPCMREG=1") == b"\r\nOK\r\n"
    await audio.wait_until(lambda: len(audio.data) >= 50 * FRAME, timeout=5)
    assert await at.command("AT+CPCMREG=0") == b"\r\nOK\r\n"
    await audio.wait_until(lambda: len(audio.data) >= len(emu.audio_sent))
    times = [e.time for e in emu.transcript if e.port == "audio" and e.direction == "modem->host"]
    assert len(times) * FRAME == len(emu.audio_sent) == len(audio.data)
    start = min(time - k * 0.02 for k, time in enumerate(times))
    lateness = sorted(time - k * 0.02 - start for k, time in enumerate(times))
    assert lateness[len(lateness) // 2] < 0.02
    assert audio.data == test_signal(0, len(audio.data) // 2)
    assert emu.audio_frames_dropped == 0


async def test_pcm_accelerated_and_stopped_by_each_cpcmreg0_form(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    loop = asyncio.get_running_loop()
    for stop in ("AT+CPCMREG=0", "AT+CPCMREG=0,0", "AT+CPCMREG=0,1"):
        audio.data.clear()
        audio.pos = 0  # what the last settle() consumed is gone with it
        before = len(emu.audio_sent)
        started = loop.time()
        assert await at.command("AT+CPCMREG=1") == b"\r\nOK\r\n"
        await audio.wait_until(lambda: len(audio.data) >= 100 * FRAME)
        assert loop.time() - started >= 98 * 0.002  # 10x speed: never faster than 2 ms a frame
        assert await at.command(stop) == b"\r\nOK\r\n"
        # Everything sent before the stop arrives; then nothing more.
        await audio.wait_until(lambda b=before: len(audio.data) >= len(emu.audio_sent) - b)
        audio.take()
        assert audio.data == test_signal(0, len(audio.data) // 2)  # restarts at sample 0
        assert await audio.settle(0.05) == b""


async def test_pcm_16khz_after_cpcmfrm1(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host, "AT+CPCMFRM=1")
    assert await at.command("AT+CPCMFRM?") == b"\r\n+CPCMFRM: 1\r\n\r\nOK\r\n"
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= 40 * 640)
    await at.command("AT+CPCMREG=0")
    await audio.wait_until(lambda: len(audio.data) >= len(emu.audio_sent))
    assert len(audio.data) % 640 == 0
    assert audio.data == test_signal(0, len(audio.data) // 2, rate=2 * TEST_SIGNAL_RATE)


async def test_call_end_stops_pcm_and_next_call_needs_it_again(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await asyncio.sleep(0.05)
    await emu.remote_hang_up()
    await at.expect(b"NO CARRIER\r\n")
    await audio.wait_until(lambda: len(audio.data) >= len(emu.audio_sent))
    audio.take()
    assert await audio.settle(0.05) == b""
    assert await at.command("AT+CPCMREG?") == b"\r\n+CPCMREG: 0\r\n\r\nOK\r\n"
    first_call = len(audio.data)
    await emu.incoming_call("+4915551000001")
    await at.command("ATA")
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= first_call + FRAME)
    assert audio.data[first_call:][:FRAME] == test_signal(0, FRAME // 2)


async def test_host_audio_is_recorded_with_times(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    audio = open_host(emu.audio_path)
    loop = asyncio.get_running_loop()
    before = loop.time()
    for written, chunk in ((320, b"\x01\x00" * 160), (640, b"\x02\x00" * 160)):
        audio.write(chunk)
        await until(lambda written=written: len(emu.audio_received) >= written)
    assert emu.audio_received == b"\x01\x00" * 160 + b"\x02\x00" * 160
    assert sum(count for _, count in emu.audio_received_times) == 640
    assert all(before <= time <= loop.time() for time, _ in emu.audio_received_times)


async def test_frames_are_dropped_whole_when_the_host_does_not_read(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(audio_speed=50.0)
    audio = open_host(emu.audio_path)
    audio.pause_reading()
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await asyncio.sleep(0.2)  # 10 s of audio: far more than the pty buffers
    assert emu.audio_frames_dropped > 0
    await at.command("AT+CPCMREG=0")
    assert len(emu.audio_sent) == emu.audio_frames_sent * FRAME
    audio.resume_reading()
    await audio.wait_until(lambda: len(audio.data) >= len(emu.audio_sent))
    assert audio.data == emu.audio_sent
    signal = test_signal(0, (emu.audio_frames_sent + emu.audio_frames_dropped) * FRAME // 2)
    frames = {signal[i : i + FRAME] for i in range(0, len(signal), FRAME)}
    received = bytes(audio.data)
    assert all(received[i : i + FRAME] in frames for i in range(0, len(received), FRAME))


async def test_speed_zero_streams_as_fast_as_the_host_drains(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(audio_speed=0)
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= 500 * FRAME, timeout=5)
    await at.command("AT+CPCMREG=0")
    await audio.wait_until(lambda: len(audio.data) >= len(emu.audio_sent))
    assert emu.audio_frames_dropped == 0
    assert audio.data == test_signal(0, len(audio.data) // 2)


async def test_reject_plain_cpcmreg0_variant(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(reject_plain_cpcmreg0=True))
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    assert await at.command("AT+CPCMREG=0") == b"\r\n+CME ERROR: 3\r\n"
    assert await at.command("AT+CPCMREG=0,1") == b"\r\nOK\r\n"


async def test_audio_settings_commands(at: HostPort) -> None:
    assert await at.command("AT+CPCMBANDWIDTH=1,1") == b"AT+CPCMBANDWIDTH=1,1\r\r\nOK\r\n"
    assert await at.command("AT+CPCMBANDWIDTH?") == (
        b"AT+CPCMBANDWIDTH?\r\r\n+CPCMBANDWIDTH: 1,1\r\n\r\nOK\r\n"
    )
    assert await at.command("AT+CPCMFRM=2") == b"AT+CPCMFRM=2\r\r\nERROR\r\n"


def test_test_signal_is_deterministic_loud_and_unique() -> None:
    minute = test_signal(0, 60 * TEST_SIGNAL_RATE)
    assert minute == test_signal(0, 60 * TEST_SIGNAL_RATE)
    assert test_signal(12345, 160) == minute[2 * 12345 : 2 * (12345 + 160)]
    samples = memoryview(minute).cast("h")
    assert 8000 < max(samples) < 9000
    assert -9000 < min(samples) < -8000
    windows = [minute[i : i + FRAME] for i in range(0, len(minute), FRAME)]
    assert len(set(windows)) == len(windows)
    shifted = {minute[i + 2 : i + 2 + FRAME] for i in range(0, len(minute) - FRAME, FRAME)}
    assert not shifted & set(windows)
    assert test_signal(0, 160, rate=16000) != test_signal(0, 160)


def test_pytest_does_not_collect_test_signal() -> None:
    assert test_signal.__test__ is False  # type: ignore[attr-defined]


@pytest.mark.parametrize("speed", [-1.0])
def test_negative_audio_speed_is_rejected(speed: float) -> None:
    with pytest.raises(ValueError, match="audio_speed"):
        Sim7600Emulator(audio_speed=speed)


async def test_the_far_end_speaks_a_wav_file_then_falls_silent(
    emu: Sim7600Emulator, open_host: HostFactory, tmp_path: Path
) -> None:
    """`ctl voice wav`: a 16 kHz stereo WAV becomes the caller's 8 kHz voice, once."""
    path = tmp_path / "caller.wav"
    voice = test_signal(0, 1600)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(audioop.tostereo(voice, 2, 1, 1))
    reply = await execute(emu, {"command": "voice", "args": {"kind": "wav", "path": str(path)}})
    assert reply == {"ok": True, "result": {"voice": "caller.wav"}}
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= 3200 + 10 * FRAME)
    assert bytes(audio.data[:3200]) == voice
    assert bytes(audio.data[3200 : 3200 + 10 * FRAME]) == bytes(10 * FRAME)
    reply = await execute(emu, {"command": "voice", "args": {"kind": "signal"}})
    assert reply["result"] == {"voice": None}


async def test_a_caller_who_leaves_a_message_hangs_up_after_it(
    emu: Sim7600Emulator, open_host: HostFactory, tmp_path: Path
) -> None:
    """`ctl voice wav --hang_up_after S`: the WAV once, S seconds of silence, then the far
    end hangs up (VOICE CALL: END, NO CARRIER); stream time, so it holds at any speed."""
    path = tmp_path / "message.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(test_signal(0, 1600))  # 0.2 s
    looped = {"kind": "wav", "path": str(path), "loop": 1, "hang_up_after": 0.5}
    assert (await execute(emu, {"command": "voice", "args": looped}))["ok"] is False
    args = {"kind": "wav", "path": str(path), "hang_up_after": 0.5}
    assert (await execute(emu, {"command": "voice", "args": args}))["ok"] is True
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await at.expect(b"NO CARRIER", timeout=5.0)
    # 0.2 s of message and 0.5 s of silence went out first (give or take the last frame).
    assert len(emu.audio_sent) >= (1600 + 4000) * 2 - FRAME
    assert emu.status()["calls"] == []


async def test_the_far_end_speaks_a_tone(emu: Sim7600Emulator, open_host: HostFactory) -> None:
    await execute(emu, {"command": "voice", "args": {"kind": "tone", "frequency": 1000.0}})
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= 8 * FRAME)
    samples = memoryview(bytes(audio.data[: 8 * FRAME])).cast("h")
    assert max(samples) > 7900
    assert list(samples[:8]) == list(samples[8:16])  # 1 kHz at 8 kHz: 8 samples a period


async def test_what_the_host_played_is_saved_to_a_wav(
    emu: Sim7600Emulator, open_host: HostFactory, tmp_path: Path
) -> None:
    audio = open_host(emu.audio_path)
    played = test_signal(500, 800)
    audio.write(played)
    await until(lambda: len(emu.audio_received) >= len(played))
    target = tmp_path / "heard.wav"
    reply = await execute(emu, {"command": "save-heard", "args": {"path": str(target)}})
    assert reply["result"] == {"path": str(target), "samples": 800, "seconds": 0.1}
    with wave.open(str(target), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.readframes(800) == played


async def test_a_long_run_forgets_commands_but_keeps_what_the_host_played(
    emu: Sim7600Emulator, open_host: HostFactory, at: HostPort
) -> None:
    """`serve` forgets its history every minute; the audio of the last calls stays for
    `save-heard` (it goes only past AUDIO_HISTORY_BYTES)."""
    audio = open_host(emu.audio_path)
    audio.write(test_signal(0, 800))
    await until(lambda: len(emu.audio_received) >= 1600)
    await at.command("AT")
    emu.clear_history(keep_audio=True)
    assert not emu.commands
    assert len(emu.audio_received) == 1600
    emu.clear_history()
    assert not emu.audio_received


async def test_bad_voices_are_refused(emu: Sim7600Emulator, tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"nope")
    for args in (
        {"kind": "wav"},
        {"kind": "wav", "path": str(tmp_path / "x.wav")},
        {"kind": "tone", "frequency": 5000.0},
    ):
        reply = await execute(emu, {"command": "voice", "args": args})
        assert reply["ok"] is False


async def test_host_audio_is_marked_on_the_far_end_timeline(
    emu: Sim7600Emulator, open_host: HostFactory
) -> None:
    audio = open_host(emu.audio_path)
    at = await connected(emu, open_host)
    await at.command("AT+CPCMREG=1")
    await audio.wait_until(lambda: len(audio.data) >= 5 * FRAME)
    audio.write(bytes(FRAME))
    await until(lambda: len(emu.audio_received) >= FRAME)
    (streamed, count), *_ = emu.audio_received_marks
    assert count == FRAME
    assert streamed >= 5 * FRAME // 2
