"""An organizer imports a new edition of an offer while the bot runs: every process answers with it
at the next message, without a restart."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from ..bot.offers.conftest import EDITION_2027, QUEBEC
from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import ROOT, RunningBot, say_and_read
from .processes import two_webhook_processes

QUESTION = "jusqu'a quand je peux m'inscrire"
SECRET = "offer-editions-secret"


def buttons(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    """The labels of the buttons under the bot's last message in a chat, as the person sees them."""
    last = [m for m in emulator.chat_messages(chat_id) if m.get("from", {}).get("is_bot")][-1]
    rows = last.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["text"].replace("\u00a0", " ") for row in rows for button in row]


async def offers_import(tmp_path: Path, database_url: str, *files: Path) -> str:
    """`python -m bot offers import` as an organizer runs it, on the bot's database."""
    config = tmp_path / "organizer.yaml"
    config.write_text("default_language: fr\n", encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL", "STAGEBOT_"))},
        "DATABASE_URL": database_url,
        "STAGEBOT_CONFIG": str(config),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "offers",
        "import",
        *map(str, files),
        "--by",
        "Nadia",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_a_running_bot_answers_with_the_edition_imported_meanwhile(
    bot: RunningBot, emulator: TelegramEmulator, database_url: str, tmp_path: Path
) -> None:
    lea = emulator.user(9101, "Léa", language_code="fr")
    await say_and_read(lea, "/start")
    assert "OIM Genève — offre PSOIG 2021-023 (fermée, date limite : 10 octobre 2021)" in buttons(emulator, 9101)
    before = await say_and_read(lea, QUESTION)
    assert "10 octobre 2021" in before, before
    report = await offers_import(tmp_path, database_url, EDITION_2027)
    assert f"{QUEBEC}: imported as version 1" in report, report
    after = await say_and_read(lea, QUESTION)
    assert "15 janvier 2027" in after and "10 octobre 2021" not in after, after
    await say_and_read(lea, "/start")  # the offer is open again: listed as such
    assert "OIM Genève — offre PSOIG 2021-023 (ouverte)" in buttons(emulator, 9101)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)
async def test_two_webhook_processes_both_take_the_new_edition(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator
) -> None:
    async with two_webhook_processes(tmp_path, database_url, emulator, secret=SECRET) as (balancer, processes):
        people = [emulator.user(9201 + i, f"Person {i}", language_code="fr") for i in range(2)]
        for person in people:  # both processes load the offers and answer with the shipped file
            await say_and_read(person, "/start")
            assert "10 octobre 2021" in await say_and_read(person, QUESTION)
        report = await offers_import(tmp_path, database_url, EDITION_2027)
        assert f"{QUEBEC}: imported as version 1" in report, report
        served = Counter(balancer.served)
        for person in people * 2:
            after = await say_and_read(person, QUESTION)
            assert "15 janvier 2027" in after and "10 octobre 2021" not in after, after
        answered = Counter(balancer.served)
        answered.subtract(served)
        assert len(answered) == 2 and min(answered.values()) >= 1, answered  # each process answered after it
        for process in processes:
            assert "ERROR" not in process.log(), process.log()
