"""A person talks to the bot on Telegram (polling): buttons, typed answers, both languages."""

from __future__ import annotations

import pytest

from ..conftest import BACKENDS
from ..telegram_emulator import TelegramEmulator
from .conftest import RunningBot, press_and_read, say_and_read, years_ago

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def test_french_with_buttons_reaches_eligible(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(1001, "Amina", language_code="fr-CA")
    shown = await say_and_read(amina, "/start")
    assert "Bonjour! Je vérifie votre admissibilité" in shown
    assert "Quelle offre voulez-vous vérifier?" in shown
    shown = await press_and_read(amina, "OIM Rabat — lutte contre la traite (ouverte)")
    assert "Êtes-vous d’accord?" in shown and "/forget" in shown
    shown = await press_and_read(amina, "J’accepte")
    assert "Quelle est votre date de naissance?" in shown
    shown = await say_and_read(amina, years_ago(25).strftime("%d/%m/%Y"))
    assert "C’est noté" in shown and "Laquelle de ces situations" in shown
    shown = await press_and_read(amina, "Dernière année du baccalauréat")
    assert "Combien d’années d’expérience" in shown
    shown = await say_and_read(amina, "1,5")
    assert "Connaissez-vous le travail de l’OIM" in shown
    shown = await press_and_read(amina, "Oui")
    assert "Admissible : vous remplissez tous les critères." in shown
    assert "L’offre n’indique pas de date limite d’inscription." in shown
    assert emulator.unanswered_callback_queries() == []


async def test_english_typed_answers_reach_not_eligible(bot: RunningBot, emulator: TelegramEmulator) -> None:
    john = emulator.user(1002, "John", language_code="en")
    shown = await say_and_read(john, "/start")
    assert "Which offer do you want to check?" in shown
    shown = await say_and_read(john, "IOM Geneva")
    assert "closed on October 10, 2021" in shown and "Do you agree?" in shown
    shown = await say_and_read(john, "yes")
    shown = await say_and_read(john, years_ago(45).isoformat())
    assert "Not eligible: at least one criterion is not met." in shown
    assert "the limit is 35" in shown


async def test_language_from_telegram_then_switched(bot: RunningBot, emulator: TelegramEmulator) -> None:
    sam = emulator.user(1003, "Sam", language_code="de")  # neither: the configured default (fr)
    assert "Quelle offre" in await say_and_read(sam, "/start")
    shown = await say_and_read(sam, "/language en")
    assert "I’ll speak English from now on." in shown and "Which offer" in shown
    shown = await press_and_read(sam, "IOM Rabat — counter-trafficking (open)")
    assert "Do you agree?" in shown
    shown = await press_and_read(sam, "No thanks")
    assert "I will not ask personal questions" in shown
    shown = await say_and_read(sam, "1990-01-01")  # no consent: never taken as an answer
    assert "Noted" not in shown and "I didn’t understand that" in shown


async def test_commands_are_set_in_both_languages(bot: RunningBot, emulator: TelegramEmulator) -> None:
    amina = emulator.user(1004, "Amina", language_code="fr")
    await say_and_read(amina, "/start")
    french = {c["command"]: c["description"] for c in amina.visible_commands()}
    english = {c["command"]: c["description"] for c in emulator.user(1005, "Jo", language_code="en").visible_commands()}
    assert {"start", "help", "language", "restart", "review", "privacy", "mydata", "forget"} <= set(french)
    assert french["forget"] == "Effacer tout ce qui est conservé à votre sujet"
    assert english["forget"] == "Erase everything stored about you"


async def test_i_dont_know_is_understood_at_once_and_can_be_reviewed(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    nora = emulator.user(1006, "Nora", language_code="fr")
    await say_and_read(nora, "/start")
    await press_and_read(nora, "OIM Rabat — lutte contre la traite (ouverte)")
    shown = await press_and_read(nora, "J’accepte")
    assert "Quelle est votre date de naissance?" in shown
    shown = await press_and_read(nora, "Je ne sais pas")  # the button, on a date question
    assert "le verdict indiquera ce qui manque" in shown and "Laquelle de ces situations" in shown
    shown = await say_and_read(nora, "aucune idée")  # typed, on a choice question
    assert "Répondez" not in shown and "le verdict indiquera ce qui manque" in shown
    assert "Combien d’années d’expérience" in shown
    await say_and_read(nora, "0")
    shown = await press_and_read(nora, "Oui")
    assert "Incomplet : il manque des réponses" in shown
    await say_and_read(nora, "/review")
    shown = await press_and_read(nora, "Date de naissance")
    assert "Quelle est votre date de naissance?" in shown  # back to the question set aside
