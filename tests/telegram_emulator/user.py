"""SimulatedUser: a person in a private chat with the bot, driven the way people use Telegram."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from .clock import Signal
from .formatting import MAX_TEXT_LENGTH, format_incoming
from .markup import inline_keyboard
from .models import BotReply, ReceivedDocument, StoredMessage

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

TRANSCRIPT_TAIL = 25


def _received_document(message: StoredMessage) -> ReceivedDocument | None:
    stored = message.document
    if stored is None:
        return None
    return ReceivedDocument(
        file_id=stored.file_id,
        file_unique_id=stored.file_unique_id,
        file_name=stored.file_name,
        mime_type=stored.mime_type,
        size=stored.file_size,
        content=stored.content,
        caption=message.text or None,
        caption_entities=tuple(message.entities),
        url=stored.url,
    )


class SimulatedUser:
    def __init__(
        self,
        emulator: TelegramEmulator,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        self._emu = emulator
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.callback_answers: list[dict[str, Any]] = []
        self.deleted_message_ids: list[int] = []
        self._messages: list[BotReply] = []
        self._edits: list[BotReply] = []
        self._arrivals: list[BotReply] = []  # messages and edits, in the order they came
        self._message_cursor = 0
        self._edit_cursor = 0
        self._signal = Signal()
        self._last_activity = time.monotonic()
        emulator.state.listeners[user_id] = self._on_output

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def emulator(self) -> TelegramEmulator:
        return self._emu

    def as_dict(self) -> dict[str, Any]:
        """The Telegram User object of this person."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def blocked(self) -> bool:
        record = self._emu.state.chats.get(self.chat_id)
        return bool(record and record.blocked)

    def _on_output(self, event: str, message: StoredMessage) -> None:
        self._last_activity = time.monotonic()
        if event == "delete":
            self.deleted_message_ids.append(message.message_id)
        elif message.from_bot:
            record = self._emu.state.chats[self.chat_id]
            document = _received_document(message)
            reply = BotReply(
                message_id=message.message_id,
                chat_id=message.chat_id,
                text="" if document else message.text,
                entities=() if document else tuple(message.entities),
                reply_markup=message.reply_markup,
                raw_text=message.raw_text,
                parse_mode=message.parse_mode,
                is_edit=event == "edit",
                message=self._emu.state.message_dict(record, message),
                at=round(self._emu.clock.real(), 4),
                document=document,
            )
            (self._edits if reply.is_edit else self._messages).append(reply)
            self._arrivals.append(reply)
        self._signal.notify()

    def _fail(self, message: str) -> AssertionError:
        tail = self._emu.transcript_text(last=TRANSCRIPT_TAIL)
        return AssertionError(f"{message}\n--- transcript tail ---\n{tail}")

    # acting --------------------------------------------------------------------------------
    async def send(self, text: str, *, reply_to_message_id: int | None = None) -> dict[str, Any]:
        """Sends a text message; /commands get a bot_command entity. Returns the Message."""
        if self.blocked:
            raise AssertionError(f"user {self.user_id} blocked the bot; call unblock() first")
        formatted = format_incoming(text)
        if not formatted.text or len(formatted.text) > MAX_TEXT_LENGTH:
            raise AssertionError("Telegram clients send 1 to 4096 characters of visible text")
        state = self._emu.state
        record = state.private_chat(self.as_dict())
        if reply_to_message_id is not None and record.live(reply_to_message_id) is None:
            raise AssertionError(f"no message {reply_to_message_id} to reply to")
        stored = state.store_message(
            record,
            from_bot=False,
            sender=self.as_dict(),
            text=formatted.text,
            entities=formatted.api_entities(),
            raw_text=text,
            reply_to=reply_to_message_id,
        )
        message = state.message_dict(record, stored)
        self._last_activity = time.monotonic()
        state.add_update("message", message, self.chat_id)
        await asyncio.sleep(0)
        return message

    def _target_message(self, message_id: int | None) -> StoredMessage:
        record = self._emu.state.chats.get(self.chat_id)
        candidates = (
            []
            if record is None
            else [
                m
                for _, m in sorted(record.messages.items(), reverse=True)
                if not m.deleted and m.from_bot and inline_keyboard(m.reply_markup)
            ]
        )
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
        if not candidates:
            where = f"message {message_id}" if message_id is not None else "any bot message"
            raise self._fail(f"no inline keyboard on {where} in chat {self.chat_id}")
        return candidates[0]

    async def press(self, label: str, *, message_id: int | None = None) -> dict[str, Any]:
        """Presses an inline button by label ("data:<callback_data>" to match the data) on the
        latest bot message with an inline keyboard, or on message_id. Returns the CallbackQuery."""
        message = self._target_message(message_id)
        rows = inline_keyboard(message.reply_markup) or []
        buttons = [b for row in rows for b in row]
        if label.startswith("data:"):
            found = [b for b in buttons if b.get("callback_data") == label[len("data:") :]]
        else:
            found = [b for b in buttons if b["text"] == label]
        if not found:
            available = ", ".join(f"{b['text']!r} (data={b.get('callback_data')!r})" for b in buttons)
            raise self._fail(f"no button {label!r} on message {message.message_id}; available: {available}")
        button = found[0]
        if "callback_data" not in button:
            kind = next(k for k in button if k != "text")
            raise AssertionError(f"button {button['text']!r} is a {kind} button, not a callback one")
        state = self._emu.state
        query = state.new_callback_query(self.user_id, message, button["callback_data"])
        record = state.chats[self.chat_id]
        payload = {
            "id": query.query_id,
            "from": self.as_dict(),
            "message": state.message_dict(record, message),
            "chat_instance": str(-7_000_000_000_000 - self.chat_id),
            "data": button["callback_data"],
        }
        self._last_activity = time.monotonic()
        state.add_update("callback_query", payload, self.chat_id)
        await asyncio.sleep(0)
        return payload

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard currently shown to this user, or None."""
        record = self._emu.state.chats.get(self.chat_id)
        shown: list[list[str]] | None = None
        for _, message in sorted(record.messages.items()) if record else []:
            markup = message.reply_markup or {}
            if message.from_bot and "keyboard" in markup:
                shown = [[b["text"] for b in row] for row in markup["keyboard"]]
            elif message.from_bot and markup.get("remove_keyboard"):
                shown = None
        return shown

    async def tap(self, label: str) -> dict[str, Any]:
        """Taps a button of the current reply keyboard (which sends its text)."""
        keyboard = self.reply_keyboard
        labels = [text for row in keyboard or [] for text in row]
        if label not in labels:
            raise self._fail(f"no reply keyboard button {label!r}; shown: {labels}")
        return await self.send(label)

    async def block(self) -> None:
        """Blocks the bot: sends to this chat answer 403, and the bot gets my_chat_member."""
        await self._set_blocked(True)

    async def unblock(self) -> None:
        await self._set_blocked(False)

    async def _set_blocked(self, blocked: bool) -> None:
        state = self._emu.state
        record = state.private_chat(self.as_dict())
        if record.blocked == blocked:
            return
        record.blocked = blocked
        statuses = ("member", "kicked") if blocked else ("kicked", "member")
        members: list[dict[str, Any]] = [{"user": dict(state.bot_user), "status": s} for s in statuses]
        for member in members:
            if member["status"] == "kicked":  # Telegram always sends until_date for a ban (0: forever)
                member["until_date"] = 0
        payload = {
            "chat": dict(record.chat),
            "from": self.as_dict(),
            "date": self._emu.clock.unix(),
            "old_chat_member": members[0],
            "new_chat_member": members[1],
        }
        state.add_update("my_chat_member", payload, self.chat_id)
        await asyncio.sleep(0)

    # observing -----------------------------------------------------------------------------
    async def _next(self, edits: bool, seconds: float) -> BotReply:
        queue = self._edits if edits else self._messages
        deadline = time.monotonic() + seconds
        while True:
            cursor = self._edit_cursor if edits else self._message_cursor
            if cursor < len(queue):
                if edits:
                    self._edit_cursor += 1
                else:
                    self._message_cursor += 1
                return queue[cursor]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = "edit" if edits else "message"
                raise self._fail(f"no new bot {what} in chat {self.chat_id} within {seconds}s")
            await self._signal.wait(remaining)

    async def next_reply(self, timeout: float = 5.0) -> BotReply:  # noqa: ASYNC109
        """The next new bot message in this chat since the last call (edits are not included)."""
        return await self._next(False, timeout)

    async def next_edit(self, timeout: float = 5.0) -> BotReply:  # noqa: ASYNC109
        """The next edit of a bot message in this chat (editMessageText/ReplyMarkup)."""
        return await self._next(True, timeout)

    async def replies_until_idle(
        self,
        idle: float = 0.5,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        include_edits: bool = False,
    ) -> list[BotReply]:
        """New bot messages (and edits if asked) until the bot has fetched every update of this
        chat and has been quiet for `idle` (wall-clock) seconds since then and since its last
        message."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self._emu.state.has_undelivered(self.chat_id)
            if busy:
                # Quiet is counted from the fetch, not from the user's message.
                self._last_activity = max(self._last_activity, now)
            quiet = now - self._last_activity
            if not busy and quiet >= idle:
                break
            if now >= deadline:
                raise self._fail(f"the bot did not go idle in chat {self.chat_id} in {timeout}s")
            await self._signal.wait(0.02 if busy else idle - quiet)
        collected = self._messages[self._message_cursor :]
        self._message_cursor = len(self._messages)
        if include_edits:
            wanted = {id(reply) for reply in (*collected, *self._edits[self._edit_cursor :])}
            collected = [reply for reply in self._arrivals if id(reply) in wanted]
            self._edit_cursor = len(self._edits)
        return collected

    @property
    def chat_actions(self) -> list[str]:
        return self._emu.chat_actions(self.chat_id)

    def visible_commands(self) -> list[dict[str, str]]:
        """The command menu this user sees (Telegram's scope and language fallback)."""
        return self._emu.state.commands_for_user(self.chat_id, self.language_code)
