"""Percentiles and the shape every benchmark returns its numbers in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import math
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values_ns: Sequence[int]) -> dict[str, float]:
    """p50, p99, max and count of nanosecond samples, in milliseconds."""
    ms = [value / 1e6 for value in values_ns]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else math.nan,
    }


@dataclass
class Row:
    """One line of the results table."""

    benchmark: str
    metric: str
    value: str
    target: str = ""
    met: bool | None = None  # None: informative, no target
    note: str = ""

    @property
    def status(self) -> str:
        """``met``, ``MISSED`` or empty."""
        if self.met is None:
            return ""
        return "met" if self.met else "MISSED"


@dataclass
class Result:
    """What one benchmark measured: table rows plus the raw figures for the JSON file."""

    name: str
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def row(
        self,
        metric: str,
        value: str,
        target: str = "",
        met: bool | None = None,
        note: str = "",
    ) -> None:
        """Add a row under this benchmark's name."""
        self.rows.append(Row(self.name, metric, value, target, met, note))


def fmt_ms(value: float) -> str:
    """Milliseconds with a precision that suits their size."""
    if math.isnan(value):
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"
