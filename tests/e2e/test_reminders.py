"""Deadline reminders on Telegram: opting in after a verdict, /reminders, stopping, /mydata and
/forget; and a reminder that fell due while the bot was down, sent once when it comes back.

The bot runs with an injected clock shifted into the future of a test offer (a copy of the
shipped Québec offer whose deadline is 15 January 2027): the clock moves at the real pace, so
Telegram's pacing works, but "now" is whatever day the test needs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage.models import OutboxMessage, Subscription

from ..conftest import BACKENDS
from ..telegram_emulator import SimulatedUser, TelegramEmulator
from .conftest import (
    ROOT,
    RunningBot,
    ShiftedClock,
    eventually,
    forge_press,
    make_config,
    press_and_read,
    say_and_read,
    sent_texts,
    texts,
    years_ago,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
QUEBEC = "quebec-psoig-2021-023"
ON, OFF = f"data:remind:on:{QUEBEC}", f"data:remind:off:{QUEBEC}"
GENEVA = "OIM Genève — offre PSOIG 2021-023 (ouverte)"


def offers_dir(tmp_path: Path) -> Path:
    """The shipped offers, the Québec one with its deadline moved to 15 January 2027 (a copy)."""
    folder = tmp_path / "offers"
    folder.mkdir()
    for source in (ROOT / "rules/offers").glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.stem == QUEBEC:
            assert text.count("  date: 2021-10-10\n") == 1
            text = text.replace("  date: 2021-10-10\n", "  date: 2027-01-15\n")
        (folder / source.name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
async def clocked(database_url: str, emulator: TelegramEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    config = make_config(database_url, emulator, top={"offers_dir": str(offers_dir(tmp_path))})
    running = RunningBot(config, ShiftedClock(datetime(2026, 12, 20, 17, tzinfo=UTC)))
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


async def judged(user: SimulatedUser) -> str:
    await say_and_read(user, "/start")
    await press_and_read(user, GENEVA)
    await press_and_read(user, "J’accepte")
    return await say_and_read(user, years_ago(45).isoformat())


async def subscriptions(bot: RunningBot) -> list[str]:
    async with bot.sessions()() as session:
        return list((await session.execute(select(Subscription.program_id))).scalars())


def message_with(emulator: TelegramEmulator, user: SimulatedUser, words: str) -> dict[str, object]:
    """The latest bot message in the chat whose text has `words`."""
    found = [m for m in emulator.chat_messages(user.chat_id) if words in m.get("text", "").replace("\u00a0", " ")]
    return found[-1]


async def test_opt_in_list_stop_mydata_and_forget(clocked: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(9001, "Amina", language_code="fr-CA")
    shown = await judged(amina)
    assert "Non admissible" in shown and "🔔 Voulez-vous un rappel avant la date limite ?" in shown
    shown = await press_and_read(amina, ON)
    assert "vous recevrez un rappel 14, 7 et 1 jours avant le 15 janvier 2027" in shown
    assert await subscriptions(clocked) == [QUEBEC]
    shown = await say_and_read(amina, "/reminders")
    assert "OIM Genève — offre PSOIG 2021-023 — date limite le 15 janvier 2027 : rappels activés." in shown
    assert "OIM Rabat — lutte contre la traite — aucune date limite indiquée : rien à rappeler." in shown
    listing = message_with(emulator, amina, "Rappels de date limite")
    forge_press(emulator, amina, "remind:on:unknown", listing)
    assert "n’existe pas ou n’est plus proposée" in await texts(amina)
    assert await subscriptions(clocked) == [QUEBEC]  # the forged button changed nothing
    await amina.press(OFF, message_id=int(str(listing["message_id"])))
    assert "plus aucun rappel pour « OIM Genève" in (await texts(amina)).replace("\u00a0", " ")
    assert await subscriptions(clocked) == []
    assert "rappels activés" not in await say_and_read(amina, "/reminders")
    listing = message_with(emulator, amina, "Rappels de date limite")
    await amina.press(ON, message_id=int(str(listing["message_id"])))
    assert "vous recevrez un rappel" in await texts(amina)

    await amina.send("/mydata")
    replies = [await amina.next_reply(timeout=20)]
    replies += await amina.replies_until_idle(idle=0, timeout=20)
    [document] = [r.document for r in replies if r.document is not None]
    data = json.loads(document.content or b"")
    assert [s["program"] for s in data["subscriptions"]] == [QUEBEC]

    await say_and_read(amina, "/forget")
    assert "a été effacé" in await press_and_read(amina, "Oui, tout effacer")
    assert await subscriptions(clocked) == []


async def test_a_reminder_due_while_the_bot_was_down_is_sent_once(
    clocked: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(9002, "Amina", language_code="fr-CA")
    await judged(amina)
    await press_and_read(amina, ON)
    await clocked.stop()
    clocked.clock.jump(datetime(2027, 1, 9, 12, tzinfo=UTC))  # down over the 14- and 7-day reminders
    await clocked.start()

    def reminders() -> list[str]:
        return [t for t in sent_texts(emulator, amina.chat_id) if t.startswith("🔔 Rappel —")]

    async def arrived() -> bool:
        return len(reminders()) >= 1

    await eventually(arrived, "the reminder was sent after the restart", timeout=30)
    [reminder] = reminders()
    assert "Il reste 6 jours pour postuler" in reminder and "15 janvier 2027" in reminder
    assert "stages.oig@mri.gouv.qc.ca" in reminder
    await clocked.stop()
    await clocked.start()  # a second start at the same moment: nothing new is due

    async def settled() -> bool:
        async with clocked.sessions()() as session:
            rows = await session.execute(select(OutboxMessage.status).where(OutboxMessage.kind == "reminder"))
            statuses = list(rows.scalars())
        return statuses == ["sent"]

    await eventually(settled, "the one reminder row is sent")
    shown = await say_and_read(amina, "/reminders")  # the bot is up and answering again
    assert "rappels activés" in shown
    assert len(reminders()) == 1
    async with clocked.sessions()() as session:
        rows = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder")
        )
    assert rows == 1
    await amina.press(OFF, message_id=int(str(message_with(emulator, amina, "Rappel —")["message_id"])))
    assert "plus aucun rappel" in await texts(amina)
    assert await subscriptions(clocked) == []


async def test_a_reminder_queued_before_a_crash_is_never_sent_once_the_deadline_passed(
    clocked: RunningBot, emulator: TelegramEmulator
) -> None:
    from bot.reminders.scheduler import ReminderScheduler
    from rules import load_programs

    amina = emulator.user(9003, "Amina", language_code="fr-CA")
    await judged(amina)
    await press_and_read(amina, ON)
    await clocked.stop()
    programs = load_programs(clocked.config.offers_path())
    queued_at = datetime(2027, 1, 14, 15, tzinfo=UTC)  # the 1-day reminder, queued just before the bot went down
    jobs = ReminderScheduler(
        clocked.sessions(), lambda: programs, clocked.config.reminders, clocked.config.timezone, clocked.clock
    )
    assert await jobs.run_once(queued_at) == 1
    clocked.clock.jump(datetime(2027, 1, 16, 12, tzinfo=UTC))  # back up after the deadline's end in Toronto
    await clocked.start()

    async def settled() -> bool:
        async with clocked.sessions()() as session:
            rows = await session.execute(
                select(OutboxMessage.status, OutboxMessage.error).where(OutboxMessage.kind == "reminder")
            )
            found = [tuple(row) for row in rows.all()]
        return len(found) == 1 and found[0][:2] == ("failed", "expired")

    await eventually(settled, "the reminder row expired, unsent", timeout=30)
    assert "date limite passée" in (await say_and_read(amina, "/reminders")).replace("\u00a0", " ")
    assert [t for t in sent_texts(emulator, amina.chat_id) if t.startswith("🔔 Rappel —")] == []
