"""Who receives a broadcast: always people who opted in, narrowed by offer, verdict and language.

Nothing is ever sent to someone who did not opt in: every audience is within the people on
Telegram who have at least one subscription and did not block the bot. Recipients are selected
in SQL (`recipients`), never loaded into memory: the outbox rows are written by `INSERT ... SELECT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, case, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import InputError
from ..i18n import LANGUAGES
from ..storage.models import Person, Subscription, VerdictRow


class Kind(StrEnum):
    """Whom an audience takes among the people who opted in."""

    SUBSCRIBERS = "subscribers"  # everyone subscribed (to the offer, if one is named)
    ELIGIBLE = "eligible"  # whose latest verdict for the offer is eligible
    NOT_ELIGIBLE = "not_eligible"
    INCOMPLETE = "incomplete"


KIND_NAMES = ", ".join(kind.value for kind in Kind)
SPEC_EXAMPLE = "subscribers, subscribers:OFFER, eligible:OFFER, not_eligible:OFFER or incomplete:OFFER"


@dataclass(frozen=True)
class Audience:
    """`program`: the offer (required for the verdict kinds); `lang`: fr, en, or None for both."""

    kind: Kind
    program: str | None = None
    lang: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not Kind.SUBSCRIBERS and self.program is None:
            raise InputError(f"audience: {self.kind.value} needs an offer, e.g. {self.kind.value}:OFFER")
        if self.lang is not None and self.lang not in LANGUAGES:
            raise InputError(f"lang: expected {' or '.join(LANGUAGES)}, got {self.lang!r}")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "program": self.program, "lang": self.lang}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Audience:
        return cls(Kind(raw["kind"]), raw.get("program"), raw.get("lang"))

    def describe(self) -> str:
        """`eligible:OFFER (en)`: the spec a command line would give."""
        spec = self.kind.value + (f":{self.program}" if self.program else "")
        return spec + (f" ({self.lang})" if self.lang else "")


def parse(spec: str, lang: str | None = None, programs: Any = None) -> Audience:
    """An audience from `--audience SPEC [--lang fr|en]`; `programs` (ids) checks the offer."""
    kind_name, _, program = spec.strip().partition(":")
    try:
        kind = Kind(kind_name)
    except ValueError:
        raise InputError(f"audience: unknown kind {kind_name!r}; expected {SPEC_EXAMPLE}") from None
    if _ and not program:
        raise InputError(f"audience: expected an offer id after {kind_name}:")
    if programs is not None and program and program not in programs:
        known = ", ".join(sorted(programs))
        raise InputError(f"audience: unknown offer {program!r}; expected one of {known}")
    return Audience(kind, program or None, lang)


def effective_language(default_language: str) -> ColumnElement[Any]:
    """A person's language: the one they chose, else the configured default."""
    return case(
        (Person.language.in_(LANGUAGES), Person.language),
        else_=literal(default_language, String(2)),
    )


def recipients(audience: Audience, default_language: str, lang: str | None = None) -> Select[Any]:
    """`SELECT person_id, chat_id` of the audience (those reading `lang` only, when given)."""
    subscribed = select(Subscription.id).where(Subscription.person_id == Person.id)
    if audience.kind is Kind.SUBSCRIBERS and audience.program is not None:
        subscribed = subscribed.where(Subscription.program_id == audience.program)
    query = select(Person.id.label("person_id"), cast(Person.external_id, BigInteger).label("chat_id")).where(
        Person.channel == "telegram",
        Person.blocked.is_(False),
        exists(subscribed),
    )
    if audience.kind is not Kind.SUBSCRIBERS:
        verdict = select(VerdictRow.person_id).where(
            VerdictRow.person_id == Person.id,
            VerdictRow.program_id == audience.program,
            VerdictRow.status == audience.kind.value,
        )
        query = query.where(exists(verdict))
    for chosen in {audience.lang, lang} - {None}:
        query = query.where(effective_language(default_language) == chosen)
    return query


async def count(session: AsyncSession, audience: Audience, default_language: str) -> dict[str, int]:
    """How many people the audience reaches, per language (`{"fr": n, "en": m}`)."""
    counts: dict[str, int] = {}
    for lang in LANGUAGES:
        chosen = recipients(audience, default_language, lang).subquery()
        counts[lang] = int(await session.scalar(select(func.count()).select_from(chosen)) or 0)
    return counts
