"""Constants of the Callstack integration."""

from __future__ import annotations

from typing import Final

from homeassistant.const import CONF_DEVICE, CONF_PORT

DOMAIN: Final = "callstack"

# Config entry data (and the flows' field names). The modem's ports are stored under keys
# that Home Assistant's usb component reads when it lists which entry uses which serial port
# (HA 2026.10+; see the 1 -> 2 migration in __init__.py for why these three).
CONF_AT_PORT: Final = CONF_DEVICE  # "device"
CONF_AUDIO_PORT: Final = "serial_port"
CONF_NMEA_PORT: Final = CONF_PORT  # "port"
CONF_SIM_PIN: Final = "sim_pin"

# Options.
CONF_SIGNAL_INTERVAL: Final = "signal_interval"
CONF_RECORDINGS_FOLDER: Final = "recordings_folder"
CONF_SMS_RECIPIENTS: Final = "sms_recipients"
CONF_REGISTRATION_WATCHDOG: Final = "registration_watchdog"
CONF_SMS_PART_TIMEOUT: Final = "sms_part_timeout"
CONF_BUS_EVENT_PRIVATE_DATA: Final = "bus_event_private_data"
CONF_LOGBOOK_MESSAGE_TEXT: Final = "logbook_message_text"  # SMS/USSD texts in the logbook
# Voicemail options (the Voicemail section of the options form; see voicemail_options.py).
CONF_VOICEMAIL_ENABLED: Final = "voicemail_enabled"
CONF_VOICEMAIL_ANSWER_AFTER: Final = "voicemail_answer_after"
CONF_VOICEMAIL_CALLERS: Final = "voicemail_callers"
CONF_VOICEMAIL_KNOWN_NUMBERS: Final = "voicemail_known_numbers"
CONF_VOICEMAIL_GREETING: Final = "voicemail_greeting"
CONF_VOICEMAIL_GREETING_MEDIA: Final = "voicemail_greeting_media"
CONF_VOICEMAIL_TTS: Final = "voicemail_tts_engine"
CONF_VOICEMAIL_BEEP: Final = "voicemail_beep"
CONF_VOICEMAIL_MAX_LENGTH: Final = "voicemail_max_length"
CONF_VOICEMAIL_SILENCE: Final = "voicemail_silence"
CONF_VOICEMAIL_SILENCE_LEVEL: Final = "voicemail_silence_level"
CONF_VOICEMAIL_MIN_LENGTH: Final = "voicemail_min_length"
CONF_VOICEMAIL_STT: Final = "voicemail_stt_engine"
CONF_VOICEMAIL_KEEP_DAYS: Final = "voicemail_keep_days"
CONF_VOICEMAIL_KEEP_COUNT: Final = "voicemail_keep_count"
DEFAULT_VOICEMAIL_KEEP_DAYS: Final = 0  # 0: no age limit
DEFAULT_VOICEMAIL_KEEP_COUNT: Final = 100  # the newest messages kept; 0: no limit
DEFAULT_SIGNAL_INTERVAL: Final = 60
DEFAULT_REGISTRATION_WATCHDOG: Final = 0  # minutes; off unless the user turns it on
DEFAULT_SMS_PART_TIMEOUT: Final = 24  # hours a multipart SMS may wait for its missing parts
DEFAULT_RECORDINGS_FOLDER: Final = "callstack"
DEFAULT_BUS_EVENT_PRIVATE_DATA: Final = True  # numbers and texts on the bus events
CONF_GNSS: Final = "gnss"  # off by default: the GNSS receiver draws power and needs an antenna
CONF_GNSS_INTERVAL: Final = "gnss_interval"
DEFAULT_GNSS_INTERVAL: Final = 10  # seconds between AT+CGPSINFO polls without an NMEA port
# Metres of horizontal error per unit of HDOP: a typical user equivalent range error of a
# single-frequency receiver, so accuracy = HDOP x 5 m is a rough 1-sigma estimate.
GNSS_METRES_PER_HDOP: Final = 5.0
GNSS_KEY_PREFIX: Final = "gnss_"  # every GNSS entity's key starts so (removed when turned off)

# Assist over a call: the options section and what it holds.
CONF_ASSIST: Final = "assist"
CONF_ASSIST_CALLERS: Final = "assist_callers"  # numbers whose calls reach Assist
CONF_ASSIST_RINGS: Final = "assist_rings"  # RINGs before answering them
CONF_ASSIST_SILENCE: Final = "assist_silence"  # seconds of silence that end the call
CONF_ASSIST_DIAL: Final = "assist_dial"  # the number announce/start_conversation call
DEFAULT_ASSIST_RINGS: Final = 2
DEFAULT_ASSIST_SILENCE: Final = 10
ASSIST_RINGS_MAX: Final = 10
ASSIST_SILENCE_MIN: Final = 3
ASSIST_SILENCE_MAX: Final = 120

# Bus events (the same facts the event entities show).
EVENT_CALL: Final = "callstack_call"
EVENT_DTMF: Final = "callstack_dtmf"
EVENT_SMS_RECEIVED: Final = "callstack_sms_received"
EVENT_SMS_DELIVERY: Final = "callstack_sms_delivery"
EVENT_USSD: Final = "callstack_ussd"
EVENT_VOICEMAIL: Final = "callstack_voicemail"

# The fields of events and entity attributes that are private (phone numbers, SMS and
# USSD texts, DTMF digits, voicemail transcripts): never in the recorder's states, and left
# off the bus events when the user turns CONF_BUS_EVENT_PRIVATE_DATA off.
PRIVATE_FIELDS: Final = frozenset({"number", "text", "digit", "message", "transcript"})

# SIMCom's USB vendor and the compositions that expose the AT and audio ports.
USB_VID: Final = "1E0E"
USB_PIDS: Final = ("9001", "9011")
