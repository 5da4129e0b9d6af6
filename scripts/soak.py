"""Soak run: many calls with recordings and many SMS through the emulator, in a row.

Every other call gets a second caller who waits during the recording and then gives up
or is rejected; the first call, its recording and its audio must not notice.

Checks that nothing fails and nothing leaks: asyncio tasks, file descriptors, threads,
temporary files and memory (RSS) are compared before and after. SMS arrive in bursts;
every ``--reload-every``-th burst the driver is closed in its middle (as Home Assistant
unloads or reloads the entry) and a new one connects with the same journal, and every
SMS must still be delivered exactly once. Usage:
``scripts/soak [--calls 1000] [--sms 10000] [--reload-every 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import gc
import os
from pathlib import Path
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.callstack.sim7600.calls import HangUpTarget
from custom_components.callstack.sim7600.events import CallEvent, ModemEvent, SmsReceived
from custom_components.callstack.sim7600.model import CallState
from custom_components.callstack.sim7600.modem import Modem, ModemConfig
from custom_components.callstack.sim7600.sms_state import MemoryJournal
from sim7600_emulator import Identity, Sim7600Emulator

CALLER = "+4915550000001"
SECOND_CALLER = "+4915550000002"
WAITING_EVERY = 2  # every other call has a waiting second caller
SPEED = 50.0  # audio runs 50x real time: a 2 s recording takes 40 ms
RSS_GROWTH_LIMIT_MB = 20.0
SMS_BURST = 10  # messages that reach the SIM back to back before the soak waits for them
JOURNAL_WRITE_SECONDS = 0.001  # what a small write to an SD card takes


class WritingJournal(MemoryJournal):
    """A memory journal whose save yields to the loop, as a write in the executor does:
    a close can land in the middle of it."""

    async def save(self) -> bool:
        await asyncio.sleep(JOURNAL_WRITE_SECONDS)
        return await super().save()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def own_threads() -> int:
    """Threads other than the default executor's workers (which start lazily, up to a cap)."""
    return sum(not thread.name.startswith("asyncio_") for thread in threading.enumerate())


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


