"""Two webhook processes behind a load balancer, sharing PostgreSQL: one person's updates in order, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import sent_texts, texts, years_ago
from .processes import BotProcess, RoundRobin, two_webhook_processes

pytestmark = [pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True), pytest.mark.slow]
SECRET = "scale-out-secret"


@pytest.fixture
async def two_processes(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator
) -> AsyncIterator[tuple[RoundRobin, list[BotProcess]]]:
    async with two_webhook_processes(tmp_path, database_url, emulator, secret=SECRET) as running:
        yield running


async def test_a_burst_of_answers_is_applied_in_order_once(
    two_processes: tuple[RoundRobin, list[BotProcess]], emulator: TelegramEmulator
) -> None:
    balancer, processes = two_processes
    amina = emulator.user(5001, "Amina", language_code="fr")
    # Everything typed at once, without waiting for the bot: /start, offer 1, consent, then answers.
    for text in ("/start", "1", "oui", years_ago(25).isoformat(), "1", "1,5", "oui"):
        await amina.send(text)
    shown = await texts(amina)
    assert "Admissible : vous remplissez tous les critères." in shown, shown
    sent = sent_texts(emulator, 5001)
    expected_order = [
        "Quelle offre voulez-vous vérifier?",
        "Êtes-vous d’accord?",
        "Quelle est votre date de naissance?",
        "Laquelle de ces situations",
        "Combien d’années",
        "Connaissez-vous le travail de l’OIM",
        "Admissible",
    ]
    positions = [next(i for i, t in enumerate(sent) if marker in t) for marker in expected_order]
    assert positions == sorted(positions), sent
    for marker in expected_order:
        assert sum(marker in t for t in sent) == 1, (marker, sent)
    assert min(balancer.served.values()) >= 2 and len(balancer.served) == 2  # both processes took part
    for process in processes:
        assert "ERROR" not in process.log()


async def test_messages_right_after_an_erasure_are_answered_by_either_process(
    two_processes: tuple[RoundRobin, list[BotProcess]], emulator: TelegramEmulator
) -> None:
    _balancer, processes = two_processes
    ana = emulator.user(5002, "Ana", language_code="en")
    for text in ("/start", "1", "yes", years_ago(25).isoformat()):
        await ana.send(text)
    await texts(ana)
    await ana.send("/forget")
    await texts(ana)
    await ana.press("Yes, erase everything")
    await ana.send("/start")  # at once: the two processes race on the erased person's row
    await ana.send("hello")
    shown = await texts(ana)
    goodbye = shown.index("Everything stored about you has been erased.")
    assert goodbye < shown.index("Which offer do you want to check?") < shown.rindex("Hello!"), shown
    assert sum("has been erased" in t for t in sent_texts(emulator, 5002)) == 1
    for process in processes:
        assert "ERROR" not in process.log(), process.log()
