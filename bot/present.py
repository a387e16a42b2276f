"""Results as channels show them: the verdict JSON of the command line and the Rasa actions."""

from __future__ import annotations

from typing import Any

from rules import CriterionResult, Message, ProgramResult

from .i18n import render


def criterion_text(criterion: CriterionResult, lang: str) -> str:
    """The explanation with its computed values, then the offer's own words."""
    explanation = render(criterion.explanation, lang)
    quote = render(Message("explain.quote", {"quote": criterion.quote.rstrip(" ;")}), lang)
    return f"{explanation} {quote}"


def criterion_json(criterion: CriterionResult, lang: str) -> dict[str, Any]:
    return {"id": criterion.id, "result": criterion.result.value, "explanation": criterion_text(criterion, lang)}


def result_json(result: ProgramResult, lang: str) -> dict[str, Any]:
    """One program's verdict in the shape of docs/contracts.md (plus title, deadline and assets)."""
    program = result.program
    deadline = program.deadline_date
    return {
        "id": program.id,
        "title": program.title.localized().in_language(lang),
        "status": result.status.value,
        "offer_open": result.offer_open,
        "deadline": deadline.isoformat() if deadline else None,
        "criteria": [criterion_json(c, lang) for c in result.criteria],
        "assets": [criterion_json(c, lang) for c in result.assets],
        "missing_facts": list(result.missing_facts),
    }
