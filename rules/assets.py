"""Asset kinds: advisory criteria that never block, shown with the verdict."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from .criterion import Choice, KindParams, Outcome, SingleFactCriterion, Verdict, choice_list
from .facts import FACT_LABELS, Facts
from .messages import N_, Message
from .model import Program

# --- assets: advisory, never blocking ----------------------------------------------------------


class FieldAssetParams(KindParams):
    fields: list[str] = Field(min_length=1)


class FieldOfStudyAsset(SingleFactCriterion):
    Params = FieldAssetParams
    FACT = "field_of_study"
    advisory = True

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, FieldAssetParams)
        params: dict[str, Any] = {"fields": choice_list("field_of_study", p.fields)}
        value = facts.get("field_of_study")
        if not isinstance(value, str):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.field_of_study.unknown"), params))
        params["field"] = Choice("field_of_study", value)
        if value == "other":
            return Verdict(Outcome.NOT_MET, Message(N_("explain.field_of_study.other"), params))
        if value in p.fields:
            return Verdict(Outcome.MET, Message(N_("explain.field_of_study.met"), params))
        return Verdict(Outcome.NOT_MET, Message(N_("explain.field_of_study.not_met"), params))


class YesNoAssetParams(KindParams):
    fact: str


class YesNoAsset(SingleFactCriterion):
    """An asset held when a yes/no fact is yes (e.g. knowing Spanish)."""

    Params = YesNoAssetParams
    advisory = True

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, YesNoAssetParams)
        answer = facts.get(p.fact)
        params = {"asset": Message(FACT_LABELS[p.fact])}
        if not isinstance(answer, bool):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.asset.unknown"), params))
        if answer:
            return Verdict(Outcome.MET, Message(N_("explain.asset.met"), params))
        return Verdict(Outcome.NOT_MET, Message(N_("explain.asset.not_met"), params))
