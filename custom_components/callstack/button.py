"""Buttons for dashboards: answer the ringing call, hang up the current one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CallstackConfigEntry
from .entity import CallstackEntity
from .services import async_answer, async_hang_up
from .sim7600.model import CallState, ModemSnapshot

# Each press is one AT command; the modem serialises them anyway.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CallstackButtonEntityDescription(ButtonEntityDescription):
    """A button, when it can act, and what pressing it does."""

    can_press_fn: Callable[[ModemSnapshot], bool]
    press_fn: Callable[[CallstackConfigEntry], Awaitable[None]]


def _can_answer(snapshot: ModemSnapshot) -> bool:
    """What ``callstack.answer`` can do: answer a ringing call, take a waiting one, or
    resume the held one while no call is active."""
    return (
        snapshot.call_state is CallState.INCOMING
        or snapshot.waiting_call is not None
        or (snapshot.held_call is not None and snapshot.call_state is not CallState.ACTIVE)
    )


BUTTONS: tuple[CallstackButtonEntityDescription, ...] = (
    CallstackButtonEntityDescription(
        key="answer",
        translation_key="answer",
        can_press_fn=_can_answer,
        press_fn=async_answer,
    ),
    CallstackButtonEntityDescription(
        key="hang_up",
        translation_key="hang_up",
        can_press_fn=lambda snapshot: snapshot.call_state is not CallState.IDLE,
        press_fn=async_hang_up,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallstackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Answer and Hang up buttons."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(CallstackButton(coordinator, description) for description in BUTTONS)


class CallstackButton(CallstackEntity, ButtonEntity):
    """Available only while pressing it can work, so a dashboard greys it out otherwise.

    A press that loses a race (the caller gave up a moment ago) raises the same translated
    error as the matching action.
    """

    entity_description: CallstackButtonEntityDescription

    @property
    def available(self) -> bool:
        """Available while the modem answers and the call is in the right state."""
        return super().available and self.entity_description.can_press_fn(self.coordinator.data)

    async def async_press(self) -> None:
        """Answer or hang up."""
        await self.entity_description.press_fn(self.coordinator.config_entry)
