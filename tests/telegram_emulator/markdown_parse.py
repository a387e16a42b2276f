"""parse_mode=MarkdownV2 and legacy Markdown, following tdlib's parse_markdown_v2/parse_markdown."""

from __future__ import annotations

from dataclasses import dataclass, field

from .entities import Entity, byte_offset
from .errors import ParseEntitiesError
from .html_parse import check_url

RESERVED = "_*[]()~`>#+-=|{}.!"
# tdlib's names for entity types in "Can't find end of ... entity" messages.
TD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    kind: str
    start: int
    byte_pos: int
    argument: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _reserved_error(ch: str) -> ParseEntitiesError:
    return ParseEntitiesError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


class _MarkdownV2:
    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []
        self.quote: _Open | None = None

    def at(self, i: int) -> str:
        return self.src[i] if 0 <= i < len(self.src) else "\0"

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < len(self.src):
            i = self.step(i)
        if self.stack:
            top = self.stack[-1]
            raise ParseEntitiesError(f"Can't find end of {TD_NAMES[top.kind]} entity at byte offset {top.byte_pos}")
        self.close_quote()
        return "".join(self.out), self.entities

    def in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in ("code", "pre", "pre_code")

    def step(self, i: int) -> int:
        ch, nxt = self.at(i), self.at(i + 1)
        if ch == "\\" and "\0" < nxt <= "~":
            self.out.append(nxt)
            return i + 2
        line_start = i == 0 or self.at(i - 1) == "\n"
        if line_start and not self.in_code():
            after_marker = self.quote_marker(i)
            if after_marker != i:
                return after_marker
        if ch == "\n" and self.quote is not None and not self.in_code():
            follows = self.src.startswith(">", i + 1) or self.src.startswith("**>", i + 1)
            if not follows:
                self.close_quote()
        reserved = "`" if self.in_code() else RESERVED
        if ch not in reserved:
            self.out.append(ch)
            return i + 1
        ends_quote = ch == "|" and nxt == "|" and self.at(i + 2) in "\n\0" and not self.stack
        if ends_quote and self.quote is not None and self.quote.kind == "expandable":
            self.close_quote()
            return i + 2
        if self.stack and self.is_end(self.stack[-1].kind, i):
            return self.close(i)
        return self.open(i)

    def quote_marker(self, i: int) -> int:
        if self.src.startswith("**>", i):
            if self.quote is None:
                self.quote = _Open("expandable", len(self.out), byte_offset(self.src, i))
            return i + 3
        if self.at(i) == ">":
            if self.quote is None:
                self.quote = _Open("blockquote", len(self.out), byte_offset(self.src, i))
            return i + 1
        return i

    def close_quote(self) -> None:
        if self.quote is not None and len(self.out) > self.quote.start:
            kind = "expandable_blockquote" if self.quote.kind == "expandable" else "blockquote"
            self.entities.append(Entity(kind, self.quote.start, len(self.out)))
        self.quote = None

    def is_end(self, kind: str, i: int) -> bool:
        ch, nxt = self.at(i), self.at(i + 1)
        return {
            "bold": ch == "*",
            "italic": ch == "_" and nxt != "_",
            "underline": ch == "_" and nxt == "_",
            "strikethrough": ch == "~",
            "spoiler": ch == "|" and nxt == "|",
            "code": ch == "`",
            "pre": self.src.startswith("```", i),
            "pre_code": self.src.startswith("```", i),
            "text_link": ch == "]",
            "custom_emoji": ch == "]",
        }[kind]

    def open(self, i: int) -> int:
        ch, nxt = self.at(i), self.at(i + 1)
        begin, start = byte_offset(self.src, i), len(self.out)
        simple = {"*": "bold", "~": "strikethrough", "[": "text_link"}
        if ch in simple:
            self.stack.append(_Open(simple[ch], start, begin))
            return i + 1
        if ch == "_":
            kind = "underline" if nxt == "_" else "italic"
            self.stack.append(_Open(kind, start, begin))
            return i + (2 if kind == "underline" else 1)
        if ch == "|" and nxt == "|":
            self.stack.append(_Open("spoiler", start, begin))
            return i + 2
        if ch == "!" and nxt == "[":
            self.stack.append(_Open("custom_emoji", start, begin))
            return i + 2
        if ch == "`" and not self.src.startswith("```", i):
            self.stack.append(_Open("code", start, begin))
            return i + 1
        if ch == "`":
            return self.open_pre(i + 3, start, begin)
        raise _reserved_error(ch)

    def open_pre(self, i: int, start: int, begin: int) -> int:
        kind, language = "pre", ""
        end = i
        while self.at(end) not in " \t\r\n\v\f\0`":
            end += 1
        if end != i and end < len(self.src) and self.at(end) != "`":
            kind, language = "pre_code", self.src[i:end]
            i = end
        if self.at(i) in "\r\n":
            pair = self.at(i + 1) in "\r\n" and self.at(i + 1) != self.at(i)
            i += 2 if pair else 1
        self.stack.append(_Open(kind, start, begin, argument=language))
        return i

    def close(self, i: int) -> int:
        opened = self.stack.pop()
        kind, end = opened.kind, len(self.out)
        skip = end == opened.start
        extra: dict[str, str] = {}
        after = i + 1
        if kind in ("underline", "spoiler"):
            after = i + 2
        elif kind in ("pre", "pre_code"):
            after = i + 3
            if kind == "pre_code":
                extra = {"language": opened.argument}
        elif kind == "text_link":
            url, after = self.link_target(i, opened)
            checked = check_url(url)
            if checked is None:
                skip = True
            else:
                extra = {"url": checked}
        elif kind == "custom_emoji":
            target, after = self.link_target(i, opened, required=True)
            emoji_id = target.removeprefix("tg://emoji?id=")
            if not target.startswith("tg://emoji?id=") or not emoji_id.isdigit():
                raise ParseEntitiesError("Custom emoji entity must contain a tg://emoji URL")
            extra = {"custom_emoji_id": emoji_id}
        if not skip:
            api_kind = "pre" if kind == "pre_code" else kind
            self.entities.append(Entity(api_kind, opened.start, end, extra))
        return after

    def link_target(self, i: int, opened: _Open, required: bool = False) -> tuple[str, int]:
        if self.at(i + 1) != "(":
            if required:
                raise ParseEntitiesError("Custom emoji entity must contain a tg://emoji URL")
            return "".join(self.out[opened.start :]), i + 1
        j = i + 2
        url_begin = j
        chars: list[str] = []
        while j < len(self.src) and self.src[j] != ")":
            if self.src[j] == "\\" and "\0" < self.at(j + 1) <= "~":
                chars.append(self.src[j + 1])
                j += 2
                continue
            chars.append(self.src[j])
            j += 1
        if j >= len(self.src):
            raise ParseEntitiesError(f"Can't find end of a URL at byte offset {byte_offset(self.src, url_begin)}")
        return "".join(chars), j + 1


