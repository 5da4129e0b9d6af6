"""BENCHMARKS.md's results sections: a benchmark run alone replaces its own rows only."""

from __future__ import annotations

from pathlib import Path

from benchmarks.doc import table, write_rows
from benchmarks.stats import Row

DOC = """# Benchmarks

<!-- bench:results:start -->
- Command: `scripts/bench` (7.0 min)
- Date: 2026-12-01 09:42 UTC, commit 427dcd4

{table}
<!-- bench:results:end -->

<!-- bench:results-newest:start -->
Not run yet.
<!-- bench:results-newest:end -->

## Targets
"""


def rows(benchmark: str, *values: str) -> list[Row]:
    return [Row(benchmark, f"metric {value}", value) for value in values]


def section(doc: str, name: str) -> str:
    after_start = doc.partition(f"<!-- bench:{name}:start -->")[2]
    return after_start.partition(f"<!-- bench:{name}:end -->")[0]


def test_a_benchmark_alone_replaces_its_rows_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    full = rows("1 URC", "a") + rows("9 Assist", "old") + rows("10 Later", "b")
    path.write_text(DOC.format(table=table(full)))
    write_rows(path, rows("9 Assist", "new one", "new two"), "first run")
    write_rows(path, rows("9 Assist", "newer"), "second run")
    doc = path.read_text()
    results = section(doc, "results")
    assert "| 1 URC | metric a |" in results
    assert "| 10 Later | metric b |" in results
    assert "old" not in results
    assert "new one" not in results
    assert results.count("| 9 Assist |") == 1
    assert "| 9 Assist | metric newer | newer |" in results
    # Where the rows come from, once, under the full run's facts.
    assert results.count("- Rows of 9 Assist: ") == 1
    assert "- Rows of 9 Assist: second run\n" in results
    assert doc.endswith("## Targets\n")
    assert "Not run yet." in section(doc, "results-newest")


def test_a_section_without_a_table_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(DOC.format(table=table([])))
    write_rows(path, rows("9 Assist", "x"), "alone", "results-newest")
    newest = section(path.read_text(), "results-newest")
    assert "Not run yet." not in newest
    assert newest.strip().splitlines() == [
        "- Rows of 9 Assist: alone",
        "",
        "| Benchmark | Metric | Result | Target | Status |",
        "| --- | --- | --- | --- | --- |",
        "| 9 Assist | metric x | x |  |  |",
    ]
