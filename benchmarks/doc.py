"""What the benchmarks write into BENCHMARKS.md: the results table, the machine lines and the
sections between ``bench:<name>`` markers.

Apart from the benchmarks themselves (which need the baseline libraries of
requirements_bench.txt), so that the writing is tested in every test environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .stats import Row

SECTION = "results"  # BENCHMARKS.md's section for the oldest HA; --section names another


def table(rows: list[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    lines = [
        "| Benchmark | Metric | Result | Target | Status |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cells = (row.benchmark, row.metric, row.value, row.target, row.status)
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


def machine_lines(facts: dict[str, Any], command: str, seconds: float) -> str:
    """The machine and command, as Markdown bullet points."""
    return "\n".join(
        (
            f"- Command: `{command}` ({seconds / 60:.1f} min)",
            f"- Date: {facts['date']}, commit {facts['commit']}",
            f"- Machine: {facts['nproc']} CPUs (`nproc`), {facts['cpu']}, Linux {facts['kernel']}",
            f"- Python {facts['python']}, Home Assistant {facts['home_assistant']}",
        )
    )


def alone_about(command: str, seconds: float, facts: dict[str, Any]) -> str:
    """Where rows from one benchmark run alone come from (``write_rows``' ``about``)."""
    return (
        f"`{command.strip()}` ({seconds / 60:.1f} min), {facts['date']}, commit "
        f"{facts['commit']}, Python {facts['python']}, Home Assistant {facts['home_assistant']}"
    )


def write_doc(path: Path, text: str, section: str = SECTION) -> None:
    """Replace the text between the ``bench:<section>`` markers of ``path``."""
    start_mark, end_mark = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    doc = path.read_text()
    head, _, rest = doc.partition(start_mark)
    _, found, tail = rest.partition(end_mark)
    if not found:
        raise SystemExit(f"{path} has no {start_mark} ... {end_mark} section")
    path.write_text(f"{head}{start_mark}\n{text}\n{end_mark}{tail}")


def write_rows(path: Path, rows: list[Row], about: str, section: str = SECTION) -> None:
    """Put one benchmark's ``rows`` (from a run of that benchmark alone) into the results
    table of a ``bench:<section>`` section, in place of that benchmark's rows, and say
    where they come from (``about``, a bullet line of their own under the machine facts);
    a section without a table gets one."""
    start_mark, end_mark = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    doc = path.read_text()
    body, found, _ = doc.partition(start_mark)[2].partition(end_mark)
    if not found:
        raise SystemExit(f"{path} has no {start_mark} ... {end_mark} section")
    names = {row.benchmark for row in rows}
    prefix = f"- Rows of {', '.join(sorted(names))}: "
    lines = body.strip("\n").splitlines()
    if not any(line.startswith("| Benchmark |") for line in lines):
        lines = ["", *table([]).splitlines()]
    kept = [line for line in lines if not line.startswith(prefix)]
    kept = [line for line in kept if line.split(" | ")[0].removeprefix("| ") not in names]
    bullets = [index for index, line in enumerate(kept) if line.startswith("- ")]
    kept.insert(bullets[-1] + 1 if bullets else 0, prefix + about)
    last = max(index for index, line in enumerate(kept) if line.startswith("|"))
    kept[last + 1 : last + 1] = table(rows).splitlines()[2:]
    write_doc(path, "\n".join(kept), section)
