"""What people who are not the person, or not in a private chat, try: groups, other people's
buttons, commands for another bot. Each of these once leaked or misrouted a reply."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.storage import repo
from bot.storage.models import InboxUpdate, Person

from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import (
    RunningBot,
    at_birth_date,
    eventually,
    forge_press,
    post_in_group,
    say_and_read,
    texts,
    years_ago,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
GROUP = -100_700_001


async def people(bot: RunningBot) -> int:
    async with bot.sessions()() as session:
        return int(await session.scalar(select(func.count()).select_from(Person)) or 0)


async def state_of(bot: RunningBot, telegram_id: int) -> dict[str, object]:
    async with bot.sessions()() as session:
        person = await repo.find_person(session, "telegram", str(telegram_id))
        return (await repo.load_state(session, person.id) or {}) if person else {}


async def test_a_group_is_told_once_to_write_privately_and_nothing_is_kept(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(8001, "Amina", language_code="fr")
    await at_birth_date(amina)  # Amina's private dialog waits for her birth date
    emulator.add_group(GROUP, "Stagiaires 2026")
    born = years_ago(25).isoformat()
    post_in_group(emulator, GROUP, born, sender=amina)  # her answer, typed in the group by mistake
    stranger = emulator.user(8002, "Stranger", language_code="en")
    post_in_group(emulator, GROUP, "/start", sender=stranger)
    post_in_group(emulator, GROUP, "/start@emulator_bot", sender=stranger)
    post_in_group(emulator, GROUP, "hello everyone")  # an anonymous admin: no person at all

    async def all_handled() -> bool:
        async with bot.sessions()() as session:
            waiting = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.processed_at.is_(None))
            handled = not emulator.state.has_unconfirmed(GROUP) and await session.scalar(waiting) == 0
        return handled and any("t.me/" in m.get("text", "") for m in emulator.chat_messages(GROUP))

    await eventually(all_handled, "the four group posts are handled")
    assert await amina.replies_until_idle(idle=0) == []  # nothing reached her private chat
    group_messages = [
        m["text"] for m in emulator.chat_messages(GROUP) if m.get("from", {}).get("username") == "emulator_bot"
    ]
    assert len(group_messages) == 1, group_messages
    assert "conversation privée" in group_messages[0] and "https://t.me/emulator_bot" in group_messages[0]
    assert born not in "\n".join(group_messages)
    assert (await state_of(bot, 8001)).get("answers") == {}  # not applied to her private dialog
    assert await people(bot) == 1  # neither the stranger nor the group became a person
    shown = await say_and_read(amina, born)  # in private, the same answer works
    assert "C’est noté" in shown


async def test_a_press_on_someone_else_s_message_answers_the_presser_privately(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(8011, "Amina", language_code="fr")
    eve = emulator.user(8012, "Eve", language_code="en")
    await say_and_read(amina, "/start")
    await say_and_read(eve, "/start")
    amina_menu = next(m for m in emulator.chat_messages(8011) if m.get("reply_markup"))
    before = len(emulator.chat_messages(8011))
    forge_press(emulator, eve, "programs:iom-internship-rabat", amina_menu)  # Eve "presses" in Amina's chat
    shown = await texts(eve)
    assert "Do you agree?" in shown  # judged against Eve's own dialog, answered in Eve's chat
    assert len(emulator.chat_messages(8011)) == before  # nothing was sent to Amina
    assert (await state_of(bot, 8011)).get("phase") == "programs"
    assert emulator.unanswered_callback_queries() == []


async def test_forged_and_stale_buttons_change_nothing(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(8021, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    menu = next(m for m in emulator.chat_messages(8021) if m.get("reply_markup"))
    for data in ("consent:yes", "birth_date:1990-01-01", "education:phd_in_progress", "programs:../../etc", "x" * 64):
        forge_press(emulator, amina, data, menu)
        shown = await texts(amina)
        assert "Ce bouton appartient à une question précédente" in shown and "Quelle offre" in shown, data
    assert (await state_of(bot, 8021)).get("answers") == {} and (await state_of(bot, 8021)).get("consent") is None


async def test_commands_for_another_bot_are_not_answered(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(8031, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    await amina.send("/help@otherbot")
    await amina.send("/forget@other_bot")
    shown = await say_and_read(amina, "/help@emulator_bot")  # ours: answered, and only this one
    assert shown.count("Commandes : /back") == 1
    assert "irréversible" not in shown
