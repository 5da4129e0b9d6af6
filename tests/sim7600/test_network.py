"""Parsers of network, SIM and identity replies."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600.model import RegistrationStatus, SimStatus
from custom_components.callstack.sim7600.network import (
    Operator,
    Signal,
    bare_digits,
    best_registration,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_spic,
    registration_status,
    strip_prefix,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("+CSQ: 16,99", Signal(16, None, -81)),
        ("+CSQ: 0,0", Signal(0, 0, -113)),
        ("+CSQ: 31,7", Signal(31, 7, -51)),
        ("+CSQ: 99,99", Signal(99, None, None)),
        ("+CSQ: 45,99", None),
        ("+CSQ: x", None),
    ],
)
def test_csq(line: str, expected: Signal | None) -> None:
    assert parse_csq([line]) == expected


def test_cops_name_and_technology() -> None:
    assert parse_cops(['+COPS: 0,0,"T-Mobile EIOTCLUB",7']) == Operator("T-Mobile EIOTCLUB", "LTE")
    assert parse_cops(['+COPS: 0,2,"310260",2']) == Operator("310260", "UMTS")
    assert parse_cops(["+COPS: 0"]) == Operator(None, None)
    assert parse_cops([]) is None


def test_registration_prefers_the_registered_view() -> None:
    # A data-only SIM: CREG denied while CEREG roams (shared/sim7600.md section 8).
    assert (
        best_registration(registration_status(3), registration_status(5))
        is RegistrationStatus.ROAMING
    )
    assert registration_status(None) is RegistrationStatus.UNKNOWN
    assert best_registration() is RegistrationStatus.UNKNOWN


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("+CPIN: READY", SimStatus.READY),
        ("+CPIN: SIM PIN", SimStatus.PIN_REQUIRED),
        ("+CPIN: SIM PUK", SimStatus.PUK_REQUIRED),
        ("+CPIN: PH-NET PIN", SimStatus.ERROR),
    ],
)
def test_cpin(line: str, status: SimStatus) -> None:
    assert parse_cpin([line]) is status


def test_identity_replies() -> None:
    assert strip_prefix(["+CGMR: LE20B03SIM7600M22"], "+CGMR:") == "LE20B03SIM7600M22"
    assert strip_prefix(["SIMCOM_SIM7600G-H"], "+CGMM:") == "SIMCOM_SIM7600G-H"
    assert bare_digits(["861234567890123"]) == "861234567890123"
    assert bare_digits(["+ICCID: 8949001234567890123"], "+ICCID:") == "8949001234567890123"
    assert bare_digits(["not an imei"]) is None
    assert parse_spic(["+SPIC: 2,10,3,10"]) == 2


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_random_replies_never_raise(payload: str) -> None:
    parse_csq(["+CSQ:" + payload])
    parse_cops(["+COPS:" + payload])
    parse_cpin(["+CPIN:" + payload])
    parse_spic(["+SPIC:" + payload])
