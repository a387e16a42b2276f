"""Rendered messages as Telegram Bot API payloads: escaped HTML, inline keyboards, split texts.

Payloads are plain JSON (stored in the outbox until sent). Text that comes from data (offer
quotes, labels) is escaped for Telegram's HTML; long texts are split under 4096 characters at
line breaks.
"""

from __future__ import annotations

import html
from typing import Any

from ..faq.telegram_html import to_plain
from ..render import Rendered, RenderedButton

TELEGRAM_LIMIT = 4096
CHUNK = 3900  # room for the heading and escaping differences
CALLBACK_LIMIT = 64  # bytes


def split_text(text: str, limit: int = CHUNK) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks, then at spaces if needed."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


def keyboard(buttons: tuple[RenderedButton, ...]) -> dict[str, Any] | None:
    """An inline keyboard: short labels two per row, long ones alone."""
    if not buttons:
        return None
    rows: list[list[dict[str, str]]] = []
    for button in buttons:
        data = button.id
        if not 1 <= len(data.encode()) <= CALLBACK_LIMIT:
            raise ValueError(f"callback data of {len(data.encode())} bytes: {data[:20]}...")
        entry = {"text": button.label, "callback_data": data}
        if rows and len(rows[-1]) == 1 and len(button.label) <= 14 and len(rows[-1][0]["text"]) <= 14:
            rows[-1].append(entry)
        else:
            rows.append([entry])
    return {"inline_keyboard": rows}


def to_payloads(rendered: Rendered) -> list[dict[str, Any]]:
    """One or more `sendMessage` payloads; the keyboard goes with the last piece."""
    if rendered.html and len(rendered.text) <= CHUNK:  # checked when published: sent as written
        pieces, escape = [rendered.text], False
    else:  # plain text; HTML too long for one message is sent as its plain text, cut at lines
        pieces, escape = split_text(to_plain(rendered.text) if rendered.html else rendered.text), True
    payloads: list[dict[str, Any]] = []
    for index, piece in enumerate(pieces):
        body = html.escape(piece, quote=False) if escape else piece
        if index == 0 and rendered.heading:
            body = f"<b>{html.escape(rendered.heading, quote=False)}</b>\n{body}"
        payloads.append({"method": "sendMessage", "text": body, "parse_mode": "HTML"})
    markup = keyboard(rendered.buttons)
    if markup is not None:
        payloads[-1]["reply_markup"] = markup
    return payloads


SHORT = 300


def merge_short(messages: list[Rendered]) -> list[Rendered]:
    """A short sentence ("Noted: 15 March 1995.") joins the message after it: fewer messages, same text.

    A message with a heading (a verdict), buttons or HTML is never merged into the next one.
    """
    merged: list[Rendered] = []
    prefix = ""
    for message in messages:
        if not message.heading and not message.buttons and not message.html and len(message.text) <= SHORT:
            prefix = f"{prefix}\n\n{message.text}" if prefix else message.text
            continue
        if prefix and not message.heading and not message.html:
            message = Rendered(f"{prefix}\n\n{message.text}", buttons=message.buttons, step=message.step)
        elif prefix:
            merged.append(Rendered(prefix))
        merged.append(message)
        prefix = ""
    if prefix:
        merged.append(Rendered(prefix))
    return merged
