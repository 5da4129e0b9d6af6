"""Hostile input through every action: only translated errors come out, and fast.

Each validator (``sim7600/validate.py``) and each action schema gets mutated inputs
(injected control characters, lone surrogates, huge lengths, NaN, infinities, numbers
beyond any float) through the real action against the emulator. What may come out is a
success, a :class:`ServiceValidationError` or :class:`HomeAssistantError` with a
Callstack translation key of ``translations/en.json``, or - for a value of the wrong type
only - Home Assistant's own schema error (``vol.Invalid``, which HA renders itself). A
bare ``ValueError``, ``OverflowError`` or ``UnicodeError`` is a failure, and so is a
callback that holds the event loop (asyncio debug, ``slow_callback_duration``).

Hypothesis draws the inputs (its generate phase) and the test runs them on the loop of
Home Assistant's test harness, one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
import logging
import math
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

try:  # HA >= 2026.10 validates its own schemas with probatio, voluptuous' successor
    from probatio import Invalid as _ProbatioInvalid

    SCHEMA_ERRORS: tuple[type[Exception], ...] = (vol.Invalid, _ProbatioInvalid)
except ImportError:
    SCHEMA_ERRORS = (vol.Invalid,)

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import (  # noqa: E402
    CONF_AT_PORT,
    CONF_BUS_EVENT_PRIVATE_DATA,
    CONF_LOGBOOK_MESSAGE_TEXT,
    CONF_RECORDINGS_FOLDER,
    CONF_SIGNAL_INTERVAL,
    CONF_SIM_PIN,
    CONF_SMS_PART_TIMEOUT,
    CONF_SMS_RECIPIENTS,
    DOMAIN,
)
from sim7600_emulator import Sim7600Emulator, test_signal  # noqa: E402

from .fixtures import (  # noqa: E402
    TRANSLATIONS,
    EntryFactory,
    action_error,
    answered_call,
    call_state,
    entity_id,
    write_wav,
)

pytest_plugins = ("tests.ha.fixtures",)

EXAMPLES = 60  # per action; each example is one real action call
STALL = 1.0  # seconds: a callback that runs longer holds every other integration up
_INJECTIONS = [";", '"', "\r", "\n", "\x1a", "\x1b", "\x00", "/", "..", "\\", "%s", "{0}"]


def mutated(valid: str) -> st.SearchStrategy[str]:
    """``valid`` with characters inserted, replaced or cut, or repeated to a huge length."""
    piece = st.one_of(
        st.characters(),
        st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates
        st.sampled_from(_INJECTIONS),
    )
    text = st.lists(piece, max_size=50).map("".join)
    edit = st.tuples(
        st.integers(0, len(valid)), st.integers(0, 3), st.lists(piece, max_size=3).map("".join)
    )

    def apply(edits: list[tuple[int, int, str]]) -> str:
        value = valid
        for at, cut, insert in edits:
            value = value[:at] + insert + value[at + cut :]
        return value

    return st.one_of(
        st.lists(edit, min_size=1, max_size=4).map(apply),
        st.sampled_from([10, 1000, 200_000]).map(lambda times: valid * times),
        text,
    )


def numbers(valid: float) -> st.SearchStrategy[Any]:
    """Numbers as an automation may pass them: any float, huge ints, numeric strings."""
    return st.one_of(
        st.just(valid),
        st.floats(),  # NaN and the infinities included
        st.integers(-(2**70), 2**70),
        st.sampled_from([10**400, -(10**400)]),  # beyond any float
        st.sampled_from(["nan", "inf", "-inf", "1e400", "10" * 200, "", "12abc"]),
    )


def drawn(strategy: st.SearchStrategy[Any], count: int = EXAMPLES) -> list[Any]:
    """``count`` inputs drawn by Hypothesis (generate phase only: no shrinking, no DB)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


@contextlib.asynccontextmanager
async def no_loop_stalls(limit: float = STALL) -> AsyncGenerator[None]:
    """Fail if any callback on the running loop takes ``limit`` seconds or more.

    A blocking action call runs in the caller's task, and a step is timed when it ends:
    the block starts and ends with a yield to the loop, so the test's own steps count.
    """
    loop = asyncio.get_running_loop()
    stalls: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("Executing"):
                handle, seconds = record.args  # type: ignore[misc]
                stalls.append(f"{seconds:.3f} s in {str(handle)[:160]}")

    handler = Catch(logging.WARNING)
    logger = logging.getLogger("asyncio")
    debug, duration = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = limit
    logger.addHandler(handler)
    try:
        await asyncio.sleep(0)
        yield
        await asyncio.sleep(0)
    finally:
        logger.removeHandler(handler)
        loop.set_debug(debug)
        loop.slow_callback_duration = duration
    assert not stalls, stalls


