"""Bad input at every question, interruptions, and the way out after three failed attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from dialogs.outputs import AnswerBlock, Ask, FaqAnswer, Output, Say
from dialogs.questions import QUESTIONS, InputKind
from rules import Message

from .catalogs import unfilled
from .person import PATH_TO, Person, make_engine, reach, says

NONSENSE = {
    InputKind.DATE: "bientôt",
    InputKind.YES_NO: "peut-être",
    InputKind.NUMBER: "beaucoup",
    InputKind.CHOICE: "astronaute",
}


def test_every_question_is_reachable() -> None:
    assert set(PATH_TO) == set(QUESTIONS)


@pytest.mark.parametrize("fact", sorted(QUESTIONS))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_bad_input_at_every_question_gets_a_reason_and_keeps_saved_answers(fact: str, lang: str) -> None:
    person = reach(fact, lang)
    saved = dict(person.state["answers"])
    outputs = person.say(NONSENSE[QUESTIONS[fact].kind])
    reason = next(o for o in outputs if isinstance(o, Say))
    assert reason.message.key.startswith(("parse.", "check."))
    assert person.pending == fact and person.state["answers"] == saved
    shown = [o.message for o in outputs if isinstance(o, Say | Ask)]
    assert [m for message in shown for m in unfilled(message, lang)] == []  # every placeholder has its value


def _fail(person: Person, times: int, text: str) -> Sequence[Output]:
    outputs: Sequence[Output] = []
    for _ in range(times):
        outputs = person.say(text)
    return outputs


def test_three_failed_attempts_offer_help_skip_or_restart() -> None:
    person = reach("birth_date")
    outputs = _fail(person, 2, "n'importe quoi")
    assert not says(outputs, "attempts.rescue")
    outputs = _fail(person, 1, "n'importe quoi")
    assert says(outputs, "attempts.rescue")
    assert person.button_ids == ["birth_date:?unknown", "birth_date:?help", "birth_date:?skip", "birth_date:?restart"]
    person.press("birth_date:?skip")
    assert "birth_date" in person.state["skipped"] and person.pending == "education"


def test_rescue_help_button_shows_the_question_help() -> None:
    person = reach("quebec_resident_since")
    _fail(person, 3, "xyz")
    outputs = person.press("quebec_resident_since:?help")
    assert isinstance(outputs[0], Say) and outputs[0].message == Message("help.quebec_resident_since")


@pytest.mark.parametrize(
    ("fact", "text", "key"),
    [
        ("birth_date", "2030-01-01", "check.date.future"),
        ("birth_date", "1900-01-01", "check.birth_date.implausible"),
        ("birth_date", "2020-01-01", "check.birth_date.implausible"),
        ("birth_date", "30/02/1995", "parse.date.impossible"),
        ("graduation_date", "2000-01-01", "check.graduation_date.too_young"),
        ("graduation_date", "2099-06-01", "check.date.future"),
        ("quebec_resident_since", "1990-01-01", "check.resident_since.before_birth"),
        ("relevant_experience_years", "-2", "parse.number.negative"),
        ("relevant_experience_years", "20", "check.experience.implausible"),
    ],
)
def test_future_or_implausible_answers_are_refused_with_the_reason(fact: str, text: str, key: str) -> None:
    person = reach(fact)
    outputs = person.say(text)
    assert says(outputs, key), person.keys
    assert fact not in person.state["answers"] and person.pending == fact


def test_an_ambiguous_date_is_confirmed_in_words() -> None:
    person = reach("birth_date", "en")
    person.say("03/04/1995")
    assert person.pending == "confirm"
    assert person.ask.message == Message("confirm.prompt", {"first": date(1995, 4, 3), "second": date(1995, 3, 4)})
    assert person.button_ids == ["confirm:0", "confirm:1", "confirm:?retype"]
    person.press("confirm:1")
    assert person.state["answers"]["birth_date"] == "1995-03-04" and person.pending == "education"


def test_an_ambiguous_date_can_be_retyped() -> None:
    person = reach("birth_date")
    person.say("03/04/1995")
    person.say("15 mars 1995")
    assert person.state["answers"]["birth_date"] == "1995-03-15"


def test_a_greeting_or_thanks_is_answered_then_the_question_asked_again() -> None:
    person = reach("citizenship")
    outputs = person.say("Bonjour!")
    assert says(outputs, "interrupt.greeting") and person.pending == "citizenship"
    outputs = person.say("merci")
    assert says(outputs, "interrupt.thanks") and person.state["attempts"] == 0


class FakeFaq:
    """Knows one topic, the allocation; says nothing about the rest."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str], str | None, bool]] = []

    def answer(
        self, text: str, lang: str, programs: Sequence[str], today: date, *, pending: str | None, sure_only: bool
    ) -> list[Output] | None:
        self.calls.append((text, lang, list(programs), pending, sure_only))
        return self.topic("stipend", lang, programs, today) if "allocation" in text else None

    def topic(self, topic: str, lang: str, programs: Sequence[str], today: date) -> list[Output] | None:
        if topic != "stipend":
            return None
        return [FaqAnswer("stipend", None, (AnswerBlock("13 000 $"),))]


