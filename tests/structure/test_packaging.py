"""manifest.json, hacs.json and the translation files follow HA's and HACS's rules."""

from __future__ import annotations

import json
from pathlib import Path
import re

from awesomeversion import AwesomeVersion
import pytest
import yaml

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / "callstack"
HACS_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "zip_release",
}


def load(name: str) -> dict:
    return json.loads((INTEGRATION / name).read_text())


def test_manifest_follows_hassfest_rules() -> None:
    manifest = load("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "keys after domain and name must be alphabetical"
    assert manifest["domain"] == "callstack"
    assert manifest["name"] == "Callstack"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] == "device"
    # Only what a bare HA Core venv sets up without extra system packages: ffmpeg's
    # integration loads whether or not the binary is installed (a repairs issue says so).
    assert manifest["dependencies"] == ["ffmpeg", "media_source", "usb"]
    assert "tts" in manifest["after_dependencies"]
    assert manifest["codeowners"]
    assert manifest["documentation"]
    assert manifest["issue_tracker"]
    assert manifest["loggers"]
    assert AwesomeVersion(manifest["version"]).valid
    pinned = re.compile(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*")
    assert all(pinned.fullmatch(requirement) for requirement in manifest["requirements"])
    assert any(r.startswith("pyserial-asyncio-fast==") for r in manifest["requirements"])
    assert {(m["vid"], m["pid"]) for m in manifest["usb"]} == {("1E0E", "9001"), ("1E0E", "9011")}
    for matcher in manifest["usb"]:
        assert matcher["vid"] == matcher["vid"].upper()
        assert matcher["pid"] == matcher["pid"].upper()


def test_hacs_json_uses_only_known_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Callstack"
    assert AwesomeVersion(hacs["homeassistant"]).valid


def test_no_custom_components_package_marker() -> None:
    assert not (ROOT / "custom_components" / "__init__.py").exists()


def test_every_action_is_described_translated_and_has_an_icon() -> None:
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    strings = load("translations/en.json")["services"]
    icons = load("icons.json")["services"]
    assert set(services) == set(strings) == set(icons)
    for name, spec in services.items():
        assert set(spec.get("fields", {})) == set(strings[name].get("fields", {})), name


def test_every_selector_in_services_yaml_is_valid() -> None:
    """HA's own selector schemas accept every field's selector (in this HA version)."""
    from homeassistant.helpers.selector import validate_selector

    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    for name, spec in services.items():
        for field, options in spec.get("fields", {}).items():
            if "selector" in options:
                try:
                    validate_selector(options["selector"])
                except Exception as err:
                    pytest.fail(f"{name}.{field}: {err}")


def test_every_exception_key_used_in_code_is_translated() -> None:
    exceptions = load("translations/en.json")["exceptions"]
    used: set[str] = set()
    for source in INTEGRATION.glob("*.py"):
        text = source.read_text()
        used.update(re.findall(r'translation_domain=DOMAIN,\s*translation_key="([a-z_]+)"', text))
        used.update(re.findall(r'_(?:error|invalid)\("([a-z_]+)"', text))
    used.update(f"sms_{reason}" for reason in ("no_sim", "smsc_unknown", "no_network", "rejected"))
    assert len(used) > 20
    missing = {key for key in used if key not in exceptions}
    assert missing == set()
