"""From the text a bot sends (parse_mode or entities) to the text and entities Telegram stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .entities import (
    AUTO_TYPES,
    MANUAL_TYPES,
    Entity,
    find_auto_entities,
    fix_text,
    from_utf16,
    sort_key,
    to_api,
)
from .errors import CAPTION_TOO_LONG, TEXT_EMPTY, TEXT_TOO_LONG, ParseEntitiesError, bad_request
from .html_parse import check_url, parse_html
from .markdown_parse import parse_markdown, parse_markdown_v2

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: tuple[Entity, ...]

    def api_entities(self) -> list[dict[str, Any]]:
        return to_api(self.text, list(self.entities))


def parse_text(text: str, parse_mode: str | None, strict_ampersand: bool) -> tuple[str, list[Entity]]:
    mode = (parse_mode or "").strip().lower()
    try:
        if mode == "html":
            return parse_html(text, strict_ampersand=strict_ampersand)
        if mode == "markdownv2":
            return parse_markdown_v2(text)
        if mode == "markdown":
            return parse_markdown(text)
    except ParseEntitiesError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    if mode in ("", "none"):
        return text, []
    raise bad_request("unsupported parse_mode")


def explicit_entities(text: str, raw: Any) -> list[Entity]:
    """The `entities` parameter: validated, in code point offsets; auto types are dropped."""
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    out: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        kind = item["type"]
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be a valid Number')
        if kind in AUTO_TYPES:
            continue
        if kind not in MANUAL_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        try:
            start, end = from_utf16(text, offset, length)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        extra: dict[str, Any] = {}
        if kind == "text_link":
            url = check_url(str(item.get("url", "")))
            if url is None:
                continue
            extra = {"url": url}
        elif kind == "pre" and item.get("language"):
            extra = {"language": str(item["language"])}
        elif kind == "custom_emoji":
            extra = {"custom_emoji_id": str(item.get("custom_emoji_id", ""))}
        elif kind == "text_mention":
            extra = {"user": item.get("user")}
        out.append(Entity(kind, start, end, extra))
    return out


def parse_outgoing(
    text: str | None,
    parse_mode: str | None,
    entities_json: Any,
    *,
    strict_ampersand: bool,
) -> tuple[str, list[Entity]]:
    """First stage of a bot's text (before the chat is looked up): parse_mode or entities."""
    if text is None or text == "":
        raise bad_request(TEXT_EMPTY)
    if parse_mode:
        return parse_text(text, parse_mode, strict_ampersand)
    if entities_json is not None:
        return text, explicit_entities(text, entities_json)
    return text, []


def finish(plain: str, entities: list[Entity]) -> FormattedText:
    """Trim, check the 1..4096 length (code points, after parsing) and detect auto entities."""
    fixed, kept = fix_text(plain, entities)
    if not fixed:
        raise bad_request(TEXT_EMPTY)
    if len(fixed) > MAX_TEXT_LENGTH:
        raise bad_request(TEXT_TOO_LONG)
    kept = kept + find_auto_entities(fixed, kept)
    return FormattedText(fixed, tuple(sorted(kept, key=sort_key)))


def parse_caption(
    caption: str | None,
    parse_mode: str | None,
    entities_json: Any,
    *,
    strict_ampersand: bool,
) -> tuple[str, list[Entity]]:
    """A media caption (parse_mode or caption_entities); an absent caption is just empty."""
    if not caption:
        return "", []
    if parse_mode:
        return parse_text(caption, parse_mode, strict_ampersand)
    if entities_json is not None:
        return caption, explicit_entities(caption, entities_json)
    return caption, []


def finish_caption(plain: str, entities: list[Entity]) -> FormattedText:
    """Trim and check 0..1024 characters (code points, after parsing); "" means no caption."""
    fixed, kept = fix_text(plain, entities)
    if len(fixed) > MAX_CAPTION_LENGTH:
        raise bad_request(CAPTION_TOO_LONG)
    if not fixed:
        return FormattedText("", ())
    kept = kept + find_auto_entities(fixed, kept)
    return FormattedText(fixed, tuple(sorted(kept, key=sort_key)))


def format_incoming(text: str) -> FormattedText:
    """A user's message: plain text with the entities Telegram detects (commands, links)."""
    fixed, _ = fix_text(text, [])
    entities = find_auto_entities(fixed, [])
    return FormattedText(fixed, tuple(sorted(entities, key=sort_key)))