def test_a_question_goes_to_the_hook_and_does_not_count_as_an_attempt() -> None:
    faq = FakeFaq()
    person = Person(make_engine(faq), lang="fr")
    person.start()
    person.press_id("programs:quebec-psoig-2021-023")
    outputs = person.say("Quelle est l'allocation?")
    assert faq.calls == [("Quelle est l'allocation?", "fr", ["quebec-psoig-2021-023"], "birth_date", False)]
    assert any(isinstance(o, FaqAnswer) for o in outputs)
    assert person.pending == "birth_date" and person.state["attempts"] == 0
    assert isinstance(outputs[-1], Ask) and outputs[-1].step == "birth_date"  # the question, asked again
    person.say("Où est le stage?")
    assert person.unanswered == ["Où est le stage?"] and says(person.outputs, "interrupt.unanswered")


def test_text_that_may_be_a_mistyped_answer_is_answered_only_when_the_hook_is_sure() -> None:
    faq = FakeFaq()
    person = Person(make_engine(faq), lang="fr")
    person.start()
    person.press_id("programs:quebec-psoig-2021-023")
    person.say("quinze mars")
    assert faq.calls[-1][-1] is True  # sure_only: not phrased as a question
    assert person.state["attempts"] == 1 and person.unanswered == []
    outputs = person.say("l'allocation")
    assert any(isinstance(o, FaqAnswer) for o in outputs) and person.state["attempts"] == 1


def test_a_did_you_mean_button_answers_its_topic_at_any_step_and_an_unknown_one_is_stale() -> None:
    person = Person(make_engine(FakeFaq()), lang="fr")
    person.start()
    person.press_id("programs:quebec-psoig-2021-023")
    outputs = person.press_id("faq:stipend")
    assert any(isinstance(o, FaqAnswer) for o in outputs) and person.pending == "birth_date"
    outputs = person.press_id("faq:weather")
    assert says(outputs, "button.stale") and person.pending == "birth_date"


def test_input_after_the_verdict_goes_to_the_hook() -> None:
    person = reach("relevant_experience_years")
    person.say("1")
    person.press_id("iom_interest:yes")
    assert person.pending == "done"
    person.say("c'est quoi l'OIM")
    assert person.unanswered == ["c'est quoi l'OIM"] and person.pending == "done"


def test_today_decides_future_dates() -> None:
    person = Person(make_engine(), lang="fr", today=date(2000, 1, 1))
    person.start()
    person.press_id("programs:iom-internship-rabat")
    assert says(person.say("1999-12-31"), "check.birth_date.implausible")
    assert says(person.say("2000-01-02"), "check.date.future")


def test_an_ambiguous_date_can_be_confirmed_in_words() -> None:
    person = reach("birth_date")
    person.say("03/04/1995")
    person.say("le 4 mars")
    assert person.state["answers"]["birth_date"] == "1995-03-04" and person.pending == "education"


def test_an_unknown_language_is_refused_politely() -> None:
    person = reach("citizenship")
    assert says(person.command("language", "de"), "language.unsupported")
    assert person.state["lang"] == "fr" and person.pending == "citizenship"
