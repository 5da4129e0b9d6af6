"""An emulated SIMCom SIM7600G-H for tests: AT, PCM audio and NMEA ports over ptys and TCP.

See README.md in this directory for the scenario API and the command line.
"""

from .call_model import Call, CallStat, DialOutcome, KeyPlan
from .emulator import Sim7600Emulator
from .gnss import Sky
from .gnss_track import GnssPosition, GnssSample, GnssTrack
from .identity import Identity
from .pcm_signal import TEST_SIGNAL_RATE, test_signal
from .ports import TranscriptEntry
from .sms_inbox import SentSms
from .sms_pdu import Concat
from .sms_storage import SmsStat, StoredSms
from .ussd import UssdReply
from .variants import Variants

__all__ = [
    "TEST_SIGNAL_RATE",
    "Call",
    "CallStat",
    "Concat",
    "DialOutcome",
    "GnssPosition",
    "GnssSample",
    "GnssTrack",
    "Identity",
    "KeyPlan",
    "SentSms",
    "Sim7600Emulator",
    "Sky",
    "SmsStat",
    "StoredSms",
    "TranscriptEntry",
    "UssdReply",
    "Variants",
    "test_signal",
]
