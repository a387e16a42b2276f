"""A person talking to the engine: start, type, press a button by its label, give a command."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from bot.i18n import gettext
from bot.render import Rendered, render_output
from dialogs.engine import Engine, Event
from dialogs.interrupts import InterruptHook
from dialogs.outputs import Ask, Output, QuotesCard, Say, Unanswered, VerdictCard
from dialogs.state import DialogState
from rules import load_programs

PROGRAMS = load_programs()


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

    def press(self, label: str) -> list[Output]:
        """Press the button of the last question whose label (in the current language) matches."""
        ask = self.ask
        rendered = self.rendered_ask
        for button, shown in zip(ask.buttons, rendered.buttons, strict=True):
            if shown.label.casefold() == label.casefold() or button.id == label:
                return self._step(Event.press(button.id, self.today))
        raise AssertionError(f"no button {label!r}; buttons: {[b.label for b in rendered.buttons]}")

    def press_id(self, button_id: str) -> list[Output]:
        return self._step(Event.press(button_id, self.today))

    @property
    def asks(self) -> list[Ask]:
        return [o for o in self.outputs if isinstance(o, Ask)]

    @property
    def ask(self) -> Ask:
        assert self.asks, f"no question in {self.outputs}"
        return self.asks[-1]

    @property
    def rendered_ask(self) -> Rendered:
        rendered = render_output(self.ask, self.state["lang"])
        assert rendered is not None
        return rendered

    @property
    def pending(self) -> str | None:
        return self.ask.step if self.asks else None

    @property
    def keys(self) -> list[str]:
        return [o.message.key for o in self.outputs if isinstance(o, Say | Ask)]

    @property
    def verdicts(self) -> dict[str, Any]:
        return {o.result.program.id: o.result for o in self.outputs if isinstance(o, VerdictCard)}

    @property
    def quotes(self) -> list[QuotesCard]:
        return [o for o in self.outputs if isinstance(o, QuotesCard)]

    @property
    def unanswered(self) -> list[str]:
        return [o.text for o in self.outputs if isinstance(o, Unanswered)]

    @property
    def text(self) -> str:
        """Everything shown by the last step, as the person reads it (typographic spaces as spaces)."""
        parts = []
        for output in self.outputs:
            rendered = render_output(output, self.state["lang"])
            if rendered is not None:
                parts.append(
                    "\n".join(p for p in (rendered.heading, rendered.text, *(b.label for b in rendered.buttons)) if p)
                )
        return "\n".join(parts).replace("\u00a0", " ").replace("\u202f", " ")

    def answer_all(self, answers: Sequence[tuple[str, str]]) -> None:
        """Answer the listed questions in whatever order the engine asks them; fail on any other."""
        remaining = dict(answers)
        while self.pending in remaining:
            fact = self.pending
            value = remaining.pop(fact)
            if value.startswith("button:"):
                self.press(value.removeprefix("button:"))
            else:
                self.say(value)


def make_engine(hook: InterruptHook | None = None, *, consent: bool = False) -> Engine:
    return Engine(PROGRAMS, translate=gettext, interrupt=hook, require_consent=consent)


@pytest.fixture
def person() -> Person:
    return Person(make_engine())


@pytest.fixture
def english() -> Person:
    return Person(make_engine(), lang="en")


def says(outputs: list[Output], key: str) -> bool:
    return any(isinstance(o, Say) and o.message.key == key for o in outputs)
