"""Webhook mode: the secret header is checked before anything is stored; dialogs work as in polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.storage import repo
from bot.storage.models import InboxUpdate, Person

from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import RunningBot, at_birth_date, make_config, press_and_read, say_and_read, texts, years_ago
from .processes import free_port

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
SECRET = "s3cret-Token_for-tests"


@pytest.fixture
async def webhook_bot(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[RunningBot]:
    port = free_port()
    config = make_config(
        database_url,
        emulator,
        mode="webhook",
        webhook={
            "listen": "127.0.0.1",
            "port": port,
            "url_path": "telegram",
            "public_url": f"http://127.0.0.1:{port}/telegram",
        },
    )
    config = config.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    running = RunningBot(config)
    await running.start()
    yield running
    await running.stop()


async def test_dialog_over_the_webhook_in_both_languages(webhook_bot: RunningBot, emulator: TelegramEmulator) -> None:
    lea = emulator.user(2001, "Léa", language_code="fr")
    shown = await say_and_read(lea, "/start")
    assert emulator.webhook_info()["url"].endswith("/telegram")
    assert "Quelle offre" in shown
    await press_and_read(lea, "OIM Rabat — lutte contre la traite (ouverte)")
    await press_and_read(lea, "J’accepte")
    await say_and_read(lea, years_ago(24).isoformat())
    await press_and_read(lea, "Diplômé(e), plus aux études")
    shown = await press_and_read(lea, "Baccalauréat")
    assert "À quelle date avez-vous obtenu votre diplôme (baccalauréat)?" in shown
    shown = await say_and_read(lea, years_ago(3).isoformat())  # more than 12 months ago: nothing more to ask
    assert "Non admissible : au moins un critère n’est pas rempli." in shown
    assert "avant le" in shown
    ben = emulator.user(2002, "Ben", language_code="en")
    await at_birth_date(ben)
    await say_and_read(ben, years_ago(22).isoformat())
    await press_and_read(ben, "Final year of a bachelor’s degree")
    await say_and_read(ben, "/skip")
    shown = await press_and_read(ben, "Yes")
    assert "Incomplete: some answers are missing to decide." in shown


async def test_a_wrong_secret_gets_403_and_changes_nothing(webhook_bot: RunningBot, emulator: TelegramEmulator) -> None:
    user = emulator.user(2003, "Eve")
    await say_and_read(user, "/start")  # the webhook is up
    url = emulator.webhook_info()["url"]
    update = {
        "update_id": 999_999,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/start",
            "chat": {"id": 2003, "type": "private"},
            "from": {"id": 2003, "is_bot": False, "first_name": "Eve"},
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
    async with webhook_bot.sessions()() as session:
        assert await session.scalar(select(func.count()).where(InboxUpdate.update_id == 999_999)) == 0


async def test_invalid_bodies_get_400_once_and_are_not_stored(
    webhook_bot: RunningBot, emulator: TelegramEmulator
) -> None:
    user = emulator.user(2004, "Eve")
    await say_and_read(user, "/start")  # the webhook is up
    url = emulator.webhook_info()["url"]
    message = {
        "message_id": 1,
        "date": 0,
        "text": "/help",
        "chat": {"id": 2004, "type": "private"},
        "from": {"id": 2004, "is_bot": False, "first_name": "Eve"},
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    bodies: list[object] = [
        {"update_id": 2**63, "message": message},  # beyond a 64-bit integer: refused, not a 503 forever
        {"update_id": -1, "message": message},
        {"update_id": "12", "message": message},
        {"update_id": True, "message": message},
        {"message": message},
        [1, 2, 3],
    ]
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 400, body
        async with http.post(url, data=b"{not json", headers=headers) as response:
            assert response.status == 400
        async with http.post(url, json={"update_id": 2**63 - 1, "message": message}, headers=headers) as response:
            assert response.status == 200  # the largest id still fits
    async with webhook_bot.sessions()() as session:
        assert await session.scalar(select(func.count()).select_from(InboxUpdate)) >= 1
        assert await session.scalar(select(func.count()).where(InboxUpdate.update_id == -1)) == 0
    assert "/back" in await texts(user)  # the valid update was applied


async def test_a_press_delivered_twice_after_the_erasure_brings_nobody_back(
    webhook_bot: RunningBot, emulator: TelegramEmulator
) -> None:
    ana = emulator.user(2005, "Ana", language_code="en")
    await say_and_read(ana, "/start")
    await say_and_read(ana, "/forget")
    press = await ana.press("Yes, erase everything")
    update_id = emulator.state.next_update_id - 1
    assert "has been erased" in await texts(ana)
    # Telegram did not get our 200 and delivers the same update again
    async with aiohttp.ClientSession() as http:
        body = {"update_id": update_id, "callback_query": press}
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(emulator.webhook_info()["url"], json=body, headers=headers) as response:
            assert response.status == 200
    async with webhook_bot.sessions()() as session:
        assert await repo.find_person(session, "telegram", "2005") is None
        assert await session.scalar(select(func.count()).select_from(Person)) == 0


async def test_an_update_delivered_several_times_at_once_is_answered_once(
    webhook_bot: RunningBot, emulator: TelegramEmulator
) -> None:
    """Webhook calls arriving together are stored in one transaction (group commit); copies of one
    update among them (Telegram delivering it again before our 200 reached it) count once."""
    user = emulator.user(2006, "Eve", language_code="en")
    newcomer = emulator.user(2007, "Eve", language_code="en")
    await say_and_read(user, "/start")  # the webhook is up
    await say_and_read(newcomer, "/start")
    before = len(emulator.chat_messages(2006))
    message = {
        "message_id": 50,
        "date": 0,
        "text": "/help",
        "chat": {"id": 2006, "type": "private"},
        "from": {"id": 2006, "is_bot": False, "first_name": "Eve", "language_code": "en"},
    }
    sender = {"id": 2007, "is_bot": False, "first_name": "Eve", "language_code": "en"}
    other = {**message, "message_id": 51, "chat": {"id": 2007, "type": "private"}, "from": sender}
    bodies = [{"update_id": 900_001, "message": message}] * 3 + [{"update_id": 900_002, "message": other}]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:

        async def post(body: dict[str, object]) -> int:
            async with http.post(emulator.webhook_info()["url"], json=body, headers=headers) as response:
                return response.status

        assert await asyncio.gather(*(post(body) for body in bodies)) == [200] * 4
    assert "/back" in await texts(user) and "/back" in await texts(newcomer)
    await user.replies_until_idle(idle=0.3, timeout=10)
    answers = [m for m in emulator.chat_messages(2006)[before:] if "/back" in m.get("text", "")]
    assert len(answers) == 1  # one /help, one answer
    async with webhook_bot.sessions()() as session:
        stored = select(func.count()).where(InboxUpdate.update_id.in_((900_001, 900_002)))
        assert await session.scalar(stored) == 2
