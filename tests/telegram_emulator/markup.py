"""reply_markup validation and normalization (inline keyboards, reply keyboards, remove, force)."""

from __future__ import annotations

from typing import Any

from .errors import BUTTON_DATA_INVALID, bad_request
from .html_parse import check_url

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
KEYBOARD_BUTTON_FIELDS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
KEYBOARD_OPTIONS = (
    "is_persistent",
    "resize_keyboard",
    "one_time_keyboard",
    "input_field_placeholder",
    "selective",
)
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64


def _rows(markup: dict[str, Any], key: str, kind: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" of the {kind} must be an Array of Arrays')
    return rows


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in INLINE_ACTIONS if button.get(name) is not None]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used, "
            f"got {', '.join(actions)}"
        )
    action = actions[0]
    value = button[action]
    if action == "callback_data":
        data = value if isinstance(value, str) else str(value)
        if not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request(BUTTON_DATA_INVALID)
        value = data
    elif action == "url" and (not isinstance(value, str) or check_url(value) is None):
        raise bad_request(f"inline keyboard button URL '{value}' is invalid: Wrong HTTP URL")
    return {"text": text, action: value}


def _keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    out: dict[str, Any] = {"text": button["text"]}
    for name in KEYBOARD_BUTTON_FIELDS:
        if button.get(name) not in (None, False):
            out[name] = button[name]
    return out


def _options(markup: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: markup[name] for name in names if markup.get(name) not in (None, False, "")}


def parse_reply_markup(raw: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """The normalized markup, or None when absent; raises the 400 Telegram would answer."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = [[_inline_button(b) for b in row] for row in _rows(raw, "inline_keyboard", "InlineKeyboardMarkup")]
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("too many inline keyboard buttons")
        return {"inline_keyboard": [row for row in rows if row]}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        rows = [[_keyboard_button(b) for b in row] for row in _rows(raw, "keyboard", "ReplyKeyboardMarkup")]
        return {"keyboard": [row for row in rows if row], **_options(raw, KEYBOARD_OPTIONS)}
    if raw.get("remove_keyboard") or raw.get("hide_keyboard"):
        return {"remove_keyboard": True, **_options(raw, ("selective",))}
    if raw.get("force_reply"):
        return {"force_reply": True, **_options(raw, ("input_field_placeholder", "selective"))}
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_keyboard(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]] | None:
    if markup and "inline_keyboard" in markup:
        rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
        return rows
    return None
