"""Telegram HTML shown in a page as Telegram shows it: its tags become safe HTML, anything else is text.

Only Telegram's subset is kept (bold, italic, underline, strikethrough, links, code, pre,
blockquote, spoiler, custom emoji as its fallback character), always balanced, without any of
the author's attributes except a link's target, and that only for http(s), tg and mailto
addresses. Every other tag, comment or declaration is shown escaped, as written.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

from ..faq.telegram_html import check_url

# Telegram tag -> the tag shown (with its fixed attributes)
_SHOWN = {
    "b": "b",
    "strong": "strong",
    "i": "i",
    "em": "em",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": 'span class="spoiler"',
    "tg-emoji": "span",
}
_SCHEMES = frozenset({"http", "https", "tg", "mailto"})


def safe_href(href: str) -> str | None:
    """A link's address if a browser may follow it (http(s), tg, mailto), else None."""
    href = href.strip()
    scheme = urlsplit(href).scheme.lower() if ":" in href else ""
    if scheme in ("tg", "mailto"):
        return href
    normal = check_url(href)  # Telegram adds http:// to a bare host, as it does
    if normal is None or urlsplit(normal).scheme.lower() not in _SCHEMES:
        return None
    return normal


class _Preview(HTMLParser):
    def set_cdata_mode(self, *args: object, **kwargs: object) -> None:
        """`<script>` and `<style>` are text like any unknown tag: an unclosed one must not swallow
        the rest (the parser would otherwise hold everything after it back as the script's body)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[tuple[str, str]] = []  # (tag written, tag shown) of the open tags, in order

    def _text(self, raw: str) -> None:
        self.out.append(html.escape(raw, quote=False))

    def _shown(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag in _SHOWN:
            return _SHOWN[tag]
        if tag == "span" and values.get("class") == "tg-spoiler":
            return 'span class="spoiler"'
        if tag == "a":
            href = safe_href(values.get("href", ""))
            if href is None:
                return "span"
            return f'a href="{html.escape(href, quote=True)}" rel="noopener noreferrer nofollow" target="_blank"'
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = self._shown(tag, attrs)
        if shown is None:
            self._text(self.get_starttag_text() or f"<{tag}>")
            return
        self.out.append(f"<{shown}>")
        self.open.append((tag, shown.split(" ", 1)[0]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._text(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag not in (written for written, _ in self.open):
            self._text(f"</{tag}>")
            return
        while self.open:  # what is still open inside it is closed too (Telegram refuses such text anyway)
            written, shown = self.open.pop()
            self.out.append(f"</{shown}>")
            if written == tag:
                break

    def handle_data(self, data: str) -> None:
        self._text(data)

    def handle_comment(self, data: str) -> None:
        self._text(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._text(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self._text(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        self._text(f"<?{data}>")

    def finish(self) -> str:
        self.close()
        self.out.extend(f"</{shown}>" for _, shown in reversed(self.open))
        return "".join(self.out)


def telegram_preview(text: str) -> Markup:
    """Telegram HTML as safe HTML for a `.bubble`."""
    parser = _Preview()
    parser.feed(text)
    return Markup(parser.finish())  # noqa: S704 - built above from escaped text and fixed tags only
