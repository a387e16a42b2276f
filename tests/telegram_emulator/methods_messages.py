"""sendMessage, sendDocument, editMessageText, editMessageReplyMarkup, deleteMessage,
answerCallbackQuery, sendChatAction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    CANT_EDIT,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    FILE_EMPTY,
    NO_DOCUMENT,
    NO_TEXT_TO_EDIT,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    REPLY_NOT_FOUND,
    TEXT_EMPTY,
    bad_request,
)
from .formatting import finish, finish_caption, parse_caption, parse_outgoing
from .markup import inline_keyboard, parse_reply_markup
from .models import ChatRecord, StoredFile, StoredMessage, UploadedFile
from .params import Params
from .registry import api_method

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

MARKUP_ERROR = "can't parse reply keyboard markup JSON object"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_CALLBACK_ANSWER = 200


def _parse_text_params(emu: TelegramEmulator, p: Params) -> tuple[str, list[Any]]:
    return parse_outgoing(
        p.get_str("text"),
        p.get_str("parse_mode"),
        p.get_json("entities", "can't parse entities JSON object"),
        strict_ampersand=emu.strict_html_ampersand,
    )


def _reply_target(p: Params, record: ChatRecord) -> int | None:
    params = p.get_json("reply_parameters", "can't parse reply parameters JSON object")
    if isinstance(params, dict):
        message_id, allow = params.get("message_id"), bool(params.get("allow_sending_without_reply"))
    elif p.has("reply_to_message_id"):
        message_id, allow = p.get_int("reply_to_message_id"), p.get_bool("allow_sending_without_reply")
    else:
        return None
    if isinstance(message_id, int) and record.live(message_id) is not None:
        return message_id
    if allow:
        return None
    raise bad_request(REPLY_NOT_FOUND)


def _options(p: Params) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name in ("disable_notification", "protect_content", "disable_web_page_preview"):
        if p.has(name):
            options[name] = p.get_bool(name)
    preview = p.get_json("link_preview_options", "can't parse link preview options JSON object")
    if preview is not None:
        options["link_preview_options"] = preview
    return options


def _store_from_bot(
    emu: TelegramEmulator,
    p: Params,
    record: ChatRecord,
    formatted: Any,
    text_field: str,
    markup: Any,
    reply_to: int | None,
    **kwargs: Any,
) -> StoredMessage:
    """A message the bot sent (its text, or a document's caption in `text_field`), stored in the chat."""
    extra = {"has_protected_content": True} if p.get_bool("protect_content") else {}
    return emu.state.store_message(
        record,
        from_bot=True,
        sender=emu.bot_user,
        text=formatted.text,
        entities=formatted.api_entities(),
        reply_markup=markup,
        raw_text=p.get_str(text_field) or "",
        parse_mode=p.get_str("parse_mode"),
        reply_to=reply_to,
        extra=extra,
        options=_options(p),
        **kwargs,
    )


@api_method("sendMessage")
async def send_message(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    chat_id = p.chat_id()
    if not p.has("text"):
        raise bad_request(TEXT_EMPTY)
    markup = parse_reply_markup(p.get_json("reply_markup", MARKUP_ERROR))
    plain, entities = _parse_text_params(emu, p)
    record = emu.state.require_chat(chat_id)
    formatted = finish(plain, entities)
    reply_to = _reply_target(p, record)
    emu.rate_limiter.check("sendMessage", record.chat_id)
    message = _store_from_bot(emu, p, record, formatted, "text", markup, reply_to)
    emu.state.emit("message", message)
    return emu.state.message_dict(record, message)


def _document_input(p: Params) -> UploadedFile | str:
    """The `document` parameter: an uploaded part (directly or as attach://<part>), or a
    file_id / URL string."""
    upload = p.file("document")
    if upload is not None:
        return upload
    value = (p.get_str("document") or "").strip()
    if value.startswith("attach://"):
        attached = p.file(value.removeprefix("attach://"))
        if attached is None:
            raise bad_request(NO_DOCUMENT)
        return attached
    if not value:
        raise bad_request(NO_DOCUMENT)
    return value


@api_method("sendDocument")
async def send_document(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    chat_id = p.chat_id()
    source = _document_input(p)
    markup = parse_reply_markup(p.get_json("reply_markup", MARKUP_ERROR))
    plain, entities = parse_caption(
        p.get_str("caption"),
        p.get_str("parse_mode"),
        p.get_json("caption_entities", "can't parse entities JSON object"),
        strict_ampersand=emu.strict_html_ampersand,
    )
    record = emu.state.require_chat(chat_id)
    if isinstance(source, UploadedFile) and source.size == 0:
        raise bad_request(FILE_EMPTY)
    caption = finish_caption(plain, entities)
    reply_to = _reply_target(p, record)
    emu.rate_limiter.check("sendDocument", record.chat_id)
    document: StoredFile = (
        emu.state.store_upload(source) if isinstance(source, UploadedFile) else emu.state.file_from_string(source)
    )
    message = _store_from_bot(emu, p, record, caption, "caption", markup, reply_to, document=document)
    emu.state.emit("message", message)
    return emu.state.message_dict(record, message)


def _edit_target(emu: TelegramEmulator, p: Params) -> tuple[ChatRecord, int]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat_id = p.chat_id()
    if not p.has("message_id"):
        raise bad_request("message identifier is not specified")
    return emu.state.require_chat(chat_id), p.get_int("message_id") or 0


def _editable(record: ChatRecord, message_id: int) -> StoredMessage:
    message = record.live(message_id)
    if message is None:
        raise bad_request(EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request(CANT_EDIT)
    return message


@api_method("editMessageText")
async def edit_message_text(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    if not p.has("inline_message_id"):
        p.chat_id()
    if not p.has("text"):
        raise bad_request(TEXT_EMPTY)
    markup = parse_reply_markup(p.get_json("reply_markup", MARKUP_ERROR), inline_only=True)
    plain, entities = _parse_text_params(emu, p)
    record, message_id = _edit_target(emu, p)
    message = _editable(record, message_id)
    if message.document is not None:
        raise bad_request(NO_TEXT_TO_EDIT)
    formatted = finish(plain, entities)
    new_entities = formatted.api_entities()
    same_markup = inline_keyboard(message.reply_markup) == inline_keyboard(markup)
    if message.text == formatted.text and message.entities == new_entities and same_markup:
        raise bad_request(NOT_MODIFIED)
    emu.rate_limiter.check("editMessageText", record.chat_id)
    message.text, message.entities = formatted.text, new_entities
    # Without reply_markup an edit removes the inline keyboard, as in Telegram.
    message.reply_markup = markup
    message.raw_text, message.parse_mode = p.get_str("text") or "", p.get_str("parse_mode")
    message.edit_date = emu.clock.unix()
    emu.state.emit("edit", message)
    return emu.state.message_dict(record, message)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.get_json("reply_markup", MARKUP_ERROR), inline_only=True)
    record, message_id = _edit_target(emu, p)
    message = _editable(record, message_id)
    if inline_keyboard(message.reply_markup) == inline_keyboard(markup):
        raise bad_request(NOT_MODIFIED)
    emu.rate_limiter.check("editMessageReplyMarkup", record.chat_id)
    message.reply_markup = markup
    message.edit_date = emu.clock.unix()
    emu.state.emit("edit", message)
    return emu.state.message_dict(record, message)


@api_method("deleteMessage")
async def delete_message(emu: TelegramEmulator, p: Params) -> bool:
    chat_id = p.chat_id()
    if not p.has("message_id"):
        raise bad_request("message identifier is not specified")
    record = emu.state.require_chat(chat_id, check_blocked=False)
    message = record.live(p.get_int("message_id"))
    if message is None:
        raise bad_request(DELETE_NOT_FOUND)
    message.deleted = True
    emu.state.emit("delete", message)
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(emu: TelegramEmulator, p: Params) -> bool:
    text = p.get_str("text") or ""
    if len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    url = p.get_str("url")
    if url and not (url.startswith(("https://t.me/", "http://t.me/", "t.me/"))):
        raise bad_request("URL_INVALID")
    record = emu.state.live_callback_query(p.get_str("callback_query_id") or "")
    if record is None:
        raise bad_request(QUERY_TOO_OLD)
    answer = {
        "callback_query_id": record.query_id,
        "text": text,
        "show_alert": p.get_bool("show_alert"),
        "url": url,
        "cache_time": p.get_int("cache_time", 0),
        "data": record.data,
        "message_id": record.message_id,
        "at": round(emu.clock.real(), 4),
    }
    record.answered, record.answer = True, answer
    user = emu.users.get(record.user_id)
    if user is not None:
        user.callback_answers.append(answer)
    return True


@api_method("sendChatAction")
async def send_chat_action(emu: TelegramEmulator, p: Params) -> bool:
    chat_id = p.chat_id()
    action = (p.get_str("action") or "").strip()
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    record = emu.state.require_chat(chat_id)
    record.actions.append(action)
    return True
