"""The registry of criterion kinds and their compilation from an offer file."""

from __future__ import annotations

from pydantic import ValidationError

from .assets import FieldOfStudyAsset, YesNoAsset
from .criterion import Criterion, check_reference
from .errors import OfferFileError
from .facts import FACTS
from .kinds import (
    AgeParams,
    AgeRange,
    Citizenship,
    Education,
    EducationParams,
    ExperienceCeiling,
    LanguageLevels,
    ResidencyDuration,
    ResidencyParams,
    YesNoRequirement,
)
from .model import CriterionSpec, Program

KINDS: dict[str, type[Criterion]] = {
    "age_range": AgeRange,
    "education": Education,
    "citizenship": Citizenship,
    "residency_duration": ResidencyDuration,
    "language_levels": LanguageLevels,
    "prior_participation": YesNoRequirement,
    "interest": YesNoRequirement,
    "domicile": YesNoRequirement,
    "experience_ceiling": ExperienceCeiling,
    "field_of_study_asset": FieldOfStudyAsset,
    "yes_no_asset": YesNoAsset,
}

_compiled: dict[int, tuple[Program, tuple[Criterion, ...], tuple[Criterion, ...]]] = {}


def _compile(program: Program, spec: CriterionSpec, advisory: bool) -> Criterion:
    kind = KINDS.get(spec.kind)
    if kind is None:
        raise OfferFileError(
            f"{program.id}: criterion {spec.id}: unknown kind {spec.kind!r}; expected one of {', '.join(KINDS)}"
        )
    if kind.advisory != advisory:
        where = "asset_criteria" if advisory else "criteria"
        raise OfferFileError(f"{program.id}: criterion {spec.id}: kind {spec.kind} does not belong in {where}")
    try:
        params = kind.Params.model_validate(spec.params)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise OfferFileError(f"{program.id}: criterion {spec.id}: params.{where}: {first['msg']}") from None
    criterion = kind(spec, params)
    for fact in criterion.facts():
        if fact not in FACTS:
            raise OfferFileError(f"{program.id}: criterion {spec.id}: unknown fact {fact!r}")
    return criterion


def compile_criteria(program: Program) -> tuple[tuple[Criterion, ...], tuple[Criterion, ...]]:
    """The blocking criteria and the assets of a program, compiled once per loaded program."""
    cached = _compiled.get(id(program))
    if cached is not None and cached[0] is program:
        return cached[1], cached[2]
    blocking = tuple(_compile(program, spec, advisory=False) for spec in program.criteria)
    assets = tuple(_compile(program, spec, advisory=True) for spec in program.asset_criteria)
    for criterion in blocking:
        if isinstance(criterion.params, AgeParams | ResidencyParams):
            check_reference(program, criterion.params.at)
        if isinstance(criterion.params, EducationParams):
            check_reference(program, criterion.params.window.before)
    _compiled[id(program)] = (program, blocking, assets)
    return blocking, assets
