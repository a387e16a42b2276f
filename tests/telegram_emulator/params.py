"""Request parameters as Telegram reads them: strings from forms, typed values from JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import ApiError, bad_request
from .models import UploadedFile

# Parameters whose value is a JSON object or array (sent as a JSON string in form bodies).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
    }
)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return None
    return None


class Params:
    """Typed access to one call's parameters; absent and empty values read as "not given"."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw: dict[str, Any] = dict(raw)

    def has(self, name: str) -> bool:
        value = self.raw.get(name)
        return value is not None and value != ""

    def get_str(self, name: str) -> str | None:
        """The value as text; None when absent or a file (a file is no text parameter)."""
        value = self.raw.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Garbage reads as 0, like the Bot API's integer conversion."""
        if not self.has(name):
            return default
        parsed = _as_int(self.raw[name])
        return 0 if parsed is None else parsed

    def get_float(self, name: str, default: float | None = None) -> float | None:
        if not self.has(name):
            return default
        value = self.raw[name]
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0

    def get_bool(self, name: str, default: bool = False) -> bool:
        if not self.has(name):
            return default
        value = self.raw[name]
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        return str(value).strip().lower() in {"true", "1"}

    def file(self, name: str) -> UploadedFile | None:
        """The file uploaded in the multipart part `name` (attach://<name> points at it too)."""
        value = self.raw.get(name)
        return value if isinstance(value, UploadedFile) else None

    def files(self) -> list[UploadedFile]:
        return [value for value in self.raw.values() if isinstance(value, UploadedFile)]

    def get_json(self, name: str, error: str) -> Any:
        """The decoded JSON value, or None when absent; `error` is the 400 detail if malformed."""
        if not self.has(name):
            return None
        value = self.raw[name]
        if isinstance(value, (dict, list)):
            return value
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        raise bad_request(error)

    def chat_id(self, name: str = "chat_id") -> int | str:
        """An int chat id, or the raw string (an @username) which later fails as unknown."""
        if not self.has(name):
            raise bad_request(f"{name} is empty")
        value = self.raw[name]
        parsed = _as_int(value)
        if parsed is not None:
            return parsed
        return str(value)

    def readable(self) -> dict[str, Any]:
        """Parameters for the transcript, with JSON strings decoded and files as name and size."""
        out: dict[str, Any] = {}
        for key, value in self.raw.items():
            if isinstance(value, UploadedFile):
                out[key] = value.readable()
                continue
            if key in JSON_FIELDS and isinstance(value, str):
                try:
                    out[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            out[key] = value
        return out


def target_chat_id(params: Params) -> int | None:
    """The chat a call concerns, for fault matching; None when it names no numeric chat."""
    if not params.has("chat_id"):
        return None
    try:
        value = params.chat_id()
    except ApiError:
        return None
    return value if isinstance(value, int) else None
