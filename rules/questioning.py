"""Goal-driven questioning: which missing facts can still change an outcome, and in what order.

A fact is asked only if some selected program is not yet ruled out and one of its criteria
needs that fact next. A follow-up (the degree after "graduated") comes at once; then facts that
more programs need; ties keep the contract's order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from .criteria import compile_criteria
from .evaluate import Status, status_of
from .facts import FACTS, Facts
from .model import Program

_ORDER = {name: index for index, name in enumerate(FACTS)}


def questions_to_ask(
    facts: Facts,
    programs: Iterable[Program],
    today: date,
    skipped: Collection[str] = (),
    *,
    include_assets: bool = True,
) -> list[str]:
    """Missing facts that can still change some program's status (or, then, its assets).

    `skipped` are facts the person chose not to answer: they stay unknown and are not asked again.
    Blocking facts come before assets; within each group, facts needed by more programs first.
    """
    blocking_votes: dict[str, int] = {}
    asset_votes: dict[str, int] = {}
    follow_ups: set[str] = set()
    for program in programs:
        blocking, assets = compile_criteria(program)
        outcomes = [c.evaluate(facts, program, today).outcome for c in blocking]
        if status_of(outcomes) is Status.NOT_ELIGIBLE:
            continue
        for criterion in blocking:
            started = any(f in facts for f in criterion.facts())
            for fact in criterion.needed(facts):
                if fact not in skipped:
                    blocking_votes[fact] = blocking_votes.get(fact, 0) + 1
                    if started:
                        follow_ups.add(fact)
        if include_assets:
            for criterion in assets:
                for fact in criterion.needed(facts):
                    if fact not in skipped:
                        asset_votes[fact] = asset_votes.get(fact, 0) + 1

    def ranked(votes: dict[str, int]) -> list[str]:
        return sorted(votes, key=lambda f: (f not in follow_ups, -votes[f], _ORDER.get(f, len(_ORDER))))

    ordered = ranked(blocking_votes)
    ordered += [f for f in ranked(asset_votes) if f not in blocking_votes]
    return ordered


def next_question(facts: Facts, programs: Iterable[Program], today: date, skipped: Collection[str] = ()) -> str | None:
    """The one fact to ask now, or None when nothing can change any outcome any more."""
    remaining = questions_to_ask(facts, programs, today, skipped)
    return remaining[0] if remaining else None
