"""sendDocument: uploads through python-telegram-bot, file_id/URL documents, Telegram's errors."""

from __future__ import annotations

import datetime as dtm
import json
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.telegram_emulator import Fault, ManualClock, TelegramEmulator
from tests.telegram_emulator.client import RawApi, Upload

from .conftest import TOKEN

MB = 1024 * 1024
# PTB itself reads RetryAfter.retry_after, which warns about its future type.
pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.emulator(rate_limits=False, chats=[(1001, "Amina"), (1002, "Bob")]),
]
EXPORT = {"trainee": "Amina", "days": [1, 2, 3], "ok": True}


def bot_messages(emulator: TelegramEmulator, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in emulator.chat_messages(chat_id) if m["from"]["is_bot"]]


async def test_json_document_with_caption_round_trip(emulator: TelegramEmulator, bot: Bot) -> None:
    user = emulator.user(1001)
    content = json.dumps(EXPORT).encode()
    await bot.send_message(1001, "Voici ton export :")
    sent = await bot.send_document(
        1001,
        InputFile(content, filename="mydata.json"),
        caption="<b>Export</b> du 3 mai",
        parse_mode="HTML",
        disable_notification=True,
    )
    await bot.send_message(1001, "Bonne journée")

    # The Message as PTB parsed it.
    assert sent.text is None and sent.caption == "Export du 3 mai"
    assert sent.caption_entities[0].type == "bold" and sent.caption_entities[0].length == 6
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type, sent.document.file_size) == (
        "mydata.json",
        "application/json",
        len(content),
    )
    assert sent.document.file_id and sent.document.file_unique_id

    # What the person sees, in order with the text messages.
    first, doc, last = [await user.next_reply(timeout=2) for _ in range(3)]
    assert (first.text, first.document, first.caption) == ("Voici ton export :", None, None)
    assert doc.document is not None and doc.message_id == sent.message_id
    assert doc.document.content == content and doc.document.json() == EXPORT
    assert (doc.document.file_name, doc.document.mime_type, doc.document.size) == (
        "mydata.json",
        "application/json",
        len(content),
    )
    assert doc.caption == doc.document.caption == "Export du 3 mai"
    assert doc.document.caption_html == "<b>Export</b> du 3 mai"
    assert doc.document.file_id == sent.document.file_id
    assert doc.text == "" and doc.raw_text == "<b>Export</b> du 3 mai"
    assert last.text == "Bonne journée"

    stored = bot_messages(emulator, 1001)[1]
    assert stored["document"] == sent.document.to_dict()
    assert "text" not in stored and stored["caption"] == "Export du 3 mai"

    # The transcript names the file and its size, never the bytes.
    [call] = [e for e in emulator.transcript if e.method == "sendDocument"]
    assert call.params["document"] == f"<file 'mydata.json', {len(content)} bytes>"
    line = emulator.transcript_text(last=3)
    assert f"document='mydata.json' ({len(content)} bytes)" in line
    assert '"trainee"' not in line


async def test_document_without_caption_and_file_name(emulator: TelegramEmulator, bot: Bot) -> None:
    user = emulator.user(1002)
    sent = await bot.send_document(1002, b"\x00\x01binary")
    assert sent.caption is None and sent.document is not None
    reply = await user.next_reply(timeout=2)
    assert reply.document is not None and reply.caption is None
    assert reply.document.content == b"\x00\x01binary" and reply.document.size == 8
    # PTB names a nameless upload after its MIME type.
    assert (reply.document.file_name, reply.document.mime_type) == (
        "application.octet-stream",
        "application/octet-stream",
    )


