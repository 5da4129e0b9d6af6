"""Fuzzing the AT line reader, the URC parser and the SMS decoder with hostile streams."""

from __future__ import annotations

import os
import random
import time

from hypothesis import given, settings, strategies as st
import pytest

from .fuzzing import FRAGMENTS, consume, random_stream

LONG_RUN_STREAMS = int(os.environ.get("CALLSTACK_FUZZ_STREAMS", "1000000"))


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=64)),
        max_size=16,
    )
)
def test_mixed_streams_never_raise(stream: list[bytes]) -> None:
    consume(stream)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=5))
def test_any_cut_of_any_bytes_never_raises(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(cut, len(data)) for cut in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    consume(pieces)


def test_valid_fragments_survive_garbage_around_them() -> None:
    stream = [b"\xff" * 50, b'\r\n+CMTI: "SM",3\r\n', b"x" * 9000, b"\r\nRING\r\n"]
    assert consume(stream) >= 2


@pytest.mark.slow
def test_a_million_random_streams() -> None:
    """The long run (``scripts/fuzz``): a million streams from a seeded generator."""
    rng = random.Random(20261125)
    started = time.perf_counter()
    lines = sum(consume(random_stream(rng)) for _ in range(LONG_RUN_STREAMS))
    elapsed = time.perf_counter() - started
    print(f"{LONG_RUN_STREAMS} streams, {lines} lines in {elapsed:.1f} s")
    assert lines > LONG_RUN_STREAMS
