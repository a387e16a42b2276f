"""Message entities: offsets, Telegram's text clean-up (tdlib fix_formatted_text) and
auto-detected entities (bot commands, mentions, hashtags, URLs, e-mails)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

# Entity order for equal spans, as tdlib sorts them.
TYPE_ORDER = [
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
    "bank_card_number",
    "blockquote",
    "expandable_blockquote",
    "pre",
    "code",
    "text_link",
    "text_mention",
    "custom_emoji",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
]
MANUAL_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
    }
)
AUTO_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bank_card_number"}
)
# Entities whose data is not visible text survive even when they cover only spaces.
HIDDEN_DATA_TYPES = frozenset({"text_link", "text_mention", "pre", "code"})
# Characters tdlib removes from message text (\r, U+2028..U+202E, some combining marks).
REMOVED_CHARS = frozenset({"\r", "\u0333", "\u033f", "\u030a"} | {chr(c) for c in range(0x2028, 0x202F)})


@dataclass
class Entity:
    """One entity with offsets in code points of a Python str (start inclusive, end exclusive)."""

    type: str
    start: int
    end: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return self.end - self.start


def utf16_len(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def utf16_prefix(text: str) -> list[int]:
    """prefix[i] = UTF-16 offset of code point i; prefix[len(text)] = total length."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return prefix


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def sort_key(entity: Entity) -> tuple[int, int, int]:
    order = TYPE_ORDER.index(entity.type) if entity.type in TYPE_ORDER else len(TYPE_ORDER)
    return (entity.start, -entity.length, order)


def to_api(text: str, entities: list[Entity]) -> list[dict[str, Any]]:
    """Bot API MessageEntity dicts, offsets in UTF-16 code units."""
    prefix = utf16_prefix(text)
    out = []
    for ent in sorted(entities, key=sort_key):
        item: dict[str, Any] = {
            "offset": prefix[ent.start],
            "length": prefix[ent.end] - prefix[ent.start],
            "type": ent.type,
        }
        item.update(ent.extra)
        out.append(item)
    return out


def from_utf16(text: str, offset: int, length: int) -> tuple[int, int]:
    """Code point span of a UTF-16 span; raises ValueError when it leaves the text."""
    prefix = utf16_prefix(text)
    total = prefix[-1]
    if offset > total:
        raise ValueError(f"entity begins after the end of the text at UTF-16 offset {offset}")
    if offset + length > total:
        raise ValueError(
            f"entity beginning at UTF-16 offset {offset} ends after the end of the text at "
            f"UTF-16 offset {offset + length}"
        )
    index = {u: i for i, u in enumerate(prefix)}
    if offset not in index or offset + length not in index:
        raise ValueError(f"entity at UTF-16 offset {offset} splits a UTF-16 surrogate pair")
    return index[offset], index[offset + length]


def _remap(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Removes \r and similar, turns control characters into spaces, keeps entities aligned."""
    new_index: list[int] = []
    out: list[str] = []
    for ch in text:
        new_index.append(len(out))
        if ch in REMOVED_CHARS:
            continue
        out.append(" " if ord(ch) < 32 and ch != "\n" else ch)
    new_index.append(len(out))
    moved = [replace(e, start=new_index[e.start], end=new_index[e.end]) for e in entities]
    return "".join(out), moved


def _is_blank(ch: str) -> bool:
    return ch in (" ", "\n")


def fix_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """tdlib's clean-up of outgoing text: trims blanks at both ends, drops blank entities.

    Returns ("", []) when nothing visible is left; the caller reports the empty message.
    """
    text, entities = _remap(text, [e for e in entities if e.length > 0])
    kept: list[Entity] = []
    for ent in entities:
        start = ent.start
        if ent.type not in HIDDEN_DATA_TYPES:
            while start < ent.end and _is_blank(text[start]):
                start += 1
        content = text[start : ent.end]
        visible = any(not _is_blank(ch) for ch in content)
        if visible or (ent.type in HIDDEN_DATA_TYPES and " " in content):
            kept.append(replace(ent, start=start))
    last = len(text)
    while last > 0 and _is_blank(text[last - 1]):
        last -= 1
    if last == 0:
        return "", []
    kept = [replace(e, end=min(e.end, last)) for e in kept if e.start < last]
    first = 0
    limit = min((e.start for e in kept), default=last)
    while first < limit and _is_blank(text[first]):
        first += 1
    shifted = [replace(e, start=e.start - first, end=e.end - first) for e in kept]
    return text[first:last], sorted(shifted, key=sort_key)


_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    ("url", re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
]
# Auto entities are not created inside these.
_OPAQUE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def find_auto_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Entities Telegram detects by itself; they never overlap each other or code/links."""
    taken = [(e.start, e.end) for e in existing if e.type in _OPAQUE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            found.append(Entity(kind, span[0], span[1]))
    return found
