"""The arrows point one way: dialogs/ imports only rules/ and the standard library; its tests need no bot/."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"rules", "dialogs", *sys.stdlib_module_names}


def imported(path: Path) -> set[str]:
    """Top-level names of every module a file imports (relative imports count as its own package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names.update(str(arg.value).split(".")[0] for arg in node.args[:1] if isinstance(arg, ast.Constant))
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "dialogs").rglob("*.py")), ids=lambda p: p.name)
def test_dialogs_import_only_rules_and_the_standard_library(path: Path) -> None:
    assert imported(path) - ALLOWED == set()


@pytest.mark.parametrize("path", sorted(Path(__file__).parent.rglob("*.py")), ids=lambda p: p.name)
def test_dialog_tests_do_not_import_bot(path: Path) -> None:
    assert "bot" not in imported(path)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom bot.i18n import gettext\nimport importlib\nimportlib.import_module('telegram.ext')\n",
        encoding="utf-8",
    )
    assert imported(sample) - ALLOWED == {"bot", "telegram"}
