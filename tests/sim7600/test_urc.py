"""URC parsing: every SIM7600 URC family, the unverified variants, and hostile input."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600.lines import Line
from custom_components.callstack.sim7600.urc import (
    BootStage,
    CallerId,
    CallListEntry,
    CallTerminated,
    CallWaiting,
    DtmfReceived,
    MissedCall,
    Registration,
    Ring,
    SimState,
    SmsPdu,
    SmsStorageFull,
    SmsStored,
    UssdResponse,
    VoiceCallBegin,
    VoiceCallEnd,
    parse_call_list,
    parse_urc,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("RING", Ring()),
        ("+CRING: VOICE", Ring("VOICE")),
        ('+CLIP: "+4915550001",145,,,,0', CallerId("+4915550001", 145, 0)),
        ('+CLIP: "",128,,,,1', CallerId(None, 128, 1)),
        ("VOICE CALL: BEGIN", VoiceCallBegin()),
        ("VOICE CALL: END: 000034", VoiceCallEnd(34)),
        ("VOICE CALL: END: 000100", VoiceCallEnd(60)),  # hhmmss when it fits
        ("VOICE CALL: END: 000099", VoiceCallEnd(99)),  # seconds otherwise
        ("VOICE CALL: END", VoiceCallEnd(None)),
        ("NO CARRIER", CallTerminated("no_carrier")),
        ("BUSY", CallTerminated("busy")),
        ("NO ANSWER", CallTerminated("no_answer")),
        ("MISSED_CALL: 11:53AM +4915550001", MissedCall("+4915550001")),
        (
            '+CLCC: 1,1,4,0,0,"+4915550001",145',
            CallListEntry(1, True, 4, 0, False, "+4915550001", 145),
        ),
        ('+CLCC: 1,0,6,0,0,"0301234",129', CallListEntry(1, False, 6, 0, False, "0301234", 129)),
        (
            '+CLCC: 2,1,5,0,0,"987654321",161',
            CallListEntry(2, True, 5, 0, False, "987654321", 161),
        ),
        ('+CCWA: "+393351391306",145,1', CallWaiting("+393351391306", 145)),  # ATC3 / MM
        ('+CCWA: "139123",129,1,""', CallWaiting("139123", 129)),  # SIM900 adds alpha
        ('+CCWA: "+4915550001",145,1,"",0,"",0', CallWaiting("+4915550001", 145)),
        ('+CCWA: "",128,1', CallWaiting(None, 128)),  # withheld
        ("+RXDTMF: 5", DtmfReceived("5")),
        ("+RXDTMF: #", DtmfReceived("#")),
        ('+CMTI: "SM",3', SmsStored("SM", 3)),
        ('+CMTI: "ME",12', SmsStored("ME", 12)),
        ('+CDSI: "SR",2', SmsStored("SR", 2, status_report=True)),
        ('+CUSD: 0,"Balance 5.00",15', UssdResponse(0, "Balance 5.00", 15)),
        ("+CUSD: 4", UssdResponse(4, None, None)),
        # The text runs from the first quote to the one before ",<dcs>": quotes and commas
        # inside it are text (a reply need not balance its quotes).
        ('+CUSD: 0,"Say "hi",15', UssdResponse(0, 'Say "hi', 15)),
        ('+CUSD: 0,"5,00 EUR, valid",15', UssdResponse(0, "5,00 EUR, valid", 15)),
        ('+CUSD: 1,"Menu\n1 "Top up"\n2 Exit",15', UssdResponse(1, 'Menu\n1 "Top up"\n2 Exit', 15)),
        ('+CUSD: 0,"No dcs"', UssdResponse(0, "No dcs", None)),
        ('+CUSD: 2,"Never closed', UssdResponse(2, "Never closed", None)),
        ("+CREG: 5", Registration("CREG", 5)),
        ('+CEREG: 1,"3F29","89815063",7', Registration("CEREG", 1, "3F29", "89815063", 7)),
        ("+CEREG: 2,1", Registration("CEREG", 1)),  # read reply: <n>,<stat>
        ('+CGREG: 0,5,"1234","5678",7', Registration("CGREG", 5, "1234", "5678", 7)),
        ("+CPIN: READY", SimState("READY")),
        ("+CPIN: SIM PIN", SimState("SIM PIN")),
        ("+SIMCARD: NOT AVAILABLE", SimState("NOT AVAILABLE")),
        ("RDY", BootStage("RDY")),
        ("SMS DONE", BootStage("SMS DONE")),
        ("PB DONE", BootStage("PB DONE")),
        ("+SMS FULL", SmsStorageFull()),
    ],
)
def test_known_urcs(line: str, expected: object) -> None:
    assert parse_urc(Line(line)) == expected


def test_sms_pdu_urcs_need_a_hex_body() -> None:
    assert parse_urc(Line("+CMT: ,24", "0791AB")) == SmsPdu("0791AB")
    assert parse_urc(Line("+CDS: 25", "0006")) == SmsPdu("0006", status_report=True)
    assert parse_urc(Line("+CMT: ,24", "not hex")) is None


@pytest.mark.parametrize(
    "line",
    [
        "",
        "OK",
        "+CLCC: x",
        "+CLCC: 1,3,0,0,0",
        "+CREG: 9",
        "+CMTI: 4",
        "+RXDTMF: Z",
        "Hello",
        "+CCWA: 1,1",  # the reply to the AT+CCWA=1,2 query, not a waiting call
        '+CCWA: "+4915550001",145,4',  # a fax call
        '+CCWA: "+4915550001"',
    ],
)
def test_unknown_or_broken_lines_are_not_urcs(line: str) -> None:
    assert parse_urc(Line(line)) is None


def test_call_list_skips_broken_entries() -> None:
    lines = ['+CLCC: 1,0,0,0,0,"+4915550001",145', "+CLCC: garbage", "OK?"]
    assert [entry.stat for entry in parse_call_list(lines)] == [0]


_PREFIXES = st.sampled_from(
    [
        "RING",
        "+CLIP:",
        "+CLCC:",
        "+CCWA:",
        "+CMTI:",
        "+CMT:",
        "+CDS:",
        "+CUSD:",
        "+CREG:",
        "+CEREG:",
        "+CPIN:",
        "VOICE CALL: END:",
        "MISSED_CALL:",
        "+RXDTMF:",
        "+SIMCARD:",
        "+CRING:",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(_PREFIXES, st.text(max_size=80), st.none() | st.text(max_size=40))
def test_random_payloads_never_raise(prefix: str, payload: str, body: str | None) -> None:
    parse_urc(Line(prefix + payload, body))


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=6))
def test_random_call_lists_never_raise(lines: list[str]) -> None:
    parse_call_list(["+CLCC:" + line for line in lines])
