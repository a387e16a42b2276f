"""The vocabulary of criterion kinds; an offer file parameterises them, so a new offer needs no code.

Each kind says which unknown fact decides it next (`needed`) and evaluates to met, not met or
unknown with an explanation that shows the computed values. Unknown is never false or zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from .criterion import (
    Choice,
    Criterion,
    KindParams,
    Outcome,
    Quantity,
    ReferenceName,
    SingleFactCriterion,
    Verdict,
    choice_list,
    reference,
    tense,
)
from .dates import age_on, shift_months, shift_years
from .facts import DEGREES, EDUCATION_LEVELS, FACT_LABELS, FACTS, WRITING_LEVELS, Facts, FactType
from .messages import N_, Message
from .model import Program

# --- age range at a reference date -------------------------------------------------------------


class AgeParams(KindParams):
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    at: ReferenceName


AGE_KEYS = {
    ("met", "future"): N_("explain.age.met.future"),
    ("met", "past"): N_("explain.age.met.past"),
    ("met", "present"): N_("explain.age.met.present"),
    ("too_young", "future"): N_("explain.age.too_young.future"),
    ("too_young", "past"): N_("explain.age.too_young.past"),
    ("too_young", "present"): N_("explain.age.too_young.present"),
    ("too_old", "future"): N_("explain.age.too_old.future"),
    ("too_old", "past"): N_("explain.age.too_old.past"),
    ("too_old", "present"): N_("explain.age.too_old.present"),
}


class AgeRange(SingleFactCriterion):
    Params = AgeParams
    FACT = "birth_date"

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, AgeParams)
        on, named = reference(program, today, p.at)
        common = {
            "date": on,
            "reference": named,
            "min": p.min_age,
            "max": p.max_age,
        }
        birth = facts.get("birth_date")
        if not isinstance(birth, date):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.age.unknown"), common))
        age = age_on(birth, on)
        case = "too_young" if age < p.min_age else "too_old" if age > p.max_age else "met"
        outcome = Outcome.MET if case == "met" else Outcome.NOT_MET
        params = {**common, "age": Quantity(age, "duration-year")}
        return Verdict(outcome, Message(AGE_KEYS[(case, tense(on, today))], params))


# --- education, with a window for recent graduates ---------------------------------------------


class GraduationWindow(KindParams):
    years: int = Field(default=0, ge=0)
    months: int = Field(default=0, ge=0)
    before: ReferenceName
    include_reference_day: bool

    @model_validator(mode="after")
    def _not_empty(self) -> GraduationWindow:
        if self.years == 0 and self.months == 0:
            raise ValueError("a graduation window needs years or months")
        return self

    def bounds(self, reference: date) -> tuple[date, date]:
        """First and last day of the window, both inclusive."""
        first = shift_months(shift_years(reference, -self.years), -self.months)
        last = reference if self.include_reference_day else date.fromordinal(reference.toordinal() - 1)
        return first, last


class EducationParams(KindParams):
    accepted_in_progress: list[str]
    graduated_degrees: list[str]
    window: GraduationWindow

    @model_validator(mode="after")
    def _known_values(self) -> EducationParams:
        for value in self.accepted_in_progress:
            if value not in EDUCATION_LEVELS or value == "graduated":
                raise ValueError(f"unknown education level {value!r}")
        for degree in self.graduated_degrees:
            if degree not in DEGREES or degree == "none":
                raise ValueError(f"unknown degree {degree!r}")
        return self


class Education(Criterion):
    Params = EducationParams

    def facts(self) -> tuple[str, ...]:
        return ("education", "highest_degree", "graduation_date")

    def needed(self, facts: Facts) -> list[str]:
        p = self.params
        assert isinstance(p, EducationParams)
        education = facts.get("education")
        if education is None:
            return ["education"]
        if education in p.accepted_in_progress or education == "none":
            return []
        # Graduated, or enrolled in a programme the offer does not accept: a recent degree may still count.
        degree = facts.get("highest_degree")
        if degree is None:
            return ["highest_degree"]
        if degree in p.graduated_degrees and "graduation_date" not in facts:
            return ["graduation_date"]
        return []

    def _accepted_as_enrolled(self, params: dict[str, Any]) -> Message:
        """Accepted as enrolled; when the offer condenses a fuller published rule, name that rule.

        Otherwise the offer's own quote, shown next to the explanation, would seem to contradict it
        (IOM's Rabat offer names only the final year of a first degree, not graduate students).
        """
        fuller = self.spec.also_stated_in
        if not fuller:
            return Message(N_("explain.education.in_progress.met"), params)
        page = {"title": fuller[0].title, "url": fuller[0].url}
        return Message(N_("explain.education.in_progress.met_fuller_rule"), {**params, **page})

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, EducationParams)
        on, named = reference(program, today, p.window.before)
        first, last = p.window.bounds(on)
        params: dict[str, Any] = {
            "first": first,
            "last": last,
            "reference": named,
            "accepted": choice_list("education", p.accepted_in_progress),
            "degrees": choice_list("highest_degree", p.graduated_degrees),
        }
        education = facts.get("education")
        if not isinstance(education, str):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.education.unknown"), params))
        params["status"] = Choice("education", education)
        if education in p.accepted_in_progress:
            return Verdict(Outcome.MET, self._accepted_as_enrolled(params))
        if education == "none":
            return Verdict(Outcome.NOT_MET, Message(N_("explain.education.in_progress.not_met"), params))
        degree = facts.get("highest_degree")
        if not isinstance(degree, str):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.education.unknown_degree"), params))
        params["degree"] = Choice("highest_degree", degree)
        if degree not in p.graduated_degrees:
            key = (
                N_("explain.education.degree.not_met")
                if education == "graduated"
                else N_("explain.education.in_progress.not_met")
            )
            return Verdict(Outcome.NOT_MET, Message(key, params))
        graduated_on = facts.get("graduation_date")
        if not isinstance(graduated_on, date):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.education.unknown_date"), params))
        params["graduated_on"] = graduated_on
        if graduated_on < first:
            return Verdict(Outcome.NOT_MET, Message(N_("explain.education.graduated.too_early"), params))
        if graduated_on > last:
            return Verdict(Outcome.NOT_MET, Message(N_("explain.education.graduated.too_late"), params))
        return Verdict(Outcome.MET, Message(N_("explain.education.graduated.met"), params))


# --- closed sets and yes/no requirements -------------------------------------------------------


class CitizenshipParams(KindParams):
    accepted: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> CitizenshipParams:
        for value in self.accepted:
            if value not in FACTS["citizenship"].choices:
                raise ValueError(f"unknown citizenship {value!r}")
        return self


class Citizenship(SingleFactCriterion):
    Params = CitizenshipParams
    FACT = "citizenship"

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, CitizenshipParams)
        params: dict[str, Any] = {"accepted": choice_list("citizenship", p.accepted)}
        status = facts.get("citizenship")
        if not isinstance(status, str):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.citizenship.unknown"), params))
        params["status"] = Choice("citizenship", status)
        if status in p.accepted:
            return Verdict(Outcome.MET, Message(N_("explain.citizenship.met"), params))
        return Verdict(Outcome.NOT_MET, Message(N_("explain.citizenship.not_met"), params))


class YesNoParams(KindParams):
    fact: str
    required: bool
    explain_as: Literal["iom_work"] | None = None  # the offer's own wording, when it differs from the fact's

    @model_validator(mode="after")
    def _yes_no_fact(self) -> YesNoParams:
        spec = FACTS.get(self.fact)
        if spec is None or spec.type is not FactType.YES_NO:
            raise ValueError(f"{self.fact!r} is not a yes/no fact")
        return self


YES_NO_KEYS = {
    ("iom_work", Outcome.MET): N_("explain.iom_work.met"),
    ("iom_work", Outcome.NOT_MET): N_("explain.iom_work.not_met"),
    ("iom_work", Outcome.UNKNOWN): N_("explain.iom_work.unknown"),
    ("quebec_domicile", Outcome.MET): N_("explain.quebec_domicile.met"),
    ("quebec_domicile", Outcome.NOT_MET): N_("explain.quebec_domicile.not_met"),
    ("quebec_domicile", Outcome.UNKNOWN): N_("explain.quebec_domicile.unknown"),
    ("iom_interest", Outcome.MET): N_("explain.iom_interest.met"),
    ("iom_interest", Outcome.NOT_MET): N_("explain.iom_interest.not_met"),
    ("iom_interest", Outcome.UNKNOWN): N_("explain.iom_interest.unknown"),
    ("prior_psoig_internship", Outcome.MET): N_("explain.prior_psoig_internship.met"),
    ("prior_psoig_internship", Outcome.NOT_MET): N_("explain.prior_psoig_internship.not_met"),
    ("prior_psoig_internship", Outcome.UNKNOWN): N_("explain.prior_psoig_internship.unknown"),
}


class YesNoRequirement(SingleFactCriterion):
    """A yes/no fact that must have the required answer (domicile, interest, prior participation)."""

    Params = YesNoParams

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, YesNoParams)
        answer = facts.get(p.fact)
        if not isinstance(answer, bool):
            outcome = Outcome.UNKNOWN
        else:
            outcome = Outcome.MET if answer == p.required else Outcome.NOT_MET
        key = YES_NO_KEYS.get((p.explain_as or p.fact, outcome))
        if key is None:
            key = {
                Outcome.MET: N_("explain.yes_no.met"),
                Outcome.NOT_MET: N_("explain.yes_no.not_met"),
                Outcome.UNKNOWN: N_("explain.yes_no.unknown"),
            }[outcome]
        return Verdict(outcome, Message(key, {"fact": Message(FACT_LABELS[p.fact])}))


# --- durations and ceilings --------------------------------------------------------------------


class ResidencyParams(KindParams):
    fact: str = "quebec_resident_since"
    min_years: int = Field(ge=1)
    at: ReferenceName


class ResidencyDuration(SingleFactCriterion):
    Params = ResidencyParams

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, ResidencyParams)
        on, named = reference(program, today, p.at)
        params: dict[str, Any] = {
            "date": on,
            "reference": named,
            "minimum": Quantity(p.min_years, "duration-year"),
            "required_since": shift_years(on, -p.min_years),
        }
        since = facts.get(p.fact)
        if not isinstance(since, date):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.residency.unknown"), params))
        params["since"] = since
        if age_on(since, on) >= p.min_years:
            return Verdict(Outcome.MET, Message(N_("explain.residency.met"), params))
        return Verdict(Outcome.NOT_MET, Message(N_("explain.residency.not_met"), params))


class ExperienceParams(KindParams):
    fact: str = "relevant_experience_years"
    max_years: float = Field(gt=0)
    include_max: bool


class ExperienceCeiling(SingleFactCriterion):
    Params = ExperienceParams

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, ExperienceParams)
        params: dict[str, Any] = {"max": Quantity(p.max_years, "duration-year")}
        years = facts.get(p.fact)
        if isinstance(years, bool) or not isinstance(years, int | float):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.experience.unknown"), params))
        params["years"] = Quantity(years, "duration-year")
        within = years <= p.max_years if p.include_max else years < p.max_years
        if years == 0:
            key = N_("explain.experience.none")
        elif p.include_max:
            key = N_("explain.experience.at_most.met") if within else N_("explain.experience.at_most.not_met")
        else:
            key = N_("explain.experience.less_than.met") if within else N_("explain.experience.less_than.not_met")
        return Verdict(Outcome.MET if within else Outcome.NOT_MET, Message(key, params))


class LanguageParams(KindParams):
    required: dict[str, Literal["basic", "good", "excellent"]] = Field(min_length=1)

    @model_validator(mode="after")
    def _level_facts(self) -> LanguageParams:
        for fact in self.required:
            if fact not in FACTS or FACTS[fact].choices != ("excellent", "good", "basic"):
                raise ValueError(f"{fact!r} is not a language level fact")
        return self


class LanguageLevels(Criterion):
    Params = LanguageParams

    def facts(self) -> tuple[str, ...]:
        assert isinstance(self.params, LanguageParams)
        return tuple(self.params.required)

    def needed(self, facts: Facts) -> list[str]:
        assert isinstance(self.params, LanguageParams)
        known = [f for f in self.params.required if f in facts]
        if any(not self._enough(f, facts[f]) for f in known):
            return []  # already failed: the other languages cannot change it
        return [f for f in self.params.required if f not in facts]

    def _enough(self, fact: str, level: object) -> bool:
        assert isinstance(self.params, LanguageParams)
        wanted = WRITING_LEVELS.index(self.params.required[fact])
        return isinstance(level, str) and WRITING_LEVELS.index(level) >= wanted

    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        p = self.params
        assert isinstance(p, LanguageParams)

        def item(fact: str, level: str) -> Message:
            return Message(
                N_("explain.languages.item"), {"language": Message(FACT_LABELS[fact]), "level": Choice(fact, level)}
            )

        params: dict[str, Any] = {"required": tuple(item(f, lvl) for f, lvl in p.required.items())}
        given = {f: facts[f] for f in p.required if isinstance(facts.get(f), str)}
        params["given"] = tuple(item(f, str(v)) for f, v in given.items())
        short = [f for f, v in given.items() if not self._enough(f, v)]
        if short:
            params["given"] = tuple(item(f, str(given[f])) for f in short)
            return Verdict(Outcome.NOT_MET, Message(N_("explain.languages.not_met"), params))
        if len(given) < len(p.required):
            return Verdict(Outcome.UNKNOWN, Message(N_("explain.languages.unknown"), params))
        return Verdict(Outcome.MET, Message(N_("explain.languages.met"), params))
