"""The NMEA parser: GGA, RMC, GSA, GSV with checksums; +CGPSINFO; folding into a fix."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time
import math

from hypothesis import given, strategies as st
import pytest

from custom_components.callstack.sim7600.gnss import NmeaFix, parse_cgps, parse_cgpsinfo
from custom_components.callstack.sim7600.model import FixType
from custom_components.callstack.sim7600.nmea import (
    Gga,
    Gsa,
    Gsv,
    NmeaError,
    Rmc,
    checksum,
    parse_coordinate,
    parse_sentence,
)


def framed(body: str) -> str:
    return f"${body}*{checksum(body):02X}"


def ddmm(value: float, width: int) -> str:
    degrees = int(abs(value))
    return f"{degrees:0{width}d}{(abs(value) - degrees) * 60:09.6f}"


def test_gga_with_a_fix() -> None:
    line = framed("GPGGA,123519.00,4807.038000,N,01131.000000,E,1,08,0.9,545.4,M,46.9,M,,")
    assert parse_sentence(line + "\r\n") == Gga(
        talker="GP",
        time=time(12, 35, 19, tzinfo=UTC),
        latitude=pytest.approx(48.1173),
        longitude=pytest.approx(11.516667),
        quality=1,
        satellites=8,
        hdop=0.9,
        altitude=545.4,
    )


def test_sentences_without_a_fix_as_the_module_prints_them() -> None:
    # Verbatim from a SIM7600 without a fix (LilyGo-Modem-Series #439).
    gga = parse_sentence("$GPGGA,,,,,,0,,,,,,,,*66")
    assert isinstance(gga, Gga)
    assert (gga.quality, gga.latitude, gga.time) == (0, None, None)
    rmc = parse_sentence("$GPRMC,,V,,,,,,,,,,N*53")
    assert isinstance(rmc, Rmc)
    assert not rmc.valid
    assert rmc.timestamp is None


def test_rmc_gsa_gsv_and_other_talkers() -> None:
    rmc = parse_sentence(
        framed("GNRMC,081836.00,A,3751.650000,S,14507.360000,W,12.5,359.9,130926,,,A")
    )
    assert isinstance(rmc, Rmc)
    assert rmc.talker == "GN"
    assert rmc.latitude == pytest.approx(-37.860833)
    assert rmc.longitude == pytest.approx(-145.122667)
    assert rmc.timestamp == datetime(2026, 9, 13, 8, 18, 36, tzinfo=UTC)
    assert (rmc.speed_knots, rmc.course) == (12.5, 359.9)
    gsa = parse_sentence(framed("GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1"))
    assert gsa == Gsa("GP", 3, (4, 5, 9, 12, 24), 2.5, 1.3, 2.1)
    # NMEA 4.10 adds a signal ID after the satellites (seen from a SIM7600G-H).
    gsv = parse_sentence(framed("GPGSV,2,1,08,13,48,052,31,05,36,061,,07,,,,10,00,267,,1"))
    assert gsv == Gsv("GP", 2, 1, 8)
    assert parse_sentence(framed("GPVTG,,T,,M,0.0,N,0.0,K,A")) is None


@pytest.mark.parametrize(
    "line",
    [
        "$GPGGA,,,,,,0,,,,,,,,*67",  # wrong checksum
        "GPGGA,,,,,,0,,,,,,,,*66",  # no $
        "$GPGGA,,,,,,0,,,,,,,,",  # no checksum
        framed("GPGGA,123519,4807.038,N,01131.000,E,1"),  # too few fields
        framed("GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,,,,"),  # hemisphere
        framed("GPGGA,123519,4807.038,N,1131.000,E,1,08,0.9,545.4,M,,,,"),  # 2-digit lon
        framed("GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,,,,"),  # 67 minutes
        framed("GPGGA,,,,,,1,08,0.9,545.4,M,,,,"),  # a fix without a position
        framed("GPRMC,081836,X,,,,,,,,,,N"),  # status
        framed("GPRMC,081836,A,3751.65,S,14507.36,E,1.0,400.0,130998,,,A"),  # course
        framed("GPRMC,081836,A,3751.65,S,14507.36,E,-1.0,0.0,130998,,,A"),  # speed
        framed("GPRMC,081836,A,3751.65,S,14507.36,E,1.0,0.0,320998,,,A"),  # day 32
        framed("GPGSA,A,4,,,,,,,,,,,,,,,"),  # mode
        framed("GPGSV,1,2,00"),  # sentence 2 of 1
        "$" + "GPGGA," * 60 + "*00",
    ],
)
def test_malformed_sentences_are_refused(line: str) -> None:
    with pytest.raises(NmeaError):
        parse_sentence(line)


@given(
    latitude=st.floats(-89.999999, 89.999999),
    longitude=st.floats(-179.999999, 179.999999),
    altitude=st.floats(-400, 9000).map(lambda value: round(value, 1)),
)
def test_gga_round_trips_any_position(latitude: float, longitude: float, altitude: float) -> None:
    body = (
        f"GNGGA,010203.00,{ddmm(latitude, 2)},{'N' if latitude >= 0 else 'S'},"
        f"{ddmm(longitude, 3)},{'E' if longitude >= 0 else 'W'},1,05,1.2,{altitude},M,,,,"
    )
    gga = parse_sentence(framed(body))
    assert isinstance(gga, Gga)
    assert gga.latitude == pytest.approx(latitude, abs=1e-6)
    assert gga.longitude == pytest.approx(longitude, abs=1e-6)
    assert gga.altitude == altitude


@given(data=st.data())
def test_any_corrupted_character_is_caught_by_the_checksum(data: st.DataObject) -> None:
    body = "GPRMC,081836.00,A,3751.650000,S,14507.360000,E,0.0,,130998,,,A"
    index = data.draw(st.integers(0, len(body) - 1))
    replacement = data.draw(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(
            lambda char: char not in (body[index], "*", "$")
        )
    )
    corrupted = body[:index] + replacement + body[index + 1 :]
    with pytest.raises(NmeaError):
        parse_sentence(f"${corrupted}*{checksum(body):02X}")


@given(st.text(max_size=120))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(NmeaError):
        parse_sentence(text)


@given(st.text(alphabet="0123456789.,NSEW-", max_size=60))
def test_arbitrary_cgpsinfo_payloads_parse_or_raise_value_error(payload: str) -> None:
    with contextlib.suppress(ValueError):
        parse_cgpsinfo([f"+CGPSINFO: {payload}"])


@given(
    st.lists(
        st.sampled_from(["", "0", "1.5", "-3", "nan", "inf", "-inf", "1e400", "1_0", " 7", "400"]),
        min_size=3,
        max_size=3,
    )
)
def test_a_cgpsinfo_position_holds_only_real_figures(tail: list[str]) -> None:
    """Altitude, speed and course are numbers as NMEA has them (finite, speed not
    negative), or the reply is refused: a modem's "nan" never becomes a tracker attribute."""
    altitude, speed, course = tail
    line = f"+CGPSINFO: 3113.343286,N,12121.234064,E,250311,072809.3,{altitude},{speed},{course}"
    try:
        position = parse_cgpsinfo([line])
    except ValueError:
        return
    assert position is not None
    for value in (position.altitude, position.speed, position.course):
        assert value is None or math.isfinite(value)
    assert position.speed is None or position.speed >= 0


