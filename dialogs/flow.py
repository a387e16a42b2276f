"""The core of the engine: each phase's prompt, the next question or the verdict, and recording answers.

`Engine` (engine.py) adds what comes in (events, buttons, typed text) and `Commands`
(commands.py) the commands; this class is what both rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rules import N_, Message, Program, evaluate, next_question

from . import prompts
from .answers import check_answer
from .interrupts import InterruptHook, Interruption, classify
from .outputs import Output, Say, Unanswered, VerdictCard
from .parsing import Invalid
from .questions import QUESTIONS, InputKind, dependents
from .state import ANSWERING, DialogState, Phase

Prompt = Callable[[DialogState, date, bool], list[Output]]


@dataclass
class Flow:
    """Interprets the declared dialog for a set of offers; holds no per-person data."""

    programs: Mapping[str, Program]
    translate: prompts.Translate
    interrupt: InterruptHook | None = None
    require_consent: bool = False
    consent_version: int = 1
    retention_days: int = 180
    max_attempts: int = 3
    _prompts: dict[Phase, Prompt] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._prompts = {
            Phase.WELCOME: self._prompt_programs,
            Phase.PROGRAMS: self._prompt_programs,
            Phase.CONSENT: lambda state, today, rescue: [prompts.consent_prompt(self.retention_days)],
            Phase.DECLINED: lambda state, today, rescue: [prompts.consent_prompt(self.retention_days)],
            Phase.QUESTION: self._prompt_question,
            Phase.CONFIRM_DATE: self._prompt_confirm,
            Phase.REVIEW: lambda state, today, rescue: [prompts.review_prompt(state)],
            Phase.DONE: lambda state, today, rescue: [prompts.done_prompt(self._selected(state))],
        }

    # --- prompts -----------------------------------------------------------------------------

    def _selected(self, state: DialogState) -> list[Program]:
        return [self.programs[pid] for pid in state.programs if pid in self.programs]

    def _reask(self, state: DialogState, today: date, *, rescue: bool = False) -> list[Output]:
        """The current step shown again, e.g. after an interruption or a language change."""
        return self._prompts[state.phase](state, today, rescue)

    def _prompt_programs(self, state: DialogState, today: date, rescue: bool) -> list[Output]:
        state.phase = Phase.PROGRAMS
        return [prompts.programs_prompt(self.programs, today)]

    def _prompt_question(self, state: DialogState, today: date, rescue: bool) -> list[Output]:
        if state.pending is None:
            return self._advance(state, today)
        return [prompts.question_prompt(state, state.pending, self._selected(state), today, rescue=rescue)]

    def _prompt_confirm(self, state: DialogState, today: date, rescue: bool) -> list[Output]:
        return [prompts.confirm_prompt([date.fromisoformat(d) for d in state.candidates])]

    def _stale(self, state: DialogState, today: date) -> list[Output]:
        return [Say(Message(N_("button.stale"))), *self._reask(state, today)]

    def _advance(self, state: DialogState, today: date) -> list[Output]:
        """Ask the next fact that can change an outcome, or give the verdict."""
        programs = self._selected(state)
        if not programs:
            state.phase = Phase.PROGRAMS
            return [prompts.programs_prompt(self.programs, today)]
        fact = next_question(state.facts(), programs, today, state.skipped)
        state.attempts, state.candidates, state.editing = 0, [], None
        if fact is None:
            state.phase, state.pending = Phase.DONE, None
            return self._verdict(state, today)
        if self.require_consent and state.consent != self.consent_version:
            state.phase, state.pending = Phase.CONSENT, None
            return [prompts.consent_prompt(self.retention_days)]
        state.phase, state.pending = Phase.QUESTION, fact
        return [prompts.question_prompt(state, fact, programs, today)]

    def _verdict(self, state: DialogState, today: date) -> list[Output]:
        programs = self._selected(state)
        facts = state.facts()
        cards: list[Output] = [VerdictCard(evaluate(facts, p, today)) for p in programs]
        return [*cards, prompts.done_prompt(programs)]

    # --- what is not an answer ---------------------------------------------------------------

    def _interruption(
        self, state: DialogState, text: str, today: date, *, attempt: bool, invalid: Invalid | None = None
    ) -> list[Output]:
        """A question goes to the hook (the FAQ); a greeting is answered; else a failed attempt.

        Text that may be a mistyped answer (`attempt`, not phrased as a question) is answered by
        the hook only when it is sure; otherwise the person hears what was wrong with the answer.
        """
        kind = classify(text)
        question = kind is Interruption.QUESTION or not attempt
        if self.interrupt is not None and kind not in (Interruption.GREETING, Interruption.THANKS):
            pending = state.pending if state.phase in ANSWERING else None
            answered = self.interrupt.answer(
                text, state.lang, list(state.programs), today, pending=pending, sure_only=not question
            )
            if answered:
                return [*answered, *self._reask(state, today)]
        if kind is Interruption.GREETING:
            return [Say(Message(N_("interrupt.greeting"))), *self._reask(state, today)]
        if kind is Interruption.THANKS:
            return [Say(Message(N_("interrupt.thanks"))), *self._reask(state, today)]
        if kind is Interruption.QUESTION:  # kept for staff: a question nobody could answer
            return [Unanswered(text), Say(Message(N_("interrupt.unanswered"))), *self._reask(state, today)]
        if question:  # "ok", "bof" after the verdict: not a question to keep, nor a wrong answer
            return [Say(Message(N_("interrupt.not_understood"))), *self._reask(state, today)]
        return self._failed(state, invalid or Invalid(N_("parse.choice.none")), today)

    def _failed(self, state: DialogState, problem: Invalid, today: date) -> list[Output]:
        state.attempts += 1
        outputs: list[Output] = [Say(Message(problem.reason, problem.params))]
        if state.phase is Phase.CONFIRM_DATE:
            state.phase, state.candidates = Phase.QUESTION, []
        if state.attempts >= self.max_attempts and state.phase is Phase.QUESTION:
            outputs.append(Say(Message(N_("attempts.rescue"))))
            return outputs + self._reask(state, today, rescue=True)
        return outputs + self._reask(state, today)

    # --- answers -----------------------------------------------------------------------------

    def _answer(self, state: DialogState, value: Any, today: date) -> list[Output]:
        """A pressed or confirmed value: checked as a typed one is (`parse_answer`), then recorded."""
        if state.pending is None:
            return self._reask(state, today)
        if problem := check_answer(state.pending, value, today=today, facts=state.facts()):
            return self._failed(state, problem, today)
        return self._record(state, value, today)

    def _record(self, state: DialogState, value: Any, today: date) -> list[Output]:
        fact = state.pending
        if fact is None:
            return self._reask(state, today)
        before = state.answers.get(fact)
        state.set_answer(fact, value)
        if before is not None and before != state.answers[fact]:
            state.forget(dependents(fact))
        outputs: list[Output] = []
        if QUESTIONS[fact].kind in (InputKind.DATE, InputKind.NUMBER):
            shown = prompts.answer_value(state, fact)
            outputs.append(Say(Message(N_("answer.noted"), {"value": shown})))
        return outputs + self._advance(state, today)

    def _set_aside(self, state: DialogState, today: date, *, dont_know: bool) -> list[Output]:
        """/skip or "I don't know": the pending fact stays unknown (never "no" or zero), is not
        asked again, and /review can take it up. Not knowing a fact being changed drops its old answer."""
        fact = state.pending
        if state.phase not in ANSWERING or fact is None:
            return [Say(Message(N_("skip.nothing"))), *self._reask(state, today)]
        if dont_know and fact in state.answers:
            state.forget({fact} | dependents(fact))
        if fact not in state.skipped:
            state.skipped.append(fact)
        key = N_("dont_know.noted") if dont_know else N_("skip.done")
        return [Say(Message(key)), *self._advance(state, today)]

    def _choose_programs(self, state: DialogState, value: str, today: date) -> list[Output]:
        if value != prompts.ALL_OPEN and value not in self.programs:  # an offer removed since, or forged
            return [Say(Message(N_("button.stale"))), prompts.programs_prompt(self.programs, today)]
        open_now = [p.id for p in self.programs.values() if p.offer_open(today)]
        chosen = open_now if value == prompts.ALL_OPEN else [value]
        if not chosen:
            return [Say(Message(N_("programs.none_open"))), prompts.programs_prompt(self.programs, today)]
        state.programs = chosen
        outputs: list[Output] = [
            Say(Message(N_("programs.closed_note"), {"title": p.short_title.localized(), "deadline": p.deadline_date}))
            for p in self._selected(state)
            if not p.offer_open(today) and p.deadline_date is not None
        ]
        return outputs + self._advance(state, today)

    def _consent(self, state: DialogState, accepted: bool, today: date) -> list[Output]:
        if accepted:
            state.consent = self.consent_version
            return [Say(Message(N_("consent.thanks"))), *self._advance(state, today)]
        state.phase = Phase.DECLINED
        return [Say(Message(N_("consent.declined")))]

    def _review_pick(self, state: DialogState, value: str, today: date) -> list[Output]:
        if value == "?done":
            return self._advance(state, today)
        if value not in QUESTIONS or (value not in state.answers and value not in state.skipped):
            return self._stale(state, today)
        state.phase, state.pending, state.editing, state.attempts = Phase.QUESTION, value, value, 0
        if value in state.skipped:
            state.skipped.remove(value)
        return self._reask(state, today)
