"""Differences between two versions of an offer, field by field, as an organizer reads them."""

from __future__ import annotations

import json
from typing import Any

MISSING = "(none)"  # shown where a version does not have the field
SHOWN = 70  # characters of a value shown; a long sentence is cut (the file has it whole)
_ABSENT = object()


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return MISSING
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _nested(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


def _compare(path: str, old: Any, new: Any, into: list[str]) -> None:
    """Two mappings (or two lists of mappings) compared key by key; anything else as one value."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            _compare(f"{path}.{key}" if path else str(key), old.get(key, _ABSENT), new.get(key, _ABSENT), into)
    elif _nested(old) and _nested(new):
        for index in range(max(len(old), len(new))):
            before = old[index] if index < len(old) else _ABSENT
            after = new[index] if index < len(new) else _ABSENT
            _compare(f"{path}.{index}", before, after, into)
    elif old != new or type(old) is not type(new):
        into.append(f"{path}: {_shown(old)} -> {_shown(new)}")


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """`path: old -> new` for each value that differs, in the order of the new version's fields
    (then the removed ones); `(none)` where a version does not have the field."""
    found: list[str] = []
    _compare("", before, after, found)
    return found
