"""Telegram updates read into the service's inputs; everything else a private chat is not, refused.

The bot converses only in private chats, with the person who acted:
- a message in a group, a supergroup or a channel never reaches anyone's dialog: the group is
  told once to write to the bot privately, and nothing of the message is stored;
- a button press is the presser's, judged against the presser's own dialog, answered in the
  presser's private chat, whatever chat its message claims to be in;
- a command addressed to another bot (`/help@otherbot`) is not for us.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update

from ..services import Input, InputKind, PersonKey

CHANNEL = "telegram"


@dataclass(frozen=True)
class Membership:
    """The person blocked the bot (`reachable=False`) or unblocked it."""

    reachable: bool


@dataclass(frozen=True)
class GroupPost:
    """Something said in a group or channel: the group gets one short notice, nothing is kept."""

    chat_id: int
    language_hint: str | None


@dataclass(frozen=True)
class Ignored:
    """Nothing to do (a service message, an edit, a command for another bot)."""


Reading = Input | Membership | GroupPost | Ignored


def person_of(user_id: int) -> PersonKey:
    return PersonKey(CHANNEL, str(user_id))


def chat_of(key: PersonKey) -> int:
    """A person's private chat: on Telegram its id is the user's id."""
    return int(key.external_id)


def inbox_key(update: Update) -> str | None:
    """The person an update belongs to in the inbox (`channel:id`), or None (a group's, nobody's)."""
    if update.callback_query is not None:  # the presser's, whatever chat its message claims
        presser = getattr(update.callback_query, "from_user", None)
        return None if presser is None else str(person_of(presser.id))
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        return None
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return str(person_of(user.id))


def storage_key(update: Update, raw: dict[str, Any] | None = None) -> tuple[str | None, dict[str, Any]]:
    """The inbox key of an update and what of it is stored until it is applied.

    A private update is stored whole under its sender (`raw`: the update as Telegram sent it, when
    the caller has it, else rebuilt from the parsed one); a group's only as the group's id and the
    sender's language, so no message from a group is ever kept.
    """
    key = inbox_key(update)
    if key is not None:
        return key, raw if raw is not None else update.to_dict()
    chat = update.effective_chat
    if update.callback_query is None and chat is not None and chat.type != "private":
        user = update.effective_user
        language = user.language_code if user is not None else None
        return None, {"update_id": update.update_id, "group_post": {"chat_id": chat.id, "language_code": language}}
    return None, {"update_id": update.update_id}


def read_stored(payload: dict[str, Any] | None, update: Update | None, bot_username: str | None) -> Reading:
    """What a stored update means. `update` is the payload parsed by python-telegram-bot."""
    if payload is None:
        return Ignored()
    if "group_post" in payload:
        post = payload["group_post"]
        return GroupPost(int(post["chat_id"]), post.get("language_code"))
    if update is None:
        return Ignored()
    return read_update(update, bot_username)


def read_update(update: Update, bot_username: str | None) -> Reading:
    """Classify a private update: a command, text, a button press, a block; else ignored."""
    user = update.effective_user
    if user is None or user.is_bot:
        return Ignored()
    key = person_of(user.id)
    language = user.language_code
    if update.callback_query is not None:
        return Input(key, InputKind.BUTTON, update.callback_query.data or "", language_hint=language)
    if update.my_chat_member is not None:
        status = update.my_chat_member.new_chat_member.status
        return Membership(reachable=status not in ("kicked", "left"))
    message = update.message
    if message is None or message.chat.type != "private":
        return Ignored()
    text = (message.text or "").strip()
    # A forwarded message is someone else's words: never a command of the person who forwarded it.
    if not text.startswith("/") or message.forward_origin is not None:
        return Input(key, InputKind.TEXT, text, language_hint=language)
    head, _, arg = text[1:].partition(" ")
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return Ignored()
    name = name.lower()
    if name == "start":
        return Input(key, InputKind.START, language_hint=language)
    return Input(key, InputKind.COMMAND, name, arg.strip(), language_hint=language)
