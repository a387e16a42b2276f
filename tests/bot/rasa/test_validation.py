"""The form: what Rasa asks, and how an answer is read, are the chat's own, in both languages."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.faq.service import FaqService
from bot.i18n import gettext
from bot.rasa.context import ActionContext
from bot.rasa.slots import FACT_SLOTS
from bot.render import render_output
from dialogs.engine import Engine, Event
from dialogs.questions import QUESTIONS, InputKind
from dialogs.state import DialogState, Phase
from rules import questions_to_ask

from ...support.rasa import RasaCore, Said
from .conftest import PROGRAMS, TODAY

QUEBEC = "quebec-psoig-2021-023"
RABAT = "iom-internship-rabat"


def chat_says(fact: str, text: str, lang: str, answers: dict[str, Any], programs: list[str]) -> list[str]:
    """What the chat (the dialog engine, with the FAQ as its interruption hook) answers to `text`
    typed when the question of `fact` is pending, rendered as every channel renders it."""
    engine = Engine(PROGRAMS, translate=gettext, interrupt=FaqService.create(PROGRAMS))
    state = DialogState(lang=lang, phase=Phase.QUESTION, programs=programs, answers=dict(answers), pending=fact)
    _, outputs = engine.step(state.to_json(), Event.text(text, TODAY))
    return [r.text for o in outputs if (r := render_output(o, lang)) is not None]


async def answer(rasa: RasaCore, fact: str, text: Any) -> tuple[Any, list[Said]]:
    """The person's text as the candidate of the requested slot; the validated value and what was said."""
    rasa.set_slots(requested_slot=fact)
    rasa.user(str(text))
    reply = await rasa.validate({fact: text})
    return rasa.slots[fact], reply.said


