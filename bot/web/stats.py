"""The statistics page's counts: how many people reached each stage of an offer, by day or week.

Counts only, never a person's answers nor who they are. Each stage is what its table records now:

- started: the person chose the offer (it is in their eligibility dialog), dated at their first message;
- consented: they accepted the privacy notice (`people.consent_at`), for the offers they chose;
- completed: the bot gave them its verdict on the offer (`verdicts`, whatever it said), dated at
  the latest one;
- eligible: that verdict says eligible;
- subscribed: they asked for the offer's deadline reminders (`subscriptions`).

The language is the one each person reads (`people.language`, else the configured default).
The databases group the rows by quarter hour (one row per quarter hour, offer, language and
stage however many people there are); days and weeks are then cut in the bot's time zone here,
the same way on SQLite and PostgreSQL (their date functions differ, and SQLite knows no zones).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..broadcasts.audience import effective_language
from ..reminders.subscriptions import TOPIC
from ..storage.models import DialogStateRow, Person, Subscription, VerdictRow
from ..storage.repo import ELIGIBILITY, is_postgres

__all__ = ["STAGES", "Period", "Stage", "Tally", "count_stages", "period_of"]

QUARTER = 900  # seconds: the databases' grouping, fine enough for any time zone's offset


class Stage(StrEnum):
    STARTED = "started"
    CONSENTED = "consented"
    COMPLETED = "completed"
    ELIGIBLE = "eligible"
    SUBSCRIBED = "subscribed"


STAGES = tuple(Stage)


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"


SHOWN = {Period.DAY: 30, Period.WEEK: 12}  # buckets shown, the last one holding today


@dataclass(frozen=True)
class Reached:
    """So many people reached `stage` of an offer within one quarter hour (UTC)."""

    stage: Stage
    offer: str
    lang: str
    at: datetime
    count: int


def _quarter(column: Any, postgres: bool) -> ColumnElement[Any]:
    """The quarter hour of a timestamp, as a whole number since 1970 (UTC)."""
    if postgres:
        return cast(func.floor(func.extract("epoch", column) / QUARTER), Integer)
    # SQLite keeps naive UTC text; strftime('%s') reads it as UTC
    return cast(cast(func.strftime("%s", column), Integer) / QUARTER, Integer)


def _chosen(default_language: str, postgres: bool, when: Any) -> Select[Any]:
    """(offers chosen as JSON text, language, quarter, people): the eligibility dialogs, grouped."""
    offers = DialogStateRow.state["programs"].as_string()
    lang = effective_language(default_language)
    quarter = _quarter(when, postgres)
    return (
        select(offers, lang, quarter, func.count())
        .select_from(DialogStateRow)
        .join(Person, Person.id == DialogStateRow.person_id)
        .where(DialogStateRow.dialog == ELIGIBILITY, when.is_not(None))
        .group_by(offers, lang, quarter)
    )


def _offers_of(text: str | None) -> list[str]:
    try:
        chosen = json.loads(text) if text else []
    except ValueError:
        return []
    return [offer for offer in chosen if isinstance(offer, str)] if isinstance(chosen, list) else []


async def reached(session: AsyncSession, default_language: str) -> list[Reached]:
    """Every stage's counts by offer, language and quarter hour: four grouped statements."""
    postgres = is_postgres(session)
    lang = effective_language(default_language)
    found: list[Reached] = []

    def moment(quarter: int) -> datetime:
        return datetime.fromtimestamp(int(quarter) * QUARTER, UTC)

    for stage, when in ((Stage.STARTED, Person.created_at), (Stage.CONSENTED, Person.consent_at)):
        for text, language, quarter, count in (await session.execute(_chosen(default_language, postgres, when))).all():
            found.extend(Reached(stage, offer, language, moment(quarter), count) for offer in _offers_of(text))
    quarter = _quarter(VerdictRow.evaluated_at, postgres)
    verdicts = (
        select(VerdictRow.program_id, VerdictRow.status, lang, quarter, func.count())
        .join(Person, Person.id == VerdictRow.person_id)
        .group_by(VerdictRow.program_id, VerdictRow.status, lang, quarter)
    )
    for offer, status, language, at, count in (await session.execute(verdicts)).all():
        found.append(Reached(Stage.COMPLETED, offer, language, moment(at), count))
        if status == "eligible":
            found.append(Reached(Stage.ELIGIBLE, offer, language, moment(at), count))
    quarter = _quarter(Subscription.created_at, postgres)
    subscribed = (
        select(Subscription.program_id, lang, quarter, func.count())
        .join(Person, Person.id == Subscription.person_id)
        .where(Subscription.topic == TOPIC)
        .group_by(Subscription.program_id, lang, quarter)
    )
    for offer, language, at, count in (await session.execute(subscribed)).all():
        found.append(Reached(Stage.SUBSCRIBED, offer, language, moment(at), count))
    return found


