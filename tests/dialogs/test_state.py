"""The state is plain JSON with a version; old states load, unreadable ones restart politely."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from dialogs import state as state_module
from dialogs.engine import Event
from dialogs.state import PHASES, VERSION, DialogState, Phase, load_state
from rules import Message

from .catalogs import translate
from .person import Person, make_engine, says


def test_the_state_is_json_and_survives_a_round_trip(person: Person) -> None:
    person.start()
    person.press_id("programs:quebec-psoig-2021-023")
    person.say("1995-03-15")
    stored = json.loads(json.dumps(person.state))
    assert stored["v"] == VERSION
    engine = make_engine()  # a new process: nothing but the stored JSON
    state, _ = engine.step(stored, Event.press("education:master_in_progress", date(2021, 9, 15)))
    assert state.answers == {"birth_date": "1995-03-15", "education": "master_in_progress"}


def test_step_does_not_mutate_its_input(person: Person) -> None:
    person.start()
    before = json.dumps(person.state, sort_keys=True)
    frozen = json.loads(before)
    make_engine().step(frozen, Event.press("programs:iom-internship-rabat", date(2021, 9, 15)))
    assert json.dumps(frozen, sort_keys=True) == before


def test_an_older_version_is_migrated(monkeypatch: pytest.MonkeyPatch) -> None:
    def v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "answers": raw.pop("facts"), "v": 2}

    monkeypatch.setattr(state_module, "VERSION", 2)
    monkeypatch.setattr(state_module, "MIGRATIONS", {1: v1_to_v2})
    old = {
        "v": 1,
        "lang": "en",
        "phase": "question",
        "pending": "education",
        "programs": ["iom-internship-rabat"],
        "facts": {"birth_date": "1998-05-20"},
        "asked": ["birth_date"],
    }
    loaded = load_state(old)
    assert loaded.answers == {"birth_date": "1998-05-20"} and loaded.pending == "education" and not loaded.reset_notice


@pytest.mark.parametrize(
    "stored",
    [
        {"v": 99, "lang": "en", "phase": "question"},
        {"v": 1, "phase": "teleport"},
        {"v": "x"},
        ["not", "a", "dict"],
        {"v": 1, "answers": "oops"},
        {"v": 1, "pending": "shoe_size", "phase": "question"},
    ],
)
def test_an_unreadable_state_restarts_politely(stored: Any) -> None:
    engine = make_engine()
    state, outputs = engine.step(stored, Event.text("bonjour", date(2021, 9, 15)))
    assert says(outputs, "state.reset")
    assert state.phase == "programs" and state.answers == {}
    assert isinstance(state, DialogState)


def test_answers_of_facts_that_no_longer_exist_are_dropped() -> None:
    loaded = load_state({"v": VERSION, "lang": "fr", "phase": "done", "answers": {"shoe_size": 42, "spanish": True}})
    assert loaded.answers == {"spanish": True}


def test_consent_is_asked_before_the_first_personal_question() -> None:
    person = Person(make_engine(consent=True), lang="fr")
    person.start()
    person.press_id("programs:iom-internship-rabat")
    assert person.pending == "consent" and person.ask.message == Message("consent.notice", {"days": 180})
    assert "/forget" in translate("consent.notice", "fr")
    person.press("consent:no")
    assert person.state["phase"] == "declined" and person.state["consent"] is None
    person.say("1998-05-20")  # no consent: not taken as an answer
    assert person.state["answers"] == {}
    person.start()
    person.press("consent:yes")
    assert person.state["consent"] == 1 and person.pending == "birth_date"


@pytest.mark.parametrize("phase", list(Phase))
def test_phases_are_stored_as_the_same_plain_strings(phase: Phase) -> None:
    stored = json.loads(json.dumps(DialogState(phase=phase, programs=["iom-internship-rabat"]).to_json()))
    assert stored["phase"] == phase.value and type(stored["phase"]) is str
    loaded = load_state(stored)
    assert loaded.phase is phase and not loaded.reset_notice


def test_states_saved_before_the_enum_load_unchanged() -> None:
    assert PHASES == ("welcome", "programs", "consent", "declined", "question", "confirm_date", "review", "done")
    saved = {"v": 1, "lang": "en", "phase": "question", "pending": "spanish", "programs": ["quebec-psoig-2021-023"]}
    loaded = load_state(saved)
    assert loaded.phase is Phase.QUESTION and loaded.pending == "spanish" and not loaded.reset_notice
    assert DialogState(phase="review").phase is Phase.REVIEW  # type: ignore[arg-type]  # a plain string still works
    with pytest.raises(ValueError, match="teleport"):
        DialogState(phase="teleport")  # type: ignore[arg-type]


def test_a_state_with_broken_date_readings_restarts_politely() -> None:
    stored = {"v": 1, "phase": "confirm_date", "pending": "birth_date", "candidates": ["1995-04-03", "soon"]}
    state, outputs = make_engine().step(stored, Event.text("1", date(2021, 9, 15)))
    assert says(outputs, "state.reset") and state.phase is Phase.PROGRAMS
