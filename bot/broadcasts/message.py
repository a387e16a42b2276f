"""A broadcast as people receive it: the organizer's text (Telegram HTML, checked when written)
with a button to stop receiving messages. The preview shows exactly this."""

from __future__ import annotations

from typing import Any

from rules import N_

from ..i18n import render
from ..render import Rendered, RenderedButton

STOP_ALL = "remind:off:*"  # the subscriptions' button: stop every reminder and broadcast
MAX_TEXT = 3500  # characters of Telegram HTML: one message, with room for the button


def broadcast_message(text: str, lang: str) -> Rendered:
    stop = RenderedButton(STOP_ALL, render(N_("reminders.button.stop_all"), lang))
    return Rendered(text, buttons=(stop,), html=True)


def broadcast_payload(text: str, lang: str) -> dict[str, Any]:
    """The `sendMessage` payload of one recipient's copy."""
    from ..telegram.payloads import to_payloads  # the outbox holds Bot API payloads

    return to_payloads(broadcast_message(text, lang))[0]