def period_of(day: date, by: Period) -> date:
    """The first day of the day's bucket: the day itself, or the Monday of its week."""
    return day if by is Period.DAY else day - timedelta(days=day.weekday())


def buckets(today: date, by: Period) -> list[date]:
    """The buckets shown, oldest first, the last one holding `today`."""
    last = period_of(today, by)
    step = timedelta(days=1 if by is Period.DAY else 7)
    return [last - step * back for back in range(SHOWN[by] - 1, -1, -1)]


Counts = dict[Stage, int]


def _zero() -> Counts:
    return dict.fromkeys(STAGES, 0)


@dataclass
class Tally:
    """The counts of the buckets shown, for the offers and languages chosen."""

    by: Period
    periods: list[date]
    # (first day of the bucket, offer, language) -> counts, only where something happened
    cells: dict[tuple[date, str, str], Counts] = field(default_factory=dict)

    def add(self, period: date, offer: str, lang: str, stage: Stage, count: int) -> None:
        self.cells.setdefault((period, offer, lang), _zero())[stage] += count

    def per_period(self) -> list[tuple[date, Counts]]:
        """Every bucket shown, in order, with every offer and language chosen summed."""
        sums = {period: _zero() for period in self.periods}
        for (period, _offer, _lang), counts in self.cells.items():
            for stage in STAGES:
                sums[period][stage] += counts[stage]
        return list(sums.items())

    def per_offer(self) -> list[tuple[str, str, Counts]]:
        """The funnel of each offer and language over the buckets shown (those with any count)."""
        sums: dict[tuple[str, str], Counts] = {}
        for (_period, offer, lang), counts in self.cells.items():
            total = sums.setdefault((offer, lang), _zero())
            for stage in STAGES:
                total[stage] += counts[stage]
        return [(offer, lang, sums[(offer, lang)]) for offer, lang in sorted(sums)]

    def total(self) -> Counts:
        sums = _zero()
        for counts in self.cells.values():
            for stage in STAGES:
                sums[stage] += counts[stage]
        return sums

    def rows(self) -> list[tuple[date, str, str, Counts]]:
        """One row per bucket, offer and language with any count, in that order (the CSV export)."""
        return [(period, offer, lang, self.cells[(period, offer, lang)]) for period, offer, lang in sorted(self.cells)]


def tally(
    found: Iterable[Reached],
    zone: ZoneInfo,
    by: Period,
    today: date,
    offers: Sequence[str] | None = None,
    lang: str | None = None,
) -> Tally:
    """The counts of the buckets ending with today's, cut in the bot's time zone; `offers` and
    `lang` narrow them (None: all)."""
    periods = buckets(today, by)
    shown = set(periods)
    result = Tally(by, periods)
    for item in found:
        if (offers is not None and item.offer not in offers) or (lang is not None and item.lang != lang):
            continue
        period = period_of(item.at.astimezone(zone).date(), by)
        if period in shown:
            result.add(period, item.offer, item.lang, item.stage, item.count)
    return result


async def count_stages(
    session: AsyncSession,
    default_language: str,
    zone: ZoneInfo,
    by: Period,
    today: date,
    offers: Sequence[str] | None = None,
    lang: str | None = None,
) -> Tally:
    """The page's and the export's counts (see the module's docstring for what each stage is)."""
    return tally(await reached(session, default_language), zone, by, today, offers, lang)
