"""The Voicemail section of the options form: its fields, defaults and checks.

Voicemail is off by default. The section is collapsed in the form; a form submitted
without it (or an entry from before voicemail) keeps the voicemail options it had, and an
entry that never had any uses :data:`DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_VOICEMAIL_ANSWER_AFTER,
    CONF_VOICEMAIL_BEEP,
    CONF_VOICEMAIL_CALLERS,
    CONF_VOICEMAIL_ENABLED,
    CONF_VOICEMAIL_GREETING,
    CONF_VOICEMAIL_GREETING_MEDIA,
    CONF_VOICEMAIL_KEEP_COUNT,
    CONF_VOICEMAIL_KEEP_DAYS,
    CONF_VOICEMAIL_KNOWN_NUMBERS,
    CONF_VOICEMAIL_MAX_LENGTH,
    CONF_VOICEMAIL_MIN_LENGTH,
    CONF_VOICEMAIL_SILENCE,
    CONF_VOICEMAIL_SILENCE_LEVEL,
    CONF_VOICEMAIL_STT,
    CONF_VOICEMAIL_TTS,
    DEFAULT_VOICEMAIL_KEEP_COUNT,
    DEFAULT_VOICEMAIL_KEEP_DAYS,
)
from .option_fields import number_box, phone_numbers, whole_number
from .sim7600 import validate
from .sim7600.errors import InvalidArgumentError
from .sim7600.silence import DEFAULT_THRESHOLD_DBFS, MAX_THRESHOLD_DBFS, MIN_THRESHOLD_DBFS
from .sim7600.voicemail import AnswerRules, CallerFilter, MessageRules

SECTION = "voicemail"
DEFAULT_GREETING = (
    "Hello. Nobody can take your call right now. Please leave a message after the beep, "
    "and press the hash key when you are done."
)
DEFAULTS: dict[str, Any] = {
    CONF_VOICEMAIL_ENABLED: False,
    CONF_VOICEMAIL_ANSWER_AFTER: 20,
    CONF_VOICEMAIL_CALLERS: CallerFilter.ALL.value,
    CONF_VOICEMAIL_KNOWN_NUMBERS: [],
    CONF_VOICEMAIL_GREETING: DEFAULT_GREETING,
    CONF_VOICEMAIL_GREETING_MEDIA: "",
    CONF_VOICEMAIL_TTS: None,  # HA's default TTS engine
    CONF_VOICEMAIL_BEEP: True,
    CONF_VOICEMAIL_MAX_LENGTH: 120,
    CONF_VOICEMAIL_SILENCE: 5,
    CONF_VOICEMAIL_SILENCE_LEVEL: int(DEFAULT_THRESHOLD_DBFS),
    CONF_VOICEMAIL_MIN_LENGTH: 10,
    CONF_VOICEMAIL_STT: None,  # no transcripts
    CONF_VOICEMAIL_KEEP_DAYS: DEFAULT_VOICEMAIL_KEEP_DAYS,
    CONF_VOICEMAIL_KEEP_COUNT: DEFAULT_VOICEMAIL_KEEP_COUNT,
}
# Whole numbers: (min, max, unit).
_NUMBERS: dict[str, tuple[int, int, str]] = {
    CONF_VOICEMAIL_ANSWER_AFTER: (0, 300, "s"),
    CONF_VOICEMAIL_MAX_LENGTH: (5, 3600, "s"),
    CONF_VOICEMAIL_SILENCE: (1, 600, "s"),
    CONF_VOICEMAIL_SILENCE_LEVEL: (int(MIN_THRESHOLD_DBFS), int(MAX_THRESHOLD_DBFS), "dBFS"),
    CONF_VOICEMAIL_MIN_LENGTH: (0, 600, "s"),
    CONF_VOICEMAIL_KEEP_DAYS: (0, 3650, "d"),
    CONF_VOICEMAIL_KEEP_COUNT: (0, 10000, "messages"),
}


def current(options: Mapping[str, Any]) -> dict[str, Any]:
    """The voicemail options in force (defaults for what was never set)."""
    return {key: options.get(key, default) for key, default in DEFAULTS.items()}


def _number_box(key: str) -> NumberSelector:
    """The whole-number box of a field of :data:`_NUMBERS`, in its unit."""
    return number_box(_NUMBERS[key][2])


def schema_entry() -> dict[vol.Marker, Any]:
    """The collapsed Voicemail section, for the options form's schema."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_VOICEMAIL_ENABLED): BooleanSelector(),
        vol.Required(CONF_VOICEMAIL_ANSWER_AFTER): _number_box(CONF_VOICEMAIL_ANSWER_AFTER),
        vol.Required(CONF_VOICEMAIL_CALLERS): SelectSelector(
            SelectSelectorConfig(
                options=[caller.value for caller in CallerFilter],
                mode=SelectSelectorMode.DROPDOWN,
                translation_key="voicemail_callers",
            )
        ),
        vol.Optional(CONF_VOICEMAIL_KNOWN_NUMBERS): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEL, multiple=True)
        ),
        vol.Optional(CONF_VOICEMAIL_GREETING): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional(CONF_VOICEMAIL_GREETING_MEDIA): TextSelector(),
        vol.Optional(CONF_VOICEMAIL_TTS): EntitySelector(EntitySelectorConfig(domain="tts")),
        vol.Required(CONF_VOICEMAIL_BEEP): BooleanSelector(),
        vol.Required(CONF_VOICEMAIL_MAX_LENGTH): _number_box(CONF_VOICEMAIL_MAX_LENGTH),
        vol.Required(CONF_VOICEMAIL_SILENCE): _number_box(CONF_VOICEMAIL_SILENCE),
        vol.Required(CONF_VOICEMAIL_SILENCE_LEVEL): _number_box(CONF_VOICEMAIL_SILENCE_LEVEL),
        vol.Required(CONF_VOICEMAIL_MIN_LENGTH): _number_box(CONF_VOICEMAIL_MIN_LENGTH),
        vol.Optional(CONF_VOICEMAIL_STT): EntitySelector(EntitySelectorConfig(domain="stt")),
        vol.Required(CONF_VOICEMAIL_KEEP_DAYS): _number_box(CONF_VOICEMAIL_KEEP_DAYS),
        vol.Required(CONF_VOICEMAIL_KEEP_COUNT): _number_box(CONF_VOICEMAIL_KEEP_COUNT),
    }
    return {vol.Optional(SECTION): section(vol.Schema(fields), {"collapsed": True})}


