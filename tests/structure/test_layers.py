"""The driver and the emulator stay free of Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PURE_PACKAGES = [
    ROOT / "custom_components" / "callstack" / "sim7600",
    ROOT / "sim7600_emulator",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("package", PURE_PACKAGES, ids=lambda path: path.name)
def test_no_home_assistant_import(package: Path) -> None:
    sources = sorted(package.rglob("*.py"))
    assert sources
    offenders = {
        str(source.relative_to(ROOT)): sorted(
            module for module in imported_modules(source) if module.split(".")[0] == "homeassistant"
        )
        for source in sources
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_emulator_does_not_borrow_the_driver() -> None:
    """The emulator is an independent peer: sharing the driver's code would hide its bugs."""
    for source in (ROOT / "sim7600_emulator").rglob("*.py"):
        assert not any(m.startswith("custom_components") for m in imported_modules(source)), source
