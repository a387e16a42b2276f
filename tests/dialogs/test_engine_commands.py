"""Commands at any point: back, restart, language, help, review and change, skip; stale buttons."""

from __future__ import annotations

from datetime import date

from rules import Choice

from .person import Person, says


def at_question(person: Person, program: str = "quebec-psoig-2021-023") -> None:
    person.start()
    person.press_id(f"programs:{program}")


def test_back_reasks_the_previous_question_and_forgets_its_answer(person: Person) -> None:
    at_question(person)
    person.say("1995-03-15")
    person.press_id("education:master_in_progress")
    assert person.pending == "iom_interest"
    person.command("back")
    assert person.pending == "education"
    assert "education" not in person.state["answers"] and person.state["answers"]["birth_date"] == "1995-03-15"
    person.command("back")
    person.command("back")
    assert person.pending == "programs"


def test_back_from_an_ambiguous_date_returns_to_the_question(person: Person) -> None:
    at_question(person)
    person.say("03/04/1995")
    assert person.pending == "confirm"
    person.command("back")
    assert person.pending == "birth_date"


def test_restart_clears_answers_but_keeps_the_language(english: Person) -> None:
    at_question(english)
    english.say("1995-03-15")
    english.command("restart")
    assert english.state["answers"] == {} and english.state["lang"] == "en"
    assert english.pending == "programs" and english.keys[0] == "restarted"


def test_language_switch_keeps_answers_and_reasks_the_same_question(person: Person) -> None:
    at_question(person)
    person.say("1995-03-15")
    question = person.ask
    person.command("language", "en")
    assert person.state["answers"] == {"birth_date": "1995-03-15"} and person.state["lang"] == "en"
    assert person.keys[0] == "language.changed" and person.ask == question  # the channel renders it in English
    person.command("language")  # toggles back
    assert person.state["lang"] == "fr" and person.pending == "education"


def test_help_explains_the_current_question_and_the_commands(person: Person) -> None:
    at_question(person)
    person.command("help")
    assert person.keys[:2] == ["help.birth_date", "help.commands"] and person.pending == "birth_date"


def test_review_then_change_reasks_only_what_depends_on_it(person: Person) -> None:
    at_question(person)
    for step in (
        "1995-03-15",
        "button:education:graduated",
        "button:highest_degree:master",
        "2021-01-10",
        "oui",
        "button:citizenship:canadian",
        "oui",
        "2010-01-01",
        "excellent",
        "excellent",
        "non",
        "non",
        "droit",
    ):
        person.press_id(step[7:]) if step.startswith("button:") else person.say(step)
    assert person.pending == "done"
    assert person.verdicts["quebec-psoig-2021-023"].status.value == "eligible"
    person.command("review")
    assert person.review["fact.graduation_date"] == date(2021, 1, 10)
    assert person.review["fact.education"] == Choice("education", "graduated")
    person.press("review:education")
    assert person.pending == "education"
    person.press_id("education:graduated")  # same answer: nothing else is asked
    assert person.pending == "done"
    person.command("review")
    person.press_id("review:highest_degree")
    person.press_id("highest_degree:phd")  # a different degree: its date is asked again, nothing else
    assert person.pending == "graduation_date" and "graduation_date" not in person.state["answers"]
    person.say("2020-12-01")
    assert person.pending == "done"
    assert person.state["answers"]["citizenship"] == "canadian"


def test_change_that_rules_out_an_offer_asks_nothing_more(person: Person) -> None:
    at_question(person)
    person.say("1995-03-15")
    person.press_id("education:master_in_progress")
    person.command("review")
    person.press_id("review:birth_date")
    person.say("1970-01-01")
    assert person.pending == "done"
    assert person.verdicts["quebec-psoig-2021-023"].failing == ("age",)


def test_a_button_from_an_earlier_question_is_answered_politely(person: Person) -> None:
    at_question(person)
    person.say("1995-03-15")
    outputs = person.press_id("citizenship:canadian")  # not the current question
    assert says(outputs, "button.stale") and person.pending == "education"
    assert "citizenship" not in person.state["answers"]
    outputs = person.press_id("education:not-a-value")
    assert says(outputs, "button.stale")


def test_unknown_command(person: Person) -> None:
    at_question(person)
    outputs = person.command("dance")
    assert says(outputs, "command.unknown") and person.pending == "birth_date"


def test_skip_outside_a_question(person: Person) -> None:
    person.start()
    assert says(person.command("skip"), "skip.nothing")


def test_review_with_no_answers(person: Person) -> None:
    at_question(person)
    assert says(person.command("review"), "review.empty")
