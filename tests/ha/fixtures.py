"""Fixtures and helpers of the Home Assistant layer tests (entities, actions, SMS, repairs).

Load them in a test module with ``pytest_plugins = ("tests.ha.fixtures",)``. The modem is
always the project's SIM7600 emulator (the ``emulator`` fixture of ``tests/conftest.py``)
behind a real pseudo-terminal; nothing of the integration is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch
import wave

from homeassistant.components import stt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.callstack.config_flow import CallstackConfigFlow
from custom_components.callstack.const import CONF_AT_PORT, CONF_AUDIO_PORT, DOMAIN
from sim7600_emulator import Sim7600Emulator

from .snapshot_serializer import VersionNeutralSnapshotExtension

TITLE = "SIM7600G-H"  # what the flow names it (AT+CGMM: SIMCOM_SIM7600G-H)
ENTRY_ID = "01JCALLSTACKTESTENTRY00001"
DEVICE_SLUG = "sim7600g_h"
TRANSLATIONS: dict[str, Any] = json.loads(
    (
        Path(__file__).parents[2] / "custom_components" / "callstack" / "translations" / "en.json"
    ).read_text(encoding="utf-8")
)

type EntryFactory = Callable[..., Awaitable[MockConfigEntry]]


def make_entry(
    emu: Sim7600Emulator,
    *,
    entry_id: str = ENTRY_ID,
    data: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    unique_id: str = "callstack-test-modem",
    title: str = TITLE,
) -> MockConfigEntry:
    """A config entry for the emulator's ports (by-id style links, as the flow stores them)."""
    entry_data: dict[str, Any] = {CONF_AT_PORT: emu.at_link, CONF_AUDIO_PORT: emu.audio_link}
    entry_data.update(data or {})
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry_id,
        version=CallstackConfigFlow.VERSION,  # current: no migration
        minor_version=CallstackConfigFlow.MINOR_VERSION,
        data=entry_data,
        options=options or {},
        unique_id=unique_id,
        title=title,
    )


