"""The dialog state: plain JSON with a version number, stored by channels after every step.

A newer bot loads an older state through `MIGRATIONS`; a state it cannot read (corrupt, or
from a newer version) is replaced by a fresh one, flagged so the engine apologises politely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from rules import FACTS, FactError, FactValue, dump_facts, parse_fact

VERSION = 1


class Phase(StrEnum):
    """Where a conversation stands; the values are what stored states hold, so never change them."""

    WELCOME = "welcome"  # nothing shown yet
    PROGRAMS = "programs"  # the offer menu
    CONSENT = "consent"  # the privacy notice, before the first personal question
    DECLINED = "declined"  # the notice was declined: nothing is asked
    QUESTION = "question"  # a fact is pending
    CONFIRM_DATE = "confirm_date"  # a numeric date that reads two ways, to confirm in words
    REVIEW = "review"  # the list of answers, to change one
    DONE = "done"  # the verdict was given


PHASES = tuple(phase.value for phase in Phase)  # kept for callers that list the stored strings
ANSWERING = frozenset({Phase.QUESTION, Phase.CONFIRM_DATE})  # a fact is pending: answers, skip, "I don't know"


@dataclass
class DialogState:
    lang: str = "fr"
    phase: Phase = Phase.WELCOME
    programs: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)  # JSON values (dates as ISO strings)
    skipped: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # order of answers, for "back"
    pending: str | None = None
    attempts: int = 0
    candidates: list[str] = field(default_factory=list)  # an ambiguous date's two readings
    editing: str | None = None  # a fact being changed from the review
    consent: int | None = None  # version of the privacy notice accepted
    reset_notice: bool = False  # the stored state could not be used: say so once

    def __post_init__(self) -> None:
        # Stored states and older callers give the phase as a plain string; an unknown one raises ValueError.
        self.phase = Phase(self.phase)

    def facts(self) -> dict[str, FactValue]:
        """The answers as typed facts; an answer that no longer parses is left out."""
        facts: dict[str, FactValue] = {}
        for name, raw in self.answers.items():
            try:
                value = parse_fact(name, raw)
            except FactError:
                continue
            if value is not None:
                facts[name] = value
        return facts

    def set_answer(self, fact: str, value: FactValue) -> None:
        self.answers[fact] = dump_facts({fact: value})[fact]
        if fact in self.asked:
            self.asked.remove(fact)
        self.asked.append(fact)
        if fact in self.skipped:
            self.skipped.remove(fact)

    def forget(self, facts: set[str]) -> None:
        for fact in facts:
            self.answers.pop(fact, None)
            if fact in self.asked:
                self.asked.remove(fact)
            if fact in self.skipped:
                self.skipped.remove(fact)

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, **asdict(self), "phase": self.phase.value}


# From version N to N+1, for every N below VERSION; each returns the state with "v" raised.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def load_state(raw: Any, *, lang: str = "fr") -> DialogState:
    """A stored state, migrated to the current version; unusable -> a fresh state that says so."""
    if raw is None:
        return DialogState(lang=lang)
    try:
        version = int(raw.get("v", 0))
        while version < VERSION:
            raw = MIGRATIONS[version](raw)
            version = int(raw["v"])
        if version != VERSION:
            raise ValueError("state from a newer version")
        known = {k: v for k, v in raw.items() if k in DialogState.__dataclass_fields__}
        state = DialogState(**known)
        if state.pending is not None and state.pending not in FACTS:  # an unknown phase already raised
            raise ValueError("unknown question")
        if not isinstance(state.answers, dict) or state.lang not in ("fr", "en"):
            raise ValueError("malformed answers or language")
        if len(state.candidates) not in (0, 2) or any(date.fromisoformat(d) is None for d in state.candidates):
            raise ValueError("malformed date readings")
        state.answers = {k: v for k, v in state.answers.items() if k in FACTS}
        state.asked = [f for f in state.asked if f in state.answers]
        return state
    except (AttributeError, KeyError, TypeError, ValueError):
        return DialogState(lang=raw.get("lang", lang) if isinstance(raw, dict) else lang, reset_notice=True)
