"""The dialog engine: `step(state, event) -> (state, outputs)`, pure and shared by every channel.

Transitions come from the rules' goal-driven questioning: after each answer the engine asks the
next fact that can still change an outcome, and gives the verdict when none is left. Each phase
has one prompt and one reader of typed text, each command and each kind of button one handler:
tables, not if-chains. The prompts and the recording of answers are in `flow`, the commands in
`commands`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rules import N_, Message, evaluate

from . import prompts
from .answers import AnswerResult, parse_answer
from .choices import parse_choice, parse_yes_no
from .commands import Commands
from .dont_know import says_dont_know
from .events import Event
from .interrupts import Interruption, classify
from .outputs import FAQ_STEP, Output, QuotesCard, Say
from .parsing import Ambiguous, DontKnow, Parsed, choose_reading, normalize
from .questions import QUESTIONS, InputKind
from .state import ANSWERING, DialogState, Phase, load_state

__all__ = ["Engine", "Event"]

Reader = Callable[[DialogState, str, date], list[Output]]
ButtonHandler = Callable[[DialogState, str, Event], list[Output]]


HELP_WORDS = frozenset({"aide", "help", "a l'aide", "au secours"})


@dataclass
class Engine(Commands):
    """Interprets the declared dialog for a set of offers; holds no per-person data.

    Fields (from `Flow`): programs, translate, interrupt, require_consent, consent_version,
    retention_days, max_attempts.
    """

    _handlers: dict[str, Callable[[DialogState, Event], list[Output]]] = field(init=False, repr=False)
    _readers: dict[Phase, Reader] = field(init=False, repr=False)
    _buttons: dict[str, ButtonHandler] = field(init=False, repr=False)
    _actions: dict[str, ButtonHandler] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._handlers = {
            "back": self._back,
            "restart": self._restart,
            "language": self._language,
            "help": self._help,
            "review": self._review,
            "skip": self._skip,
        }
        # Typed text in each phase; the others (welcome, declined, done) take it as an interruption.
        self._readers = {
            Phase.PROGRAMS: self._read_programs,
            Phase.CONSENT: self._read_consent,
            Phase.DECLINED: self._read_second_thoughts,
            Phase.REVIEW: self._read_review,
            Phase.QUESTION: self._read_answer,
            Phase.CONFIRM_DATE: self._read_confirmation,
        }
        # Buttons by step (`<step>:<value>`); a step not listed is the pending question's own.
        self._buttons = {
            "programs": lambda state, value, event: self._choose_programs(state, value, event.today),
            "consent": self._press_consent,
            "confirm": self._press_confirm,
            "review": lambda state, value, event: self._review_pick(state, value, event.today),
            "done": self._press_done,
            "quotes": self._press_quotes,
        }
        # Buttons by value, on whichever current step offers them (the rescue row, "I don't know").
        self._actions = {
            "?help": lambda state, value, event: self._help(state, event),
            "?skip": lambda state, value, event: self._skip(state, event),
            "?restart": lambda state, value, event: self._restart(state, event),
            prompts.DONT_KNOW: lambda state, value, event: self._set_aside(state, event.today, dont_know=True),
        }

    # --- entry point -------------------------------------------------------------------------

    def step(self, state: DialogState | Mapping[str, Any] | None, event: Event) -> tuple[DialogState, list[Output]]:
        """The next state and what to say; never raises on anything a person can send."""
        current = load_state(state.to_json() if isinstance(state, DialogState) else state)
        outputs: list[Output] = []
        if current.reset_notice:
            current.reset_notice = False
            outputs.append(Say(Message(N_("state.reset"))))
            current.phase = Phase.WELCOME
        if event.kind == "start":
            outputs += self._start(current, event)
        elif event.kind == "command" and event.value in self._handlers:
            outputs += self._handlers[event.value](current, event)
        elif event.kind == "command":
            outputs += [
                Say(Message(N_("command.unknown"), {"command": event.value})),
                *self._reask(current, event.today),
            ]
        elif event.kind == "button":
            outputs += self._button(current, event)
        else:
            outputs += self._text(current, event)
        return current, outputs

    def current_prompt(self, state: DialogState | Mapping[str, Any] | None, today: date) -> list[Output]:
        """The pending question or menu, shown again after something outside the dialog (a
        privacy command); the state is not changed."""
        current = load_state(state.to_json() if isinstance(state, DialogState) else state)
        if current.reset_notice or current.phase is Phase.WELCOME:
            return []  # nothing asked yet: /start begins
        return self._reask(current, today)

    # --- start ------------------------------------------------------------------------------

    def _start(self, state: DialogState, event: Event) -> list[Output]:
        if state.phase in (Phase.WELCOME, Phase.PROGRAMS) or not state.programs:
            state.phase = Phase.PROGRAMS
            return [Say(Message(N_("welcome"))), prompts.programs_prompt(self.programs, event.today)]
        state.attempts = 0  # a new session: earlier failed attempts no longer count
        return [Say(Message(N_("welcome.back"))), *self._reask(state, event.today)]

    # --- buttons -----------------------------------------------------------------------------

    def _current_steps(self, state: DialogState) -> set[str]:
        return {
            Phase.WELCOME: {"programs"},
            Phase.PROGRAMS: {"programs"},
            Phase.CONSENT: {"consent"},
            Phase.DECLINED: {"consent"},
            Phase.QUESTION: {state.pending or ""},
            Phase.CONFIRM_DATE: {"confirm", state.pending or ""},
            Phase.REVIEW: {"review"},
            Phase.DONE: {"done", "quotes"},
        }[state.phase]

    def _button(self, state: DialogState, event: Event) -> list[Output]:
        step, _, value = event.value.partition(":")
        if step == FAQ_STEP and self.interrupt is not None:  # a "did you mean" choice: valid at any step
            answered = self.interrupt.topic(value, state.lang, list(state.programs), event.today)
            return [*answered, *self._reask(state, event.today)] if answered else self._stale(state, event.today)
        if step not in self._current_steps(state) or not value:
            return self._stale(state, event.today)
        handler = self._actions.get(value) or self._buttons.get(step, self._press_answer)
        return handler(state, value, event)

    def _press_consent(self, state: DialogState, value: str, event: Event) -> list[Output]:
        if value not in ("yes", "no"):
            return self._stale(state, event.today)
        return self._consent(state, value == "yes", event.today)

    def _press_confirm(self, state: DialogState, value: str, event: Event) -> list[Output]:
        if value == "?retype":
            state.phase, state.candidates = Phase.QUESTION, []
            return self._reask(state, event.today)
        if value in ("0", "1") and len(state.candidates) == 2:
            return self._answer(state, date.fromisoformat(state.candidates[int(value)]), event.today)
        return self._stale(state, event.today)

    def _press_done(self, state: DialogState, value: str, event: Event) -> list[Output]:
        if value == "review":
            return self._review(state, event)
        if value == "restart":
            return self._restart(state, event)
        return self._stale(state, event.today)

    def _press_quotes(self, state: DialogState, value: str, event: Event) -> list[Output]:
        if value not in state.programs or value not in self.programs:
            return self._stale(state, event.today)
        return [
            QuotesCard(evaluate(state.facts(), self.programs[value], event.today)),
            *self._reask(state, event.today),
        ]

    def _press_answer(self, state: DialogState, value: str, event: Event) -> list[Output]:
        """A choice or yes/no button of the pending question."""
        question = QUESTIONS.get(state.pending or "")
        if question is not None and question.kind is InputKind.YES_NO and value in ("yes", "no"):
            return self._answer(state, value == "yes", event.today)
        if question is not None and question.kind is InputKind.CHOICE and value in question.choices:
            return self._answer(state, value, event.today)
        return self._stale(state, event.today)

    # --- typed text --------------------------------------------------------------------------

    def _text(self, state: DialogState, event: Event) -> list[Output]:
        text = event.value.strip()
        if not normalize(text):  # a photo, a sticker, or only invisible marks: nothing to read
            return [Say(Message(N_("input.text_only"))), *self._reask(state, event.today)]
        if state.phase in ANSWERING and says_dont_know(text):  # before the FAQ: "je ne sais pas?" is an answer
            return self._set_aside(state, event.today, dont_know=True)
        if normalize(text).strip(" ?!.") in HELP_WORDS:  # "aide", typed instead of /help
            return self._handlers["help"](state, event)
        kind = classify(text)
        if state.phase is Phase.WELCOME and kind is not Interruption.QUESTION:
            return self._start(state, event)
        reader = self._readers.get(state.phase)
        if reader is None or kind is Interruption.QUESTION:
            return self._interruption(state, text, event.today, attempt=state.phase in ANSWERING)
        return reader(state, text, event.today)

    def _read_programs(self, state: DialogState, text: str, today: date) -> list[Output]:
        parsed = parse_choice(text, prompts.program_options(self.programs, self.translate))
        if isinstance(parsed, Parsed):
            return self._choose_programs(state, str(parsed.value), today)
        return self._interruption(state, text, today, attempt=True, invalid=parsed)

    def _read_consent(self, state: DialogState, text: str, today: date) -> list[Output]:
        parsed = parse_yes_no(text)
        if isinstance(parsed, Parsed):
            return self._consent(state, bool(parsed.value), today)
        return self._interruption(state, text, today, attempt=True, invalid=parsed)

    def _read_second_thoughts(self, state: DialogState, text: str, today: date) -> list[Output]:
        """After declining, "oui" still accepts; anything else is not an answer to a question."""
        parsed = parse_yes_no(text)
        if isinstance(parsed, Parsed):
            return self._consent(state, bool(parsed.value), today)
        return self._interruption(state, text, today, attempt=False)

    def _read_review(self, state: DialogState, text: str, today: date) -> list[Output]:
        shown = [f for f in QUESTIONS if f in state.answers or f in state.skipped]
        parsed = parse_choice(text, prompts.fact_options(shown, self.translate))
        if isinstance(parsed, Parsed):
            return self._review_pick(state, str(parsed.value), today)
        return self._interruption(state, text, today, attempt=True, invalid=parsed)

    def _read_answer(self, state: DialogState, text: str, today: date) -> list[Output]:
        if state.pending is None:
            return self._advance(state, today)
        result = parse_answer(state.pending, text, today=today, facts=state.facts(), translate=self.translate)
        return self._take(state, text, today, result)

    def _read_confirmation(self, state: DialogState, text: str, today: date) -> list[Output]:
        """One of the two readings ("1", "le 4 mars"), or a new answer to the question."""
        if len(state.candidates) == 2:
            first, second = (date.fromisoformat(d) for d in state.candidates)
            picked = choose_reading(text, (first, second), today)
            if picked is not None:
                return self._answer(state, picked, today)
        return self._read_answer(state, text, today)

    def _take(self, state: DialogState, text: str, today: date, result: AnswerResult) -> list[Output]:
        if isinstance(result, Parsed):
            return self._record(state, result.value, today)  # parse_answer has checked it
        if isinstance(result, DontKnow):
            return self._set_aside(state, today, dont_know=True)
        if isinstance(result, Ambiguous):
            state.phase = Phase.CONFIRM_DATE
            state.candidates = [d.isoformat() for d in result.candidates]
            return [prompts.confirm_prompt(result.candidates)]
        return self._interruption(state, text, today, attempt=True, invalid=result)
