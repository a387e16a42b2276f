"""Eligibility rules: the offers as data and pure evaluation. Imports nothing of the project."""

from .criteria import KINDS
from .criterion import Choice, Outcome, Quantity
from .dates import age_on, shift_months, shift_years
from .errors import FactError, OfferFileError, RulesError, UnknownProgramError
from .evaluate import CriterionResult, ProgramResult, Status, evaluate, status_of
from .facts import (
    CHOICE_LABELS,
    FACT_LABELS,
    FACTS,
    Facts,
    FactSpec,
    FactType,
    FactValue,
    dump_facts,
    parse_fact,
    parse_facts,
)
from .messages import N_, AnyOf, Lines, Localized, Message, Money
from .model import NotStated, OutsideSource, Program, load_program, load_programs, select_programs
from .questioning import next_question, questions_to_ask

__all__ = [
    "CHOICE_LABELS",
    "FACTS",
    "FACT_LABELS",
    "KINDS",
    "N_",
    "AnyOf",
    "Choice",
    "CriterionResult",
    "FactError",
    "FactSpec",
    "FactType",
    "FactValue",
    "Facts",
    "Lines",
    "Localized",
    "Message",
    "Money",
    "NotStated",
    "OfferFileError",
    "Outcome",
    "OutsideSource",
    "Program",
    "ProgramResult",
    "Quantity",
    "RulesError",
    "Status",
    "UnknownProgramError",
    "age_on",
    "dump_facts",
    "evaluate",
    "load_program",
    "load_programs",
    "next_question",
    "parse_fact",
    "parse_facts",
    "questions_to_ask",
    "select_programs",
    "shift_months",
    "shift_years",
    "status_of",
]
