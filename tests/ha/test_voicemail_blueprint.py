"""The new-voicemail notification blueprint: it loads with Home Assistant's blueprint
schema, instantiates into a valid automation, and turns a voicemail of the emulator's
caller into a Companion app notification with the caller, the length, the transcript and
a link to the message."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

pytest.register_assert_rewrite("tests.ha.fixtures")

from custom_components.callstack.const import CONF_VOICEMAIL_STT  # noqa: E402
from custom_components.callstack.sim7600.voicemail import MessageEnd, RecordedMessage  # noqa: E402
from custom_components.callstack.voicemail_store import new_message_id  # noqa: E402
from sim7600_emulator import Sim7600Emulator  # noqa: E402

from .fixtures import EntryFactory, entity_id, wait_until  # noqa: E402
from .voicemail_helpers import StubStt, add_stt, leave_message  # noqa: E402

pytest_plugins = ("tests.ha.fixtures",)

REPO_BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "callstack"
NAME = "voicemail_notification"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder holding the repository's blueprints, as an import places them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(REPO_BLUEPRINTS, tmp_path / "blueprints" / "automation" / "callstack")
    return tmp_path


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """The Companion app's notify action of a phone (``notify.mobile_app_phone``)."""
    return async_mock_service(hass, "notify", "mobile_app_phone")


def use(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"use_blueprint": {"path": f"callstack/{NAME}.yaml", "input": inputs}}


async def test_the_blueprint_loads_and_instantiates(hass: HomeAssistant, config_dir: Path) -> None:
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"callstack/{NAME}.yaml")
    assert blueprint.validate() is None  # this Home Assistant is new enough
    assert blueprint.metadata["source_url"].endswith(
        f"/blueprints/automation/callstack/{NAME}.yaml"
    )
    inputs = {"call_event": "event.modem_call", "notify_service": "mobile_app_phone"}
    assert await async_validate_config_item(hass, NAME, use(inputs)) is not None
    with pytest.raises((HomeAssistantError, ValueError)):
        await async_validate_config_item(hass, NAME, use({"notify_service": "mobile_app_phone"}))


async def test_a_voicemail_becomes_a_phone_notification(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    config_dir: Path,
    phone: list[ServiceCall],
    recordings: Path,
    entry_factory: EntryFactory,
) -> None:
    engine_id = await add_stt(hass, StubStt("the parcel is at the door"))
    entry = await entry_factory(options={CONF_VOICEMAIL_STT: engine_id})
    call_event = entity_id(hass, "event", "call")
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": [use({"call_event": call_event, "notify_service": "mobile_app_phone"})]},
    )
    await hass.async_block_till_done()
    # A caller who left nothing: no notification.
    await entry.runtime_data.voicemail.async_deliver(
        new_message_id(dt_util.utcnow()),
        RecordedMessage(None, 1.0, 0.0, MessageEnd.HANG_UP),
        emulator.identity.callers[0],
        dt_util.utcnow(),
    )
    await hass.async_block_till_done()
    assert phone == []
    message = await leave_message(hass, emulator, entry, seconds=3)
    await wait_until(hass, lambda: phone, what="the notification")
    [call] = phone
    notification = dict(call.data)
    assert notification["title"] == f"Voicemail from {emulator.identity.callers[0]} (3 s)"
    assert notification["message"] == "the parcel is at the door"
    assert notification["data"]["tag"] == message.id
    assert notification["data"]["url"] == (
        "/media-browser/browser/app%2Cmedia-source%3A%2F%2Fcallstack"
    )
