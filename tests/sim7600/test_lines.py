"""The line splitter: framing, split reads, SMS bodies, the prompt and garbage."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from custom_components.callstack.sim7600.lines import MAX_LINE, PROMPT, Line, LineSplitter


def feed_all(*chunks: bytes) -> list[Line | str]:
    splitter = LineSplitter()
    out: list[Line | str] = []
    for chunk in chunks:
        out += splitter.feed(chunk)
    return out


def test_reply_framing_with_echo_and_crcrlf_urc() -> None:
    assert feed_all(b"ATE0\r\r\nOK\r\n+RXDTMF: 5\r\r\n") == [
        Line("ATE0"),
        Line("OK"),
        Line("+RXDTMF: 5"),
    ]


def test_a_reply_split_anywhere_gives_the_same_lines() -> None:
    data = b"\r\n+CSQ: 18,99\r\n\r\nOK\r\n"
    whole = feed_all(data)
    for cut in range(1, len(data)):
        assert feed_all(data[:cut], data[cut:]) == whole


def test_sms_body_that_reads_ok_is_a_body_not_a_final_code() -> None:
    lines = feed_all(
        b'\r\n+CMGR: "REC UNREAD","+4915550001","","24/01/01,10:00:00+04"\r\nOK\r\n\r\nOK\r\n'
    )
    assert lines == [
        Line('+CMGR: "REC UNREAD","+4915550001","","24/01/01,10:00:00+04"', "OK"),
        Line("OK"),
    ]


def test_empty_sms_body_is_kept() -> None:
    assert feed_all(b'+CMT: "+4915550001","","24/01/01,10:00:00+04"\r\n\r\nOK\r\n') == [
        Line('+CMT: "+4915550001","","24/01/01,10:00:00+04"', ""),
        Line("OK"),
    ]


def test_pdu_status_report_header_carries_a_body_but_text_mode_one_does_not() -> None:
    assert feed_all(b"+CDS: 25\r\n0006\r\n") == [Line("+CDS: 25", "0006")]
    assert feed_all(b'+CDS: 6,12,"+49",145\r\n') == [Line('+CDS: 6,12,"+49",145')]


def test_prompt_without_newline_is_reported() -> None:
    assert feed_all(b"AT+CMGS=23\r\r\n> ") == [Line("AT+CMGS=23"), PROMPT]


def test_over_long_garbage_is_dropped_and_counted() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"x" * (MAX_LINE + 1)) == []
    assert splitter.dropped == 1
    assert splitter.feed(b"\r\nOK\r\n") == [Line("OK")]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_random_bytes_never_raise_and_memory_stays_bounded(chunks: list[bytes]) -> None:
    splitter = LineSplitter()
    for chunk in chunks:
        for item in splitter.feed(chunk):
            assert item == PROMPT or isinstance(item, Line)
    assert len(splitter._buffer) <= MAX_LINE + 64


def test_a_multi_line_ussd_menu_is_one_line() -> None:
    assert feed_all(b'\r\n+CUSD: 1,"Balance 5.00\r\n1. Top up\r\n2. Exit",15\r\n') == [
        Line('+CUSD: 1,"Balance 5.00\n1. Top up\n2. Exit",15')
    ]
