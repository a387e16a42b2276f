"""Records the emulator keeps: chats, messages, updates, callback queries, transcript lines."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .markup import inline_keyboard
from .render import to_html


@dataclass
class StoredMessage:
    """A message as Telegram holds it, after parsing and after every edit."""

    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    sender: dict[str, Any]
    text: str
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None = None
    raw_text: str = ""
    parse_mode: str | None = None
    edit_date: int | None = None
    deleted: bool = False
    reply_to: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_api(self, chat: dict[str, Any], reply_to: StoredMessage | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if reply_to is not None:
            message["reply_to_message"] = reply_to.to_api(chat)
        message["text"] = self.text
        if self.entities:
            message["entities"] = copy.deepcopy(self.entities)
        message.update(copy.deepcopy(self.extra))
        # Telegram echoes only inline keyboards back in Message objects.
        if inline_keyboard(self.reply_markup) is not None:
            message["reply_markup"] = copy.deepcopy(self.reply_markup)
        return message


@dataclass
class ChatRecord:
    chat: dict[str, Any]
    user: dict[str, Any] | None = None
    blocked: bool = False
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    def live(self, message_id: int | None) -> StoredMessage | None:
        message = self.messages.get(message_id or 0)
        return None if message is None or message.deleted else message


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]
    chat_id: int | None
    handed_out: bool = False
    attempts: int = 0
    next_attempt_at: float = 0.0


@dataclass
class CallbackQueryRecord:
    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_emulated: float
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class RateLimitViolation:
    """One 429 the emulator answered: when (real and emulated seconds since start), for what."""

    at: float
    emulated_at: float
    method: str
    chat_id: int | None
    limit: str
    retry_after: int | float


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of the transcript: an API call, a created update or a webhook delivery."""

    at: float
    kind: str
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    response: Any = None
    chat_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class BotReply:
    """What a user sees of one bot message (or of one edit when is_edit is True)."""

    message_id: int
    chat_id: int
    text: str
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    raw_text: str
    parse_mode: str | None
    is_edit: bool
    message: dict[str, Any]
    at: float

    @property
    def html(self) -> str:
        return to_html(self.text, list(self.entities))

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row ([] without one)."""
        rows = inline_keyboard(self.reply_markup) or []
        return [[button["text"] for button in row] for row in rows]

    @property
    def button_data(self) -> list[list[str | None]]:
        """callback_data of the inline keyboard, row by row (None for non-callback buttons)."""
        rows = inline_keyboard(self.reply_markup) or []
        return [[button.get("callback_data") for button in row] for row in rows]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """Labels of a reply keyboard sent with this message, or None."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return None
        return [[button["text"] for button in row] for row in self.reply_markup["keyboard"]]

    @property
    def removes_keyboard(self) -> bool:
        return bool(self.reply_markup and self.reply_markup.get("remove_keyboard"))
