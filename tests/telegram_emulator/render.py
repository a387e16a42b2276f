"""Text plus entities back to Telegram HTML, so tests can assert on formatting."""

from __future__ import annotations

import html
from typing import Any

from .entities import from_utf16

_SIMPLE = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "blockquote": "blockquote",
}


def _tags(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity["type"]
    if kind in _SIMPLE:
        return f"<{_SIMPLE[kind]}>", f"</{_SIMPLE[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            return f'<pre><code class="language-{html.escape(language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">', "</a>"
    if kind == "text_mention":
        user_id = (entity.get("user") or {}).get("id", "")
        return f'<a href="tg://user?id={user_id}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity["custom_emoji_id"]}">', "</tg-emoji>"
    return "", ""


def to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Telegram HTML for a stored message; auto entities (links, commands) carry no tags."""
    spans = []
    for ent in entities:
        start, end = from_utf16(text, ent["offset"], ent["length"])
        opening, closing = _tags(ent)
        if opening:
            spans.append((start, end, opening, closing))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    parts: list[str] = []
    open_stack: list[tuple[int, str]] = []
    span_index = 0
    for pos in range(len(text) + 1):
        while open_stack and open_stack[-1][0] <= pos:
            parts.append(open_stack.pop()[1])
        while span_index < len(spans) and spans[span_index][0] == pos:
            _, end, opening, closing = spans[span_index]
            parts.append(opening)
            open_stack.append((end, closing))
            span_index += 1
        if pos < len(text):
            parts.append(html.escape(text[pos], quote=False))
    return "".join(parts)
