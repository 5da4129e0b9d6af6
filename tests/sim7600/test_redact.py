"""The redaction helper: what may and may not reach a log."""

from __future__ import annotations

import pytest

from custom_components.callstack.sim7600.redact import RedactedLine, mask_number, redact_line

IMEI = "861234567890123"
NUMBER = "+4915550001234"


@pytest.mark.parametrize(
    "line",
    [
        f'+CLIP: "{NUMBER}",145,,,,0',
        f"MISSED_CALL: 11:53AM {NUMBER}",
        f'+CLCC: 1,1,4,0,0,"{NUMBER}",145',
        IMEI,
        f"IMEI: {IMEI}",
        f"ATD{NUMBER};",
        'AT+CPIN="1234"',
        '+CUSD: 0,"Your balance is 5.00",15',
        "Meet me at 5 pm",
        "+CMT: ,24",
        f'AT+CMGS="{NUMBER}"',
        "+CGPSINFO: 5231.200480,N,01324.297240,E,011226,101010.0,34.0,0.0,",
        "+CGNSSINFO: 3,07,00,00,5231.200480,N,01324.297240,E,011226,101010.0,34.0,0.0,,1.4",
        "$GPGGA,101010.00,5231.200480,N,01324.297240,E,1,07,0.9,34.0,M,0.0,M,,*5C",
    ],
)
def test_private_payloads_are_reduced_to_prefix_and_length(line: str) -> None:
    redacted = redact_line(line)
    for secret in (IMEI, NUMBER, NUMBER[1:], "1234", "balance", "Meet", "5231", "1324"):
        assert secret not in redacted


@pytest.mark.parametrize(
    "line", ["OK", "RING", "+CSQ: 18,99", "AT+CSQ", "+CMTI: 3", "VOICE CALL: BEGIN", "AT+CPIN?"]
)
def test_safe_lines_stay_readable(line: str) -> None:
    assert redact_line(line) == line


@pytest.mark.parametrize(
    "line", ["+RXDTMF: 5", "AT+VTS=1,1", "AT+CPIN=1234", "+CGPSINFO: 52,N,13,E"]
)
def test_key_presses_and_pins_never_show(line: str) -> None:
    assert redact_line(line).endswith(" chars>")


def test_payload_is_replaced_by_its_length() -> None:
    assert redact_line(f'+CLIP: "{NUMBER}",145,,,,0') == "+CLIP:<26 chars>"
    assert redact_line(b"\xff\xfe garbage") == "<10 chars>"


def test_numbers_keep_only_two_digits() -> None:
    assert mask_number(NUMBER) == "***34"
    assert mask_number(None) == "unknown"
    assert mask_number("12") == "***"


def test_lazy_wrapper_formats_the_redacted_form() -> None:
    assert str(RedactedLine(f"ATD{NUMBER};")) == "ATD<15 chars>"
    assert repr(RedactedLine("OK")) == "OK"
