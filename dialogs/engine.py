"""The dialog engine: `step(state, event) -> (state, outputs)`, pure and shared by every channel.

Transitions come from the rules' goal-driven questioning: after each answer the engine asks the
next fact that can still change an outcome, and gives the verdict when none is left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from rules import N_, Message, Program, evaluate, next_question

from . import prompts
from .choices import parse_choice, parse_yes_no
from .interrupts import InterruptHook, Interruption, classify
from .numbers import parse_years
from .outputs import Output, QuotesCard, Say, Unanswered, VerdictCard
from .parsing import Ambiguous, Invalid, Parsed, ParseResult, parse_date
from .questions import QUESTIONS, InputKind, dependents
from .state import DialogState, load_state


@dataclass(frozen=True)
class Event:
    """What the person did: started, typed, pressed a button (its stable id) or gave a command."""

    kind: Literal["start", "text", "button", "command"]
    today: date
    value: str = ""
    arg: str = ""

    @classmethod
    def start(cls, today: date) -> Event:
        return cls("start", today)

    @classmethod
    def text(cls, text: str, today: date) -> Event:
        return cls("text", today, text)

    @classmethod
    def press(cls, button_id: str, today: date) -> Event:
        return cls("button", today, button_id)

    @classmethod
    def command(cls, name: str, today: date, arg: str = "") -> Event:
        return cls("command", today, name, arg)


@dataclass
class Engine:
    """Interprets the declared dialog for a set of offers; holds no per-person data."""

    programs: Mapping[str, Program]
    translate: prompts.Translate
    interrupt: InterruptHook | None = None
    require_consent: bool = False
    consent_version: int = 1
    retention_days: int = 180
    max_attempts: int = 3
    _handlers: dict[str, Callable[[DialogState, Event], list[Output]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._handlers = {
            "back": self._back,
            "restart": self._restart,
            "language": self._language,
            "help": self._help,
            "review": self._review,
            "skip": self._skip,
        }

    # --- entry point -------------------------------------------------------------------------

    def step(self, state: DialogState | Mapping[str, Any] | None, event: Event) -> tuple[DialogState, list[Output]]:
        """The next state and what to say; never raises on anything a person can send."""
        current = load_state(state.to_json() if isinstance(state, DialogState) else state)
        outputs: list[Output] = []
        if current.reset_notice:
            current.reset_notice = False
            outputs.append(Say(Message(N_("state.reset"))))
            current.phase = "welcome"
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

    # --- start, prompts ----------------------------------------------------------------------

    def _selected(self, state: DialogState) -> list[Program]:
        return [self.programs[pid] for pid in state.programs if pid in self.programs]

    def _start(self, state: DialogState, event: Event) -> list[Output]:
        if state.phase in ("welcome", "programs") or not state.programs:
            state.phase = "programs"
            return [Say(Message(N_("welcome"))), prompts.programs_prompt(self.programs, event.today)]
        return [Say(Message(N_("welcome.back"))), *self._reask(state, event.today)]

    def _reask(self, state: DialogState, today: date, *, rescue: bool = False) -> list[Output]:
        """The current step shown again, e.g. after an interruption or a language change."""
        phase = state.phase
        if phase in ("welcome", "programs"):
            state.phase = "programs"
            return [prompts.programs_prompt(self.programs, today)]
        if phase in ("consent", "declined"):
            return [prompts.consent_prompt(self.retention_days)]
        if phase == "confirm_date":
            return [prompts.confirm_prompt([date.fromisoformat(d) for d in state.candidates])]
        if phase == "question" and state.pending:
            return [prompts.question_prompt(state, state.pending, self._selected(state), today, rescue=rescue)]
        if phase == "review":
            return [prompts.review_prompt(state)]
        if phase == "done":
            return [prompts.done_prompt(self._selected(state))]
        return self._advance(state, today)

    def _advance(self, state: DialogState, today: date) -> list[Output]:
        """Ask the next fact that can change an outcome, or give the verdict."""
        programs = self._selected(state)
        if not programs:
            state.phase = "programs"
            return [prompts.programs_prompt(self.programs, today)]
        fact = next_question(state.facts(), programs, today, state.skipped)
        state.attempts, state.candidates, state.editing = 0, [], None
        if fact is None:
            state.phase, state.pending = "done", None
            return self._verdict(state, today)
        if self.require_consent and state.consent != self.consent_version:
            state.phase, state.pending = "consent", None
            return [prompts.consent_prompt(self.retention_days)]
        state.phase, state.pending = "question", fact
        return [prompts.question_prompt(state, fact, programs, today)]

    def _verdict(self, state: DialogState, today: date) -> list[Output]:
        programs = self._selected(state)
        facts = state.facts()
        cards: list[Output] = [VerdictCard(evaluate(facts, p, today)) for p in programs]
        return [*cards, prompts.done_prompt(programs)]

    # --- buttons -----------------------------------------------------------------------------

    def _current_steps(self, state: DialogState) -> set[str]:
        return {
            "welcome": {"programs"},
            "programs": {"programs"},
            "consent": {"consent"},
            "declined": {"consent"},
            "question": {state.pending or ""},
            "confirm_date": {"confirm", state.pending or ""},
            "review": {"review"},
            "done": {"done", "quotes"},
        }.get(state.phase, set())

    def _button(self, state: DialogState, event: Event) -> list[Output]:
        step, _, value = event.value.partition(":")
        if step not in self._current_steps(state) or not value:
            return [Say(Message(N_("button.stale"))), *self._reask(state, event.today)]
        if value == "?help":
            return self._help(state, event)
        if value == "?skip":
            return self._skip(state, event)
        if value == "?restart":
            return self._restart(state, event)
        if step == "programs":
            return self._choose_programs(state, value, event.today)
        if step == "consent":
            return self._consent(state, value == "yes", event.today)
        if step == "confirm":
            if value == "?retype":
                state.phase, state.candidates = "question", []
                return self._reask(state, event.today)
            if value in ("0", "1") and len(state.candidates) == 2:
                return self._answer(state, date.fromisoformat(state.candidates[int(value)]), event.today)
        if step == "review":
            return self._review_pick(state, value, event.today)
        if step == "done":
            return self._review(state, event) if value == "review" else self._restart(state, event)
        if step == "quotes" and value in state.programs:
            return [
                QuotesCard(evaluate(state.facts(), self.programs[value], event.today)),
                *self._reask(state, event.today),
            ]
        if state.phase in ("question", "confirm_date") and step == state.pending:
            question = QUESTIONS[step]
            if question.kind is InputKind.YES_NO and value in ("yes", "no"):
                return self._answer(state, value == "yes", event.today)
            if question.kind is InputKind.CHOICE and value in question.choices:
                return self._answer(state, value, event.today)
        return [Say(Message(N_("button.stale"))), *self._reask(state, event.today)]

    # --- typed text --------------------------------------------------------------------------

    def _text(self, state: DialogState, event: Event) -> list[Output]:
        text = event.value.strip()
        if not text:
            return self._reask(state, event.today)
        if state.phase == "welcome" and classify(text) is not Interruption.QUESTION:
            return self._start(state, event)
        if state.phase in ("done", "declined", "welcome") or classify(text) is Interruption.QUESTION:
            return self._interruption(state, text, event.today, attempt=state.phase in ("question", "confirm_date"))
        parsed = self._parse(state, text, event.today)
        if isinstance(parsed, Parsed):
            if state.phase == "programs":
                return self._choose_programs(state, str(parsed.value), event.today)
            if state.phase == "consent":
                return self._consent(state, bool(parsed.value), event.today)
            if state.phase == "review":
                return self._review_pick(state, str(parsed.value), event.today)
            return self._answer(state, parsed.value, event.today)
        if isinstance(parsed, Ambiguous):
            state.phase = "confirm_date"
            state.candidates = [d.isoformat() for d in parsed.candidates]
            return [prompts.confirm_prompt(parsed.candidates)]
        return self._interruption(state, text, event.today, attempt=True, invalid=parsed)

    def _parse(self, state: DialogState, text: str, today: date) -> ParseResult:
        if state.phase == "programs":
            return parse_choice(text, prompts.program_options(self.programs, self.translate))
        if state.phase == "consent":
            return parse_yes_no(text)
        if state.phase == "review":
            shown = [f for f in QUESTIONS if f in state.answers or f in state.skipped]
            return parse_choice(text, prompts.fact_options(shown, self.translate))
        fact = state.pending or ""
        if state.phase == "confirm_date" and len(state.candidates) == 2:
            candidates = [date.fromisoformat(d) for d in state.candidates]
            if text.strip() in ("1", "2"):
                return Parsed(candidates[int(text.strip()) - 1])
            # "le 4 mars", "April 3": one of the two readings, said in words without the year
            said = parse_date(f"{text} {candidates[0].year}", today)
            if isinstance(said, Parsed) and said.value in candidates:
                return said
        question = QUESTIONS.get(fact)
        if question is None:
            return Invalid(N_("parse.choice.none"))
        if question.kind is InputKind.DATE:
            return parse_date(text, today)
        if question.kind is InputKind.NUMBER:
            return parse_years(text, question.maximum)
        result = parse_choice(text, prompts.choice_options(fact, self.translate))
        if question.kind is InputKind.YES_NO and isinstance(result, Parsed):
            return Parsed(result.value == "yes")
        if question.kind is InputKind.YES_NO:
            return parse_yes_no(text)
        return result

    def _interruption(
        self, state: DialogState, text: str, today: date, *, attempt: bool, invalid: Invalid | None = None
    ) -> list[Output]:
        """A question goes to the hook (the FAQ); a greeting is answered; else a failed attempt."""
        kind = classify(text)
        answered = self.interrupt(text, state.lang, list(state.programs)) if self.interrupt else None
        if answered:
            return [*answered, *self._reask(state, today)]
        if kind is Interruption.GREETING:
            return [Say(Message(N_("interrupt.greeting"))), *self._reask(state, today)]
        if kind is Interruption.THANKS:
            return [Say(Message(N_("interrupt.thanks"))), *self._reask(state, today)]
        if kind is Interruption.QUESTION or not attempt:
            key = N_("interrupt.unanswered") if kind is Interruption.QUESTION else N_("interrupt.not_understood")
            return [Unanswered(text), Say(Message(key)), *self._reask(state, today)]
        return self._failed(state, invalid or Invalid(N_("parse.choice.none")), today)

    def _failed(self, state: DialogState, problem: Invalid, today: date) -> list[Output]:
        state.attempts += 1
        outputs: list[Output] = [Say(Message(problem.reason, problem.params))]
        if state.phase == "confirm_date":
            state.phase, state.candidates = "question", []
        if state.attempts >= self.max_attempts and state.phase == "question":
            outputs.append(Say(Message(N_("attempts.rescue"))))
            return outputs + self._reask(state, today, rescue=True)
        return outputs + self._reask(state, today)

    # --- answers -----------------------------------------------------------------------------

    def _answer(self, state: DialogState, value: Any, today: date) -> list[Output]:
        fact = state.pending
        if fact is None:
            return self._reask(state, today)
        question = QUESTIONS[fact]
        if question.check is not None and (problem := question.check(value, state.facts(), today)):
            return self._failed(state, problem, today)
        before = state.answers.get(fact)
        state.set_answer(fact, value)
        if before is not None and before != state.answers[fact]:
            state.forget(dependents(fact))
        outputs: list[Output] = []
        if question.kind in (InputKind.DATE, InputKind.NUMBER):
            shown = prompts.answer_value(state, fact)
            outputs.append(Say(Message(N_("answer.noted"), {"value": shown})))
        return outputs + self._advance(state, today)

    def _choose_programs(self, state: DialogState, value: str, today: date) -> list[Output]:
        if value == prompts.ALL_OPEN:
            chosen = [p.id for p in self.programs.values() if p.offer_open(today)]
        else:
            chosen = [value] if value in self.programs else []
        if not chosen:
            return [Say(Message(N_("programs.none_open"))), prompts.programs_prompt(self.programs, today)]
        state.programs = chosen
        outputs: list[Output] = [
            Say(
                Message(
                    N_("programs.closed_note"),
                    {"title": p.short_title.localized(), "deadline": p.deadline_date},
                )
            )
            for p in self._selected(state)
            if not p.offer_open(today) and p.deadline_date is not None
        ]
        return outputs + self._advance(state, today)

    def _consent(self, state: DialogState, accepted: bool, today: date) -> list[Output]:
        if accepted:
            state.consent = self.consent_version
            return [Say(Message(N_("consent.thanks"))), *self._advance(state, today)]
        state.phase = "declined"
        return [Say(Message(N_("consent.declined")))]

    def _review_pick(self, state: DialogState, value: str, today: date) -> list[Output]:
        if value == "?done":
            return self._advance(state, today)
        if value not in QUESTIONS or (value not in state.answers and value not in state.skipped):
            return [Say(Message(N_("button.stale"))), *self._reask(state, today)]
        state.phase, state.pending, state.editing, state.attempts = "question", value, value, 0
        if value in state.skipped:
            state.skipped.remove(value)
        return self._reask(state, today)

    # --- commands ----------------------------------------------------------------------------

    def _back(self, state: DialogState, event: Event) -> list[Output]:
        today = event.today
        if state.phase == "confirm_date":
            state.phase, state.candidates = "question", []
            return self._reask(state, today)
        if state.editing is not None or state.phase == "review":
            state.editing = None
            return self._advance(state, today)
        if state.phase in ("question", "done") and state.asked:
            last = state.asked[-1]
            state.forget({last} | dependents(last))
            state.phase, state.pending, state.attempts = "question", last, 0
            return self._reask(state, today)
        if state.phase in ("question", "consent", "declined", "done"):
            state.phase, state.pending = "programs", None
            return [prompts.programs_prompt(self.programs, today)]
        return [Say(Message(N_("back.nothing"))), *self._reask(state, today)]

    def _restart(self, state: DialogState, event: Event) -> list[Output]:
        fresh = DialogState(lang=state.lang, consent=state.consent, phase="programs")
        state.__dict__.update(fresh.__dict__)
        return [Say(Message(N_("restarted"))), prompts.programs_prompt(self.programs, event.today)]

    def _language(self, state: DialogState, event: Event) -> list[Output]:
        wanted = event.arg.strip().lower()
        if wanted and wanted[:2] not in ("fr", "en"):
            return [Say(Message(N_("language.unsupported"))), *self._reask(state, event.today)]
        state.lang = wanted[:2] if wanted else ("en" if state.lang == "fr" else "fr")
        if state.phase == "done":  # the verdict itself, in the new language
            return [Say(Message(N_("language.changed"))), *self._advance(state, event.today)]
        return [Say(Message(N_("language.changed"))), *self._reask(state, event.today)]

    def _help(self, state: DialogState, event: Event) -> list[Output]:
        outputs: list[Output] = []
        if state.phase in ("question", "confirm_date") and state.pending:
            outputs.append(Say(Message(QUESTIONS[state.pending].help)))
        outputs.append(Say(Message(N_("help.commands"))))
        return outputs + self._reask(state, event.today)

    def _review(self, state: DialogState, event: Event) -> list[Output]:
        if not state.answers and not state.skipped:
            return [Say(Message(N_("review.empty"))), *self._reask(state, event.today)]
        state.phase, state.editing = "review", None
        return [prompts.review_prompt(state)]

    def _skip(self, state: DialogState, event: Event) -> list[Output]:
        if state.phase not in ("question", "confirm_date") or state.pending is None:
            return [Say(Message(N_("skip.nothing"))), *self._reask(state, event.today)]
        if state.pending not in state.skipped:
            state.skipped.append(state.pending)
        return [Say(Message(N_("skip.done"))), *self._advance(state, event.today)]