async def test_file_id_and_url_are_kept_as_given(emulator: TelegramEmulator, bot: Bot, api: RawApi) -> None:
    user = emulator.user(1001)
    first = await bot.send_document(1001, InputFile(b"a,b\n1,2\n", filename="table.csv"))
    assert first.document is not None
    # Its file_id sends the same file again.
    again = await bot.send_document(1001, first.document.file_id, caption="encore")
    assert again.document == first.document
    # A file_id the emulator never issued is stored as given.
    other = await bot.send_document(1001, "BQACAgIAAxkBAAIBc2ZfOreign")
    assert other.document is not None and other.document.file_id == "BQACAgIAAxkBAAIBc2ZfOreign"
    # A URL (Telegram would download it): a new file that remembers the URL.
    url = "https://example.org/files/rapport%20final.pdf"
    linked = await api.ok("sendDocument", chat_id=1001, document=url)
    assert linked["document"]["file_name"] == "rapport final.pdf"
    assert linked["document"]["mime_type"] == "application/pdf"

    replies = [await user.next_reply(timeout=2) for _ in range(4)]
    docs = [r.document for r in replies]
    assert all(d is not None for d in docs)
    assert docs[0] is not None and docs[0].content == b"a,b\n1,2\n" and docs[0].mime_type == "text/csv"
    assert docs[1] is not None and docs[1].content == b"a,b\n1,2\n" and replies[1].caption == "encore"
    assert docs[2] is not None and (docs[2].content, docs[2].file_name, docs[2].size) == (None, None, None)
    assert docs[3] is not None and (docs[3].url, docs[3].content) == (url, None)


async def test_every_encoding_and_attach(emulator: TelegramEmulator, api: RawApi) -> None:
    for encoding in ("json", "form", "multipart"):
        result = await api.ok("sendDocument", encoding=encoding, chat_id=1001, document="some-file-id", caption="c")
        assert (result["document"]["file_id"], result["caption"]) == ("some-file-id", "c")
    attached = await api.ok(
        "sendDocument",
        chat_id=1001,
        document="attach://part1",
        part1=Upload(b"hello", filename="hello.txt", content_type="text/plain"),
    )
    assert attached["document"]["file_name"] == "hello.txt" and attached["document"]["file_size"] == 5


