"""The line splitter: framing, split reads, SMS bodies, the prompt and garbage."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600.lines import (
    MAX_LINE,
    MAX_USSD,
    MAX_USSD_LINES,
    PROMPT,
    Line,
    LineSplitter,
)


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


def test_a_multi_line_ussd_menu_with_bare_line_feeds_is_one_line() -> None:
    assert feed_all(b'\r\n+CUSD: 1,"Menu\nAT&T Prepaid\n1 Balance",15\r\n\r\nOK\r\n') == [
        Line('+CUSD: 1,"Menu\nAT&T Prepaid\n1 Balance",15'),
        Line("OK"),
    ]


def test_a_stray_quote_in_a_ussd_text_ends_at_the_line_end() -> None:
    """Quotes are not counted: the text ends where ``",<dcs>`` ends the line."""
    assert feed_all(b'\r\n+CUSD: 0,"Say "hi",15\r\n\r\nOK\r\n\r\nRING\r\n') == [
        Line('+CUSD: 0,"Say "hi",15'),
        Line("OK"),
        Line("RING"),
    ]


def test_a_multi_line_menu_with_a_stray_quote_is_still_one_line() -> None:
    assert feed_all(b'+CUSD: 1,"Reply "1\r\nfor "more",15\r\n') == [
        Line('+CUSD: 1,"Reply "1\nfor "more",15')
    ]


@pytest.mark.parametrize(
    "line",
    [
        b"OK",
        b"ERROR",
        b"+CME ERROR: 100",
        b"+CMS ERROR: 500",
        b"RING",
        b"NO CARRIER",
        b'+CLIP: "+4915550001",145,,,,0',
        b'+CMTI: "SM",3',
        b"+CSQ: 18,99",
        b"+SMS FULL",
        b"VOICE CALL: END: 000010",
        b"MISSED_CALL: 10:00AM +4915550001",
        b"PB DONE",
        b"AT+CSQ",
    ],
)
def test_a_ussd_text_that_never_closes_swallows_no_urc_or_final_code(line: bytes) -> None:
    assert feed_all(b'\r\n+CUSD: 0,"Balance 5\r\n\r\n' + line + b"\r\n") == [
        Line('+CUSD: 0,"Balance 5'),
        Line(line.decode()),
    ]


def test_an_unclosed_ussd_text_is_held_until_flushed() -> None:
    """Held back for its next line; whoever reads the port flushes it once it goes quiet."""
    splitter = LineSplitter()
    assert splitter.feed(b'\r\n+CUSD: 2,"Welcome\r\n') == []
    assert splitter.holding
    assert splitter.flush() == [Line('+CUSD: 2,"Welcome')]
    assert not splitter.holding
    assert splitter.flush() == []


def test_the_sms_prompt_is_not_reported_before_a_held_ussd_line() -> None:
    assert feed_all(b'+CUSD: 2,"Hi\r\n> ') == [Line('+CUSD: 2,"Hi'), PROMPT]


def test_an_unclosed_ussd_text_joins_a_bounded_number_of_lines() -> None:
    lines = feed_all(b'+CUSD: 1,"Menu\r\n' + b"more text\r\n" * (MAX_USSD_LINES + 5))
    assert all(len(item.text) <= MAX_USSD for item in lines if isinstance(item, Line))
    assert lines[0] == Line('+CUSD: 1,"Menu' + "\nmore text" * (MAX_USSD_LINES - 1))
    assert lines[1:] == [Line("more text")] * 6


# A USSD text as a hostile network or modem may send it: quotes, commas, digits, line breaks.
_ussd_texts = st.text(alphabet=st.sampled_from('ab "",15\r\n'), max_size=40)
_alone = st.sampled_from(
    ["OK", "ERROR", "+CME ERROR: 3", "RING", "NO CARRIER", '+CMTI: "SM",1', "+CSQ: 9,99"]
)
_ussd_lines = st.builds(
    lambda status, text, tail: f'+CUSD: {status},"{text}{tail}',
    st.integers(0, 5),
    _ussd_texts,
    st.sampled_from(['",15', '",72', "", '"', ",15"]),
)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.one_of(_alone, _ussd_lines), min_size=1, max_size=8),
    st.lists(st.integers(1, 400), max_size=6),
)
def test_every_final_code_and_urc_comes_out_on_its_own(sent: list[str], cuts: list[int]) -> None:
    """Whatever the USSD texts hold and however reads split them, no line that stands
    alone (a final code, a URC) is ever taken into another line, nor lost."""
    data = b"".join(f"\r\n{line}\r\n".encode() for line in sent)
    chunks, start = [], 0
    for cut in sorted(cuts):
        chunks.append(data[start:cut])
        start = max(start, cut)
    chunks.append(data[start:])
    splitter = LineSplitter()
    out = [item for chunk in chunks for item in splitter.feed(chunk)] + splitter.flush()
    texts = [item.text for item in out if isinstance(item, Line)]
    alone = [line for line in sent if not line.startswith("+CUSD")]
    assert [text for text in texts if text in alone] == alone
    assert all(len(text) <= MAX_LINE for text in texts)
