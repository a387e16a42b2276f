"""Chats, messages, the update queue, callback queries and bot commands."""

from __future__ import annotations

import base64
import copy
import hashlib
import mimetypes
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from .clock import EmulatorClock, Signal
from .errors import BOT_BLOCKED, CHAT_NOT_FOUND, bad_request, forbidden
from .models import CallbackQueryRecord, ChatRecord, PendingUpdate, StoredFile, StoredMessage, UploadedFile
from .transcript import Transcript

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Update types a bot receives only when it asks for them explicitly.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FIRST_UPDATE_ID = 800_000_001
CALLBACK_QUERY_LIFETIME = 15.0

OutputListener = Callable[[str, StoredMessage], None]
DOCUMENT_FILE_ID_PREFIX = "BQACAgIAAxkBAA"
UNIQUE_ID_PREFIX = "AgAD"
# Python's built-in table only (not the host's mime.types), so results do not vary by machine.
_MIME_TYPES = mimetypes.MimeTypes()
DEFAULT_MIME_TYPE = "application/octet-stream"
# Extensions that table lacks (or treats as content encodings, like .gz).
_EXTRA_MIME_TYPES = {
    ".gz": "application/gzip",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def mime_type_for(file_name: str) -> str:
    """Telegram derives a document's MIME type from the file name's extension."""
    suffix = PurePosixPath(file_name).suffix.lower()
    if suffix in _EXTRA_MIME_TYPES:
        return _EXTRA_MIME_TYPES[suffix]
    return _MIME_TYPES.guess_type("file" + suffix, strict=False)[0] or DEFAULT_MIME_TYPE


def _describe(kind: str, body: dict[str, Any]) -> str:
    if kind == "message":
        return f"text={body.get('text')!r}"
    if kind == "callback_query":
        return f"data={body.get('data')!r} on message {body.get('message', {}).get('message_id')}"
    if kind == "my_chat_member":
        return f"status={body.get('new_chat_member', {}).get('status')}"
    return ""


class EmulatorState:
    def __init__(self, bot_user: dict[str, Any], clock: EmulatorClock, transcript: Transcript) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.transcript = transcript
        self.chats: dict[int, ChatRecord] = {}
        self.updates: list[PendingUpdate] = []
        self.next_update_id = FIRST_UPDATE_ID
        self.allowed_updates: list[str] | None = None
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.next_query_number = 1
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.update_signal = Signal()
        self.listeners: dict[int, OutputListener] = {}
        self.files: dict[str, StoredFile] = {}
        self.next_file_number = 1

    # chats -------------------------------------------------------------------------------
    def private_chat(self, user: dict[str, Any]) -> ChatRecord:
        chat_id = int(user["id"])
        record = self.chats.get(chat_id)
        if record is None:
            chat = {"id": chat_id, "first_name": user["first_name"], "type": "private"}
            for key in ("last_name", "username"):
                if user.get(key):
                    chat[key] = user[key]
            record = ChatRecord(chat=chat, user=user)
            self.chats[chat_id] = record
        return record

    def group_chat(self, chat_id: int, title: str, kind: str, username: str | None) -> ChatRecord:
        chat: dict[str, Any] = {"id": chat_id, "title": title, "type": kind}
        if username:
            chat["username"] = username
        record = ChatRecord(chat=chat)
        self.chats[chat_id] = record
        return record

    def require_chat(self, chat_id: int | str, *, check_blocked: bool = True) -> ChatRecord:
        """The chat a bot addresses: 400 if it never wrote to the bot, 403 if it blocked it."""
        record = None
        if isinstance(chat_id, int):
            record = self.chats.get(chat_id)
        else:
            wanted = chat_id.removeprefix("@").lower()
            record = next(
                (
                    r
                    for r in self.chats.values()
                    if r.chat["type"] != "private" and str(r.chat.get("username", "")).lower() == wanted
                ),
                None,
            )
        if record is None:
            raise bad_request(CHAT_NOT_FOUND)
        if check_blocked and record.blocked:
            raise forbidden(BOT_BLOCKED)
        return record

    # messages ----------------------------------------------------------------------------
    def store_message(self, record: ChatRecord, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=record.next_message_id,
            chat_id=record.chat_id,
            date=self.clock.unix(),
            **fields,
        )
        record.next_message_id += 1
        record.messages[message.message_id] = message
        return message

    def message_dict(self, record: ChatRecord, message: StoredMessage) -> dict[str, Any]:
        reply_to = record.messages.get(message.reply_to or 0)
        return message.to_api(record.chat, reply_to)

    def emit(self, event: str, message: StoredMessage) -> None:
        """Tells the simulated user of that chat about a bot message, an edit or a deletion."""
        listener = self.listeners.get(message.chat_id)
        if listener is not None:
            listener(event, message)

    # files -------------------------------------------------------------------------------
    def _new_file_ids(self) -> tuple[str, str]:
        """A (file_id, file_unique_id) pair shaped like Telegram's document ids."""
        number = self.next_file_number
        self.next_file_number += 1
        secret = _b64(f"{self.bot_user['id']}:{number}".encode())
        return DOCUMENT_FILE_ID_PREFIX + secret, UNIQUE_ID_PREFIX + _b64(number.to_bytes(6, "big"))

    def store_upload(self, upload: UploadedFile) -> StoredFile:
        """A new file from an uploaded part: name as sent, MIME type from its extension."""
        file_id, unique_id = self._new_file_ids()
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            file_name=upload.filename,
            mime_type=mime_type_for(upload.filename),
            file_size=upload.size,
            content=upload.content,
        )
        self.files[file_id] = stored
        return stored

    def file_from_string(self, value: str) -> StoredFile:
        """A file the bot names: a file_id (the stored file if the emulator issued it, else
        one kept as given) or an http(s) URL (a new file; Telegram would download it)."""
        known = self.files.get(value)
        if known is not None:
            return known
        if not value.lower().startswith(("http://", "https://")):
            unique = UNIQUE_ID_PREFIX + _b64(hashlib.sha256(value.encode()).digest()[:9])
            stored = StoredFile(file_id=value, file_unique_id=unique)
            self.files[value] = stored
            return stored
        file_id, unique_id = self._new_file_ids()
        name = unquote(PurePosixPath(urlsplit(value).path).name) or None
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            file_name=name,
            mime_type=mime_type_for(name) if name else None,
            url=value,
        )
        self.files[file_id] = stored
        return stored

    # updates -----------------------------------------------------------------------------
    def is_allowed(self, kind: str) -> bool:
        if not self.allowed_updates:
            return kind not in OPT_IN_UPDATE_TYPES
        return kind in self.allowed_updates

    def set_allowed_updates(self, value: Any) -> None:
        """None keeps the previous setting, like Telegram; unknown names are ignored."""
        if value is None:
            return
        if not isinstance(value, list):
            value = []
        self.allowed_updates = [v for v in value if isinstance(v, str) and v in ALL_UPDATE_TYPES]

    def add_update(self, kind: str, body: dict[str, Any], chat_id: int | None) -> PendingUpdate | None:
        """Queues an update, or drops it (as Telegram does) when allowed_updates excludes it."""
        update_id = self.next_update_id
        self.next_update_id += 1
        payload = {"update_id": update_id, kind: copy.deepcopy(body)}
        if not self.is_allowed(kind):
            self.transcript.add(
                "update", method=kind, chat_id=chat_id, note=f"#{update_id} dropped: not in allowed_updates"
            )
            return None
        update = PendingUpdate(update_id=update_id, kind=kind, payload=payload, chat_id=chat_id)
        self.updates.append(update)
        self.transcript.add(
            "update", method=kind, chat_id=chat_id, params=payload, note=f"#{update_id} queued {_describe(kind, body)}"
        )
        self.update_signal.notify()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates offset semantics: positive confirms earlier ids, negative keeps the tail."""
        if offset > 0:
            self.updates = [u for u in self.updates if u.update_id >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def drop_pending(self) -> None:
        self.updates.clear()

    def remove_update(self, update_id: int) -> None:
        self.updates = [u for u in self.updates if u.update_id != update_id]

    def has_undelivered(self, chat_id: int) -> bool:
        return any(u.chat_id == chat_id and not u.handed_out for u in self.updates)

    def has_unconfirmed(self, chat_id: int) -> bool:
        """An update of this chat the bot has not confirmed yet (next getUpdates offset, or 200)."""
        return any(u.chat_id == chat_id for u in self.updates)

    # callback queries --------------------------------------------------------------------
    def new_callback_query(self, user_id: int, message: StoredMessage, data: str) -> CallbackQueryRecord:
        # Opaque and unique, as Telegram's: the counter alone never repeats (user id * 1000 + counter
        # did, for neighbouring users after a thousand presses).
        query_id = f"47{self.next_query_number:010d}{user_id % 1_000_000:06d}"
        self.next_query_number += 1
        record = CallbackQueryRecord(
            query_id=query_id,
            user_id=user_id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
            created_emulated=self.clock.emulated(),
        )
        self.callback_queries[query_id] = record
        return record

    def live_callback_query(self, query_id: str) -> CallbackQueryRecord | None:
        """The query if it can still be answered: unanswered and younger than 15 s (emulated)."""
        record = self.callback_queries.get(query_id)
        if record is None or record.answered:
            return None
        if self.clock.emulated() - record.created_emulated > CALLBACK_QUERY_LIFETIME:
            return None
        return record

    # commands ----------------------------------------------------------------------------
    def commands_for_user(self, chat_id: int, language_code: str | None) -> list[dict[str, str]]:
        """What a user sees in a private chat, walking Telegram's scope and language order."""
        scopes = [f"chat:{chat_id}", "all_private_chats", "default"]
        languages = [language_code, ""] if language_code else [""]
        for scope in scopes:
            for lang in languages:
                if (scope, lang or "") in self.commands:
                    return copy.deepcopy(self.commands[(scope, lang or "")])
        return []