async def soak(calls: int, messages: int, reload_every: int) -> int:
    emulator = Sim7600Emulator(identity=Identity.seeded(7), audio_speed=SPEED)
    await emulator.start_pty()
    journal = WritingJournal()
    config = ModemConfig(at_url=emulator.at_link, audio_url=emulator.audio_link, audio_speed=SPEED)
    modem = Modem(config, sms_journal=journal)
    received = [0]  # counts, not the messages: keeping them would look like a leak
    deliveries = bytearray(messages)  # how often each SMS was delivered
    waiting = {"reported": 0, "ended": 0, "first_call_cut": 0}

    def on_event(event: ModemEvent) -> None:
        if isinstance(event, SmsReceived):
            received[0] += 1
            index = int(event.message.text.rpartition(" ")[2])
            deliveries[index] = min(deliveries[index] + 1, 255)
        elif isinstance(event, CallEvent) and event.number == SECOND_CALLER:
            waiting["reported" if event.kind == "waiting" else "ended"] += 1
        elif isinstance(event, CallEvent) and event.kind == "ended":
            waiting["first_call_cut"] += event.reason != "local_hang_up"

    modem.subscribe(on_event)
    await modem.connect()
    folder = Path(tempfile.mkdtemp(prefix="callstack-soak-"))
    # Warm up once so lazily created objects do not count as growth.
    await one_call(emulator, modem, folder, 0)
    (folder / "call-0.wav").unlink()
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    fds_before, threads_before, rss_before = open_fds(), own_threads(), rss_mb()
    started = time.perf_counter()

    for index in range(1, calls + 1):
        await one_call(emulator, modem, folder, index)
        (folder / f"call-{index}.wav").unlink()
        emulator.clear_history()  # the emulator shares the process: keep its logs out
        if index % 100 == 0:
            print(f"  calls: {index}/{calls}  rss {rss_mb():.1f} MB", flush=True)
    call_seconds = time.perf_counter() - started

    started = time.perf_counter()
    reloads = interrupted = recognised = 0
    for index in range(messages):
        await emulator.deliver_sms(CALLER, f"soak message {index}")
        burst, place = divmod(index, SMS_BURST)
        if reload_every and burst % reload_every == 0 and place == SMS_BURST // 2:
            # Half the burst is on the SIM, partly read, partly journalled: unload.
            # Close at a different point of the handling each time (0-20 ms in).
            await asyncio.sleep(0.02 * (burst * 0.618 % 1))
            await modem.close()
            interrupted += bool(journal.state.outbox)
            recognised += modem.sms.duplicates
            modem = Modem(config, sms_journal=journal)
            modem.subscribe(on_event)
            await modem.connect()
            reloads += 1
        if place == SMS_BURST - 1 or index == messages - 1:
            try:
                await wait_for(lambda index=index: received[0] > index)
            except TimeoutError:
                print(f"  sms: burst {burst} never fully arrived; stopping", flush=True)
                break
            emulator.clear_history()
        if (index + 1) % 1000 == 0:
            print(f"  sms: {index + 1}/{messages}  rss {rss_mb():.1f} MB", flush=True)
    sms_seconds = time.perf_counter() - started

    gc.collect()
    await asyncio.sleep(0.2)
    report = {
        "calls": calls,
        "calls_per_second": round(calls / call_seconds, 1),
        "waiting_callers": len(range(1, calls + 1, WAITING_EVERY)),
        "waiting_reported": waiting["reported"],
        "waiting_ended": waiting["ended"],
        "first_call_cut": waiting["first_call_cut"],
        "sms": messages,
        "sms_per_second": round(messages / sms_seconds, 1),
        "sms_delivered": received[0],
        "sms_reloads": reloads,
        # Reloads that cut a delivery between journal and event (delivered from the journal
        # later), and parts found on the SIM again that the journal knew (deleted, not
        # delivered twice).
        "sms_reload_outbox": interrupted,
        "sms_reload_known": recognised + modem.sms.duplicates,
        "sms_missing": deliveries.count(0),
        "sms_doubled": sum(count > 1 for count in deliveries),
        "sms_left_on_sim": len(emulator.sms_storage),
        "tasks_growth": len(asyncio.all_tasks()) - tasks_before,
        "fd_growth": open_fds() - fds_before,
        "thread_growth": own_threads() - threads_before,
        "rss_growth_mb": round(rss_mb() - rss_before, 1),
        "files_left": sorted(path.name for path in folder.iterdir()),
    }
    await modem.close()
    await emulator.stop()
    folder.rmdir()
    for key, value in report.items():
        print(f"{key:>18}: {value}")
    failures = [
        report["waiting_reported"] != report["waiting_callers"],
        report["waiting_ended"] != report["waiting_callers"],
        report["first_call_cut"] != 0,
        report["sms_delivered"] != messages,
        report["sms_missing"] != 0,
        report["sms_doubled"] != 0,
        report["sms_left_on_sim"] != 0,
        report["tasks_growth"] > 0,
        report["fd_growth"] > 0,
        report["thread_growth"] > 0,
        report["rss_growth_mb"] > RSS_GROWTH_LIMIT_MB,
        report["files_left"] != [],
    ]
    print("soak:", "FAILED" if any(failures) else "passed")
    return 1 if any(failures) else 0


async def one_call(emulator: Sim7600Emulator, modem: Modem, folder: Path, index: int) -> None:
    await emulator.incoming_call(CALLER, ring_interval=1.0)
    await wait_for(lambda: modem.calls.state is CallState.INCOMING)
    await modem.answer()
    await wait_for(lambda: modem.audio.running)
    recording = asyncio.ensure_future(modem.record(folder / f"call-{index}.wav", 2.0))
    if index % WAITING_EVERY == 1:
        await second_caller(emulator, modem, give_up=index % (2 * WAITING_EVERY) == 1)
    result = await recording
    assert result.samples == 16000, result
    await modem.hang_up()
    await wait_for(lambda: modem.calls.state is CallState.IDLE and not modem.audio.running)


async def second_caller(emulator: Sim7600Emulator, modem: Modem, *, give_up: bool) -> None:
    """A second caller waits during the call, then gives up or is rejected."""
    await emulator.incoming_call(SECOND_CALLER, ring_interval=1.0)
    await wait_for(lambda: modem.calls.waiting_call is not None)
    if give_up:
        await emulator.missed_call(2)
    else:
        await modem.hang_up(HangUpTarget.WAITING)
    await wait_for(lambda: modem.calls.waiting_call is None)
    assert modem.calls.state is CallState.ACTIVE
    assert modem.audio.running


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--sms", type=int, default=10000)
    parser.add_argument(
        "--reload-every",
        type=int,
        default=10,
        help="close and reconnect the driver in the middle of every Nth SMS burst (0: never)",
    )
    args = parser.parse_args()
    return asyncio.run(soak(args.calls, args.sms, args.reload_every))


if __name__ == "__main__":
    sys.exit(main())
