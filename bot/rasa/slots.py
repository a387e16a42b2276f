"""What the action server reads from a Rasa tracker, defensively: slots are set by an assistant we
do not control, so any value may be missing, mistyped or forged. Nothing here raises.

Fact slots hold the contract's JSON values (dates as ISO strings, `true`/`false`, a number of
years, a choice id); while the form validates one, it holds the person's raw text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dialogs.answers import check_answer
from dialogs.questions import QUESTIONS, InputKind
from rules import FACTS, FactError, FactValue, Program, parse_fact

from ..i18n import LANGUAGES, Lang

FORM = "eligibility_form"
LANGUAGE = "language"
PROGRAMS = "programs"
UNKNOWN_FACTS = "unknown_facts"  # facts the person said they do not know: not asked again
DATE_READINGS = "date_readings"  # {"fact", "readings": [two ISO dates]}: an ambiguous date to choose from
RESULTS = "eligibility_results"
FAQ_TOPIC = "faq_topic"  # the slot, and the entity of a "did you mean" button's payload
FAQ_INTENT = "ask_faq"  # the intent of a "did you mean" button's payload
REQUESTED_SLOT = "requested_slot"

FACT_SLOTS: tuple[str, ...] = tuple(name for name in FACTS if name in QUESTIONS)
MAX_IDS = 20  # offer ids read from the `programs` slot (a forged list of thousands is cut)
SHOWN_ID = 40  # characters of an unknown offer id repeated back to the person


def language(slots: Mapping[str, Any], default: Lang) -> Lang:
    value = slots.get(LANGUAGE)
    if isinstance(value, str):
        for lang in LANGUAGES:
            if value.strip().lower().startswith(lang):  # "fr", "fr-CA", "FR"
                return lang
    return default


@dataclass(frozen=True)
class Offers:
    """The offers a conversation is about: `programs` slot, else every open offer."""

    chosen: tuple[Program, ...]
    unknown: tuple[str, ...]  # ids in the slot that no offer has (cut to `SHOWN_ID` characters)
    asked: bool  # the slot named offers (else: every open offer)


def offers(slots: Mapping[str, Any], programs: Mapping[str, Program], today: date) -> Offers:
    raw = slots.get(PROGRAMS)
    if isinstance(raw, str):
        raw = [raw]
    ids = [value.strip() for value in raw[:MAX_IDS] if isinstance(value, str)] if isinstance(raw, list) else []
    ids = [value for value in dict.fromkeys(ids) if value]
    if not ids:
        return Offers(tuple(p for p in programs.values() if p.offer_open(today)), (), asked=False)
    chosen = tuple(programs[value] for value in ids if value in programs)
    unknown = tuple(value[:SHOWN_ID] for value in ids if value not in programs)
    return Offers(chosen, unknown, asked=True)


def unknown_facts(slots: Mapping[str, Any]) -> list[str]:
    raw = slots.get(UNKNOWN_FACTS)
    if not isinstance(raw, list):
        return []
    return list(dict.fromkeys(value for value in raw if isinstance(value, str) and value in QUESTIONS))


def date_readings(slots: Mapping[str, Any], fact: str) -> tuple[date, date] | None:
    """The two readings of an ambiguous date typed for `fact`, waiting for the person to choose."""
    raw = slots.get(DATE_READINGS)
    question = QUESTIONS.get(fact)
    if not isinstance(raw, dict) or raw.get("fact") != fact or question is None or question.kind is not InputKind.DATE:
        return None
    readings = raw.get("readings")
    if not isinstance(readings, list) or len(readings) != 2 or not all(isinstance(r, str) for r in readings):
        return None
    try:
        first, second = (date.fromisoformat(r) for r in readings)
    except ValueError:
        return None
    return first, second


def within_bounds(name: str, value: FactValue) -> bool:
    """A number of years no larger than the question allows (the chat refuses "400 years")."""
    question = QUESTIONS.get(name)
    if question is None or question.kind is not InputKind.NUMBER or not isinstance(value, float):
        return True
    return value <= question.maximum


@dataclass(frozen=True)
class Answers:
    facts: dict[str, FactValue]  # the slots that hold a fact's value
    unreadable: tuple[str, ...]  # fact slots holding something else (raw text, a forged value)


def answers(slots: Mapping[str, Any], today: date, *, leave_out: Sequence[str] = ()) -> Answers:
    """The fact slots read as the rules take them, each checked as the chat checks a typed answer
    (`check_answer`): a value the chat would refuse (a birth date in the future) is not a fact."""
    parsed: dict[str, FactValue] = {}
    unreadable: list[str] = []
    for name in FACT_SLOTS:
        raw = slots.get(name)
        if raw is None or name in leave_out:
            continue
        try:
            value = parse_fact(name, raw)
        except (FactError, TypeError, ValueError, OverflowError):
            unreadable.append(name)
            continue
        if value is not None and within_bounds(name, value):
            parsed[name] = value
        elif value is not None:
            unreadable.append(name)
    facts: dict[str, FactValue] = {}
    for name, value in parsed.items():
        if check_answer(name, value, today=today, facts=parsed) is None:
            facts[name] = value
        else:
            unreadable.append(name)
    return Answers(facts, tuple(unreadable))
