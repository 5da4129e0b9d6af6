"""GNSS: AT+CGPS on/off, +CGPSINFO, the NMEA port, tracks, fix loss (sim7600.md section 12)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import re

import pytest

from sim7600_emulator import GnssPosition, GnssTrack, Sim7600Emulator
from sim7600_emulator.control import execute

from .conftest import FAST, EmulatorFactory, HostFactory
from .host import HostPort

GNSS = replace(FAST, gnss_epoch=0.05, gnss_cold_start=0.2, gnss_stop_delay=0.02)
HOME = GnssPosition(52.520008, 13.404954, 34.0)
_SENTENCE = re.compile(rb"\$([^*\r\n]*)\*([0-9A-F]{2})\r\n")


def nmea_checksum(body: bytes) -> str:
    value = 0
    for byte in body:
        value ^= byte
    return f"{value:02X}"


def sentences(data: bytes) -> list[str]:
    """Every NMEA sentence in `data`, its checksum checked."""
    found = []
    for match in _SENTENCE.finditer(data):
        assert nmea_checksum(match.group(1)) == match.group(2).decode(), match.group(0)
        found.append(match.group(1).decode())
    return found


def degrees(value: str, hemisphere: str) -> float:
    """ddmm.mmmmmm / dddmm.mmmmmm to signed degrees."""
    head, _, _ = value.partition(".")
    whole = len(head) - 2
    result = int(value[:whole]) + float(value[whole:]) / 60
    return -result if hemisphere in "SW" else result


async def next_epoch(nmea: HostPort, talker: str = "GP") -> list[str]:
    """The sentences of the next whole epoch (GGA ... VTG); what came before is skipped."""
    nmea.take()
    await nmea.expect(f"{talker}VTG".encode(), timeout=3.0)
    await nmea.expect(b"\r\n")
    chunk = await nmea.expect(f"{talker}VTG".encode(), timeout=3.0)
    chunk += await nmea.expect(b"\r\n")
    return sentences(chunk[chunk.find(b"$") :])


async def fix_acquired(emu: Sim7600Emulator) -> None:
    async with asyncio.timeout(3.0):
        while not emu.gnss_has_fix:
            await asyncio.sleep(0.01)


def field(epoch: list[str], kind: str) -> list[str]:
    return next(s for s in epoch if s[2:5] == kind).split(",")


@pytest.fixture
async def gnss_emu(make_emulator: EmulatorFactory) -> Sim7600Emulator:
    emu = await make_emulator(variants=GNSS)
    emu.set_gnss_track(GnssTrack.fixed(HOME.latitude, HOME.longitude, HOME.altitude))
    return emu


@pytest.fixture
async def gnss_at(gnss_emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    at = open_host(gnss_emu.at_path)
    await at.command("ATE0")
    return at


@pytest.fixture
async def nmea(gnss_emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    return open_host(gnss_emu.nmea_path)


async def test_engine_on_off_and_query(gnss_emu: Sim7600Emulator, gnss_at: HostPort) -> None:
    assert await gnss_at.command("AT+CGPS=?") == b"\r\n+CGPS: (0,1),(1-3)\r\n\r\nOK\r\n"
    assert await gnss_at.command("AT+CGPS?") == b"\r\n+CGPS: 0,1\r\n\r\nOK\r\n"
    assert await gnss_at.command("AT+CGPS=1") == b"\r\nOK\r\n"
    assert gnss_emu.gnss_on
    assert await gnss_at.command("AT+CGPS?") == b"\r\n+CGPS: 1,1\r\n\r\nOK\r\n"
    assert await gnss_at.command("AT+CGPS=1") == b"\r\nERROR\r\n"  # already on
    assert await gnss_at.command("AT+CGPS=0") == b"\r\nOK\r\n"
    assert await gnss_at.expect(b"+CGPS: 0\r\n") == b"\r\n+CGPS: 0\r\n"
    assert not gnss_emu.gnss_on


async def test_cold_start_then_fix_in_cgpsinfo(
    gnss_emu: Sim7600Emulator, gnss_at: HostPort
) -> None:
    await gnss_at.command("AT+CGPS=1")
    assert await gnss_at.command("AT+CGPSINFO") == b"\r\n+CGPSINFO: ,,,,,,,,\r\n\r\nOK\r\n"
    await fix_acquired(gnss_emu)
    reply = (await gnss_at.command("AT+CGPSINFO")).decode()
    match = re.fullmatch(r"\r\n\+CGPSINFO: ([^\r]*)\r\n\r\nOK\r\n", reply)
    assert match is not None
    lat, ns, lon, ew, date, time, altitude, speed, course = match.group(1).split(",")
    assert re.fullmatch(r"\d{4}\.\d{6}", lat)
    assert re.fullmatch(r"\d{5}\.\d{6}", lon)
    assert degrees(lat, ns) == pytest.approx(HOME.latitude, abs=1e-6)
    assert degrees(lon, ew) == pytest.approx(HOME.longitude, abs=1e-6)
    assert re.fullmatch(r"\d{6}", date)
    assert re.fullmatch(r"\d{6}\.\d", time)
    assert (altitude, speed, course) == ("34.0", "0.0", "")


async def test_nmea_port_streams_no_fix_then_fix(
    gnss_emu: Sim7600Emulator, gnss_at: HostPort, nmea: HostPort
) -> None:
    assert await nmea.settle(0.15) == b""  # nothing while the engine is off
    await gnss_at.command("AT+CGPS=1")
    first = await next_epoch(nmea)
    # Byte for byte what a module without a fix prints (LilyGo #439).
    assert "GPGGA,,,,,,0,,,,,,,," in first
    assert "GPRMC,,V,,,,,,,,,,N" in first
    assert b"$GPGGA,,,,,,0,,,,,,,,*66\r\n$GPRMC,,V,,,,,,,,,,N*53\r\n" in bytes(nmea.data)
    await fix_acquired(gnss_emu)
    epoch = await next_epoch(nmea)
    gga = field(epoch, "GGA")
    assert gga[6:9] == ["1", "07", "0.9"]
    assert degrees(gga[2], gga[3]) == pytest.approx(HOME.latitude, abs=1e-6)
    assert degrees(gga[4], gga[5]) == pytest.approx(HOME.longitude, abs=1e-6)
    assert gga[9:11] == ["34.0", "M"]
    assert field(epoch, "RMC")[2] == "A"
    assert field(epoch, "GSA")[2] == "3"
    gsv = [s for s in epoch if s.startswith("GPGSV")]
    assert [s.split(",")[1:4] for s in gsv] == [["3", str(n), "10"] for n in (1, 2, 3)]


async def test_a_line_track_moves_at_its_speed(
    gnss_emu: Sim7600Emulator, gnss_at: HostPort, nmea: HostPort
) -> None:
    gnss_emu.set_gnss_track(GnssTrack.line(HOME, speed_kmh=36.0, course=90.0))
    await gnss_at.command("AT+CGPS=1")
    await fix_acquired(gnss_emu)
    one = await next_epoch(nmea)
    two = await next_epoch(nmea)
    rmc_one, rmc_two = field(one, "RMC"), field(two, "RMC")
    assert rmc_two[7:9] == ["19.4", "90.0"]  # 10 m/s in knots, due east
    east = degrees(rmc_two[5], rmc_two[6]) - degrees(rmc_one[5], rmc_one[6])
    assert east > 0
    assert degrees(rmc_two[3], rmc_two[4]) == pytest.approx(HOME.latitude, abs=1e-6)
    assert field(two, "VTG")[1:8] == ["90.0", "T", "", "M", "19.4", "N", "36.0"]


async def test_a_list_of_positions_is_played_one_per_epoch() -> None:
    points = [GnssPosition(10.0, 20.0), GnssPosition(10.001, 20.0), GnssPosition(10.002, 20.0)]
    track = GnssTrack(points)
    assert track.sample(0).position == points[0]
    assert track.sample(0).course is None
    second = track.sample(1)
    assert second.position == points[1]
    assert second.course == pytest.approx(0.0, abs=1e-6)
    assert second.speed_knots == pytest.approx(111.2 * 3600 / 1852, rel=0.01)
    assert track.sample(7).position == points[2]  # the last position holds
    assert track.sample(7).speed_knots == 0.0


async def test_fix_lost_and_recovered(
    gnss_emu: Sim7600Emulator, gnss_at: HostPort, nmea: HostPort
) -> None:
    await gnss_at.command("AT+CGPS=1")
    await fix_acquired(gnss_emu)
    gnss_emu.set_gnss_sky(visible=False)
    lost = await next_epoch(nmea)
    assert field(lost, "GGA")[6] == "0"
    assert "GPGSV,1,1,00" in lost
    assert (await gnss_at.command("AT+CGPSINFO")).startswith(b"\r\n+CGPSINFO: ,,,,,,,,\r\n")
    gnss_emu.set_gnss_sky(visible=True, in_use=3, hdop=2.5)
    two_d = await next_epoch(nmea)
    gga = field(two_d, "GGA")
    assert gga[6:9] == ["1", "03", "2.5"]
    assert gga[9] == ""  # no altitude without a 3D fix
    assert field(two_d, "GSA")[2] == "2"


async def test_cgnssinfo_and_periodic_cgpsinfo(
    gnss_emu: Sim7600Emulator, gnss_at: HostPort
) -> None:
    assert await gnss_at.command("AT+CGNSSINFO") == b"\r\n+CGNSSINFO: ,,,,,,,,,,,,,,,\r\n\r\nOK\r\n"
    await gnss_at.command("AT+CGPS=1")
    await fix_acquired(gnss_emu)
    reply = (await gnss_at.command("AT+CGNSSINFO")).decode()
    values = reply.split("+CGNSSINFO: ")[1].split("\r\n")[0].split(",")
    assert values[:4] == ["3", "07", "00", "00"]
    assert values[13:] == ["1.4", "0.9", "1.1"]
    assert await gnss_at.command("AT+CGPSINFO=1") == b"\r\nOK\r\n"
    urc = await gnss_at.expect(b"\r\n", timeout=1.0) + await gnss_at.expect(b"\r\n", timeout=1.0)
    assert urc.startswith(b"\r\n+CGPSINFO: 5231.")
    assert await gnss_at.command("AT+CGPSINFO=0") == b"\r\nOK\r\n"
    await gnss_at.settle(0.1)
    assert await gnss_at.settle(0.12) == b""


async def test_a_module_without_gnss_refuses(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=replace(GNSS, gnss=False))
    at = open_host(emu.at_path)
    await at.command("ATE0")
    assert await at.command("AT+CGPS?") == b"\r\nERROR\r\n"
    assert await at.command("AT+CGPSINFO") == b"\r\nERROR\r\n"


async def test_reboot_switches_gnss_off(gnss_emu: Sim7600Emulator, gnss_at: HostPort) -> None:
    await gnss_at.command("AT+CGPS=1")
    await gnss_emu.reboot()
    assert not gnss_emu.gnss_on
    await gnss_at.command("ATE0")
    assert await gnss_at.command("AT+CGPS?") == b"\r\n+CGPS: 0,1\r\n\r\nOK\r\n"


async def test_gn_talker_and_gsv_signal_id(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=replace(GNSS, nmea_talker="GN", gsv_signal_id=True))
    at, nmea = open_host(emu.at_path), open_host(emu.nmea_path)
    await at.command("AT+CGPS=1")
    await fix_acquired(emu)
    epoch = await next_epoch(nmea, "GN")
    assert field(epoch, "GGA")[0] == "GNGGA"
    assert all(s.endswith(",1") for s in epoch if s.startswith("GPGSV"))


async def test_nmea_link_name_and_tcp(make_emulator: EmulatorFactory) -> None:
    emu = await make_emulator(variants=GNSS)
    assert emu.nmea_link.endswith("-if01-port0")
    assert emu.status()["ports"]["nmea"]["pty"] == emu.nmea_path


@pytest.mark.usefixtures("socket_enabled")
async def test_nmea_over_tcp() -> None:
    async with Sim7600Emulator(variants=GNSS) as emu:
        await emu.start_tcp()
        at = await HostPort.open_tcp(emu.at_url)
        nmea = await HostPort.open_tcp(emu.nmea_url)
        try:
            await at.command("AT+CGPS=1")
            epoch = await next_epoch(nmea)
            assert field(epoch, "GGA")[0] == "GPGGA"
        finally:
            at.close()
            nmea.close()


async def test_control_commands_set_track_and_sky(gnss_emu: Sim7600Emulator) -> None:
    reply = await execute(
        gnss_emu,
        {"command": "gnss-line", "args": {"latitude": 1.0, "longitude": 2.0, "speed": 50.0}},
    )
    assert reply == {"ok": True, "result": None}
    assert gnss_emu.gnss_track.sample(0).position == GnssPosition(1.0, 2.0)
    reply = await execute(gnss_emu, {"command": "gnss-sky", "args": {"visible": "no"}})
    assert reply["ok"]
    assert not gnss_emu.gnss_sky.visible
    reply = await execute(gnss_emu, {"command": "gnss-sky", "args": {"in_use": 40}})
    assert not reply["ok"]
    reply = await execute(
        gnss_emu, {"command": "gnss-position", "args": {"latitude": 91.0, "longitude": 0.0}}
    )
    assert not reply["ok"]
    assert gnss_emu.status()["gnss"] == {"on": False, "fix": False, "epochs_sent": 0}
