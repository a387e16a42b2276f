"""The dialog end to end through the engine: each verdict for each offer, in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import Person, make_engine

QUEBEC_ELIGIBLE = [
    ("birth_date", "15 mars 1995"),
    ("education", "button:fin de maîtrise (2e cycle)"),
    ("iom_interest", "oui"),
    ("citizenship", "button:citoyenneté canadienne"),
    ("quebec_domicile", "button:oui"),
    ("quebec_resident_since", "2010-01-01"),
    ("french_writing", "excellent"),
    ("english_writing", "button:excellent"),
    ("prior_psoig_internship", "non"),
    ("spanish", "oui"),
    ("field_of_study", "droit"),
]
QUEBEC_ELIGIBLE_EN = [
    ("birth_date", "March 15, 1995"),
    ("education", "button:finishing a master’s degree"),
    ("iom_interest", "yes"),
    ("citizenship", "button:permanent residence in Canada"),
    ("quebec_domicile", "y"),
    ("quebec_resident_since", "1 January 2010"),
    ("french_writing", "button:excellent"),
    ("english_writing", "excellent"),
    ("prior_psoig_internship", "button:no"),
    ("spanish", "no"),
    ("field_of_study", "button:law"),
]
IOM_ELIGIBLE = [
    ("birth_date", "1998-05-20"),
    ("education", "button:dernière année du baccalauréat"),
    ("iom_interest", "oui"),
    ("relevant_experience_years", "1,5"),
]
IOM_ELIGIBLE_EN = [
    ("birth_date", "20 May 1998"),
    ("education", "button:final year of a bachelor’s degree"),
    ("iom_interest", "button:yes"),
    ("relevant_experience_years", "18 months"),
]


def run_to_verdict(person: Person, program_button: str, answers: list[tuple[str, str]]) -> dict[str, object]:
    person.start()
    person.press(program_button)
    person.answer_all(answers)
    assert person.pending == "done", f"stopped at {person.pending}: {person.text}"
    return person.verdicts


@pytest.mark.parametrize(
    ("lang", "button", "answers", "program"),
    [
        ("fr", "OIM Genève — offre PSOIG 2021-023 (ouverte)", QUEBEC_ELIGIBLE, "quebec-psoig-2021-023"),
        ("en", "IOM Geneva — PSOIG offer 2021-023 (open)", QUEBEC_ELIGIBLE_EN, "quebec-psoig-2021-023"),
        ("fr", "OIM Rabat — lutte contre la traite (ouverte)", IOM_ELIGIBLE, "iom-internship-rabat"),
        ("en", "IOM Rabat — counter-trafficking (open)", IOM_ELIGIBLE_EN, "iom-internship-rabat"),
    ],
)
def test_eligible_verdict(lang: str, button: str, answers: list[tuple[str, str]], program: str) -> None:
    person = Person(make_engine(), lang=lang)
    verdicts = run_to_verdict(person, button, answers)
    assert list(verdicts) == [program]
    assert verdicts[program].status.value == "eligible"  # type: ignore[attr-defined]
    word = "Admissible" if lang == "fr" else "Eligible"
    assert word in person.text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_not_eligible_verdicts_stop_asking_at_the_first_failed_criterion(lang: str) -> None:
    person = Person(make_engine(), lang=lang)
    person.start()
    person.press_id("programs:quebec-psoig-2021-023")
    person.say("1980-01-01")  # 42 on the start date
    assert person.pending == "done"
    result = person.verdicts["quebec-psoig-2021-023"]
    assert result.status.value == "not_eligible" and result.failing == ("age",)
    assert ("la limite est de 35 ans" if lang == "fr" else "the limit is 35") in person.text
    person.command("restart")
    person.press_id("programs:iom-internship-rabat")
    person.say("2000-01-01")
    person.press_id("education:master_in_progress")
    assert person.pending == "highest_degree"  # a recent degree would still count
    person.press_id("highest_degree:none")
    assert person.verdicts["iom-internship-rabat"].failing == ("education",)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_incomplete_verdict_when_a_question_is_skipped(lang: str) -> None:
    person = Person(make_engine(), lang=lang)
    person.start()
    person.press_id("programs:iom-internship-rabat")
    person.say("1998-05-20")
    person.press_id("education:bachelor_final_year")
    assert person.pending == "relevant_experience_years"
    person.command("skip")
    person.press_id("iom_interest:yes")
    result = person.verdicts["iom-internship-rabat"]
    assert result.status.value == "incomplete" and result.missing_facts == ("relevant_experience_years",)
    assert ("Incomplet" if lang == "fr" else "Incomplete") in person.text


def test_all_open_offers_and_a_closed_offer_says_since_when() -> None:
    person = Person(make_engine(), lang="fr", today=date(2021, 10, 11))
    person.start()
    labels = [b.label.replace("\u00a0", " ") for b in person.rendered_ask.buttons]
    assert "OIM Genève — offre PSOIG 2021-023 (fermée, date limite : 10 octobre 2021)" in labels
    person.press("Toutes les offres ouvertes")
    assert person.state["programs"] == ["iom-internship-rabat"]
    person.start()
    person.command("restart")
    person.press_id("programs:quebec-psoig-2021-023")  # a closed offer may still be checked
    assert "les inscriptions pour OIM Genève — offre PSOIG 2021-023 ont pris fin le 10 octobre 2021" in person.text
    person.answer_all(QUEBEC_ELIGIBLE)
    assert "Inscriptions fermées : la date limite était le 10 octobre 2021." in person.text


def test_both_offers_ask_shared_questions_once() -> None:
    person = Person(make_engine(), lang="fr")
    person.start()
    person.press("Toutes les offres ouvertes")
    asked = []
    answers = dict([*QUEBEC_ELIGIBLE, ("relevant_experience_years", "1")])
    answers["education"] = "button:dernière année du baccalauréat"
    answers["highest_degree"] = "button:aucun diplôme universitaire"
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
    run_to_verdict(person, "IOM Rabat — counter-trafficking (open)", IOM_ELIGIBLE_EN)
    person.press_id("quotes:iom-internship-rabat")
    assert person.quotes and "âgés de 20 à 36 ans" in person.text
    assert person.pending == "done"
