"""The emulator driven through python-telegram-bot's real HTTP stack."""

from __future__ import annotations

import datetime as dtm
import socket

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.telegram_emulator import Fault, TelegramEmulator

from .conftest import TOKEN

# PTB itself reads RetryAfter.retry_after, which warns about its future type.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Oui", callback_data="yes"), InlineKeyboardButton("Non", callback_data="no")]]
)


async def test_bot_round_trip(emulator: TelegramEmulator, bot: Bot) -> None:
    assert bot.username == "emulator_bot"
    user = emulator.user(1001, "Amina", language_code="fr")
    await user.send("/start")
    [update] = await bot.get_updates(timeout=1)
    assert update.message.text == "/start"
    assert update.message.from_user.language_code == "fr"
    assert update.message.entities[0].type == "bot_command"

    sent = await bot.send_message(1001, "<b>Choisis</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    assert sent.text == "Choisis" and sent.reply_markup == KEYBOARD
    assert (await user.next_reply(timeout=1)).buttons == [["Oui", "Non"]]

    await user.press("Non")
    [pressed] = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert pressed.callback_query.data == "no"
    assert pressed.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(pressed.callback_query.id, text="Noté") is True
    assert user.callback_answers[0]["text"] == "Noté"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(pressed.callback_query.id)

    edited = await bot.edit_message_text("Merci", chat_id=1001, message_id=sent.message_id)
    assert edited.text == "Merci" and edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Merci", chat_id=1001, message_id=sent.message_id)


async def test_commands_with_language(emulator: TelegramEmulator, bot: Bot) -> None:
    english = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    french = [BotCommand("start", "Commencer"), BotCommand("aide", "Aide")]
    assert await bot.set_my_commands(english)
    assert await bot.set_my_commands(french, language_code="fr", scope=BotCommandScopeAllPrivateChats())
    assert list(await bot.get_my_commands()) == english
    assert list(await bot.get_my_commands(language_code="fr", scope=BotCommandScopeAllPrivateChats())) == french
    assert emulator.user(1001, "Amina", language_code="fr").visible_commands() == [c.to_dict() for c in french]


async def test_errors_surface_as_ptb_exceptions(emulator: TelegramEmulator, bot: Bot) -> None:
    user = emulator.user(1001, "Amina")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(1001, "hi")
    await user.send("/start")
    emulator.inject(method="sendMessage", chat_id=1001, fault=Fault.too_many_requests(retry_after=2), times=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "hi")
    assert caught.value.retry_after in (2, dtm.timedelta(seconds=2))
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_message(1001, "a <br> b", parse_mode="HTML")
    await user.block()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(1001, "hi")
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()


async def test_real_rate_limit_becomes_retry_after(emulator: TelegramEmulator, bot: Bot) -> None:
    await emulator.user(1001, "Amina").send("/start")

    async def spam() -> None:
        for i in range(10):
            await bot.send_message(1001, f"spam {i}")

    with pytest.raises(RetryAfter):
        await spam()
    assert emulator.rate_limit_violations[0].limit == "private_chat"


def build_app(emulator: TelegramEmulator) -> Application:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("<b>Bonjour</b> !", parse_mode="HTML", reply_markup=KEYBOARD)

    async def choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Merci")
        await query.edit_message_text(f"Choix : {query.data}")

    app = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choice))
    return app


async def converse(emulator: TelegramEmulator) -> None:
    user = emulator.user(1001, "Amina", language_code="fr")
    await user.send("/start")
    reply = await user.next_reply(timeout=5)
    assert (reply.text, reply.html, reply.buttons) == ("Bonjour !", "<b>Bonjour</b> !", [["Oui", "Non"]])
    await user.press("Oui")
    edit = await user.next_edit(timeout=5)
    assert (edit.message_id, edit.text, edit.buttons) == (reply.message_id, "Choix : yes", [])
    assert [a["text"] for a in user.callback_answers] == ["Merci"]
    assert emulator.unanswered_callback_queries() == []


async def test_application_with_polling(emulator: TelegramEmulator) -> None:
    app = build_app(emulator)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=5))
        try:
            await converse(emulator)
        finally:
            await app.updater.stop()
            await app.stop()
    assert any(e.method == "deleteWebhook" for e in emulator.transcript)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_application_with_webhook(emulator: TelegramEmulator) -> None:
    # PTB's own webhook server needs its [webhooks] extra (tornado).
    pytest.importorskip("tornado")
    app = build_app(emulator)
    port = free_port()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            secret_token="s3cret",
            webhook_url=f"http://127.0.0.1:{port}/hook",
        )
        try:
            assert emulator.webhook_info()["url"] == f"http://127.0.0.1:{port}/hook"
            await converse(emulator)
        finally:
            await app.updater.stop()
            await app.stop()
    deliveries = [e for e in emulator.transcript if e.kind == "webhook"]
    assert len(deliveries) == 2 and all("delivered" in e.note for e in deliveries)
