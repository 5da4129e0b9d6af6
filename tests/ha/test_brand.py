"""The integration's icon (``brand/icon.png``), as Home Assistant shows it.

HA 2026.3+ serves a custom integration's ``brand/`` images itself (the brands integration,
``/api/brands/integration/<domain>/<image>``), falling back from each image to
``icon.png``; older HA takes logos only from the brands CDN, which has none for Callstack
(README, Troubleshooting). Asserted per version (ha_version.py), so the test has a point on
both HAs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.callstack.const import DOMAIN

from .ha_version import BRAND_IMAGES_SINCE, HA_VERSION

ICON = Path(__file__).parents[2] / "custom_components" / "callstack" / "brand" / "icon.png"


async def test_home_assistant_serves_the_shipped_icon_where_it_serves_brand_images(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    served = importlib.util.find_spec("homeassistant.components.brands") is not None
    assert served is (HA_VERSION >= BRAND_IMAGES_SINCE)
    if not served:
        # Nothing in this HA reads the brand/ folder: it cannot show the icon, nor break on it.
        assert not await async_setup_component(hass, "brands", {})
        return

    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    icon = ICON.read_bytes()
    # The icon itself, and the images Callstack does not ship, which fall back to it.
    for image in ("icon.png", "icon@2x.png", "logo.png", "dark_icon.png", "dark_logo@2x.png"):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{image}")
        assert response.status == 200, image
        assert response.content_type == "image/png"
        assert await response.read() == icon, image
