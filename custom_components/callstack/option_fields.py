"""The options form's field kinds, one way for the form and each of its sections.

Whole-number boxes carry no min/max: HA would refuse an out-of-range value before the step
sees it, with an untranslated "Value 5.0 is too small"; the step checks the range
(:func:`whole_number`) and says it in words instead (a ``<field>_range`` form error).
Lists of phone numbers are taken as people write them, blank lines dropped, each checked
and compacted by the driver's validator, duplicates removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import math
from typing import Any

from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode


def number_box(unit: str | None = None) -> NumberSelector:
    """A whole-number input box, its range checked by :func:`whole_number`."""
    config = NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def whole_number(value: Any, minimum: int, maximum: int) -> int | None:
    """``value`` as an int when it is a whole number from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def phone_numbers(written: Iterable[Any] | None, check: Callable[[str], str]) -> list[str]:
    """The numbers of a multiple-line field, checked and compacted by ``check`` (raises its
    :class:`~.sim7600.errors.InvalidArgumentError`), blank lines dropped, each once."""
    numbers = (str(number).strip() for number in written or ())
    return list(dict.fromkeys(check(number) for number in numbers if number))