NOT_ANSWERS = [  # (fact, text, answers given before): refused by the chat with a reason, or answered
    ("birth_date", "31/02/1999", {}),
    ("birth_date", "2030-01-01", {}),
    ("birth_date", "banane", {}),
    ("relevant_experience_years", "-3", {}),
    ("relevant_experience_years", "400", {}),
    ("education", "astronaute", {}),
    ("education", "Bonjour!", {}),
    ("iom_interest", "merci beaucoup", {}),
    ("education", "...", {}),
    ("citizenship", "peut-être", {"birth_date": "1998-05-20"}),
    ("quebec_resident_since", "1990-01-01", {"birth_date": "1998-05-20", "quebec_domicile": True}),
    (
        "graduation_date",
        "2001-01-01",
        {"birth_date": "1998-05-20", "education": "graduated", "highest_degree": "master"},
    ),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(("fact", "text", "before"), NOT_ANSWERS)
async def test_what_the_chat_does_not_take_as_an_answer_gets_the_chats_words(
    rasa: RasaCore, lang: str, fact: str, text: str, before: dict[str, Any]
) -> None:
    rasa.set_slots(language=lang, **before)
    value, said = await answer(rasa, fact, text)
    assert value is None
    chat = chat_says(fact, text, lang, before, [QUEBEC])
    assert said, "the person is told why"
    assert said[0].text == chat[0]


@pytest.mark.parametrize(
    ("fact", "text", "value"),
    [
        ("birth_date", "20 mai 1998", "1998-05-20"),
        ("birth_date", "May 20, 1998", "1998-05-20"),
        ("birth_date", "1998-05-20", "1998-05-20"),
        ("relevant_experience_years", "2,5", 2.5),
        ("relevant_experience_years", "two years", 2.0),
        ("iom_interest", "oui", True),
        ("iom_interest", "No", False),
        ("education", "maîtrise en cours", "master_in_progress"),
        ("citizenship", "Canadian citizen", "canadian"),
    ],
)
async def test_an_answer_is_stored_normalised_as_the_rules_take_it(
    rasa: RasaCore, fact: str, text: str, value: Any
) -> None:
    stored, _ = await answer(rasa, fact, text)
    assert stored == value


async def test_a_date_or_a_number_is_repeated_back_as_the_chat_does(rasa: RasaCore) -> None:
    _, said = await answer(rasa, "birth_date", "20 mai 1998")
    assert said[0].text == chat_says("birth_date", "20 mai 1998", "fr", {}, [QUEBEC])[0]
    assert "20 mai 1998" in said[0].text


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("fact", [f for f in FACT_SLOTS if QUESTIONS[f].kind in (InputKind.CHOICE, InputKind.YES_NO)])
async def test_every_button_of_every_closed_question_gives_its_value_back(rasa: RasaCore, lang: str, fact: str) -> None:
    rasa.set_slots(language=lang, birth_date="1998-05-20", education="graduated", highest_degree="master")
    asked = await rasa.run(f"action_ask_{fact}")
    buttons = asked.said[-1].buttons
    choices = QUESTIONS[fact].choices or ("yes", "no")
    assert len(buttons) == len(choices) + 1, "each value, and I don't know"
    values = []
    for button in buttons:
        value, _ = await answer(rasa, fact, button["payload"])
        values.append(value)
    expected = [v == "yes" if QUESTIONS[fact].kind is InputKind.YES_NO else v for v in choices]
    assert values[:-1] == expected
    assert values[-1] is None and fact in rasa.slots["unknown_facts"], "the last button: I don't know"


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_the_question_is_the_chats_question(rasa: RasaCore, lang: str) -> None:
    rasa.set_slots(language=lang)
    asked = await rasa.run("action_ask_birth_date")
    state = DialogState(lang=lang, phase=Phase.PROGRAMS)
    engine = Engine(PROGRAMS, translate=gettext)
    _, outputs = engine.step(state.to_json(), Event.press(f"programs:{QUEBEC}", TODAY))
    chat = [r.text for o in outputs if (r := render_output(o, lang)) is not None]
    assert asked.said[-1].text == chat[-1]


@pytest.mark.parametrize(("choice", "day"), [("2", "1998-03-04"), ("le 3 avril", "1998-04-03"), ("1998-03-04", None)])
async def test_an_ambiguous_date_is_asked_again_with_both_readings(
    rasa: RasaCore, choice: str, day: str | None
) -> None:
    value, _ = await answer(rasa, "birth_date", "03/04/1998")
    assert value is None
    asked = await rasa.run("action_ask_birth_date")  # what Rasa runs next: which reading?
    chat = chat_says("birth_date", "03/04/1998", "fr", {}, [QUEBEC])
    assert asked.said[-1].text == chat[-1]
    readings = [b["payload"] for b in asked.said[-1].buttons]
    assert readings == ["1998-04-03", "1998-03-04"]
    chosen, _ = await answer(rasa, "birth_date", choice)  # a button, or typed as in the chat
    assert chosen == (day or choice)
    assert rasa.slots["date_readings"] is None
    again = await rasa.run(f"action_ask_{rasa.slots['requested_slot']}")
    assert not any(b["payload"] in readings for said in again.said for b in said.buttons)


async def test_i_dont_know_leaves_the_fact_unknown_and_it_is_not_asked_again(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1998-05-20")
    value, said = await answer(rasa, "education", "je ne sais pas")
    assert value is None and rasa.slots["unknown_facts"] == ["education"]
    assert rasa.slots["requested_slot"] not in (None, "education")
    chat = chat_says("education", "je ne sais pas", "fr", {"birth_date": "1998-05-20"}, [QUEBEC])[0]
    assert said[0].text == chat.removesuffix(" Vous pourrez y revenir avec /review."), "the chat's, without /review"
    later, _ = await answer(rasa, "education", "Maîtrise en cours")  # changed their mind
    assert later == "master_in_progress" and rasa.slots["unknown_facts"] == []


async def test_a_question_instead_of_an_answer_is_answered_and_the_question_stays(rasa: RasaCore) -> None:
    value, said = await answer(rasa, "birth_date", "Quelle est l’allocation?")
    assert value is None and rasa.slots["requested_slot"] == "birth_date"
    assert "13\u00a0000,00\u00a0$ CA" in said[0].text


@pytest.mark.parametrize("programs", [[QUEBEC], [RABAT], []])
async def test_the_form_asks_only_what_can_still_change_an_outcome(rasa: RasaCore, programs: list[str]) -> None:
    rasa.set_slots(programs=programs)
    await rasa.run("validate_eligibility_form")
    chosen = [PROGRAMS[p] for p in programs] or list(PROGRAMS.values())
    assert rasa.slots["requested_slot"] == questions_to_ask({}, chosen, TODAY)[0]
    _, _ = await answer(rasa, "birth_date", "1950-01-01")  # too old for both offers: nothing left to ask
    assert rasa.slots["requested_slot"] is None


async def test_changing_an_answer_drops_what_depended_on_it(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1998-05-20")
    await answer(rasa, "education", "graduated")
    await answer(rasa, "highest_degree", "master")
    assert rasa.slots["highest_degree"] == "master"
    await answer(rasa, "education", "Maîtrise en cours")
    assert rasa.slots["education"] == "master_in_progress" and rasa.slots["highest_degree"] is None


async def test_a_did_you_mean_button_pressed_in_the_form_answers_its_topic(rasa: RasaCore) -> None:
    _, said = await answer(rasa, "birth_date", "stage?")
    payload = said[-1].buttons[0]["payload"]
    topic = payload.split('"')[3]
    rasa.set_slots(requested_slot="birth_date")
    rasa.user(payload, intent="ask_faq", entities=[{"entity": "faq_topic", "value": topic}])
    reply = await rasa.validate({"birth_date": payload})  # Rasa's from_text puts the payload in the slot
    assert rasa.slots["birth_date"] is None and rasa.slots["requested_slot"] == "birth_date"
    assert "date" not in reply.text.lower() or topic == "dates", "answered, not refused as a date"
    assert reply.text.strip()


@pytest.mark.parametrize("text", ["je sais pas?", "aucune idée?", "I don't know?", "no idea?"])
async def test_i_dont_know_with_a_question_mark_is_still_i_dont_know(rasa: RasaCore, text: str) -> None:
    value, _ = await answer(rasa, "birth_date", text)
    assert value is None and rasa.slots["unknown_facts"] == ["birth_date"]


@pytest.mark.parametrize("number", [400, 1e308, -2])
async def test_a_number_sent_as_a_number_is_checked_as_typed(rasa: RasaCore, number: float) -> None:
    value, said = await answer(rasa, "relevant_experience_years", number)
    assert value is None
    assert said[0].text == chat_says("relevant_experience_years", str(number), "fr", {}, [QUEBEC])[0]


async def test_not_knowing_a_changed_answer_drops_what_depended_on_it(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1998-05-20")
    await answer(rasa, "education", "graduated")
    await answer(rasa, "highest_degree", "master")
    await answer(rasa, "education", "je ne sais pas")
    assert rasa.slots["highest_degree"] is None and rasa.slots["education"] is None


@pytest.mark.parametrize(("text", "key"), [("   ", "input.text_only"), ("\u200b", "input.text_only")])
async def test_nothing_to_read_gets_the_chats_words(rasa: RasaCore, text: str, key: str) -> None:
    _, said = await answer(rasa, "birth_date", text)
    assert said[0].text == gettext(key, "fr")


async def test_help_typed_as_an_answer_gives_the_questions_help(rasa: RasaCore) -> None:
    value, said = await answer(rasa, "quebec_domicile", "aide")
    assert value is None and said[0].text == gettext(QUESTIONS["quebec_domicile"].help, "fr")


async def test_an_error_of_ours_keeps_the_question_and_reads_nothing(
    rasa: RasaCore, context: ActionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the matcher broke")

    monkeypatch.setattr(context.faq, "answer", broken)
    value, said = await answer(rasa, "birth_date", "Quelle est l’allocation?")
    assert value is None and rasa.slots["requested_slot"] == "birth_date"
    assert [s.text for s in said] == [gettext("error.internal", "fr")]


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_no_sentence_sends_a_rasa_user_to_a_telegram_command(rasa: RasaCore, lang: str) -> None:
    rasa.set_slots(language=lang)
    texts = [s.text for s in (await answer(rasa, "birth_date", "je ne sais pas"))[1]]
    rasa.user("Quelle est la couleur du ciel?", intent="ask_faq")
    texts += [s.text for s in (await rasa.run("action_answer_faq")).said]
    rasa.user("bof", intent="ask_faq")
    texts += [s.text for s in (await rasa.run("action_answer_faq")).said]
    assert texts and not any("/" in text.split("http")[0] for text in texts), texts


async def test_the_forms_start_keeps_what_was_already_answered(
    http: aiohttp.ClientSession, server: str, context: ActionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = {"birth_date": "1998-05-20", "relevant_experience_years": 1.5, "education": "graduated"}
    rasa = RasaCore(http, server, language="fr", programs=[RABAT], **given)
    started = await rasa.validate(dict(given))  # what Rasa sends when the form starts
    assert {k: rasa.slots[k] for k in given} == given and not started.said, "kept, and not said back"
    assert rasa.slots["requested_slot"] == "highest_degree"

    def broken() -> None:
        raise RuntimeError("the clock broke")

    monkeypatch.setattr(context, "today", broken)
    again = RasaCore(http, server, language="fr", programs=[RABAT], **given)
    failed = await again.run("validate_eligibility_form")  # the slots' events are this turn's candidates
    assert {k: again.slots[k] for k in given} == given, "an error of ours erases nothing"
    assert [s.text for s in failed.said] == [gettext("error.internal", "fr")]


@pytest.mark.parametrize("aside", ["bonjour", "merci!", "Quelle est l’allocation?", "aide"])
async def test_the_two_readings_survive_what_is_not_an_answer(rasa: RasaCore, aside: str) -> None:
    await answer(rasa, "birth_date", "03/04/1998")
    await answer(rasa, "birth_date", aside)
    asked = await rasa.run("action_ask_birth_date")
    assert [b["payload"] for b in asked.said[-1].buttons] == ["1998-04-03", "1998-03-04"]
    chosen, _ = await answer(rasa, "birth_date", "1")
    assert chosen == "1998-04-03"


async def test_readings_are_only_for_a_date_question(rasa: RasaCore) -> None:
    rasa.set_slots(
        birth_date="1998-05-20", date_readings={"fact": "education", "readings": ["1998-04-03", "1998-03-04"]}
    )
    asked = await rasa.run("action_ask_education")
    assert "1998-04-03" not in [b["payload"] for b in asked.said[-1].buttons]
    value, _ = await answer(rasa, "education", "1")
    assert value == QUESTIONS["education"].choices[0], "1 is the first option, as in the chat"


async def test_a_changed_answer_asks_again_what_followed_from_it(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1990-05-20")
    await answer(rasa, "education", "graduated")
    await answer(rasa, "highest_degree", "je ne sais pas")
    assert rasa.slots["unknown_facts"] == ["highest_degree"]
    await answer(rasa, "education", "none")
    await answer(rasa, "education", "graduated")
    assert rasa.slots["unknown_facts"] == [] and rasa.slots["requested_slot"] == "highest_degree"


async def test_a_refused_text_is_not_taken_for_an_earlier_answer(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1990-05-20")
    await answer(rasa, "education", "graduated")
    await answer(rasa, "highest_degree", "master")
    await answer(rasa, "education", "banane")  # refused: Rasa's extracted text stays in the events
    await answer(rasa, "education", "graduated")  # the same answer as before
    assert rasa.slots["highest_degree"] == "master"


@pytest.mark.parametrize("value", [{"$gt": ""}, ["1998-05-20"], True])
async def test_a_value_that_is_neither_text_nor_number_is_refused_as_the_question_refuses(
    rasa: RasaCore, value: Any
) -> None:
    stored, said = await answer(rasa, "relevant_experience_years", value)
    assert stored is None and said[0].text == chat_says("relevant_experience_years", "abc", "fr", {}, [QUEBEC])[0]