def test_coordinates_in_range_only() -> None:
    assert parse_coordinate("9000.000000", "N") == 90.0
    assert parse_coordinate("", "") is None
    for value, hemisphere in (("9000.000001", "N"), ("18000.5", "E"), ("12", "N"), ("x", "E")):
        with pytest.raises(ValueError):  # noqa: PT011
            parse_coordinate(value, hemisphere)


def test_cgpsinfo_with_and_without_a_fix() -> None:
    # The example of the AT manual (ATC3 17.2.2).
    position = parse_cgpsinfo(
        ["+CGPSINFO: 3113.343286,N,12121.234064,E,250311,072809.3,44.1,0.0,0"]
    )
    assert position is not None
    assert position.latitude == pytest.approx(31.222388)
    assert position.longitude == pytest.approx(121.353901)
    assert position.altitude == 44.1
    assert position.speed == 0.0
    assert position.course is None  # standing still: no course
    assert position.time == datetime(2011, 3, 25, 7, 28, 9, 300000, tzinfo=UTC)
    assert parse_cgpsinfo(["+CGPSINFO: ,,,,,,,,"]) is None
    with pytest.raises(ValueError):  # noqa: PT011
        parse_cgpsinfo(["+CGPSINFO: 1,2"])
    assert parse_cgps(["+CGPS: 1,1"]) is True
    assert parse_cgps(["+CGPS: 0,1"]) is False
    assert parse_cgps([]) is None


def feed(fix: NmeaFix, *bodies: str) -> None:
    for body in bodies:
        sentence = parse_sentence(framed(body))
        assert sentence is not None
        fix.feed(sentence)


def test_an_epoch_folds_into_one_reading() -> None:
    fix = NmeaFix()
    feed(
        fix,
        "GPGGA,101010.00,5231.200000,N,01324.300000,E,1,07,0.9,34.0,M,0.0,M,,",
        "GPRMC,101010.00,A,5231.200000,N,01324.300000,E,10.0,90.0,011226,,,A",
        "GPGSA,A,3,01,02,03,04,05,06,07,,,,,,1.4,0.9,1.1",
        "GPGSV,3,1,10,01,07,037,21",
        "GPGSV,3,2,10,05,35,185,25",
        "GLGSV,1,1,03,70,21,236,",
    )
    reading = fix.reading()
    assert reading.fix is FixType.FIX_3D
    assert (reading.satellites_in_use, reading.satellites_in_view, reading.hdop) == (7, 13, 0.9)
    position = reading.position
    assert position is not None
    assert (position.latitude, position.longitude) == pytest.approx((52.52, 13.405))
    assert (position.altitude, position.speed, position.course) == (34.0, 18.52, 90.0)
    assert position.time == datetime(2026, 12, 1, 10, 10, 10, tzinfo=UTC)
    feed(fix, "GPGGA,,,,,,0,,,,,,,,", "GPRMC,,V,,,,,,,,,,N", "GPGSA,A,1,,,,,,,,,,,,,,,")
    lost = fix.reading()
    assert (lost.fix, lost.position) == (FixType.NONE, None)


def test_a_2d_fix_has_no_altitude() -> None:
    fix = NmeaFix()
    feed(
        fix,
        "GPGGA,101010.00,5231.200000,N,01324.300000,E,1,03,2.5,34.0,M,,,,",
        "GPGSA,A,2,01,02,03,,,,,,,,,,3.1,2.5,1.9",
    )
    reading = fix.reading()
    assert reading.fix is FixType.FIX_2D
    assert reading.position is not None
    assert reading.position.altitude is None
    assert reading.position.time is not None
    assert reading.position.time.tzinfo is UTC  # GGA has no date: today's, in UTC
