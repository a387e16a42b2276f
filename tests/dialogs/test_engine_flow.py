"""The dialog end to end through the engine: each verdict for each offer, answers typed in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.outputs import Ask
from rules import Message, ProgramResult

from .person import Person, make_engine, says

QUEBEC_ELIGIBLE = [
    ("birth_date", "15 mars 1995"),
    ("education", "button:education:master_in_progress"),
    ("iom_interest", "oui"),
    ("citizenship", "button:citizenship:canadian"),
    ("quebec_domicile", "button:quebec_domicile:yes"),
    ("quebec_resident_since", "2010-01-01"),
    ("french_writing", "excellent"),
    ("english_writing", "button:english_writing:excellent"),
    ("prior_psoig_internship", "non"),
    ("spanish", "oui"),
    ("field_of_study", "droit"),
]
QUEBEC_ELIGIBLE_EN = [
    ("birth_date", "March 15, 1995"),
    ("education", "finishing a master’s degree"),
    ("iom_interest", "yes"),
    ("citizenship", "button:citizenship:permanent_resident"),
    ("quebec_domicile", "y"),
    ("quebec_resident_since", "1 January 2010"),
    ("french_writing", "button:french_writing:excellent"),
    ("english_writing", "excellent"),
    ("prior_psoig_internship", "button:prior_psoig_internship:no"),
    ("spanish", "no"),
    ("field_of_study", "law"),
]
IOM_ELIGIBLE = [
    ("birth_date", "1998-05-20"),
    ("education", "dernière année du baccalauréat"),
    ("iom_interest", "oui"),
    ("relevant_experience_years", "1,5"),
]
IOM_ELIGIBLE_EN = [
    ("birth_date", "20 May 1998"),
    ("education", "button:education:bachelor_final_year"),
    ("iom_interest", "button:iom_interest:yes"),
    ("relevant_experience_years", "18 months"),
]


def run_to_verdict(person: Person, program: str, answers: list[tuple[str, str]]) -> dict[str, ProgramResult]:
    person.start()
    person.press(f"programs:{program}")
    person.answer_all(answers)
    assert person.pending == "done", f"stopped at {person.pending}: {person.keys}"
    return person.verdicts


@pytest.mark.parametrize(
    ("lang", "answers", "program"),
    [
        ("fr", QUEBEC_ELIGIBLE, "quebec-psoig-2021-023"),
        ("en", QUEBEC_ELIGIBLE_EN, "quebec-psoig-2021-023"),
        ("fr", IOM_ELIGIBLE, "iom-internship-rabat"),
        ("en", IOM_ELIGIBLE_EN, "iom-internship-rabat"),
    ],
)
def test_eligible_verdict(lang: str, answers: list[tuple[str, str]], program: str) -> None:
    person = Person(make_engine(), lang=lang)
    verdicts = run_to_verdict(person, program, answers)
    assert list(verdicts) == [program]
    assert verdicts[program].status.value == "eligible"
    assert all(c.result.value == "met" for c in verdicts[program].criteria)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_not_eligible_verdicts_stop_asking_at_the_first_failed_criterion(lang: str) -> None:
    person = Person(make_engine(), lang=lang)
    person.start()
    person.press("programs:quebec-psoig-2021-023")
    person.say("1980-01-01")  # 42 on the start date
    assert person.pending == "done"
    result = person.verdicts["quebec-psoig-2021-023"]
    assert result.status.value == "not_eligible" and result.failing == ("age",)
    age = next(c for c in result.criteria if c.id == "age")
    assert age.explanation.key.startswith("explain.age.too_old") and age.explanation.params["max"] == 35
    person.command("restart")
    person.press("programs:iom-internship-rabat")
    person.say("2000-01-01")
    person.press("education:bachelor_in_progress")
    assert person.pending == "highest_degree"  # not the final year: a recent degree would still count
    person.press("highest_degree:none")
    assert person.verdicts["iom-internship-rabat"].failing == ("education",)


@pytest.mark.parametrize("education", ["master_in_progress", "phd_in_progress"])
def test_a_graduate_student_is_not_asked_a_degree_date_for_the_iom_offer(education: str) -> None:
    person = Person(make_engine())
    person.start()
    person.press("programs:iom-internship-rabat")
    person.say("1995-05-20")
    person.press(f"education:{education}")
    person.answer_all([("relevant_experience_years", "1"), ("iom_interest", "button:iom_interest:yes")])
    assert person.pending == "done"
    assert set(person.state["asked"]) == {"birth_date", "education", "relevant_experience_years", "iom_interest"}
    result = person.verdicts["iom-internship-rabat"]
    assert result.status.value == "eligible"
    education_result = next(c for c in result.criteria if c.id == "education")
    assert education_result.result.value == "met"
    assert education_result.explanation.key == "explain.education.in_progress.met_fuller_rule"
    assert education_result.explanation.params["url"] == "https://www.iom.int/internships-iom"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_incomplete_verdict_when_a_question_is_skipped(lang: str) -> None:
    person = Person(make_engine(), lang=lang)
    person.start()
    person.press("programs:iom-internship-rabat")
    person.say("1998-05-20")
    person.press("education:bachelor_final_year")
    assert person.pending == "relevant_experience_years"
    person.command("skip")
    person.press("iom_interest:yes")
    result = person.verdicts["iom-internship-rabat"]
    assert result.status.value == "incomplete" and result.missing_facts == ("relevant_experience_years",)


def test_all_open_offers_and_a_closed_offer_says_since_when() -> None:
    person = Person(make_engine(), lang="fr", today=date(2021, 10, 11))
    person.start()
    labels = {b.id: b.label for b in person.ask.buttons}
    assert labels["programs:quebec-psoig-2021-023"] == Message(
        "programs.option.closed",
        {
            "title": person.engine.programs["quebec-psoig-2021-023"].short_title.localized(),
            "deadline": date(2021, 10, 10),
        },
    )
    assert isinstance(labels["programs:iom-internship-rabat"], Message)
    assert labels["programs:iom-internship-rabat"].key == "programs.option.open"
    person.press("programs:?all")
    assert person.state["programs"] == ["iom-internship-rabat"]
    person.start()
    person.command("restart")
    outputs = person.press("programs:quebec-psoig-2021-023")  # a closed offer may still be checked
    assert says(outputs, "programs.closed_note")
    person.answer_all(QUEBEC_ELIGIBLE)
    result = person.verdicts["quebec-psoig-2021-023"]
    assert result.offer_open is False and result.status.value == "eligible"


def test_both_offers_ask_shared_questions_once() -> None:
    person = Person(make_engine(), lang="fr")
    person.start()
    person.press("programs:?all")
    asked = []
    answers = dict([*QUEBEC_ELIGIBLE, ("relevant_experience_years", "1")])
    answers["education"] = "button:education:bachelor_final_year"
    answers["highest_degree"] = "button:highest_degree:none"
    while person.pending in answers:
        asked.append(person.pending)
        value = answers[person.pending]
        person.press(value[7:]) if value.startswith("button:") else person.say(value)
    assert len(asked) == len(set(asked))
    assert person.verdicts["iom-internship-rabat"].status.value == "eligible"
    assert person.verdicts["quebec-psoig-2021-023"].failing == ("education",)
    assert "quebec_resident_since" not in asked  # Québec is ruled out by the bachelor's answer


def test_the_offer_s_words_are_shown_on_request() -> None:
    person = Person(make_engine(), lang="en")
    run_to_verdict(person, "iom-internship-rabat", IOM_ELIGIBLE_EN)
    person.press("quotes:iom-internship-rabat")
    [card] = person.quotes
    age = next(c for c in card.result.criteria if c.id == "age")
    assert "âgés de 20 à 36 ans" in age.quote
    assert isinstance(person.outputs[-1], Ask) and person.pending == "done"
