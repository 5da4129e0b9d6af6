"""The module's real-time clock and the network's time, in the format AT commands use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import time

NETWORK_TIMEZONE = timezone(timedelta(hours=2))
"""Zone of network time (SMS timestamps, synced clock): not UTC, so drivers must honour it."""

_UNSYNCED_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)


class ModemClock:
    """Network time once synced; otherwise the 1980 GPS epoch plus uptime (+CCLK "80/01/06,...")."""

    def __init__(self, unsynced: bool) -> None:
        self._unsynced = unsynced
        self._boot = time.monotonic()

    def restart(self) -> None:
        """A reboot sets an unsynced clock back to the epoch."""
        self._boot = time.monotonic()

    def now(self) -> datetime:
        """The time the module believes it is."""
        if self._unsynced:
            return _UNSYNCED_EPOCH + timedelta(seconds=int(time.monotonic() - self._boot))
        return network_time()


def network_time() -> datetime:
    """Now, in the network's zone, to the second (as an SMS service centre stamps it)."""
    return datetime.now(NETWORK_TIMEZONE).replace(microsecond=0)


def format_modem_time(moment: datetime) -> str:
    """`yy/MM/dd,hh:mm:ss±zz` with the zone in quarter hours, as +CCLK and text-mode SMS use."""
    offset = moment.utcoffset() or timedelta()
    quarters = int(offset.total_seconds()) // 900
    sign = "-" if quarters < 0 else "+"
    return f"{moment:%y/%m/%d,%H:%M:%S}{sign}{abs(quarters):02d}"