def validated(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The section's values as options (whole numbers, numbers compacted), and form errors
    by field."""
    data = {**DEFAULTS, **user_input}
    errors: dict[str, str] = {}
    for key, (low, high, _unit) in _NUMBERS.items():
        if (number := whole_number(data[key], low, high)) is None:
            errors[key] = f"{key}_range"
        else:
            data[key] = number
    numbers: list[str] = []
    try:
        numbers = phone_numbers(data[CONF_VOICEMAIL_KNOWN_NUMBERS], validate.phone_number)
    except InvalidArgumentError:
        errors[CONF_VOICEMAIL_KNOWN_NUMBERS] = "invalid_known_number"
    data[CONF_VOICEMAIL_KNOWN_NUMBERS] = numbers
    for key in (CONF_VOICEMAIL_GREETING, CONF_VOICEMAIL_GREETING_MEDIA):
        data[key] = str(data[key] or "").strip()
    for key in (CONF_VOICEMAIL_TTS, CONF_VOICEMAIL_STT):
        data[key] = data[key] or None
    if data[CONF_VOICEMAIL_CALLERS] == CallerFilter.KNOWN and not numbers:
        errors.setdefault(CONF_VOICEMAIL_KNOWN_NUMBERS, "no_known_numbers")
    return data, errors


def answer_rules(options: Mapping[str, Any]) -> AnswerRules:
    """When voicemail answers, from the options."""
    values = current(options)
    return AnswerRules(
        answer_after=float(values[CONF_VOICEMAIL_ANSWER_AFTER]),
        callers=CallerFilter(values[CONF_VOICEMAIL_CALLERS]),
        known_numbers=frozenset(
            validate.compact_number(number) for number in values[CONF_VOICEMAIL_KNOWN_NUMBERS]
        ),
        beep=bool(values[CONF_VOICEMAIL_BEEP]),
    )


def message_rules(options: Mapping[str, Any]) -> MessageRules:
    """When a message ends and counts as one, from the options."""
    values = current(options)
    return MessageRules(
        max_seconds=float(values[CONF_VOICEMAIL_MAX_LENGTH]),
        silence_seconds=float(values[CONF_VOICEMAIL_SILENCE]),
        threshold_dbfs=float(values[CONF_VOICEMAIL_SILENCE_LEVEL]),
        min_seconds=float(values[CONF_VOICEMAIL_MIN_LENGTH]),
    )
