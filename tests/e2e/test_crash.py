"""SIGKILL mid-dialog: after a restart the person goes on from the same question, nothing acted twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ..conftest import BACKENDS
from ..telegram_emulator import Fault, TelegramEmulator
from .conftest import TOKEN, at_birth_date, press_and_read, say_and_read, sent_texts, texts, years_ago
from .processes import BotProcess

pytestmark = [pytest.mark.parametrize("database_url", BACKENDS, indirect=True), pytest.mark.slow]


@pytest.fixture
async def process(tmp_path: Path, database_url: str, emulator: TelegramEmulator) -> AsyncIterator[BotProcess]:
    bot = BotProcess(tmp_path, "bot", database_url, emulator)
    await bot.start()
    yield bot
    assert await bot.stop() == 0, bot.log()


async def test_kill_9_mid_dialog_loses_no_acknowledged_answer(process: BotProcess, emulator: TelegramEmulator) -> None:
    born = years_ago(26)
    amina = emulator.user(4001, "Amina", language_code="fr")
    await at_birth_date(amina)
    shown = await say_and_read(amina, born.isoformat())
    assert "Laquelle de ces situations" in shown  # acknowledged
    process.kill()
    await amina.press("Dernière année du baccalauréat")  # while the bot is down
    await amina.send("1")  # and a typed answer to the question that follows
    await process.start()
    shown = await texts(amina)
    assert "Combien d’années d’expérience" in shown
    assert "Connaissez-vous le travail de l’OIM" in shown  # "1" was applied after the button
    shown = await press_and_read(amina, "Oui")
    assert "Admissible : vous remplissez tous les critères." in shown
    sent = sent_texts(emulator, 4001)
    assert sum("Combien d’années d’expérience" in t for t in sent) == 1, sent
    assert sum("C’est noté : un an" in t for t in sent) == 1, sent
    assert TOKEN not in process.log() and born.isoformat() not in process.log()


CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


@pytest.mark.parametrize(
    ("point", "copies"),
    [("inbox.stored", 1), ("turn.committed", 1), ("outbox.sent", 2)],
    ids=["after-storing-the-update", "after-the-transaction", "after-telegram-took-the-reply"],
)
async def test_a_kill_at_each_point_loses_nothing_and_repeats_only_the_send_in_flight(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator, point: str, copies: int
) -> None:
    """Killed at a chosen point while answering one update; restarted; exactly this survives.

    The lease of a message in flight lasts an hour here: the reply after the restart can only
    come from the new process taking back its predecessor's lease at once.
    """
    telegram = {"lease_seconds": 3600, "instance": "crash-test"}
    calm = BotProcess(tmp_path, "calm", database_url, emulator, telegram=telegram)
    await calm.start()
    ben = emulator.user(4010, "Ben", language_code="en")
    await at_birth_date(ben)
    assert await calm.stop() == 0
    doomed = BotProcess(tmp_path, "doomed", database_url, emulator, telegram=telegram, env={"STAGEBOT_CRASH_AT": point})
    await doomed.start()
    born = years_ago(30).isoformat()
    await ben.send(born)
    assert await doomed.exited() == -9, doomed.log()
    await calm.start()
    try:
        shown = await texts(ben)
        assert "Which best describes your studies" in shown
        sent = sent_texts(emulator, 4010)
        assert sum("Which best describes your studies" in t for t in sent) == copies, sent
        shown = await press_and_read(ben, "Final year of a bachelor’s degree")
        assert "How many years of relevant professional experience" in shown
        sent = sent_texts(emulator, 4010)
        assert sum("How many years of relevant professional experience" in t for t in sent) == 1, sent
        assert sum("Noted:" in t for t in sent) == copies, sent  # the date acted on once, shown once per send
        assert sum("What is your date of birth" in t for t in sent) == 1, sent
    finally:
        assert await calm.stop() == 0, calm.log()
    assert born not in doomed.log() + calm.log()


@pytest.mark.parametrize("request_", ["/mydata", "/forget"])
async def test_a_kill_after_a_privacy_request_is_committed_still_answers_it(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator, request_: str
) -> None:
    telegram = {"instance": "crash-test"}
    calm = BotProcess(tmp_path, "calm", database_url, emulator, telegram=telegram)
    await calm.start()
    ben = emulator.user(4030, "Ben", language_code="en")
    await at_birth_date(ben)
    await say_and_read(ben, years_ago(30).isoformat())
    if request_ == "/forget":
        await say_and_read(ben, "/forget")
    assert await calm.stop() == 0
    doomed = BotProcess(
        tmp_path, "doomed", database_url, emulator, telegram=telegram, env={"STAGEBOT_CRASH_AT": "turn.committed"}
    )
    await doomed.start()
    if request_ == "/forget":
        await ben.press("Yes, erase everything")
    else:
        await ben.send("/mydata")
    assert await doomed.exited() == -9, doomed.log()
    await calm.start()
    try:
        reply = await ben.next_reply(timeout=20)
        if request_ == "/mydata":
            assert reply.document is not None and reply.document.json()["answers"]["birth_date"]
        else:
            assert "Everything stored about you has been erased." in reply.text
    finally:
        assert await calm.stop() == 0, calm.log()


async def test_a_409_conflict_is_waited_out_then_stops_the_bot_with_one_line(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator
) -> None:
    emulator.inject(method="getUpdates", fault=Fault.error(409, CONFLICT), times=3)
    bot = BotProcess(tmp_path, "conflicted", database_url, emulator, telegram={"conflict_timeout": 5})
    await bot.start()
    ana = emulator.user(4020, "Ana", language_code="en")
    assert "Which offer" in await say_and_read(ana, "/start")  # three conflicts, then polling went on
    assert "409 Conflict" in bot.log() and "ERROR" not in bot.log()
    emulator.inject(method="getUpdates", fault=Fault.error(409, CONFLICT))  # another poller, for good
    assert await bot.exited() == 1
    errors = [line for line in bot.log().splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "another process has been polling Telegram with this bot token" in errors[0]
    assert "Traceback" not in bot.log()
