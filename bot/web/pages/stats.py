"""Statistics on the site: a funnel per offer and language (started, consented, completed, eligible,
subscribed) by day or by week, as charts and a table, and the same figures as CSV.

Counts only (`bot.web.stats`): never a person's answers, never who.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from aiohttp import web
from babel.dates import format_date
from markupsafe import Markup

from rules import N_

from ...i18n import LANGUAGES, LOCALES, format_day, format_number
from ...staff.roles import Role
from .. import charts
from ..app import Site, context, language, page, t
from ..stats import STAGES, Period, Stage, Tally, count_stages

STAGE_KEYS = {
    Stage.STARTED: N_("web.stats.stage.started"),
    Stage.CONSENTED: N_("web.stats.stage.consented"),
    Stage.COMPLETED: N_("web.stats.stage.completed"),
    Stage.ELIGIBLE: N_("web.stats.stage.eligible"),
    Stage.SUBSCRIBED: N_("web.stats.stage.subscribed"),
}
LANG_KEYS = {"fr": N_("web.stats.lang.fr"), "en": N_("web.stats.lang.en")}
BAR_KINDS = {Stage.ELIGIBLE: "good"}
ALL = ""  # the selectors' value for every offer, every language


@dataclass(frozen=True)
class Choice:
    """What the selectors asked for (anything unknown falls back to all, by day)."""

    by: Period
    offer: str
    lang: str

    def query(self) -> str:
        return f"by={self.by.value}&offer={self.offer}&lang={self.lang}"


def _choice(request: web.Request) -> Choice:
    ctx = context(request)
    by = request.query.get("by", Period.DAY.value)
    offer = request.query.get("offer", ALL)
    lang = request.query.get("lang", ALL)
    return Choice(
        Period(by) if by in Period.__members__.values() else Period.DAY,
        offer if offer in ctx.offers.programs else ALL,
        lang if lang in LANGUAGES else ALL,
    )


async def _tally(request: web.Request, choice: Choice) -> Tally:
    ctx = context(request)
    async with ctx.sessions() as session:
        return await count_stages(
            session,
            ctx.config.default_language,
            ctx.config.zone,
            choice.by,
            ctx.today(),
            [choice.offer] if choice.offer else None,
            choice.lang or None,
        )


def _offer_name(request: web.Request, offer: str) -> str:
    program = context(request).offers.programs.get(offer)
    return offer if program is None else program.short_title.localized().in_language(language(request))


def _period_label(request: web.Request, first: date, by: Period) -> str:
    lang = language(request)
    if by is Period.DAY:
        return format_day(first, lang)
    return t(request, N_("web.stats.week_of"), day=format_day(first, lang))


def _short(first: date, lang: str) -> str:
    return format_date(first, "d MMM", locale=LOCALES[lang])


async def stats_view(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    choice = _choice(request)
    tally = await _tally(request, choice)
    stages = [(stage, t(request, STAGE_KEYS[stage])) for stage in STAGES]
    total = tally.total()
    funnel: Markup = charts.bars(
        [(name, total[stage]) for stage, name in stages],
        title=t(request, N_("web.stats.funnel")),
        kinds=[BAR_KINDS.get(stage, "") for stage, _name in stages],
        figures=[format_number(total[stage], lang) for stage, _name in stages],
    )
    periods = tally.per_period()
    over_time: Markup = charts.lines(
        [_short(first, lang) for first, _counts in periods],
        [(name, [counts[stage] for _first, counts in periods]) for stage, name in stages],
        title=t(request, N_("web.stats.over_time")),
    )
    return page(
        request,
        "stats_page.html",
        title=t(request, N_("web.stats.title")),
        choice=choice,
        offers=[(offer, _offer_name(request, offer)) for offer in ctx.offers.programs],
        langs=[(code, t(request, LANG_KEYS[code])) for code in LANGUAGES],
        periods=[(_period_label(request, first, choice.by), counts) for first, counts in periods],
        per_offer=[
            (_offer_name(request, offer), t(request, LANG_KEYS[code]) if code in LANG_KEYS else code, counts)
            for offer, code, counts in tally.per_offer()
        ],
        stages=stages,
        total=total,
        funnel=funnel,
        over_time=over_time,
        first=format_day(tally.periods[0], lang),
        last=format_day(ctx.today(), lang),
    )


async def stats_csv(request: web.Request) -> web.StreamResponse:
    """The page's figures, one row per bucket, offer and language with any count (ISO dates, ids)."""
    choice = _choice(request)
    tally = await _tally(request, choice)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            t(request, N_("web.stats.csv.period")),
            t(request, N_("web.stats.csv.offer")),
            t(request, N_("web.stats.csv.lang")),
            *(t(request, STAGE_KEYS[stage]) for stage in STAGES),
        ]
    )
    for first, offer, lang, counts in tally.rows():
        writer.writerow([first.isoformat(), offer, lang, *(counts[stage] for stage in STAGES)])
    name = f"stats-{choice.by.value}-{context(request).today().isoformat()}.csv"
    return web.Response(
        body=out.getvalue().encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(site: Site) -> None:
    site.get("/stats", stats_view, Role.ORGANIZER)
    site.get("/stats.csv", stats_csv, Role.ORGANIZER)
