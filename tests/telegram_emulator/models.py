"""Records the emulator keeps: chats, messages, updates, callback queries, transcript lines."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .markup import inline_keyboard
from .render import to_html


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the server received it."""

    filename: str
    content_type: str | None
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)

    def readable(self) -> str:
        """How the transcript shows it: never the bytes, only the name and the size."""
        return f"<file {self.filename!r}, {self.size} bytes>"


@dataclass
class StoredFile:
    """A file Telegram holds (here: a document), reachable through its file_id.
    content is None when the bot sent a file_id the emulator never saw, or a URL."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    content: bytes | None = field(default=None, repr=False)
    url: str | None = None

    def to_api(self) -> dict[str, Any]:
        document: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name is not None:
            document["file_name"] = self.file_name
        if self.mime_type is not None:
            document["mime_type"] = self.mime_type
        if self.file_size is not None:
            document["file_size"] = self.file_size
        return document

    def describe(self) -> str:
        size = "size unknown" if self.file_size is None else f"{self.file_size} bytes"
        return f"{self.file_name or self.file_id!r}, {size}"


@dataclass
class StoredMessage:
    """A message as Telegram holds it, after parsing and after every edit. For a document
    message, text and entities are the caption (text is "" without one)."""

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
    document: StoredFile | None = None

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
        if self.document is not None:
            message["document"] = self.document.to_api()
            if self.text:
                message["caption"] = self.text
            if self.entities:
                message["caption_entities"] = copy.deepcopy(self.entities)
        else:
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
    # Emulated seconds (clock.emulated()) before which the webhook does not retry it.
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
class ReceivedDocument:
    """A document as the user receives it: the file (content is None when the bot sent a
    file_id the emulator never saw, or a URL) and its caption."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    content: bytes | None = field(repr=False)
    caption: str | None
    caption_entities: tuple[dict[str, Any], ...]
    url: str | None = None

    @property
    def caption_html(self) -> str | None:
        return None if self.caption is None else to_html(self.caption, list(self.caption_entities))

    def text(self, encoding: str = "utf-8") -> str:
        """The content decoded (AssertionError when there is none)."""
        assert self.content is not None, f"no content for document {self.file_id!r}"
        return self.content.decode(encoding)

    def json(self) -> Any:
        """The content parsed as JSON."""
        return json.loads(self.text())


@dataclass(frozen=True)
class BotReply:
    """What a user sees of one bot message (or of one edit when is_edit is True). A document
    message has `document` set, its caption in `caption`, and text "" (entities ())."""

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
    document: ReceivedDocument | None = None

    @property
    def html(self) -> str:
        return to_html(self.text, list(self.entities))

    @property
    def caption(self) -> str | None:
        """The caption of a document (None without one, and for text messages)."""
        return None if self.document is None else self.document.caption

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
