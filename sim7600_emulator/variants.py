"""Switches for behaviour the fact sheet marks unverified [U] or seen both ways, and timings.

Every default is the emulator's best guess of a SIM7600G-H; tests of the driver flip a switch
to make sure it copes with the other variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndFormat = Literal["seconds", "hhmmss", "bare"]
NmeaTalker = Literal["GP", "GN"]


@dataclass(frozen=True)
class Variants:
    """Firmware variants of the SIM7600 the emulator can play, and how fast it does things."""

    cmee_default: int = 0
    """AT+CMEE after power-up [U]: 0 plain ERROR, 1 numeric, 2 text."""

    ata_begin_first: bool = True
    """ATA: `VOICE CALL: BEGIN` before `OK` (True) or after it [obs, both orders]."""

    hangup_ok_first: bool = True
    """AT+CHUP/ATH: `OK` before `VOICE CALL: END` (True) or after it [obs, both orders]."""

    end_format: EndFormat = "seconds"
    """`VOICE CALL: END: 000034` as seconds (MM), hhmmss, or bare `VOICE CALL: END` [U]."""

    hangup_no_carrier: bool = False
    """A local hang-up is followed by `NO CARRIER` [obs on some units]."""

    ath_needs_cvhu0: bool = True
    """ATH ends a voice call only after AT+CVHU=0; False = ATH always ends it [obs, both]."""

    failed_dial_end: bool = False
    """`VOICE CALL: END: 000000` before BUSY / NO ANSWER / NO CARRIER of a failed dial [U]."""

    waiting_ring: bool = False
    """RING (+CLIP) also comes for a waiting call, not only +CCWA [U]."""

    waiting_gone_urcs: bool = False
    """A waiting caller who gives up also gets `VOICE CALL: END: 000000` and `NO CARRIER` [U]."""

    waiting_missed_call: bool = True
    """A waiting caller who gives up leaves `MISSED_CALL: <time> <number>` [U]."""

    chld_begin: bool = True
    """AT+CHLD that connects a waiting call sends `VOICE CALL: BEGIN` [U]."""

    chld_stops_pcm: bool = False
    """AT+CHLD that makes another call active stops PCM until AT+CPCMREG=1 again [U]."""

    cpcmreg_refusals: int = 0
    """AT+CPCMREG=1 fails this many times after each connect before it is accepted [obs: lag]."""

    cpcmreg_error: int = 3
    """The +CME ERROR code for a refused AT+CPCMREG=1 [U: one fixture uses 3]."""

    reject_plain_cpcmreg0: bool = False
    """AT+CPCMREG=0 without the second parameter is refused (said of G-H V2) [U]."""

    cnum_reports_number: bool = True
    """AT+CNUM lists the MSISDN (True) or answers just OK, as many SIMs do [obs]."""

    gmx_commands: bool = True
    """The V.250 AT+GMI/GMM/GMR aliases answer like AT+CGMI/CGMM/CGMR [U on SIM7600]."""

    boot_rdy: bool = True
    """reboot() sends `RDY` first; a USB host usually misses it anyway [U]."""

    sms_full_urc: bool = True
    """`+SMS FULL` once when a message arrives and SIM storage is full [U]."""

    sms_first_index: int = 0
    """Index of the first SIM storage slot; SIMCom modules count from 0 [U]."""

    clock_unsynced: bool = False
    """+CCLK reports "80/01/06,..." as when the network never set the clock [obs]."""

    firmware: str = "LE20B04SIM7600G22"
    """The revision AT+CGMR and ATI report."""

    boot_delay: float = 0.2
    """Seconds from a reset until RDY, or until the ports return after AT+CRESET (real: ~8-15 s)."""

    sim_ready_delay: float = 0.05
    """Seconds between the steps of the SIM banner: +CPIN: READY, SMS DONE, PB DONE."""

    ussd_delay: float = 0.05
    """Seconds from AT+CUSD=1,... (answered OK at once) until the network's +CUSD."""

    gnss: bool = True
    """The module has a GNSS receiver (SIM7600G/E/A-H); False: AT+CGPS* answer ERROR."""

    cgps_repeat_error: bool = True
    """AT+CGPS=1 while on (or =0 while off) answers ERROR [vendor reply, T-SIM7600X#123]."""

    nmea_talker: NmeaTalker = "GP"
    """Talker of GGA/RMC/GSA/VTG: GP (GPS) or GN (combined constellations) [U]."""

    gsv_signal_id: bool = False
    """GSV ends with the NMEA 4.10 signal ID field (`...,1*56`) [obs, one SIM7600G-H log]."""

    gnss_epoch: float = 1.0
    """Wall seconds per GNSS epoch (one second of track time); smaller plays a track faster."""

    gnss_cold_start: float = 0.3
    """Seconds from AT+CGPS=1 to the first fix (real: tens of seconds under open sky)."""

    gnss_stop_delay: float = 0.05
    """Seconds from AT+CGPS=0 until the `+CGPS: 0` URC (real: 2-30 s, ATC3 17.2.1)."""
