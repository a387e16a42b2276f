"""Telegram's parse_mode=HTML rules, to refuse staff text before it is published, and plain text for terminals.

The rules follow tdlib's `parse_html` as the test emulator implements them (supported tags and
attributes, the four named entities and numeric ones, strict nesting, 4096 characters after
parsing), kept here rather than imported: `bot/` never imports `tests/`. Two rules are stricter
than Telegram, which accepts the text but silently loses something: a bare `&` (the documented
rule is `&amp;`) and an `<a href>` Telegram would not turn into a link (`tel:`, `mailto:`...).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from rules import N_, Message

MAX_LENGTH = 4096  # characters of visible text, after parsing and trimming, as Telegram counts them

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
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\f"
_URL_RE = re.compile(r"^(?:(https?|tg|ton)://)?([^\s/?#]+)([^\s]*)$", re.IGNORECASE)
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,}(?::\d{1,5})?$|^localhost(?::\d+)?$")
_ENTITY_TEXT = re.compile(r"&#?[0-9A-Za-z]{0,12};?")
_REMOVED = frozenset("\r\u200b\u200c\u200d\u2060\ufeff")  # what tdlib drops from outgoing text, roughly
_NEAR = 24  # characters of the staff text quoted around a problem


class _Refused(Exception):
    """Telegram would reject the text; `message` says why, in words staff understand."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.key)
        self.message = message


def _near(src: str, pos: int) -> str:
    return " ".join(src[pos : pos + _NEAR].split())


def _decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """(character, position after it) for the HTML entity at `pos`, or (None, pos) if there is none."""
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
    """tdlib's check_url, simplified: the normalised URL, or None when Telegram would not make a link."""
    match = _URL_RE.match(url.strip())
    if not match:
        return None
    scheme, host, rest = match.groups()
    if scheme and scheme.lower() in ("tg", "ton"):
        return url.strip()
    if not _HOST_RE.match(host):
        return None
    return f"{(scheme or 'http').lower()}://{host}{rest or '/'}"


@dataclass
class _Open:
    tag: str
    argument: str
    start: int


class _Parser:
    """tdlib's parse_html, raising `_Refused` where Telegram answers "can't parse entities"."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.stack: list[_Open] = []

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else "\0"

    def run(self) -> str:
        src, i = self.src, 0
        while i < len(src):
            ch = src[i]
            if ch == "&":
                char, after = _decode_entity(src, i)
                if char is None:
                    found = _ENTITY_TEXT.match(src, i)
                    entity = found.group(0) if found else "&"
                    raise _Refused(Message(N_("faq.template.bad_entity"), {"entity": entity}))
                self.out.append(char)
                i = after
                continue
            if ch != "<":
                self.out.append(ch)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == "/" else self.start_tag(i)
        if self.stack:
            raise _Refused(Message(N_("faq.template.unclosed_tag"), {"tag": self.stack[-1].tag}))
        text = "".join(self.out)
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise _Refused(Message(N_("faq.template.invalid_characters")))
        return text

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        while self.at(i) not in _SPACES + "\0>":
            i += 1
        tag = self.src[begin + 1 : i].lower()
        if not tag:
            raise _Refused(Message(N_("faq.template.stray_lt"), {"near": _near(self.src, begin)}))
        if i >= len(self.src):
            raise _Refused(Message(N_("faq.template.unfinished_tag"), {"near": _near(self.src, begin)}))
        if tag not in SUPPORTED_TAGS:
            raise _Refused(Message(N_("faq.template.unsupported_tag"), {"tag": tag}))
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
            while i < len(self.src) and self.at(i) in _SPACES:
                i += 1
            if not name or (self.at(i) != "=" and not (tag == "blockquote" and name == "expandable")):
                raise _Refused(Message(N_("faq.template.bad_attribute"), {"tag": tag}))
            if self.at(i) != "=":
                argument = "expandable"
                continue
            i += 1
            while i < len(self.src) and self.at(i) in _SPACES:
                i += 1
            value, i = self.attribute_value(i, tag)
            if i >= len(self.src):
                raise _Refused(Message(N_("faq.template.unfinished_tag"), {"near": _near(self.src, begin)}))
            argument = self.tag_argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise _Refused(Message(N_("faq.template.span_class")))
        self.stack.append(_Open(tag, argument, len(self.out)))
        return i + 1

    def attribute_value(self, i: int, tag: str) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in "'\"":
            token_start = i
            while self.at(i).isascii() and (self.at(i).isalnum() or self.at(i) in ".-"):
                i += 1
            if i < len(self.src) and self.at(i) not in _SPACES + ">":
                raise _Refused(Message(N_("faq.template.bad_attribute"), {"tag": tag}))
            return self.src[token_start:i].lower(), i
        i += 1
        chars: list[str] = []
        while i < len(self.src) and self.src[i] != quote:
            if self.src[i] == "&":
                char, after = _decode_entity(self.src, i)
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
        i = begin + 2
        while self.at(i) not in _SPACES + "\0>":
            i += 1
        end_name = self.src[begin + 2 : i].lower()
        if not self.stack:
            raise _Refused(Message(N_("faq.template.unexpected_end_tag"), {"tag": end_name}))
        while i < len(self.src) and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ">":
            raise _Refused(Message(N_("faq.template.unfinished_tag"), {"near": _near(self.src, begin)}))
        opened = self.stack.pop()
        if end_name and end_name != opened.tag:
            params = {"expected": opened.tag, "found": end_name}
            raise _Refused(Message(N_("faq.template.mismatched_end_tag"), params))
        self.close(opened)
        return i + 1

    def close(self, opened: _Open) -> None:
        content = "".join(self.out[opened.start :])
        if opened.tag == "a" and content:
            url = opened.argument or content
            if check_url(url) is None:
                raise _Refused(Message(N_("faq.template.bad_link"), {"url": url}))
        if opened.tag == "tg-emoji" and content and not opened.argument.isdigit():
            raise _Refused(Message(N_("faq.template.bad_emoji")))


def _visible(text: str) -> str:
    """The text Telegram keeps: invisible marks dropped, control characters as spaces, trimmed."""
    kept = "".join(" " if ord(c) < 32 and c != "\n" else c for c in text if c not in _REMOVED)
    return kept.strip(" \n")


def check_html(text: str) -> Message | None:
    """Why Telegram's parse_mode=HTML would refuse `text` (or lose part of it), else None."""
    try:
        plain = _visible(_Parser(text).run())
    except _Refused as refused:
        return refused.message
    if not plain:
        return Message(N_("faq.template.empty"))
    if len(plain) > MAX_LENGTH:
        return Message(N_("faq.template.too_long"), {"length": len(plain), "limit": MAX_LENGTH})
    return None


def to_plain(html_text: str) -> str:
    """The text a person would see, for a terminal: tags dropped, entities decoded, trimmed.

    Text Telegram would refuse is still shown as well as can be (tags stripped, entities decoded).
    """
    try:
        return _visible(_Parser(html_text).run())
    except _Refused:
        return html.unescape(re.sub(r"</?[A-Za-z][^>]*>", "", html_text)).strip()