async def test_strict_errors(emulator: TelegramEmulator, bot: Bot, api: RawApi) -> None:
    upload = Upload(b"{}", filename="x.json")
    assert await api.error("sendDocument", chat_id=1001) == (400, "Bad Request: there is no document in the request")
    assert await api.error("sendDocument", chat_id=1001, document="") == (
        400,
        "Bad Request: there is no document in the request",
    )
    assert await api.error("sendDocument", chat_id=1001, document="attach://missing", other=upload) == (
        400,
        "Bad Request: there is no document in the request",
    )
    assert await api.error("sendDocument", document=upload) == (400, "Bad Request: chat_id is empty")
    assert await api.error("sendDocument", chat_id=1001, document=Upload(b"", filename="vide.json")) == (
        400,
        "Bad Request: file must be non-empty",
    )
    with pytest.raises(BadRequest, match=r"^File must be non-empty$"):
        await bot.send_document(1001, InputFile(b"", filename="vide.json"))

    # 1024 characters after parsing are fine; 1025 are not.
    long_caption = "<b>" + "a" * 1024 + "</b>"
    assert await bot.send_document(1001, InputFile(b"1", filename="a.txt"), caption=long_caption, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_document(1001, InputFile(b"1", filename="a.txt"), caption="a" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_document(1001, InputFile(b"1", filename="a.txt"), caption="<b>oops", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_document(4242, InputFile(b"1", filename="a.txt"))
    # A blank caption is no caption.
    blank = await bot.send_document(1001, InputFile(b"1", filename="a.txt"), caption="  \n ")
    assert blank.caption is None

    documents = [m for m in bot_messages(emulator, 1001) if "document" in m]
    assert len(documents) == 2  # the 1024-character caption and the blank one


async def test_over_50_mb_is_request_entity_too_large(emulator: TelegramEmulator, bot: Bot, api: RawApi) -> None:
    status, body = await api.call("sendDocument", chat_id=1001, document=Upload(b"x" * (50 * MB + 1), filename="big"))
    assert (status, body) == (413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"})
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_document(1001, InputFile(b"x" * (50 * MB + 1), filename="big.bin"), write_timeout=60)
    # Even bodies too large to read at all get Telegram's answer.
    status, body = await api.call("sendDocument", chat_id=1001, document=Upload(b"x" * (65 * MB), filename="huge"))
    assert (status, body["description"]) == (413, "Request Entity Too Large")
    assert bot_messages(emulator, 1001) == []
    calls = [e for e in emulator.transcript if e.method == "sendDocument"]
    assert [e.status for e in calls] == [413, 413, 413]
    assert calls[0].params["document"] == f"<file 'big', {50 * MB + 1} bytes>"

    exact = await api.ok("sendDocument", chat_id=1001, document=Upload(b"x" * (50 * MB), filename="limit.bin"))
    assert exact["document"]["file_size"] == 50 * MB


async def test_fault_on_send_document(emulator: TelegramEmulator, bot: Bot) -> None:
    injection = emulator.inject(method="sendDocument", chat_id=1001, fault=Fault.server_error(502))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_document(1001, InputFile(b"{}", filename="x.json"))
    assert bot_messages(emulator, 1001) == []
    # Other chats and other methods are not faulted.
    assert await bot.send_document(1002, InputFile(b"{}", filename="x.json"))
    assert await bot.send_message(1001, "texte")
    [faulted] = [e for e in emulator.transcript if e.method == "sendDocument" and e.status == 502]
    assert faulted.note == "server_error" and faulted.params["document"] == "<file 'x.json', 2 bytes>"

    injection.remove()
    emulator.inject(method="sendDocument", fault=Fault.too_many_requests(retry_after=3), times=1)
    with pytest.raises(RetryAfter):
        await bot.send_document(1001, "file-id")
    assert [m.get("text") for m in bot_messages(emulator, 1001)] == ["texte"]
    user = emulator.user(1001)
    assert (await user.next_reply(timeout=1)).text == "texte"


async def test_blocked_user_gets_no_document(emulator: TelegramEmulator, bot: Bot) -> None:
    await emulator.user(1001).block()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_document(1001, InputFile(b"{}", filename="x.json"), caption="salut")
    assert bot_messages(emulator, 1001) == []


async def test_documents_count_as_messages_for_rate_limits() -> None:
    async with (
        TelegramEmulator(TOKEN, clock=ManualClock()) as emulator,
        Bot(TOKEN, base_url=emulator.base_url) as bot,
    ):
        await emulator.user(1001, "Amina").send("/start")
        await bot.send_message(1001, "1")
        await bot.send_document(1001, "file-id")
        await bot.send_message(1001, "3")
        with pytest.raises(RetryAfter):
            await bot.send_document(1001, InputFile(b"{}", filename="x.json"))
        [violation] = emulator.rate_limit_violations
        assert (violation.method, violation.limit) == ("sendDocument", "private_chat")
        assert len(bot_messages(emulator, 1001)) == 3


async def test_keyboard_on_a_document_and_edits(emulator: TelegramEmulator, bot: Bot) -> None:
    user = emulator.user(1001)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Reçu", callback_data="got-it")]])
    sent = await bot.send_document(1001, InputFile(b"{}", filename="x.json"), caption="à lire", reply_markup=keyboard)
    assert sent.reply_markup == keyboard
    reply = await user.next_reply(timeout=2)
    assert reply.buttons == [["Reçu"]] and reply.caption == "à lire"
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("autre", chat_id=1001, message_id=sent.message_id)
    await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id)
    edit = await user.next_edit(timeout=2)
    assert edit.buttons == [] and edit.document is not None and edit.document.file_name == "x.json"


async def test_application_replies_with_a_document(emulator: TelegramEmulator) -> None:
    async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Export en cours…")
        data = json.dumps(EXPORT).encode()
        await update.message.reply_document(InputFile(data, filename="export.json"), caption="Ton export")

    app = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).build()
    app.add_handler(CommandHandler("export", export))
    user = emulator.user(1001)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=5))
        try:
            await user.send("/export")
            replies = await user.replies_until_idle(idle=0.3)
        finally:
            await app.updater.stop()
            await app.stop()
    assert [r.text for r in replies] == ["Export en cours…", ""]
    document = replies[1].document
    assert document is not None and document.file_name == "export.json" and document.json() == EXPORT
    assert replies[1].caption == "Ton export"
