"""Benchmark 7: import time (``python -X importtime``) and resident memory.

Import time, each the median of several fresh interpreters:

* driver: ``custom_components.callstack.sim7600.modem`` with the integration package
  stubbed, so Home Assistant is not imported (the driver does not need it); includes
  serialx.
* integration on a running HA: the integration and its platform modules after the HA
  modules every installation has loaded by then (core, config entries, helpers, and the
  sensor, binary_sensor, event and notify platforms) are imported already.
* each serial library alone (serialx, and serial_asyncio_fast with pyserial, the one before
  it), after asyncio.
* our own code only: the sum of the "self" times of every ``custom_components.callstack``
  module in that import.

Memory and the first setup come from :mod:`benchmarks.clean_process`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from typing import Any

from . import ROOT

DRIVER = f"""
import sys, types
package = types.ModuleType("custom_components.callstack")
package.__path__ = [{str(ROOT / "custom_components" / "callstack")!r}]
sys.modules["custom_components.callstack"] = package
import custom_components.callstack.sim7600.modem
"""

HA_LOADED = """
import homeassistant.core, homeassistant.config_entries, homeassistant.bootstrap
import homeassistant.helpers.config_validation, homeassistant.helpers.entity_platform
import homeassistant.helpers.update_coordinator, homeassistant.helpers.storage
import homeassistant.components.sensor, homeassistant.components.binary_sensor
import homeassistant.components.event, homeassistant.components.notify
"""

INTEGRATION = """
import custom_components.callstack
import custom_components.callstack.sensor, custom_components.callstack.binary_sensor
import custom_components.callstack.event, custom_components.callstack.notify
"""


def parse_importtime(stderr: str) -> list[tuple[str, int, int]]:
    """``(module, self µs, cumulative µs)`` for each line of ``-X importtime`` output."""
    rows: list[tuple[str, int, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3:
            continue
        name = fields[2].rstrip().removeprefix(" ")  # nesting shows as further indentation
        rows.append((name, int(fields[0]), int(fields[1])))
    return rows


async def _importtime(preload: str, code: str) -> dict[str, float]:
    """Import ``code`` (timed) after ``preload`` (not counted) in a fresh interpreter."""
    script = f"{preload}\nimport sys\nsys.stderr.write('----BENCH----\\n')\n{code}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-c",
        script,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(err.decode()[-2000:])
    text = err.decode().split("----BENCH----", 1)[1]
    rows = parse_importtime(text)
    # Top-level imports are the lines with no indentation in the module column.
    total = sum(cumulative for name, _, cumulative in rows if not name.startswith(" "))
    ours = sum(own for name, own, _ in rows if name.strip().startswith("custom_components"))
    return {"total_ms": total / 1000, "ours_ms": ours / 1000}


async def import_times(runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh interpreters for the driver and the integration."""
    driver = [await _importtime("", DRIVER) for _ in range(runs)]
    integration = [await _importtime(HA_LOADED, INTEGRATION) for _ in range(runs)]
    # The serial library alone, asyncio preloaded (every HA has it): the one before serialx too.
    libraries = {
        name: [await _importtime("import asyncio", f"import {name}") for _ in range(runs)]
        for name in ("serialx", "serial_asyncio_fast")
    }
    return {
        "driver_ms": statistics.median(item["total_ms"] for item in driver),
        **{
            f"{name}_ms": statistics.median(item["total_ms"] for item in samples)
            for name, samples in libraries.items()
        },
        "integration_ms": statistics.median(item["total_ms"] for item in integration),
        "ours_self_ms": statistics.median(item["ours_ms"] for item in integration),
        "runs": runs,
    }
