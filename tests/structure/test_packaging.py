"""manifest.json, hacs.json and the translation files follow HA's and HACS's rules."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct

from awesomeversion import AwesomeVersion
from packaging.requirements import Requirement
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
# serialx as HA's package_constraints.txt pin it: HA 2026.10.4 and HA 2026.11.0.
SERIALX_PINS_OF_HA = ("1.11.0", "1.15.1")
SERIALX_TESTED = next(
    line.partition("==")[2]
    for line in (ROOT / "requirements_test.txt").read_text().splitlines()
    if line.startswith("serialx==")
)


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
    # Loaded only for a modem with Assist over a call turned on (see __init__.py).
    assert {"assist_pipeline", "assist_satellite"} <= set(manifest["after_dependencies"])
    assert "stt" in manifest["after_dependencies"]  # voicemail transcripts, when chosen
    assert manifest["codeowners"]
    assert manifest["documentation"]
    assert manifest["issue_tracker"]
    assert manifest["loggers"]
    assert AwesomeVersion(manifest["version"]).valid
    pinned = re.compile(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*")
    requirements = {Requirement(text).name: Requirement(text) for text in manifest["requirements"]}
    # HA installs a custom integration's requirements under its own package constraints:
    # serialx is pinned by HA itself (usb, serial: 1.11.0 in 2026.10, 1.15.1 in 2026.11; none
    # in 2025.4), so it is a range holding every such pin; anything else is pinned.
    serialx = requirements.pop("serialx")
    assert all(version in serialx.specifier for version in SERIALX_PINS_OF_HA)
    assert SERIALX_TESTED in serialx.specifier
    assert all(pinned.fullmatch(str(requirement)) for requirement in requirements.values())
    assert {(m["vid"], m["pid"]) for m in manifest["usb"]} == {("1E0E", "9001"), ("1E0E", "9011")}
    for matcher in manifest["usb"]:
        assert matcher["vid"] == matcher["vid"].upper()
        assert matcher["pid"] == matcher["pid"].upper()


def test_hacs_json_uses_only_known_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Callstack"
    assert AwesomeVersion(hacs["homeassistant"]).valid


# The images HA 2026.3+ serves from a custom integration's brand/ folder (others fall back
# to icon.png); what the brands repository asks of an icon: a 256x256 PNG.
BRAND_IMAGES = {
    "icon.png",
    "logo.png",
    "icon@2x.png",
    "logo@2x.png",
    "dark_icon.png",
    "dark_logo.png",
    "dark_icon@2x.png",
    "dark_logo@2x.png",
}


def test_brand_icon_is_what_home_assistant_serves() -> None:
    brand = INTEGRATION / "brand"
    assert {path.name for path in brand.iterdir()} <= BRAND_IMAGES
    icon = (brand / "icon.png").read_bytes()
    assert icon[:8] == b"\x89PNG\r\n\x1a\n"
    assert icon[12:16] == b"IHDR"
    assert struct.unpack(">II", icon[16:24]) == (256, 256)


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


def test_durations_and_timeouts_of_actions_are_number_boxes() -> None:
    """A slider from 5 to 300 s puts the default (60) at its far left: every number in a
    unit of time is typed into a box."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    timed = [
        (name, field, spec["selector"]["number"])
        for name, action in services.items()
        for field, spec in action.get("fields", {}).items()
        if "number" in spec.get("selector", {})
        and spec["selector"]["number"].get("unit_of_measurement") in ("s", "ms", "min", "h")
    ]
    assert len(timed) >= 4
    assert [(name, field) for name, field, number in timed if number.get("mode") != "box"] == []


def test_the_modem_field_of_every_action_is_optional_and_says_so() -> None:
    """The config entry picker labels itself "Integration" and, in HA 2025.4, always shows
    a required star: the field's own name and description are what Callstack controls."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    strings = load("translations/en.json")["services"]
    for name, action in services.items():
        field = action["fields"]["config_entry_id"]
        assert not field.get("required", False), name
        assert field["selector"] == {"config_entry": {"integration": "callstack"}}, name
        text = strings[name]["fields"]["config_entry_id"]
        assert text["name"] == "Modem", name
        assert "Optional" in text["description"], name
        assert "Integration" in text["description"], name


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


def home_assistants_under_test() -> dict[str, str]:
    """The Home Assistant versions the test command runs on (scripts/envs.sh)."""
    envs = (ROOT / "scripts" / "envs.sh").read_text()
    return dict(re.findall(r"^(OLDEST_HA|NEWEST_HA|STACK_HA)=(\S+)$", envs, re.MULTILINE))


def test_hacs_minimum_is_the_oldest_tested_home_assistant() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["homeassistant"] == home_assistants_under_test()["OLDEST_HA"]


def test_this_run_is_on_a_home_assistant_the_test_command_names() -> None:
    """scripts/with-ha's environments hold the versions scripts/test reports."""
    from homeassistant.const import __version__

    tested = home_assistants_under_test()
    assert __version__ in {tested["OLDEST_HA"], tested["NEWEST_HA"]}


def test_readme_names_every_tested_home_assistant() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Supported Home Assistant versions", 1)[1].split("\n## ", 1)[0]
    for version in home_assistants_under_test().values():
        assert f"| {version}" in section
