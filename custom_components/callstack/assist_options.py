"""The "Assist over a call" options: one section of the options form, and its reading.

Kept apart from the flow so the satellite, the flow and the tests read the options one
way. Stored under ``options["assist"]``:

* ``assist_callers``: the numbers whose calls Assist answers. Empty (the default): Assist
  answers nobody; a withheld number is never allowed.
* ``assist_rings``: RINGs to let pass before answering (so a person at home can still pick
  up first).
* ``assist_silence``: seconds a caller may stay silent when asked to speak before Assist
  hangs up.
* ``assist_dial``: the number ``assist_satellite.announce`` and ``start_conversation``
  call. Empty: the satellite offers neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    ASSIST_RINGS_MAX,
    ASSIST_SILENCE_MAX,
    ASSIST_SILENCE_MIN,
    CONF_ASSIST,
    CONF_ASSIST_CALLERS,
    CONF_ASSIST_DIAL,
    CONF_ASSIST_RINGS,
    CONF_ASSIST_SILENCE,
    DEFAULT_ASSIST_RINGS,
    DEFAULT_ASSIST_SILENCE,
)
from .option_fields import number_box, phone_numbers, whole_number
from .sim7600 import validate
from .sim7600.errors import InvalidArgumentError


@dataclass(frozen=True, slots=True)
class AssistOptions:
    """The section as the satellite uses it."""

    callers: tuple[str, ...] = ()
    rings: int = DEFAULT_ASSIST_RINGS
    silence: float = float(DEFAULT_ASSIST_SILENCE)
    dial: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AssistOptions:
        """Read ``entry.options`` (an entry saved before the section existed has none)."""
        stored: Mapping[str, Any] = options.get(CONF_ASSIST) or {}
        return cls(
            callers=tuple(stored.get(CONF_ASSIST_CALLERS) or ()),
            rings=int(stored.get(CONF_ASSIST_RINGS, DEFAULT_ASSIST_RINGS)),
            silence=float(stored.get(CONF_ASSIST_SILENCE, DEFAULT_ASSIST_SILENCE)),
            dial=stored.get(CONF_ASSIST_DIAL) or None,
        )

    @property
    def enabled(self) -> bool:
        """Whether the modem is an Assist satellite at all (someone may call it, or it
        may call someone)."""
        return bool(self.callers or self.dial)

    def allows(self, number: str | None) -> bool:
        """Whether a call from ``number`` reaches Assist (withheld: never)."""
        return any(validate.same_subscriber(number, listed) for listed in self.callers)


def assist_section() -> dict[vol.Marker, Any]:
    """The form's collapsed "Assist over a call" section (the flow fills in what is
    stored as suggested values)."""
    fields = {
        vol.Optional(CONF_ASSIST_CALLERS, default=[]): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEL, multiple=True)
        ),
        vol.Optional(CONF_ASSIST_RINGS, default=DEFAULT_ASSIST_RINGS): number_box(),
        vol.Optional(CONF_ASSIST_SILENCE, default=DEFAULT_ASSIST_SILENCE): number_box("s"),
        vol.Optional(CONF_ASSIST_DIAL): TextSelector(TextSelectorConfig(type=TextSelectorType.TEL)),
    }
    return {vol.Optional(CONF_ASSIST): section(vol.Schema(fields), {"collapsed": True})}


# Each number of the section: its default (an emptied box) and range.
_NUMBERS: Mapping[str, tuple[int, int, int]] = {
    CONF_ASSIST_RINGS: (DEFAULT_ASSIST_RINGS, 1, ASSIST_RINGS_MAX),
    CONF_ASSIST_SILENCE: (DEFAULT_ASSIST_SILENCE, ASSIST_SILENCE_MIN, ASSIST_SILENCE_MAX),
}


def parse_assist_section(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The section as it is stored, and the form's errors: ``invalid_assist_number`` for
    a number that is not one, ``<field>_range`` for a count out of its range."""
    raw: Mapping[str, Any] = user_input.get(CONF_ASSIST) or {}
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    # Numbers as people write them ("+44 1234 567890"), stored compact; a subscriber's
    # number has digits only (validate.sms_recipient says just that).
    try:
        result[CONF_ASSIST_CALLERS] = phone_numbers(
            raw.get(CONF_ASSIST_CALLERS), validate.sms_recipient
        )
        written = str(raw.get(CONF_ASSIST_DIAL) or "").strip()
        if written:
            result[CONF_ASSIST_DIAL] = validate.sms_recipient(written)
    except InvalidArgumentError:
        errors[CONF_ASSIST] = "invalid_assist_number"
    for key, (default, minimum, maximum) in _NUMBERS.items():
        given = raw.get(key)
        if given is None:  # an emptied box
            result[key] = default
        elif (number := whole_number(given, minimum, maximum)) is None:
            errors[key] = f"{key}_range"
        else:
            result[key] = number
    return result, errors