def parse_markdown_v2(src: str) -> tuple[str, list[Entity]]:
    return _MarkdownV2(src).run()


def parse_markdown(src: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    entities: list[Entity] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.append(ch)
            i += 1
            continue
        begin = i
        end_char = "]" if ch == "[" else ch
        is_pre = src.startswith("```", i)
        i += 3 if is_pre else 1
        language = ""
        if is_pre:
            end = i
            while end < n and src[end] not in " \t\r\n\v\f`":
                end += 1
            if end != i and end < n and src[end] != "`":
                language, i = src[i:end], end
            if i < n and src[i] in "\r\n":
                i += 1
        start = len(out)
        while i < n and not (src.startswith("```", i) if is_pre else src[i] == end_char):
            out.append(src[i])
            i += 1
        if i >= n:
            raise ParseEntitiesError(f"Can't find end of the entity starting at byte offset {byte_offset(src, begin)}")
        i += 3 if is_pre else 1
        if len(out) == start:
            continue
        if ch == "[":
            url = "".join(out[start:])
            if i < n and src[i] == "(":
                close = src.find(")", i)
                url, i = (src[i + 1 : close], close + 1) if close >= 0 else (src[i + 1 :], n)
            checked = check_url(url)
            if checked is not None:
                entities.append(Entity("text_link", start, len(out), {"url": checked}))
        elif is_pre:
            extra = {"language": language} if language else {}
            entities.append(Entity("pre", start, len(out), extra))
        else:
            kinds = {"_": "italic", "*": "bold", "`": "code"}
            entities.append(Entity(kinds[ch], start, len(out)))
    return "".join(out), entities