def entry_device(device_registry: dr.DeviceRegistry, entry_id: str = ENTRY_ID) -> dr.DeviceEntry:
    """The one device of the entry, found the same way on every supported HA.

    (``device_registry.async_get_device`` is deprecated from 2026.x and raises in tests.)
    """
    [device] = dr.async_entries_for_config_entry(device_registry, entry_id)
    assert device.identifiers == {(DOMAIN, entry_id)}
    return device


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add ``entry`` to hass and set it up (whatever the outcome)."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def entry_factory(
    hass: HomeAssistant, emulator: Sim7600Emulator
) -> AsyncGenerator[EntryFactory]:
    """Create and set up entries on demand; every loaded one is unloaded at teardown."""
    created: list[MockConfigEntry] = []

    async def factory(emu: Sim7600Emulator | None = None, **kwargs: Any) -> MockConfigEntry:
        entry = make_entry(emu or emulator, **kwargs)
        created.append(entry)
        return await setup_entry(hass, entry)

    yield factory
    for entry in created:
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def loaded_entry(entry_factory: EntryFactory) -> MockConfigEntry:
    """The emulator's modem, set up and loaded."""
    entry = await entry_factory()
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A media folder of this test only (the harness's default lies in site-packages)."""
    media = tmp_path / "media"
    media.mkdir()
    hass.config.media_dirs = {"local": str(media)}
    hass.config.allowlist_external_dirs = {str(media)}
    return media


@pytest.fixture
def recordings(media_dir: Path) -> Path:
    """``<media>/callstack``: where recordings land by default."""
    return media_dir / "callstack"


@pytest.fixture
def ha_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy with Home Assistant's serializer, stored in ``tests/ha/snapshots/``.

    Registry entries keep only the attributes every supported HA has (snapshot_serializer.py),
    so one snapshot file serves 2025.4 and 2026.x. (The harness's own ``snapshot`` override
    loses to syrupy's fixture here.)
    """
    return snapshot.use_extension(VersionNeutralSnapshotExtension)


@pytest.fixture
def only_platform() -> Callable[[Platform], Any]:
    """Load just one platform (``snapshot_platform`` wants one at a time)."""

    def _patch(platform: Platform) -> Any:
        return patch("custom_components.callstack.PLATFORMS", [platform])

    return _patch


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default (as HA core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


def write_wav(path: Path, pcm: bytes, *, rate: int = 8000, channels: int = 1) -> Path:
    """Write a 16-bit PCM WAV (its folder too); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return path


def files_in(folder: Path) -> list[str]:
    """Every file name in ``folder`` (hidden temporaries included); [] if it does not exist."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def entity_id(hass: HomeAssistant, platform: str, key: str, entry_id: str = ENTRY_ID) -> str:
    """The entity ID of the entity with unique ID ``<entry_id>_<key>``."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry_id}_{key}")
    assert found is not None, f"no {platform} entity {key}"
    return found


def state_of(hass: HomeAssistant, platform: str, key: str, entry_id: str = ENTRY_ID) -> Any:
    """The state object of one of the modem's entities."""
    state = hass.states.get(entity_id(hass, platform, key, entry_id))
    assert state is not None
    return state


def call_state(hass: HomeAssistant) -> str:
    """The call state sensor's state."""
    return str(state_of(hass, "sensor", "call_state").state)


async def wait_until(
    hass: HomeAssistant,
    predicate: Callable[[], object],
    timeout: float = 5.0,
    what: str = "condition",
) -> None:
    """Poll ``predicate`` (letting the loop and hass run) until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()


async def far_end_heard(
    hass: HomeAssistant, emulator: Sim7600Emulator, at_least: int, timeout: float = 5.0
) -> bytes:
    """What the far end has heard, once ``at_least`` bytes of it have arrived.

    A playback that has ended (the action returned, the player went idle) has written
    every frame, but a PTY hands written bytes to the other side from a kernel work queue:
    on a loaded machine the last frames can reach the emulator a little after the state
    changed. So wait for them instead of reading the buffer at once.
    """
    await wait_until(
        hass,
        lambda: len(emulator.audio_received) >= at_least,
        timeout,
        f"{at_least} bytes of audio at the far end",
    )
    return bytes(emulator.audio_received)


def expected_message(key: str, placeholders: dict[str, str] | None = None) -> str:
    """The English text of an exception as Home Assistant renders it.

    HA formats the placeholders and strips the trailing full stop
    (``helpers.translation.async_get_exception_message``).
    """
    message: str = TRANSLATIONS["exceptions"][key]["message"]
    message = message.rstrip(".")
    return message.format(**placeholders) if placeholders else message


def assert_translated_error(
    err: BaseException,
    cls: type[HomeAssistantError],
    key: str,
    emu: Sim7600Emulator,
    placeholders: dict[str, str] | None = None,
) -> None:
    """``err`` is exactly ``cls`` with a Callstack translation and leaks no seeded secret."""
    assert type(err) is cls, f"{type(err).__name__} is not {cls.__name__}: {err!r}"
    assert isinstance(err, HomeAssistantError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    text = str(err)
    assert text == expected_message(key, placeholders)
    for secret in emu.identity.secrets():
        assert secret not in text


async def call_action(
    hass: HomeAssistant,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    return_response: bool = False,
) -> Any:
    """Call ``callstack.<action>`` and wait for it."""
    return await hass.services.async_call(
        DOMAIN, action, data or {}, blocking=True, return_response=return_response
    )


async def action_error(
    hass: HomeAssistant,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    return_response: bool = False,
) -> HomeAssistantError:
    """Call an action that must fail, and return its error."""
    with pytest.raises(HomeAssistantError) as excinfo:
        await call_action(hass, action, data, return_response=return_response)
    return excinfo.value


async def hang_up(hass: HomeAssistant) -> None:
    """End the call from our side and wait for idle."""
    await call_action(hass, "hang_up")
    await wait_until(hass, lambda: call_state(hass) == "idle", what="idle")


async def answered_call(hass: HomeAssistant, emu: Sim7600Emulator, number: str) -> None:
    """An incoming call from ``number``, answered through the ``answer`` action, with the
    audio bridge running."""
    await emu.incoming_call(number)
    await wait_until(
        hass, lambda: state_of(hass, "sensor", "call_state").state == "incoming", what="ringing"
    )
    await call_action(hass, "answer")
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor", "audio_bridge").state == "on",
        what="the audio bridge",
    )


class PhoneStt(stt.SpeechToTextEntity):
    """An STT entity that takes what Callstack sends: 16 kHz 16-bit mono PCM in WAV."""

    languages: tuple[str, ...] = ("en",)

    @property
    def supported_languages(self) -> list[str]:
        return list(self.languages)

    @property
    def supported_formats(self) -> list[stt.AudioFormats]:
        return [stt.AudioFormats.WAV]

    @property
    def supported_codecs(self) -> list[stt.AudioCodecs]:
        return [stt.AudioCodecs.PCM]

    @property
    def supported_bit_rates(self) -> list[stt.AudioBitRates]:
        return [stt.AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        return [stt.AudioSampleRates.SAMPLERATE_16000]

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        return [stt.AudioChannels.CHANNEL_MONO]