def assert_only_translated(err: BaseException | None, data: dict[str, Any]) -> None:
    """``err`` is None, a translated Callstack error, or HA's schema error."""
    if err is None or isinstance(err, SCHEMA_ERRORS):
        return
    shown = {key: repr(value)[:80] for key, value in data.items()}
    assert isinstance(err, HomeAssistantError), f"{type(err).__name__} for {shown}: {err!r}"
    assert err.translation_domain == DOMAIN, f"untranslated {err!r} for {shown}"
    assert err.translation_key in TRANSLATIONS["exceptions"], f"{err!r} for {shown}"


async def outcome(hass: HomeAssistant, domain: str, action: str, data: dict[str, Any]) -> Any:
    response = hass.services.supports_response(domain, action) is SupportsResponse.ONLY
    try:
        await hass.services.async_call(
            domain, action, data, blocking=True, return_response=response
        )
    except Exception as err:  # the assertion of the caller judges what came out
        return err
    return None


@pytest.fixture
def quick_far_end(emulator: Sim7600Emulator) -> None:
    """Dials end at once (busy), so a dial that passes validation does not wait."""
    emulator.set_dial_outcome("busy", delay=0.0)


ACTION_INPUTS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "dial": {"number": mutated("+4915550001"), "timeout": numbers(10)},
    "collect_dtmf": {
        "max_digits": numbers(4),
        "timeout": numbers(1),
        "inter_digit_timeout": numbers(1),
        "terminator": mutated("#"),
        "media": mutated("menu.wav"),
    },
    "send_dtmf": {"digits": mutated("12#"), "duration_ms": numbers(100)},
    "send_sms": {"number": mutated("+4915550001"), "message": mutated("Hello 👋")},
    "send_ussd": {"code": mutated("*100#"), "timeout": numbers(5)},
    "record": {"duration": numbers(5), "filename": mutated("call.wav")},
    "hang_up": {"config_entry_id": mutated("01JCALLSTACKTESTENTRY00001")},
}
# dial as an alarm call: the message and what acknowledges it.
ALARM_INPUTS = {
    "number": st.just("+4915550001"),
    "media": mutated("alarm.wav"),
    "repeat": numbers(3),
    "acknowledge_digits": mutated("1"),
}


@pytest.mark.usefixtures("quick_far_end", "media_dir")
@pytest.mark.parametrize(
    ("action", "fields"),
    [
        *(pytest.param(action, fields, id=action) for action, fields in ACTION_INPUTS.items()),
        pytest.param("dial", ALARM_INPUTS, id="dial-alarm"),
    ],
)
async def test_mutated_action_input_gives_only_translated_errors(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    action: str,
    fields: dict[str, st.SearchStrategy[Any]],
) -> None:
    inputs = drawn(st.fixed_dictionaries(fields))
    async with no_loop_stalls():
        for data in inputs:
            assert_only_translated(await outcome(hass, DOMAIN, action, data), data)


# The media of play and of a menu's prompt is only resolved during a call (without one, both
# refuse before looking at it): these run in an answered call, with a real file to find.
IN_CALL_INPUTS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "play": {
        "file": st.one_of(
            mutated("call.wav"),
            mutated("media-source://media_source/local/callstack/call.wav"),
            mutated("/media/local/callstack/call.wav"),
            mutated("http://127.0.0.1:8123/local/call.wav"),
        ),
        "wait": st.just(False),
        "interrupt": st.just(True),
    },
    "collect_dtmf": {
        "media": st.one_of(mutated("call.wav"), mutated("media-source://tts/x?message=hi")),
        "timeout": st.just(0.05),
    },
}


@pytest.mark.parametrize(
    ("action", "fields"),
    [pytest.param(action, fields, id=action) for action, fields in IN_CALL_INPUTS.items()],
)
async def test_mutated_media_in_a_call_gives_only_translated_errors(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: MockConfigEntry,
    recordings: Path,
    action: str,
    fields: dict[str, st.SearchStrategy[Any]],
) -> None:
    write_wav(recordings / "call.wav", test_signal(0, 800))
    await answered_call(hass, emulator, emulator.identity.callers[0])
    inputs = drawn(st.fixed_dictionaries(fields))
    # And a file that plays and one that is missing: the draws hit both only mostly.
    media = next(key for key in fields if key in ("file", "media"))
    inputs += [{**inputs[0], media: name} for name in ("call.wav", "missing.wav")]
    keys: set[str | None] = set()
    async with no_loop_stalls():
        for data in inputs:
            err = await outcome(hass, DOMAIN, action, data)
            assert_only_translated(err, data)
            keys.add(getattr(err, "translation_key", None))
    # The media was looked at (found, refused, not found), not refused for want of a call.
    assert {None, "file_not_found"} <= keys, keys
    assert call_state(hass) == "active"


@pytest.mark.usefixtures("quick_far_end")
async def test_mutated_notify_messages_give_only_translated_errors(
    hass: HomeAssistant, emulator: Sim7600Emulator, entry_factory: EntryFactory
) -> None:
    await entry_factory(options={CONF_SMS_RECIPIENTS: [emulator.identity.callers[0]]})
    notify = entity_id(hass, "notify", "sms")
    inputs = drawn(st.fixed_dictionaries({"message": mutated("Door open"), "title": mutated("")}))
    async with no_loop_stalls():
        for data in inputs:
            result = await outcome(hass, "notify", "send_message", {"entity_id": notify, **data})
            assert_only_translated(result, data)


