"""Faults on every Bot API method the bot uses: the person still gets an answer or a clear apology,
and nothing already saved is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services import Effect, Input, Turn
from bot.storage import repo

from ..telegram_emulator import Fault, TelegramEmulator
from .conftest import (
    RunningBot,
    at_birth_date,
    eventually,
    make_config,
    press_and_read,
    say_and_read,
    sent_texts,
    texts,
    years_ago,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BORN = years_ago(25)


async def saved_answers(bot: RunningBot, telegram_id: int) -> dict[str, object]:
    async with bot.sessions()() as session:
        person = await repo.find_person(session, "telegram", str(telegram_id))
        state = None if person is None else await repo.load_state(session, person.id)
    return dict((state or {}).get("answers", {}))


@pytest.mark.parametrize(
    "fault",
    [
        Fault.too_many_requests(retry_after=1),
        Fault.server_error(502),
        Fault.server_error(500),
        Fault.drop_connection(),
    ],
    ids=["429", "502", "500", "dropped"],
)
async def test_send_message_faults_are_retried(bot: RunningBot, emulator: TelegramEmulator, fault: Fault) -> None:
    amina = emulator.user(6001, "Amina", language_code="fr")
    await at_birth_date(amina)
    emulator.inject(method="sendMessage", chat_id=6001, fault=fault, times=2)
    await amina.send(BORN.isoformat())
    shown = await texts(amina)
    assert "Laquelle de ces situations" in shown
    assert sum("C’est noté" in t for t in sent_texts(emulator, 6001)) == 1
    assert await saved_answers(bot, 6001) == {"birth_date": BORN.isoformat()}


async def test_a_slow_telegram_past_the_timeout_still_answers(database_url: str, emulator: TelegramEmulator) -> None:
    bot = RunningBot(make_config(database_url, emulator, read_timeout=1))
    await bot.start()
    try:
        amina = emulator.user(6002, "Amina", language_code="fr")
        await at_birth_date(amina)
        emulator.inject(method="sendMessage", chat_id=6002, fault=Fault.slow(2.0), times=1)
        await amina.send(BORN.isoformat())
        shown = await texts(amina)
        assert "Laquelle de ces situations" in shown  # at least once (a timed-out send may arrive twice)
        assert await saved_answers(bot, 6002) == {"birth_date": BORN.isoformat()}
    finally:
        await bot.stop()


async def test_a_refused_message_is_sent_again_as_plain_text(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(6003, "Amina", language_code="fr")
    await at_birth_date(amina)
    emulator.inject(
        method="sendMessage", chat_id=6003, fault=Fault.bad_request("Bad Request: can't parse entities"), times=1
    )
    await amina.send(BORN.isoformat())
    shown = await texts(amina)
    assert "Laquelle de ces situations" in shown
    shown = await say_and_read(amina, "1")  # the buttons were lost with the HTML; typing works
    assert "Combien d’années" in shown


async def test_callback_answer_faults_do_not_lose_the_press(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(6004, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    emulator.inject(method="answerCallbackQuery", chat_id=6004, fault=Fault.server_error(502), times=1)
    shown = await press_and_read(amina, "OIM Rabat — lutte contre la traite (ouverte)")
    assert "Êtes-vous d’accord?" in shown
    emulator.inject(method="answerCallbackQuery", chat_id=6004, fault=Fault.slow(6.0), times=1)
    shown = await press_and_read(amina, "J’accepte")
    assert "Quelle est votre date de naissance?" in shown


async def test_get_updates_errors_and_an_outage_are_waited_out(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(6005, "Amina", language_code="fr")
    await at_birth_date(amina)
    emulator.inject(method="getUpdates", fault=Fault.server_error(502), times=3)
    shown = await say_and_read(amina, BORN.isoformat())
    assert "Laquelle de ces situations" in shown
    emulator.outage(2.0)
    await amina.press("Dernière année du baccalauréat")  # during the outage
    shown = await texts(amina)
    assert "Combien d’années" in shown
    assert (await saved_answers(bot, 6005))["education"] == "bachelor_final_year"


async def test_an_outage_while_replying_delivers_the_reply_afterwards(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(6006, "Amina", language_code="fr")
    await at_birth_date(amina)
    emulator.inject(method="sendMessage", chat_id=6006, fault=Fault.server_error(503), times=4)
    await amina.send(BORN.isoformat())
    shown = await texts(amina)
    assert "Laquelle de ces situations" in shown
    assert await saved_answers(bot, 6006) == {"birth_date": BORN.isoformat()}


async def test_telegram_down_at_start_and_set_commands_failing(database_url: str, emulator: TelegramEmulator) -> None:
    emulator.outage(2.0)
    emulator.inject(method="setMyCommands", fault=Fault.server_error(500))
    bot = RunningBot(make_config(database_url, emulator))
    await bot.start()
    try:
        amina = emulator.user(6007, "Amina", language_code="fr")
        shown = await say_and_read(amina, "/start")
        assert "Quelle offre" in shown
    finally:
        await bot.stop()


async def test_a_blocked_bot_stops_sending_until_unblocked(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(6008, "Amina", language_code="fr")
    await at_birth_date(amina)
    await amina.send(BORN.isoformat())
    await texts(amina)
    await amina.block()

    async def blocked() -> bool:
        async with bot.sessions()() as session:
            person = await repo.find_person(session, "telegram", "6008")
            return person is not None and person.blocked

    await eventually(blocked, "the person is marked as having blocked the bot")
    await amina.unblock()
    shown = await say_and_read(amina, "/start")
    assert "Rebonjour! Reprenons là où vous étiez." in shown and "Laquelle de ces situations" in shown


async def test_answers_to_privacy_requests_survive_telegram_errors(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(6009, "Amina", language_code="fr")
    await at_birth_date(amina)
    emulator.inject(method="sendDocument", chat_id=6009, fault=Fault.server_error(502), times=1)
    await amina.send("/mydata")
    reply = await amina.next_reply(timeout=20)  # retried like any reply
    assert reply.document is not None and reply.document.file_name == "mydata.json"
    await say_and_read(amina, "/forget")
    emulator.inject(method="sendMessage", chat_id=6009, fault=Fault.server_error(502), times=1)
    shown = await press_and_read(amina, "Oui, tout effacer")
    assert "Tout ce qui était conservé à votre sujet a été effacé." in shown
    assert sum("a été effacé" in t for t in sent_texts(emulator, 6009)) == 1


@pytest.fixture
async def broken_once(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    original = Turn.apply
    calls = {"n": 0}

    async def apply(self: Turn, incoming: Input) -> list[Effect]:
        if incoming.value == "boom":
            calls["n"] += 1
            raise RuntimeError("an unexpected bug with a personal value 1999-01-01 in its message")
        return await original(self, incoming)

    monkeypatch.setattr(Turn, "apply", apply)
    yield
    assert calls["n"] == 1


async def test_an_unexpected_error_apologises_and_keeps_the_answers(
    broken_once: None, bot: RunningBot, emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    amina = emulator.user(6010, "Amina", language_code="fr")
    await at_birth_date(amina)
    await say_and_read(amina, BORN.isoformat())
    shown = await say_and_read(amina, "boom")
    assert "Désolé, un problème est survenu de mon côté. Vos réponses précédentes sont conservées" in shown
    assert "Traceback" not in shown and "RuntimeError" not in shown
    assert await saved_answers(bot, 6010) == {"birth_date": BORN.isoformat()}
    shown = await press_and_read(amina, "Dernière année du baccalauréat")
    assert "Combien d’années" in shown
    assert "1999-01-01" not in caplog.text and "RuntimeError" in caplog.text


async def test_an_update_telegram_sends_malformed_is_skipped(
    bot: RunningBot, emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    amina = emulator.user(6011, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    bot_user = {"id": 123456, "is_bot": True, "first_name": "Emulator Bot"}
    broken = {  # a ban without until_date: python-telegram-bot cannot build it
        "chat": {"id": 6011, "type": "private", "first_name": "Amina"},
        "from": amina.as_dict(),
        "date": 0,
        "old_chat_member": {"user": bot_user, "status": "member"},
        "new_chat_member": {"user": bot_user, "status": "kicked"},
    }
    emulator.state.add_update("my_chat_member", broken, 6011)
    shown = await press_and_read(amina, "OIM Rabat — lutte contre la traite (ouverte)")
    assert "Êtes-vous d’accord?" in shown  # the broken update did not stop the bot
    assert "could not be read and is skipped" in caplog.text
