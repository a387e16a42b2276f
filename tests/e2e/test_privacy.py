"""Privacy on Telegram: consent first, /privacy, /mydata, /forget erasing the person everywhere."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.storage import repo
from bot.storage.models import InboxUpdate

from ..conftest import BACKENDS
from ..support.schema import columns_holding
from ..telegram_emulator import Fault, SimulatedUser, TelegramEmulator
from .conftest import (
    RunningBot,
    at_birth_date,
    eventually,
    forge_press,
    press_and_read,
    say_and_read,
    sent_texts,
    texts,
    years_ago,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def answer_some(user: SimulatedUser) -> None:
    await at_birth_date(user)
    await say_and_read(user, years_ago(25).isoformat())
    await say_and_read(user, "Est-ce que je peux amener mon chien?")  # no sure answer: kept for staff


async def where_is(bot: RunningBot, telegram_id: int) -> set[str]:
    """Every column still holding the person (by reference to their row, or their Telegram id)."""
    async with bot.sessions()() as session:
        person = await repo.find_person(session, "telegram", str(telegram_id))
        return await columns_holding(session, person.id if person else None, str(telegram_id))


async def test_forget_erases_the_person_from_every_table(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(7773001, "Amina", language_code="fr")
    other = emulator.user(7773002, "Omar", language_code="fr")
    await answer_some(amina)
    await answer_some(other)
    before = await where_is(bot, 7773001)
    assert {"people.id", "answers.person_id", "dialog_states.person_id", "unanswered_questions.person_id"} <= before
    shown = await say_and_read(amina, "/forget")
    assert "C’est irréversible." in shown
    shown = await press_and_read(amina, "Non, garder")
    assert "Rien n’a été effacé." in shown and "answers.person_id" in await where_is(bot, 7773001)
    await say_and_read(amina, "/forget")
    shown = await press_and_read(amina, "Oui, tout effacer")
    assert "a été effacé" in shown
    assert await where_is(bot, 7773001) == set()
    assert "answers.person_id" in await where_is(bot, 7773002)  # someone else keeps their data
    shown = await say_and_read(amina, "/start")  # a new beginning, asking consent again
    assert "Quelle offre" in shown


async def test_an_old_replayed_or_forged_forget_button_erases_nothing(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(3010, "Amina", language_code="fr")
    await answer_some(amina)
    await say_and_read(amina, "/forget")
    first = next(m for m in reversed(emulator.chat_messages(3010)) if "irréversible" in m.get("text", ""))
    first_yes = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert first_yes.startswith("forget:yes:") and len(first_yes) > len("forget:yes:")
    await press_and_read(amina, "Non, garder")
    for data in (first_yes, "forget:yes", "forget:yes:", "forget:yes:guessed-nonce", "forget:no:" + first_yes[11:]):
        forge_press(emulator, amina, data, first)  # a replay of the answered one, and forgeries
        shown = await texts(amina)
        assert "n’est plus valide" in shown and "rien n’a été effacé" in shown, data
    assert "answers.person_id" in await where_is(bot, 3010)
    await say_and_read(amina, "/forget")  # a fresh request: the first confirmation still does nothing
    forge_press(emulator, amina, first_yes, first)
    assert "n’est plus valide" in await texts(amina)
    assert "answers.person_id" in await where_is(bot, 3010)
    fresh = next(m for m in reversed(emulator.chat_messages(3010)) if "irréversible" in m.get("text", ""))
    assert fresh["message_id"] != first["message_id"]
    await amina.press("Oui, tout effacer", message_id=fresh["message_id"])  # the fresh one works
    assert "a été effacé" in await texts(amina) and await where_is(bot, 3010) == set()


async def test_privacy_notice_in_the_person_s_language(bot: RunningBot, emulator: TelegramEmulator) -> None:
    jo = emulator.user(3003, "Jo", language_code="en")
    shown = await say_and_read(jo, "/privacy")
    assert "kept 180 days after your last message" in shown and "/forget erases it all" in shown
    assert "You have not given your consent" in shown


async def test_nothing_personal_is_asked_before_consent(bot: RunningBot, emulator: TelegramEmulator) -> None:
    kim = emulator.user(3004, "Kim", language_code="fr")
    await say_and_read(kim, "/start")
    shown = await press_and_read(kim, "OIM Rabat — lutte contre la traite (ouverte)")
    assert "date de naissance" in shown and "Êtes-vous d’accord?" in shown
    assert "Quelle est votre date de naissance?" not in shown
    await press_and_read(kim, "Non merci")
    await say_and_read(kim, "Est-ce que le stage est payé?")  # a question without consent: not kept
    assert "unanswered_questions.person_id" not in await where_is(bot, 3004)


async def test_a_stale_button_after_a_redeploy_is_answered_politely(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(3005, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    await press_and_read(amina, "OIM Rabat — lutte contre la traite (ouverte)")
    await bot.stop()
    before = len(emulator.transcript)
    await bot.start()

    # pressed once the new process polls (Telegram's 15 s for a callback query run 10 times faster
    # here): after its getMe, since the old process's last long poll may be logged after it stopped
    def new_process_polls() -> bool:
        methods = [e.method for e in emulator.transcript[before:]]
        return "getMe" in methods and "getUpdates" in methods[methods.index("getMe") :]

    await emulator.wait_until(new_process_polls, timeout=30)
    first_menu = next(m for m in emulator.chat_messages(3005) if "Quelle offre" in m.get("text", ""))
    await amina.press("data:programs:quebec-psoig-2021-023", message_id=first_menu["message_id"])
    shown = await texts(amina)
    assert "Ce bouton appartient à une question précédente" in shown and "Êtes-vous d’accord?" in shown
    assert emulator.unanswered_callback_queries() == []


async def test_mydata_sends_everything_stored_as_a_json_document(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(3006, "Amina", language_code="fr")
    await answer_some(amina)
    born = years_ago(25).isoformat()
    await amina.send("/mydata")
    replies = [await amina.next_reply(timeout=20)]  # the document, sent as soon as it is built
    replies += await amina.replies_until_idle(idle=0, timeout=20)
    documents = [r.document for r in replies if r.document is not None]
    assert len(documents) == 1
    document = documents[0]
    assert (
        document.file_name == "mydata.json"
        and document.caption == "Tout ce qui est conservé à votre sujet, en document JSON."
    )
    data = json.loads(document.content or b"")
    assert data["person"]["telegram_user_id"] == 3006 and data["person"]["consent_version"] == 1
    assert data["answers"] == {"birth_date": born}
    assert data["questions_asked"][0]["text"] == "Est-ce que je peux amener mon chien?"
    assert data["dialog_state"]["pending"] == "education"


async def test_messages_right_after_erasing_start_afresh_after_the_goodbye(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    ana = emulator.user(3020, "Ana", language_code="en")
    await at_birth_date(ana)
    await say_and_read(ana, years_ago(25).isoformat())
    await say_and_read(ana, "/forget")
    emulator.inject(
        method="sendMessage", chat_id=3020, fault=Fault.server_error(502), times=1
    )  # the goodbye fails once
    await ana.press("Yes, erase everything")
    await ana.send("/start")  # at once, while the goodbye waits for its retry
    await ana.send("hello")
    shown = await texts(ana)
    goodbye = shown.index("Everything stored about you has been erased.")
    assert goodbye < shown.index("Which offer do you want to check?")  # the goodbye first, then a new start
    assert goodbye < shown.rindex("Hello!")  # and "hello" answered too, in the new conversation
    assert sum("has been erased" in t for t in sent_texts(emulator, 3020)) == 1
    async with bot.sessions()() as session:
        person = await repo.find_person(session, "telegram", "3020")
        assert person is not None and person.consent_version is None  # a new person, nothing carried over
        assert (await repo.export_person(session, person.id))["answers"] == {}


async def test_blocking_the_bot_after_erasing_records_nothing(bot: RunningBot, emulator: TelegramEmulator) -> None:
    ana = emulator.user(3022, "Ana", language_code="en")
    await say_and_read(ana, "/start")
    await say_and_read(ana, "/forget")
    assert "has been erased" in await press_and_read(ana, "Yes, erase everything")
    await ana.block()

    async def handled() -> bool:
        async with bot.sessions()() as session:
            waiting = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.processed_at.is_(None))
            return not emulator.state.has_unconfirmed(3022) and await session.scalar(waiting) == 0

    await eventually(handled, "the block is handled")
    assert await where_is(bot, 3022) == set()
