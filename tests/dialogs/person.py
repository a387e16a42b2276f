"""A person talking to the engine: start, type, press a button by its stable id, give a command.

Nothing here renders a sentence: tests read what the engine outputs (message keys and their
parameters, button ids, verdicts). tests/bot/test_render_dialog.py drives the same person and
checks the wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from dialogs.engine import Engine, Event
from dialogs.interrupts import InterruptHook
from dialogs.outputs import Ask, Output, QuotesCard, Say, Unanswered, VerdictCard
from dialogs.state import DialogState
from rules import Lines, Message, ProgramResult, load_programs

from .catalogs import translate

PROGRAMS = load_programs()


P = TypeVar("P", bound="Person")


def make_engine(hook: InterruptHook | None = None, *, consent: bool = False) -> Engine:
    return Engine(PROGRAMS, translate=translate, interrupt=hook, require_consent=consent)


class Person:
    def __init__(self, engine: Engine, lang: str = "fr", today: date = date(2021, 9, 15)) -> None:
        self.engine = engine
        self.state: Any = DialogState(lang=lang).to_json()
        self.today = today
        self.outputs: list[Output] = []

    def _step(self, event: Event) -> list[Output]:
        state, self.outputs = self.engine.step(self.state, event)
        self.state = state.to_json()
        return self.outputs

    def start(self) -> list[Output]:
        return self._step(Event.start(self.today))

    def say(self, text: str) -> list[Output]:
        return self._step(Event.text(text, self.today))

    def command(self, name: str, arg: str = "") -> list[Output]:
        return self._step(Event.command(name, self.today, arg))

    def press(self, button_id: str) -> list[Output]:
        """Press a button of the last question or menu; fail if it does not offer that button."""
        assert button_id in self.button_ids, f"no button {button_id!r}; buttons: {self.button_ids}"
        return self._step(Event.press(button_id, self.today))

    def press_id(self, button_id: str) -> list[Output]:
        """Send a button id whether shown or not (an old message's button, a forged one)."""
        return self._step(Event.press(button_id, self.today))

    @property
    def asks(self) -> list[Ask]:
        return [o for o in self.outputs if isinstance(o, Ask)]

    @property
    def ask(self) -> Ask:
        assert self.asks, f"no question in {self.outputs}"
        return self.asks[-1]

    @property
    def button_ids(self) -> list[str]:
        return [b.id for b in self.ask.buttons]

    @property
    def pending(self) -> str | None:
        return self.ask.step if self.asks else None

    @property
    def keys(self) -> list[str]:
        return [o.message.key for o in self.outputs if isinstance(o, Say | Ask)]

    @property
    def said(self) -> list[Message]:
        return [o.message for o in self.outputs if isinstance(o, Say)]

    @property
    def verdicts(self) -> dict[str, ProgramResult]:
        return {o.result.program.id: o.result for o in self.outputs if isinstance(o, VerdictCard)}

    @property
    def quotes(self) -> list[QuotesCard]:
        return [o for o in self.outputs if isinstance(o, QuotesCard)]

    @property
    def unanswered(self) -> list[str]:
        return [o.text for o in self.outputs if isinstance(o, Unanswered)]

    @property
    def review(self) -> dict[str, object]:
        """The review's answers by fact label key (`fact.birth_date`): the value shown for each."""
        answers = self.ask.message.params["answers"]
        assert self.ask.step == "review" and isinstance(answers, Lines)
        return {item.params["fact"].key: item.params["value"] for item in answers.items}

    def answer_all(self, answers: Sequence[tuple[str, str]]) -> None:
        """Answer the listed questions in whatever order the engine asks them; stop at any other.

        A value `button:<id>` presses that button; anything else is typed.
        """
        remaining = dict(answers)
        while self.pending in remaining:
            value = remaining.pop(self.pending)
            if value.startswith("button:"):
                self.press(value.removeprefix("button:"))
            else:
                self.say(value)


def says(outputs: Sequence[Output], key: str) -> bool:
    return any(isinstance(o, Say) and o.message.key == key for o in outputs)


# The Québec offer's questions in the order the engine asks them, each with an answer (a button
# id or text); the path to a question is everything answered before it.
QUEBEC_PATH = [
    ("birth_date", "1995-03-15"),
    ("education", "education:master_in_progress"),
    ("iom_interest", "iom_interest:yes"),
    ("citizenship", "citizenship:canadian"),
    ("quebec_domicile", "quebec_domicile:yes"),
    ("quebec_resident_since", "2010-01-01"),
    ("french_writing", "french_writing:excellent"),
    ("english_writing", "english_writing:excellent"),
    ("prior_psoig_internship", "prior_psoig_internship:no"),
    ("spanish", "spanish:yes"),
    ("field_of_study", "field_of_study:law"),
]
PATH_TO = {fact: ("quebec-psoig-2021-023", [a for _, a in QUEBEC_PATH[:i]]) for i, (fact, _) in enumerate(QUEBEC_PATH)}
PATH_TO |= {
    "highest_degree": ("quebec-psoig-2021-023", ["1995-03-15", "education:graduated"]),
    "graduation_date": ("quebec-psoig-2021-023", ["1995-03-15", "education:graduated", "highest_degree:master"]),
    "relevant_experience_years": ("iom-internship-rabat", ["1998-05-20", "education:bachelor_final_year"]),
}


def reach(fact: str, lang: str = "fr") -> Person:
    """A person whose pending question is `fact`, by the path of `PATH_TO`."""
    return walk_to(Person(make_engine(), lang=lang), fact)


def walk_to(person: P, fact: str) -> P:
    """`person`, from the start, taken by the path of `PATH_TO` to the question of `fact`."""
    program, steps = PATH_TO[fact]
    person.start()
    person.press(f"programs:{program}")
    for step in steps:
        person.press(step) if ":" in step and not step[0].isdigit() else person.say(step)
    assert person.pending == fact
    return person
