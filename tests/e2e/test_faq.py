"""People ask about the offers in their own words, in French or English, in and out of the dialog."""

from __future__ import annotations

from bot.faq.answers import topic_title
from bot.i18n import render

from ..telegram_emulator import TelegramEmulator
from .conftest import RunningBot, at_birth_date, press_and_read, say_and_read, texts, years_ago
from .test_staff import at_quebec_birth_date


async def test_a_question_mid_dialog_is_answered_then_the_pending_question_is_asked_again(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    amina = emulator.user(8001, "Amina", language_code="fr")
    await at_quebec_birth_date(amina)
    shown = await say_and_read(amina, "jusqu'a quand je peux m'inscrire")
    assert "10 octobre 2021" in shown, shown
    assert shown.strip().splitlines()[-1].startswith("Quelle est votre date de naissance?") or (
        "Quelle est votre date de naissance?" in shown.split("10 octobre 2021")[-1]
    ), shown
    shown = await say_and_read(amina, "QUI CONTACTER SVP")
    assert "stages.oig@mri.gouv.qc.ca" in shown and "418" in shown, shown
    # an answer to the pending question is still an answer, not a question for the FAQ
    shown = await say_and_read(amina, years_ago(25).isoformat())
    assert "Laquelle de ces situations" in shown and "Dates du stage" not in shown, shown


async def test_a_question_in_english_is_answered_in_the_person_s_language(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    ana = emulator.user(8002, "Ana", language_code="fr")
    await at_quebec_birth_date(ana)
    shown = await say_and_read(ana, "how much is the stipend?")
    assert "13 000,00 $ CA" in shown and "CA$" not in shown, shown  # she speaks French with the bot
    ben = emulator.user(8003, "Ben", language_code="en")
    await at_quebec_birth_date(ben)
    shown = await say_and_read(ben, "c koi l'allocation")
    assert "CA$13,000.00" in shown, shown


async def test_before_choosing_an_offer_each_offer_answers_in_its_own_block(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    lea = emulator.user(8004, "Léa", language_code="en")
    shown = await say_and_read(lea, "is it remote?")
    assert "Geneva" in shown and "Rabat" in shown, shown


async def test_what_an_offer_does_not_state_is_said_plainly(bot: RunningBot, emulator: TelegramEmulator) -> None:
    omar = emulator.user(8005, "Omar", language_code="fr")
    await at_birth_date(omar)  # the Rabat offer, which states no stipend
    shown = await say_and_read(omar, "c payé combien le stage?")
    assert "$" not in shown and "iom.int" in shown, shown


async def test_a_question_about_the_pending_question_gets_its_own_help(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    zoe = emulator.user(8006, "Zoé", language_code="fr")
    await at_birth_date(zoe)  # the Rabat offer: it asks about experience
    await say_and_read(zoe, years_ago(25).isoformat())
    await press_and_read(zoe, "data:education:master_in_progress")
    shown = await say_and_read(zoe, "ça compte comme quoi de l'expérience pertinente?")
    help_text = render("help.relevant_experience_years", "fr").replace("\u00a0", " ")
    assert help_text in shown and "Combien d’années" in shown.split(help_text)[-1], shown


async def test_out_of_scope_gets_an_honest_i_don_t_know_with_the_contact_and_help(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    max_ = emulator.user(8007, "Max", language_code="fr")
    await at_quebec_birth_date(max_)
    shown = await say_and_read(max_, "tu es un robot?")
    assert "Je ne connais pas la réponse" in shown and "/help" in shown, shown
    assert "stages.oig@mri.gouv.qc.ca" in shown, shown
    assert "Quelle est votre date de naissance?" in shown


async def test_did_you_mean_buttons_answer_the_chosen_topic(bot: RunningBot, emulator: TelegramEmulator) -> None:
    kim = emulator.user(8008, "Kim", language_code="en")
    await at_quebec_birth_date(kim)
    shown = await say_and_read(kim, "the internship?")  # its subject, its tasks or the organisation: ask
    assert "Did you mean" in shown, shown
    offered = [m for m in emulator.chat_messages(8008) if "Did you mean" in m.get("text", "")][-1]
    await kim.press(topic_title("duties", "en") or "", message_id=offered["message_id"])
    answer = await texts(kim)
    assert "database" in answer and "What is your date of birth?" in answer.split("database")[-1], answer
    # pressed again later, after another message, it still answers: it names a topic, nothing else
    await kim.press(topic_title("duties", "en") or "", message_id=offered["message_id"])
    again = await texts(kim)
    assert "database" in again, again