async def test_a_lone_surrogate_in_an_sms_is_a_validation_error(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: MockConfigEntry
) -> None:
    err = await action_error(
        hass, "send_sms", {"number": emulator.identity.callers[0], "message": "Hi \ud800"}
    )
    assert isinstance(err, ServiceValidationError)
    assert err.translation_key == "invalid_message"
    assert emulator.sent_sms == []


async def test_a_10_mb_sms_is_refused_at_once(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: MockConfigEntry
) -> None:
    """The length is checked before any encoding: no callback holds the loop."""
    for text in ("x" * 10_000_000, "\U0001f389" * 5_000_000, "x" * 1531):
        async with no_loop_stalls(0.5):  # the old code held the loop 1.6-2.6 s
            err = await action_error(
                hass, "send_sms", {"number": emulator.identity.callers[0], "message": text}
            )
        assert isinstance(err, ServiceValidationError)
        assert err.translation_key == "message_too_long"
    assert emulator.sent_sms == []


@pytest.mark.usefixtures("quick_far_end")
@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("dial", {"number": "+4915550001", "timeout": math.inf}),
        ("dial", {"number": "+4915550001", "timeout": 10**400}),
        ("send_dtmf", {"digits": "1", "duration_ms": math.inf}),
        ("send_dtmf", {"digits": "1", "duration_ms": -math.inf}),
        ("send_ussd", {"code": "*100#", "timeout": 10**400}),
        ("record", {"duration": 10**400}),
        ("collect_dtmf", {"max_digits": 10**400}),
        ("collect_dtmf", {"inter_digit_timeout": -math.inf}),
        ("dial", {"number": "+4915550001", "media": "x.wav", "repeat": math.inf}),
    ],
)
async def test_numbers_beyond_any_float_are_validation_errors(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, action: str, data: dict[str, Any]
) -> None:
    """``vol.Coerce`` lets OverflowError through; the schemas must not."""
    err = await outcome(hass, DOMAIN, action, data)
    assert isinstance(err, (*SCHEMA_ERRORS, ServiceValidationError)), repr(err)


def assert_translated_form(result: Any, section: str) -> None:
    """A form's errors and an abort's reason have English text under ``section``."""
    strings = TRANSLATIONS[section]
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in strings["abort"], result["reason"]
    for error in (result.get("errors") or {}).values():
        assert error in strings["error"], error


async def test_mutated_options_give_form_errors_only(hass: HomeAssistant) -> None:
    """SMS recipients (the phone number validator), the folder and the numbers, through
    the options."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: "/dev/x"})
    entry.add_to_hass(hass)
    inputs = drawn(
        st.fixed_dictionaries(
            {
                CONF_SMS_RECIPIENTS: st.lists(mutated("+4915550001"), max_size=3),
                CONF_RECORDINGS_FOLDER: mutated("callstack"),
                # Not ints beyond any float: HA's own NumberSelector raises OverflowError
                # on them before the form sees them (only a hand-made request sends one).
                CONF_SIGNAL_INTERVAL: numbers(60).filter(
                    lambda value: not isinstance(value, int) or abs(value) < 2**1000
                ),
            }
        )
    )
    async with no_loop_stalls():
        for data in inputs:
            flow = await hass.config_entries.options.async_init(entry.entry_id)
            try:
                result = await hass.config_entries.options.async_configure(
                    flow["flow_id"],
                    {
                        CONF_SMS_PART_TIMEOUT: 24,
                        CONF_BUS_EVENT_PRIVATE_DATA: True,
                        CONF_LOGBOOK_MESSAGE_TEXT: False,
                        **data,
                    },
                )
            except InvalidData:  # the form's own schema (HA shows it at the field)
                continue
            assert result["type"] in (FlowResultType.FORM, FlowResultType.CREATE_ENTRY)
            assert_translated_form(result, "options")


async def test_mutated_sim_pins_give_form_errors_only(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> None:
    """The PIN validator, through the re-authentication form; a PIN of the right shape
    goes to the (emulated) SIM, which counts the wrong ones down to its PUK."""
    emulator.set_sim("pin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="x", data={CONF_AT_PORT: emulator.at_link}, minor_version=2
    )
    entry.add_to_hass(hass)
    inputs = drawn(mutated(emulator.identity.pin), count=40)
    async with no_loop_stalls():
        for pin in inputs:
            flow = await entry.start_reauth_flow(hass)
            try:
                result = await hass.config_entries.flow.async_configure(
                    flow["flow_id"], {CONF_SIM_PIN: pin}
                )
            except InvalidData:
                continue
            assert_translated_form(result, "config")
            if result["type"] is FlowResultType.FORM:
                hass.config_entries.flow.async_abort(flow["flow_id"])
