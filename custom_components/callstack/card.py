"""Serve the phone card (``custom:callstack-phone-card``) from the integration's own folder.

HACS installs only ``custom_components/callstack/``, so the card ships inside it and is
registered here as a frontend extra module: users get it with the integration, with no
Lovelace resource to add and nothing fetched from a CDN. The URL carries the integration's
version, so browsers load a new card after an update instead of a cached old one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from homeassistant.components.frontend import add_extra_js_url

# HA >= 2026.10 defines StaticPathConfig in http.server and re-exports it implicitly (mypy:
# attr-defined); older HA defines it in http itself, so there is one import for both.
from homeassistant.components.http import (  # type: ignore[attr-defined,unused-ignore]
    StaticPathConfig,
)
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

CARD_FILE = Path(__file__).parent / "frontend" / "callstack-phone-card.js"
CARD_URL = f"/{DOMAIN}_static/callstack-phone-card.js"


async def async_register_card(hass: HomeAssistant) -> bool:
    """Serve the card and load it on every dashboard; once per HA run.

    Returns whether it was registered: without HA's web server and frontend (a headless or
    test setup) there is nothing to serve it to.
    """
    if hass.http is None or "frontend" not in hass.config.components:
        _LOGGER.debug("No frontend loaded: the phone card is not served")
        return False
    integration = await async_get_integration(hass, DOMAIN)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=False)]
    )
    add_extra_js_url(hass, f"{CARD_URL}?v={integration.version}")
    return True
