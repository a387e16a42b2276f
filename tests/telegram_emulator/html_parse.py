"""parse_mode=HTML, following tdlib's parse_html (messages and byte offsets included)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .entities import Entity, byte_offset
from .errors import ParseEntitiesError

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\f"
_URL_RE = re.compile(r"^(?:(https?|tg|ton)://)?([^\s/?#]+)([^\s]*)$", re.IGNORECASE)
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,}(?::\d{1,5})?$|^localhost(?::\d+)?$")


@dataclass
class _Open:
    tag: str
    argument: str
    start: int
    byte_pos: int


def decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """(character, position after it) for an HTML entity at pos, or (None, pos) if none."""
    end = pos + 1
    n = len(src)
    if end < n and src[end] == "#":
        end += 1
        value = 0
        if end < n and src[end] == "x":
            end += 1
            while end < n and src[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(src[end], 16)
                end += 1
        else:
            while end < n and src[end].isdigit() and src[end].isascii():
                value = value * 10 + int(src[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(value)
    else:
        while end < n and src[end].isascii() and src[end].isalpha():
            end += 1
        name = src[pos + 1 : end]
        if name not in NAMED_ENTITIES:
            return None, pos
        char = NAMED_ENTITIES[name]
    if end < n and src[end] == ";":
        end += 1
    return char, end


def check_url(url: str) -> str | None:
    """tdlib's check_url, simplified: the normalized URL, or None when not a link."""
    match = _URL_RE.match(url.strip())
    if not match:
        return None
    scheme, host, rest = match.groups()
    if scheme and scheme.lower() in ("tg", "ton"):
        return url.strip()
    if not _HOST_RE.match(host):
        return None
    return f"{(scheme or 'http').lower()}://{host}{rest or '/'}"


class _HtmlParser:
    def __init__(self, src: str, strict_ampersand: bool) -> None:
        self.src = src
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def fail(self, message: str) -> ParseEntitiesError:
        return ParseEntitiesError(message)

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else "\0"

    def boff(self, i: int) -> int:
        return byte_offset(self.src, i)

    def run(self) -> tuple[str, list[Entity]]:
        src, i = self.src, 0
        while i < len(src):
            ch = src[i]
            if ch == "&":
                char, after = decode_entity(src, i)
                if char is not None:
                    self.out.append(char)
                    i = after
                    continue
                if self.strict_ampersand:
                    raise self.fail(
                        f'Unescaped "&" at byte offset {self.boff(i)} (the emulator enforces '
                        "the documented rule: write &amp;)"
                    )
            if ch != "<":
                self.out.append(ch)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == "/" else self.start_tag(i)
        if self.stack:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        text = "".join(self.out)
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise self.fail(
                "Text contains invalid Unicode characters after decoding HTML entities, check "
                "for unmatched surrogate code units"
            )
        return text, self.entities

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        while self.at(i) not in _SPACES + "\0>":
            i += 1
        if i >= len(self.src):
            raise self.fail(f"Unclosed start tag at byte offset {self.boff(begin)}")
        tag = self.src[begin + 1 : i].lower()
        if tag not in SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {self.boff(begin)}')
        argument = ""
        while self.at(i) != ">":
            while i < len(self.src) and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == ">":
                break
            name_start = i
            while self.at(i) not in _SPACES + "\0=>" and i < len(self.src):
                i += 1
            name = self.src[name_start:i]
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {self.boff(begin)}')
            while i < len(self.src) and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "expandable"
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {self.boff(begin)}'
                )
            i += 1
            while i < len(self.src) and self.at(i) in _SPACES:
                i += 1
            if i >= len(self.src):
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {self.boff(begin)}')
            value, i = self.attribute_value(i)
            if i >= len(self.src):
                raise self.fail(f"Unclosed start tag at byte offset {self.boff(begin)}")
            argument = self.tag_argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {self.boff(begin)}')
        self.stack.append(_Open(tag, argument, len(self.out), self.boff(begin)))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in "'\"":
            token_start = i
            while self.at(i).isascii() and (self.at(i).isalnum() or self.at(i) in ".-"):
                i += 1
            if i < len(self.src) and self.at(i) not in _SPACES + ">":
                raise self.fail(f"Unexpected end of name token at byte offset {self.boff(token_start)}")
            return self.src[token_start:i].lower(), i
        i += 1
        chars: list[str] = []
        while i < len(self.src) and self.src[i] != quote:
            if self.src[i] == "&":
                char, after = decode_entity(self.src, i)
                if char is not None:
                    chars.append(char)
                    i = after
                    continue
            chars.append(self.src[i])
            i += 1
        if i < len(self.src):
            i += 1
        return "".join(chars), i

    @staticmethod
    def tag_argument(tag: str, name: str, value: str, current: str) -> str:
        if tag == "a" and name == "href":
            return value
        if tag == "code" and name == "class" and value.startswith("language-"):
            return value[len("language-") :]
        if tag == "span" and name == "class" and value.startswith("tg-"):
            return value[len("tg-") :]
        if tag == "tg-emoji" and name == "emoji-id":
            return value
        return current

    def end_tag(self, begin: int) -> int:
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.boff(begin)}")
        i = begin + 2
        while self.at(i) not in _SPACES + "\0>":
            i += 1
        end_name = self.src[begin + 2 : i].lower()
        while i < len(self.src) and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.boff(begin)}")
        opened = self.stack.pop()
        if end_name and end_name != opened.tag:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.boff(begin)}, expected "
                f'"</{opened.tag}>", found "</{end_name}>"'
            )
        if len(self.out) > opened.start:
            self.close_entity(opened)
        return i + 1

    def close_entity(self, opened: _Open) -> None:
        start, end, tag, arg = opened.start, len(self.out), opened.tag, opened.argument
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last.start == start and last.end == end
        if tag in SIMPLE_TAGS or tag == "span":
            self.entities.append(Entity(SIMPLE_TAGS.get(tag, "spoiler"), start, end))
        elif tag == "a":
            url = check_url(arg or "".join(self.out[start:end]))
            if url is not None:
                self.entities.append(Entity("text_link", start, end, {"url": url}))
        elif tag == "tg-emoji":
            if not arg.isdigit():
                raise self.fail("Invalid custom emoji identifier specified")
            self.entities.append(Entity("custom_emoji", start, end, {"custom_emoji_id": arg}))
        elif tag == "blockquote":
            kind = "expandable_blockquote" if arg == "expandable" else "blockquote"
            self.entities.append(Entity(kind, start, end))
        elif tag == "pre":
            if same_span and last is not None and last.type == "code" and last.extra:
                last.type = "pre"
            else:
                self.entities.append(Entity("pre", start, end))
        elif tag == "code":
            if same_span and last is not None and last.type == "pre" and arg:
                last.extra = {"language": arg}
            else:
                extra = {"language": arg} if arg else {}
                self.entities.append(Entity("code", start, end, extra))


def parse_html(src: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Plain text and entities (code point offsets); raises ParseEntitiesError like Telegram."""
    text, entities = _HtmlParser(src, strict_ampersand).run()
    for ent in entities:
        if ent.type == "code":
            ent.extra = {}
    return text, entities
