"""SIGKILL mid-dialog: after a restart the person goes on from the same question, nothing acted twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import TOKEN, press_and_read, say_and_read, sent_texts, texts, years_ago
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
    await say_and_read(amina, "/start")
    await press_and_read(amina, "OIM Rabat — lutte contre la traite (ouverte)")
    await press_and_read(amina, "J’accepte")
    shown = await say_and_read(amina, born.isoformat())
    assert "Laquelle de ces situations" in shown  # acknowledged
    process.kill()
    await amina.press("Dernière année du baccalauréat")  # while the bot is down
    await amina.send("1")  # and a typed answer to the question that follows
    await process.start()
    shown = await texts(amina, idle=1.0)
    assert "Combien d’années d’expérience" in shown
    assert "Connaissez-vous le travail de l’OIM" in shown  # "1" was applied after the button
    shown = await press_and_read(amina, "Oui")
    assert "Admissible : vous remplissez tous les critères." in shown
    sent = sent_texts(emulator, 4001)
    assert sum("Combien d’années d’expérience" in t for t in sent) == 1, sent
    assert sum("C’est noté : un an" in t for t in sent) == 1, sent
    assert TOKEN not in process.log() and born.isoformat() not in process.log()


async def test_kill_9_right_after_an_update_arrives(process: BotProcess, emulator: TelegramEmulator) -> None:
    ben = emulator.user(4002, "Ben", language_code="en")
    await say_and_read(ben, "/start")
    await press_and_read(ben, "IOM Rabat — counter-trafficking (open)")
    await press_and_read(ben, "I agree")
    await ben.send(years_ago(30).isoformat())
    process.kill()  # somewhere between receiving, storing, applying and replying
    await process.start()
    shown = await texts(ben, idle=1.0)
    sent = sent_texts(emulator, 4002)
    questions = sum("Which best describes your studies" in t for t in sent)
    assert questions >= 1, shown
    shown = await press_and_read(ben, "Final year of a bachelor’s degree")
    assert "How many years of relevant professional experience" in shown
    assert sum("Noted:" in t for t in sent) == 1, sent  # the date acted on once
