"""The facts a person gives (docs/contracts.md), their types, and strict parsing of JSON values."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from .errors import FactError
from .messages import N_


class FactType(StrEnum):
    DATE = "date"
    CHOICE = "choice"
    YES_NO = "yes_no"
    NUMBER = "number"


@dataclass(frozen=True)
class FactSpec:
    """One fact of the contract: its name, type and, for a closed choice, its stable value ids."""

    name: str
    type: FactType
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    advisory: bool = False

    def expected(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.type is FactType.DATE:
            return "expected a date YYYY-MM-DD"
        if self.type is FactType.YES_NO:
            return "expected true or false"
        if self.type is FactType.NUMBER:
            return "expected a number >= 0"
        return "expected one of " + ", ".join(self.choices)


EDUCATION_LEVELS = (
    "bachelor_final_year",
    "bachelor_in_progress",
    "master_in_progress",
    "phd_in_progress",
    "bar_school",
    "graduated",
    "none",
)
DEGREES = ("none", "bachelor", "master", "phd")
CITIZENSHIPS = ("canadian", "permanent_resident", "other")
WRITING_LEVELS = ("basic", "good", "excellent")
FIELDS_OF_STUDY = (
    "economics",
    "international_relations",
    "business",
    "social_sciences",
    "law",
    "development",
    "international_affairs",
    "other",
)

FACTS: dict[str, FactSpec] = {
    spec.name: spec
    for spec in (
        FactSpec("birth_date", FactType.DATE),
        FactSpec("education", FactType.CHOICE, EDUCATION_LEVELS),
        FactSpec("highest_degree", FactType.CHOICE, DEGREES),
        FactSpec("graduation_date", FactType.DATE),
        FactSpec("relevant_experience_years", FactType.NUMBER, minimum=0),
        FactSpec("iom_interest", FactType.YES_NO),
        FactSpec("citizenship", FactType.CHOICE, CITIZENSHIPS),
        FactSpec("quebec_domicile", FactType.YES_NO),
        FactSpec("quebec_resident_since", FactType.DATE),
        FactSpec("french_writing", FactType.CHOICE, ("excellent", "good", "basic")),
        FactSpec("english_writing", FactType.CHOICE, ("excellent", "good", "basic")),
        FactSpec("prior_psoig_internship", FactType.YES_NO),
        FactSpec("spanish", FactType.YES_NO, advisory=True),
        FactSpec("field_of_study", FactType.CHOICE, FIELDS_OF_STUDY, advisory=True),
    )
}

FactValue = date | str | bool | float
Facts = Mapping[str, FactValue]


def parse_fact(name: str, raw: Any) -> FactValue | None:
    """A JSON value turned into the fact's Python value; None stays unknown.

    Raises `FactError` naming the fact and what it expects.
    """
    spec = FACTS.get(name)
    if spec is None:
        raise FactError(name, "unknown fact; expected one of " + ", ".join(FACTS))
    if raw is None:
        return None
    if spec.type is FactType.DATE:
        if isinstance(raw, date):
            return raw
        if not isinstance(raw, str):
            raise FactError(name, spec.expected())
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
                raise FactError(name, f"no such day: {raw!r}; expected a real date YYYY-MM-DD") from None
            raise FactError(name, spec.expected() + f", got {raw!r}") from None
    if spec.type is FactType.YES_NO:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"yes", "no", "true", "false"}:
            return raw.strip().lower() in {"yes", "true"}
        raise FactError(name, spec.expected())
    if spec.type is FactType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise FactError(name, spec.expected())
        number = float(raw)
        if not math.isfinite(number) or (spec.minimum is not None and number < spec.minimum):
            raise FactError(name, spec.expected())
        return number
    if not isinstance(raw, str) or raw not in spec.choices:
        raise FactError(name, spec.expected())
    return raw


def parse_facts(raw: Mapping[str, Any]) -> dict[str, FactValue]:
    """A JSON object of answers checked fact by fact; unknown (null) facts are left out."""
    facts: dict[str, FactValue] = {}
    for name, value in raw.items():
        parsed = parse_fact(name, value)
        if parsed is not None:
            facts[name] = parsed
    return facts


def dump_facts(facts: Facts) -> dict[str, Any]:
    """Facts as plain JSON values (dates as ISO strings)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in facts.items()}


def _labels() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    # Every key is written out so that pybabel finds it; a test checks the table is complete.
    facts = {
        "birth_date": N_("fact.birth_date"),
        "education": N_("fact.education"),
        "highest_degree": N_("fact.highest_degree"),
        "graduation_date": N_("fact.graduation_date"),
        "relevant_experience_years": N_("fact.relevant_experience_years"),
        "iom_interest": N_("fact.iom_interest"),
        "citizenship": N_("fact.citizenship"),
        "quebec_domicile": N_("fact.quebec_domicile"),
        "quebec_resident_since": N_("fact.quebec_resident_since"),
        "french_writing": N_("fact.french_writing"),
        "english_writing": N_("fact.english_writing"),
        "prior_psoig_internship": N_("fact.prior_psoig_internship"),
        "spanish": N_("fact.spanish"),
        "field_of_study": N_("fact.field_of_study"),
    }
    choices = {
        ("education", "bachelor_final_year"): N_("choice.education.bachelor_final_year"),
        ("education", "bachelor_in_progress"): N_("choice.education.bachelor_in_progress"),
        ("education", "master_in_progress"): N_("choice.education.master_in_progress"),
        ("education", "phd_in_progress"): N_("choice.education.phd_in_progress"),
        ("education", "bar_school"): N_("choice.education.bar_school"),
        ("education", "graduated"): N_("choice.education.graduated"),
        ("education", "none"): N_("choice.education.none"),
        ("highest_degree", "none"): N_("choice.highest_degree.none"),
        ("highest_degree", "bachelor"): N_("choice.highest_degree.bachelor"),
        ("highest_degree", "master"): N_("choice.highest_degree.master"),
        ("highest_degree", "phd"): N_("choice.highest_degree.phd"),
        ("citizenship", "canadian"): N_("choice.citizenship.canadian"),
        ("citizenship", "permanent_resident"): N_("choice.citizenship.permanent_resident"),
        ("citizenship", "other"): N_("choice.citizenship.other"),
        ("french_writing", "excellent"): N_("choice.level.excellent"),
        ("french_writing", "good"): N_("choice.level.good"),
        ("french_writing", "basic"): N_("choice.level.basic"),
        ("english_writing", "excellent"): N_("choice.level.excellent"),
        ("english_writing", "good"): N_("choice.level.good"),
        ("english_writing", "basic"): N_("choice.level.basic"),
        ("field_of_study", "economics"): N_("choice.field_of_study.economics"),
        ("field_of_study", "international_relations"): N_("choice.field_of_study.international_relations"),
        ("field_of_study", "business"): N_("choice.field_of_study.business"),
        ("field_of_study", "social_sciences"): N_("choice.field_of_study.social_sciences"),
        ("field_of_study", "law"): N_("choice.field_of_study.law"),
        ("field_of_study", "development"): N_("choice.field_of_study.development"),
        ("field_of_study", "international_affairs"): N_("choice.field_of_study.international_affairs"),
        ("field_of_study", "other"): N_("choice.field_of_study.other"),
    }
    return facts, choices


FACT_LABELS, CHOICE_LABELS = _labels()
