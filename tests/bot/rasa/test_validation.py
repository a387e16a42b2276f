"""The form: what Rasa asks, and how an answer is read, are the chat's own, in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from bot.faq.service import FaqService
from bot.i18n import gettext
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


REFUSED = [  # (fact, text, answers given before): each refused by the chat with a reason
    ("birth_date", "31/02/1999", {}),
    ("birth_date", "2030-01-01", {}),
    ("birth_date", "banane", {}),
    ("relevant_experience_years", "-3", {}),
    ("relevant_experience_years", "400", {}),
    ("education", "astronaute", {}),
    ("citizenship", "peut-être", {"birth_date": "1998-05-20"}),
    ("quebec_resident_since", "1990-01-01", {"birth_date": "1998-05-20", "quebec_domicile": True}),
    (
        "graduation_date",
        "2001-01-01",
        {"birth_date": "1998-05-20", "education": "graduated", "highest_degree": "master"},
    ),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(("fact", "text", "before"), REFUSED)
async def test_an_answer_the_chat_refuses_is_refused_with_the_chats_words(
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


async def test_an_ambiguous_date_offers_both_readings_as_buttons(rasa: RasaCore) -> None:
    value, said = await answer(rasa, "birth_date", "03/04/1998")
    assert value is None
    readings = [b["payload"] for b in said[-1].buttons]
    assert readings == ["1998-04-03", "1998-03-04"] or readings == ["1998-03-04", "1998-04-03"]
    chosen, _ = await answer(rasa, "birth_date", readings[1])
    assert chosen == readings[1]


async def test_i_dont_know_leaves_the_fact_unknown_and_it_is_not_asked_again(rasa: RasaCore) -> None:
    rasa.set_slots(birth_date="1998-05-20")
    value, said = await answer(rasa, "education", "je ne sais pas")
    assert value is None and rasa.slots["unknown_facts"] == ["education"]
    assert rasa.slots["requested_slot"] not in (None, "education")
    assert said[0].text == chat_says("education", "je ne sais pas", "fr", {"birth_date": "1998-05-20"}, [QUEBEC])[0]
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
