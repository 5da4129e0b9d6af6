"""Shared fixtures for the Callstack test suite."""

from __future__ import annotations

from collections.abc import Generator

import pytest

import custom_components.callstack  # noqa: F401  (HA must find our custom_components first)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components/ in every test."""
    yield
