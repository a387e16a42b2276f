"""The bot's aiohttp client for the Bot API (`bot.telegram.request`), against the emulator.

python-telegram-bot turns status codes and Telegram's error answers into its exceptions; the
client must hand it the same status and body as its default httpx client, upload files as
multipart, and turn transport failures into `TimedOut` and `NetworkError`.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.config import load_config
from bot.telegram.app import build
from bot.telegram.request import AiohttpRequest
from tests.telegram_emulator import Fault, ManualClock, TelegramEmulator

TOKEN = "123:ABC"
AMINA = 1001
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="consent:yes")]])
# PTB itself reads RetryAfter.retry_after, which warns about its future type.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(TOKEN, rate_limits=False, clock=clock) as emu:
        await emu.user(AMINA, "Amina", language_code="fr").send("/start")
        yield emu


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[Bot]:
    request = AiohttpRequest(4, connect_timeout=2.0, read_timeout=2.0, write_timeout=2.0, pool_timeout=2.0)
    async with Bot(TOKEN, base_url=emulator.base_url, request=request) as client:
        yield client


async def test_a_dialog_round_trip_with_buttons_and_a_long_poll(emulator: TelegramEmulator, bot: Bot) -> None:
    assert bot.username == "emulator_bot"  # getMe, at initialize
    [start] = await bot.get_updates(timeout=1)
    assert start.message.text == "/start" and start.message.from_user.language_code == "fr"
    sent = await bot.send_message(AMINA, "<b>Consens-tu</b> ? Été, « oui »", parse_mode="HTML", reply_markup=KEYBOARD)
    reply = await emulator.user(AMINA).next_reply(timeout=2)
    assert (reply.text, reply.buttons) == ("Consens-tu ? Été, « oui »", [["Oui"]])
    assert sent.message_id == reply.message_id

    await emulator.user(AMINA).press("Oui")
    [press] = await bot.get_updates(offset=start.update_id + 1, timeout=1)
    assert press.callback_query.data == "consent:yes"
    assert await bot.answer_callback_query(press.callback_query.id) is True
    assert emulator.unanswered_callback_queries() == []


async def test_a_document_is_uploaded_as_multipart(emulator: TelegramEmulator, bot: Bot) -> None:
    content = json.dumps({"answers": {"birth_date": "2000-03-15"}}).encode()
    sent = await bot.send_document(
        AMINA, InputFile(content, filename="mydata.json"), caption="<b>Export</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "mydata.json"
    received = await emulator.user(AMINA).next_reply(timeout=2)
    assert received.document is not None and received.document.content == content
    assert received.caption == "Export"


@pytest.mark.parametrize(
    ("fault", "raised", "message"),
    [
        (Fault.too_many_requests(retry_after=7), RetryAfter, "retry"),
        (Fault.blocked(), Forbidden, "blocked"),
        (Fault.bad_request("chat not found"), BadRequest, "chat not found"),
        (Fault.server_error(502), NetworkError, "Bad Gateway"),
    ],
)
async def test_telegram_errors_become_the_same_exceptions_as_with_httpx(
    emulator: TelegramEmulator, bot: Bot, fault: Fault, raised: type[Exception], message: str
) -> None:
    emulator.inject(method="sendMessage", chat_id=AMINA, fault=fault, times=1)
    with pytest.raises(raised, match=f"(?i){message}") as caught:
        await bot.send_message(AMINA, "Bonjour")
    if isinstance(caught.value, RetryAfter):
        assert caught.value.retry_after in (7, dtm.timedelta(seconds=7))
    await bot.send_message(AMINA, "Bonjour")  # the connection pool is still usable
    assert [m.text for m in [await emulator.user(AMINA).next_reply(timeout=2)]] == ["Bonjour"]


async def test_a_dropped_connection_and_an_outage_are_network_errors(
    emulator: TelegramEmulator, bot: Bot, clock: ManualClock
) -> None:
    emulator.inject(method="sendMessage", fault=Fault.drop_connection(), times=1)
    with pytest.raises(NetworkError) as dropped:
        await bot.send_message(AMINA, "jamais")
    assert not isinstance(dropped.value, TimedOut)
    emulator.outage(1.0)
    await emulator.wait_until(lambda: not emulator.accepting_connections)
    with pytest.raises(NetworkError):
        await bot.get_me()
    clock.advance(1.0)
    await emulator.wait_until(lambda: emulator.accepting_connections)
    assert (await bot.get_me()).username == "emulator_bot"  # back once Telegram is


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(emulator: TelegramEmulator, bot: Bot) -> None:
    emulator.inject(method="sendMessage", fault=Fault.slow(60), times=1)  # the emulator's clock never gets there
    with pytest.raises(TimedOut):
        await bot.send_message(AMINA, "lent", read_timeout=0.2)
    assert (await bot.get_me()).username == "emulator_bot"


async def test_an_uninitialised_or_shut_down_client_refuses_to_send() -> None:
    request = AiohttpRequest()
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post("http://127.0.0.1:9/bot123:ABC/getMe")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is harmless
    with pytest.raises(NetworkError, match="not initialized"):
        await asyncio.wait_for(request.post("http://127.0.0.1:9/bot123:ABC/getMe"), 5)


def test_the_bot_uses_aiohttp_for_get_updates_too(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"}
    application, _, _ = build(load_config(None, env))
    # python-telegram-bot keeps one request object for getUpdates and one for every other call
    assert all(isinstance(request, AiohttpRequest) for request in application.bot._request)


async def test_the_proxy_of_the_environment_is_followed_as_python_telegram_bot_s_client_does(
    monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    through: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        through.append(request.url.host or "")
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{unused_tcp_port}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_tcp_port}")
    monkeypatch.setenv("NO_PROXY", "")
    request = AiohttpRequest()
    await request.initialize()
    try:
        assert await request.post("http://api.telegram.invalid/bot1:abc/sendMessage") is True
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert through == ["api.telegram.invalid"]


async def test_a_host_in_no_proxy_is_reached_directly(monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_tcp_port}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with TelegramEmulator(TOKEN, rate_limits=False) as emulator:
        request = AiohttpRequest()
        async with Bot(TOKEN, base_url=emulator.base_url, request=request) as bot:
            assert bot.username == "emulator_bot"  # getMe went straight to the emulator
