"""The blueprints in ``blueprints/automation/callstack``: each loads with Home Assistant's
blueprint schema and instantiates into a valid automation, and each does its job against
the emulator (the far end answers, is busy, presses keys)."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

pytest.register_assert_rewrite("tests.ha.fixtures")

from sim7600_emulator import Sim7600Emulator, test_signal  # noqa: E402

from .fixtures import (  # noqa: E402
    call_state,
    wait_until,
    write_wav,
)

pytest_plugins = ("tests.ha.fixtures",)

REPO_BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "callstack"
SPEED = 20
# The menu's length: 10 s on the clock at SPEED, so the key (0.2 s after its first audio)
# stops it long before three quarters played, however loaded the machine.
MENU_SECONDS = 200.0


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder of this test holding the repository's blueprints, as an import
    would place them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(REPO_BLUEPRINTS, tmp_path / "blueprints" / "automation" / "callstack")
    return tmp_path


def use(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"use_blueprint": {"path": f"callstack/{name}.yaml", "input": inputs}}


ALARM_INPUTS = {
    "trigger_entity": "input_boolean.smoke",
    "numbers": ["+4915550000001", "+4915550000002"],
    "message": "The smoke alarm went off. Press 1 to confirm.",
    "sms_numbers": ["+4915550000003"],
}
MENU_INPUTS = {
    "known_numbers": ["+4915550000001"],
    "script_1": "script.open_gate",
    "script_2": "script.open_door",
}


def test_every_blueprint_is_tested() -> None:
    assert sorted(path.stem for path in REPO_BLUEPRINTS.glob("*.yaml")) == [
        "alarm_call_list",
        "dtmf_menu",
        "voicemail_notification",  # tests/ha/test_voicemail_blueprint.py
    ]


@pytest.mark.parametrize(
    ("name", "inputs"), [("alarm_call_list", ALARM_INPUTS), ("dtmf_menu", MENU_INPUTS)]
)
async def test_blueprint_loads_and_instantiates(
    hass: HomeAssistant, config_dir: Path, name: str, inputs: dict[str, Any]
) -> None:
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"callstack/{name}.yaml")
    assert blueprint.validate() is None  # this Home Assistant is new enough
    assert blueprint.metadata["source_url"].endswith(
        f"/blueprints/automation/callstack/{name}.yaml"
    )
    assert await async_validate_config_item(hass, name, use(name, inputs)) is not None
    missing = dict(inputs)
    missing.pop(next(iter(inputs)))  # the first input of each is required
    with pytest.raises((HomeAssistantError, ValueError)):
        await async_validate_config_item(hass, name, use(name, missing))


async def set_up_automation(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(hass, "automation", {"automation": [use(name, inputs)]})
    await hass.async_block_till_done()
    automations = hass.states.async_all("automation")
    assert [state.state for state in automations] == ["on"]


@pytest.fixture
async def alarm_setup(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    config_dir: Path,
    recordings: Path,
) -> dict[str, Any]:
    loaded_entry.runtime_data.modem.audio.speed = SPEED
    write_wav(recordings / "smoke.wav", test_signal(0, int(10.0 * 8000)))
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"smoke": {}}})
    callers = emulator.identity.callers
    inputs = {
        **ALARM_INPUTS,
        "numbers": [callers[0], callers[1]],
        "message": "",  # interim: a WAV until spoken messages are available
        "media": "smoke.wav",
        "repeat": 2,
        "sms_numbers": [callers[2]],
    }
    await set_up_automation(hass, "alarm_call_list", inputs)
    return inputs


async def smoke(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.smoke"}, blocking=True
    )


def dialled(emulator: Sim7600Emulator) -> list[str]:
    return [command for command in emulator.commands if command.startswith("ATD")]


def automation_idle(hass: HomeAssistant) -> bool:
    state = hass.states.async_all("automation")[0]
    return state.attributes.get("current") == 0


async def test_alarm_list_stops_at_the_first_acknowledgement(
    hass: HomeAssistant, emulator: Sim7600Emulator, alarm_setup: dict[str, Any]
) -> None:
    emulator.set_dial_outcome("answer", delay=0.05)
    emulator.press_keys("1", after="audio", delay=0.1)
    await smoke(hass)
    await wait_until(hass, lambda: dialled(emulator), what="the first call")
    await wait_until(hass, lambda: automation_idle(hass), timeout=10, what="the run to end")
    assert dialled(emulator) == [f"ATD{alarm_setup['numbers'][0]};"]
    assert emulator.sent_sms == []


async def test_alarm_list_calls_everyone_then_falls_back_to_sms(
    hass: HomeAssistant, emulator: Sim7600Emulator, alarm_setup: dict[str, Any]
) -> None:
    emulator.set_dial_outcome("busy", delay=0.05)
    await smoke(hass)
    await wait_until(hass, lambda: emulator.sent_sms, timeout=15, what="the SMS")
    assert dialled(emulator) == [f"ATD{number};" for number in alarm_setup["numbers"]]
    assert [sms.destination for sms in emulator.sent_sms] == alarm_setup["sms_numbers"]
    assert emulator.sent_sms[0].text == "Alarm: nobody acknowledged the alarm calls."


@pytest.fixture
async def menu_setup(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    config_dir: Path,
    recordings: Path,
) -> None:
    loaded_entry.runtime_data.modem.audio.speed = SPEED
    write_wav(recordings / "menu.wav", test_signal(0, int(MENU_SECONDS * 8000)))
    scripts = {key: {"sequence": [{"event": f"test_{key}"}]} for key in ("open_gate", "open_door")}
    assert await async_setup_component(hass, "script", {"script": scripts})
    inputs = {
        **MENU_INPUTS,
        "known_numbers": [emulator.identity.callers[0]],
        "message": "",  # interim: a WAV until spoken messages are available
        "media": "menu.wav",
    }
    await set_up_automation(hass, "dtmf_menu", inputs)


async def test_menu_runs_the_script_of_the_key_pressed(
    hass: HomeAssistant, emulator: Sim7600Emulator, menu_setup: None
) -> None:
    door = async_capture_events(hass, "test_open_door")
    gate = async_capture_events(hass, "test_open_gate")
    emulator.press_keys("2", after="audio", delay=0.2)
    await emulator.incoming_call(emulator.identity.callers[0])
    await wait_until(hass, lambda: door, timeout=10, what="the door script")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="the hang-up")
    assert "ATA" in emulator.commands
    assert "AT+CHUP" in emulator.commands
    assert gate == []
    played = len(emulator.audio_received)
    assert 0 < played < MENU_SECONDS * 16000 * 3 / 4  # the menu stopped at the key


async def test_menu_leaves_unknown_callers_alone(
    hass: HomeAssistant, emulator: Sim7600Emulator, menu_setup: None
) -> None:
    await emulator.incoming_call(emulator.identity.callers[1])
    await wait_until(hass, lambda: call_state(hass) == "incoming", what="ringing")
    await hass.async_block_till_done()
    assert "ATA" not in emulator.commands
    await emulator.missed_call()
