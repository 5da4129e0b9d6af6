"""Recording and playback stay inside Home Assistant's allowed folders, symlinks included."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

pytest.register_assert_rewrite("tests.ha.fixtures")

from sim7600_emulator import Sim7600Emulator, test_signal  # noqa: E402

from .fixtures import (  # noqa: E402
    action_error,
    answered_call,
    assert_translated_error,
    call_action,
    write_wav,
)

pytest_plugins = ("tests.ha.fixtures",)


async def test_a_recordings_folder_linked_outside_is_refused(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    recordings.symlink_to(outside)  # <media>/callstack -> a folder HA may not write
    await answered_call(hass, emulator, emulator.identity.callers[0])
    err = await action_error(
        hass, "record", {"duration": 0.1, "filename": "x.wav"}, return_response=True
    )
    assert_translated_error(err, ServiceValidationError, "path_not_allowed", emulator)
    assert list(outside.iterdir()) == []
    await call_action(hass, "hang_up")


async def test_a_link_to_a_file_outside_cannot_be_played(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    recordings: Path,
    tmp_path: Path,
) -> None:
    secret = tmp_path / "private.wav"
    write_wav(secret, test_signal(0, 800))
    recordings.mkdir()
    (recordings / "innocent.wav").symlink_to(secret)
    await answered_call(hass, emulator, emulator.identity.callers[0])
    for file in ("innocent.wav", "media-source://media_source/local/callstack/innocent.wav"):
        err = await action_error(hass, "play", {"file": file})
        assert_translated_error(err, ServiceValidationError, "path_not_allowed", emulator)
    assert bytes(emulator.audio_received) == b""
    await call_action(hass, "hang_up")


@pytest.mark.parametrize(
    "filename", ["..", "../escape.wav", "a\0b.wav", "sub/dir.wav", "x.wav\n", "%2e%2e.wav"]
)
async def test_hostile_file_names_never_touch_the_disk(
    hass: HomeAssistant,
    emulator: Sim7600Emulator,
    loaded_entry: Any,
    media_dir: Path,
    filename: str,
) -> None:
    await answered_call(hass, emulator, emulator.identity.callers[0])
    before = sorted(media_dir.rglob("*"))
    err = await action_error(
        hass, "record", {"duration": 0.1, "filename": filename}, return_response=True
    )
    assert_translated_error(err, ServiceValidationError, "invalid_filename", emulator)
    assert sorted(media_dir.rglob("*")) == before
    await call_action(hass, "hang_up")


async def test_a_path_longer_than_any_the_system_opens_is_refused_unread(
    hass: HomeAssistant, emulator: Sim7600Emulator, loaded_entry: Any, media_dir: Path
) -> None:
    """HA's allowed-folder check walks every parent of a path, which on Python 3.14 takes
    minutes for a megabyte of "a/a/..." (in a worker thread, one per call): such a name is
    refused before it is looked at, as no file of that name can be opened anyway."""
    await answered_call(hass, emulator, emulator.identity.callers[0])
    huge = str(media_dir / ("a/" * 500_000)) + "x.wav"
    with patch.object(hass.config, "is_allowed_path", wraps=hass.config.is_allowed_path) as checked:
        err = await action_error(hass, "play", {"file": huge})
    assert_translated_error(err, ServiceValidationError, "path_not_allowed", emulator)
    assert checked.call_count == 0
    await call_action(hass, "hang_up")
