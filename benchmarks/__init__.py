"""Callstack's benchmark suite: ``python -m benchmarks`` (or ``scripts/bench``); see BENCHMARKS.md.

The repository root goes on ``sys.path`` first, so Home Assistant's loader finds this
repository's ``custom_components`` and the emulator package.
"""

from __future__ import annotations

from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
