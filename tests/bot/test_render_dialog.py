"""The dialog as a person reads it: the engine's outputs rendered by bot.render, in both languages.

tests/dialogs checks what the engine decides (keys, parameters, button ids); here, the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from bot.i18n import gettext
from bot.render import Rendered, render_output
from dialogs.engine import Engine
from dialogs.outputs import Output, Say
from dialogs.questions import QUESTIONS
from rules import Message, load_programs
from tests.dialogs.person import Person, walk_to

PROGRAMS = load_programs()


class Reader(Person):
    """A person who reads the rendered messages and presses buttons by their label."""

    def __init__(self, lang: str = "fr", today: date = date(2021, 9, 15)) -> None:
        super().__init__(Engine(PROGRAMS, translate=gettext), lang=lang, today=today)

    @property
    def rendered_ask(self) -> Rendered:
        rendered = render_output(self.ask, self.state["lang"])
        assert rendered is not None
        return rendered

    @property
    def labels(self) -> list[str]:
        return [b.label.replace("\u00a0", " ") for b in self.rendered_ask.buttons]

    def press_label(self, label: str) -> list[Output]:
        for button in self.rendered_ask.buttons:
            if button.label.replace("\u00a0", " ").casefold() == label.casefold():
                return self.press(button.id)
        raise AssertionError(f"no button {label!r}; buttons: {self.labels}")

    @property
    def text(self) -> str:
        """Everything shown by the last step (typographic spaces as spaces)."""
        parts = []
        for output in self.outputs:
            rendered = render_output(output, self.state["lang"])
            if rendered is not None:
                parts += [p for p in (rendered.heading, rendered.text, *(b.label for b in rendered.buttons)) if p]
        return "\n".join(parts).replace("\u00a0", " ").replace("\u202f", " ")


def reach(fact: str, lang: str = "fr") -> Reader:
    return walk_to(Reader(lang), fact)


QUEBEC_FR = {
    "birth_date": "15 mars 1995",
    "education": "label:maîtrise en cours (2e cycle)",
    "iom_interest": "oui",
    "citizenship": "label:citoyenneté canadienne",
    "quebec_domicile": "label:oui",
    "quebec_resident_since": "2010-01-01",
    "french_writing": "excellent",
    "english_writing": "label:excellent",
    "prior_psoig_internship": "non",
    "spanish": "oui",
    "field_of_study": "droit",
}
IOM_EN = {
    "birth_date": "20 May 1998",
    "education": "label:final year of a bachelor’s degree",
    "iom_interest": "label:yes",
    "relevant_experience_years": "18 months",
}


@pytest.mark.parametrize(
    ("lang", "program", "answers", "verdict"),
    [
        (
            "fr",
            "OIM Genève — offre PSOIG 2021-023 (ouverte)",
            QUEBEC_FR,
            "Admissible : vous remplissez tous les critères.",
        ),
        ("en", "IOM Rabat — counter-trafficking (open)", IOM_EN, "Eligible: you meet every criterion."),
    ],
)
def test_a_person_presses_labels_and_reads_the_verdict(
    lang: str, program: str, answers: dict[str, str], verdict: str
) -> None:
    reader = Reader(lang)
    reader.start()
    reader.press_label(program)
    remaining = dict(answers)
    while reader.pending in remaining:
        answer = remaining.pop(reader.pending)
        reader.press_label(answer[6:]) if answer.startswith("label:") else reader.say(answer)
    assert reader.pending == "done" and verdict in reader.text


def test_the_language_switch_reasks_in_the_new_language() -> None:
    reader = reach("education")
    assert "Laquelle de ces situations" in reader.text
    reader.command("language", "en")
    assert "Which best describes your studies" in reader.text and "Master’s degree in progress" in reader.text
    reader.command("language")
    assert "Laquelle de ces situations" in reader.text


def test_review_and_restart_read_naturally() -> None:
    reader = reach("graduation_date")
    reader.say("2021-01-10")
    reader.command("review")
    assert "• date d’obtention du diplôme : 10 janvier 2021" in reader.text
    reader.command("language", "en")
    reader.command("restart")
    assert "Let’s start over" in reader.text


@pytest.mark.parametrize(("lang", "words"), [("fr", "la limite est de 35 ans"), ("en", "the limit is 35")])
def test_a_not_eligible_verdict_says_why(lang: str, words: str) -> None:
    reader = reach("birth_date", lang)
    reader.say("1980-01-01")
    assert words in reader.text


def test_a_closed_offer_says_since_when() -> None:
    reader = Reader("fr", today=date(2021, 10, 11))
    reader.start()
    assert "OIM Genève — offre PSOIG 2021-023 (fermée, date limite : 10 octobre 2021)" in reader.labels
    reader.press("programs:quebec-psoig-2021-023")
    assert "les inscriptions pour OIM Genève — offre PSOIG 2021-023 ont pris fin le 10 octobre 2021" in reader.text


def test_an_ambiguous_date_is_confirmed_by_its_label() -> None:
    reader = reach("birth_date", "en")
    reader.say("03/04/1995")
    assert "April 3, 1995 or March 4, 1995" in reader.text
    reader.press_label("March 4, 1995")
    assert reader.state["answers"]["birth_date"] == "1995-03-04"


@pytest.mark.parametrize("fact", sorted(QUESTIONS))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_question_and_refusal_is_fully_worded(fact: str, lang: str) -> None:
    reader = reach(fact, lang)
    assert "{" not in reader.text
    reader.say("?!")
    reader.say("xyzzy")
    assert "{" not in reader.text and "." in reader.text


@pytest.mark.parametrize(
    ("lang", "label", "noted"),
    [
        ("fr", "Je ne sais pas", "je laisse cette question de côté : le verdict indiquera ce qui manque"),
        ("en", "I don’t know", "I’ll set this question aside: the verdict will say what is missing"),
    ],
)
def test_i_dont_know_on_a_date_question(lang: str, label: str, noted: str) -> None:
    reader = reach("birth_date", lang)
    assert reader.labels == [label]
    reader.press_label(label)
    assert noted in reader.text and "/review" in reader.text


def test_the_rescue_buttons_after_three_failures() -> None:
    reader = reach("birth_date")
    for _ in range(3):
        reader.say("n'importe quoi")
    assert reader.labels == ["Je ne sais pas", "Aide", "Passer cette question", "Recommencer"]
    reader.press_label("Passer cette question")
    assert "Question passée" in reader.text


def test_consent_notice_names_forget_and_the_retention() -> None:
    reader = Person(Engine(PROGRAMS, translate=gettext, require_consent=True))
    reader.start()
    reader.press("programs:iom-internship-rabat")
    rendered = render_output(reader.ask, "fr")
    assert rendered is not None and "/forget" in rendered.text and "180 jours" in rendered.text.replace("\u00a0", " ")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", "maîtrise en cours (2e cycle) — fait partie de celles que le programme accepte : l’offre résume"),
        ("en", "master’s degree in progress — is one the programme accepts: the offer condenses its rule"),
    ],
)
def test_a_master_s_student_reads_why_the_iom_offer_accepts_them(lang: str, words: str) -> None:
    reader = Reader(lang)
    reader.start()
    reader.press("programs:iom-internship-rabat")
    reader.answer_all(
        [
            ("birth_date", "1996-01-01"),
            ("education", "button:education:master_in_progress"),
            ("relevant_experience_years", "1"),
            ("iom_interest", "button:iom_interest:yes"),
        ]
    )
    assert reader.verdicts["iom-internship-rabat"].status.value == "eligible"
    assert words in reader.text and "Internships at IOM" in reader.text
    reader.press("quotes:iom-internship-rabat")
    assert "âgés de 20 à 36 ans" in reader.text
    assert "Be enrolled in a graduate degree programme (second university degree or equivalent, or higher)" in (
        reader.text
    )
    assert "https://www.iom.int/internships-iom" in reader.text


def test_the_renderer_refuses_an_output_type_it_does_not_know() -> None:
    @dataclass(frozen=True)
    class Balloon:
        colour: str

    with pytest.raises(TypeError, match="Balloon"):
        render_output(Balloon("red"), "fr")  # type: ignore[arg-type]
    rendered = render_output(Say(Message("restarted")), "en")
    assert rendered is not None and "start over" in rendered.text
