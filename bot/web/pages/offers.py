"""Offers on the site, read only: each live offer's data as the bot gives it, open or closed today,
its deadline reminders, and its editions (who imported which version when) with what changed from
one to the next: a moved deadline and the reminders it brings.

Editions are published on the command line (`python -m bot offers import`), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message, NotStated, OfferFileError, Program, Quantity
from rules.model import parse_program

from ...faq.values import VALUES, Context
from ...i18n import format_day, render
from ...offers.changes import differences
from ...offers.store import SHIPPED, content_of, digest_of
from ...reminders.schedule import Schedule, schedule
from ...reminders.subscriptions import TOPIC
from ...staff.roles import Role
from ...storage.models import OfferEdition, Subscription
from ..app import Site, context, language, moment, page, t

# The data shown, in order: (label's key, placeholder of `bot.faq.values` giving the value)
FIELDS = (
    (N_("web.offers.field.organization"), "organization"),
    (N_("web.offers.field.reference"), "reference"),
    (N_("web.offers.field.location"), "location"),
    (N_("web.offers.field.work_mode"), "work_mode"),
    (N_("web.offers.field.dates"), "dates"),
    (N_("web.offers.field.duration"), "duration"),
    (N_("web.offers.field.stipend"), "stipend"),
    (N_("web.offers.field.deadline"), "deadline"),
    (N_("web.offers.field.deadline_status"), "deadline_status"),
    (N_("web.offers.field.contact"), "contact"),
)
DIGEST_SHOWN = 12  # characters of an edition's digest: enough to tell two apart


def _title(program: Program, lang: str) -> str:
    return program.title.localized().in_language(lang)


def _status(request: web.Request, program: Program) -> tuple[bool, str]:
    opened = program.offer_open(context(request).today())
    return opened, t(request, N_("web.offers.open") if opened else N_("web.offers.closed"))


def _deadline(program: Program, lang: str) -> str | None:
    return None if program.deadline_date is None else format_day(program.deadline_date, lang)


@dataclass(frozen=True)
class Listed:
    id: str
    title: str
    deadline: str | None
    opened: bool
    status: str
    version: int


async def list_view(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    offers = []
    for program in ctx.offers.programs.values():
        opened, status = _status(request, program)
        edition = ctx.offers.editions.get(program.id)
        version = edition.version if edition is not None else SHIPPED
        offers.append(Listed(program.id, _title(program, lang), _deadline(program, lang), opened, status, version))
    return page(
        request,
        "offers_list.html",
        title=t(request, N_("web.offers.title")),
        offers=offers,
        today=ctx.today(),
    )


# --- one offer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    text: str
    sent: bool  # its moment has passed


@dataclass(frozen=True)
class Version:
    """One edition of the offer, with what changed from the one before."""

    number: int
    by: str | None  # None: the shipped file
    at: datetime | None
    digest: str
    live: bool
    changes: list[str]
    deadline_moved: str | None  # the sentence saying so, or None
    reminders: list[Reminder]  # with this edition's deadline (when it moved)


def _reminders(request: web.Request, plan: Schedule | None) -> list[Reminder]:
    ctx = context(request)
    lang = language(request)
    if plan is None:
        return []
    now = ctx.now()
    return [
        Reminder(
            render(
                Message(
                    N_("web.offers.reminder"),
                    {"days": Quantity(item.days_before, "duration-day"), "when": moment(item.at, lang, ctx)},
                ),
                lang,
            ),
            item.at <= now,
        )
        for item in plan.moments
    ]


def _plan(request: web.Request, program: Program) -> Schedule | None:
    config = context(request).config
    return schedule(program, config.reminders, config.timezone)


async def _editions(session: AsyncSession, offer: str) -> list[OfferEdition]:
    query = select(OfferEdition).where(OfferEdition.program_id == offer).order_by(OfferEdition.version)
    return list((await session.execute(query)).scalars())


def _readable(raw: dict[str, Any], offer: str, version: int) -> Program | None:
    try:
        return parse_program(raw, f"offer edition {offer} v{version}")
    except OfferFileError:  # stored under an older schema: its differences still show
        return None


def _versions(request: web.Request, offer: str, rows: list[OfferEdition]) -> list[Version]:
    """Every version, newest first: the shipped file (if the offer has one), then each import."""
    ctx = context(request)
    lang = language(request)
    stored: list[tuple[int, str | None, datetime | None, str, dict[str, Any]]] = []
    shipped = ctx.offers.shipped.get(offer)
    if shipped is not None:
        stored.append((SHIPPED, None, None, digest_of(shipped), content_of(shipped)))
    stored.extend((row.version, row.imported_by, row.imported_at, row.digest, row.content) for row in rows)
    live = ctx.offers.editions.get(offer)
    live_version = live.version if live is not None else SHIPPED
    versions = []
    before: tuple[dict[str, Any], Program | None] | None = None
    for number, by, at, digest, content in stored:
        program = _readable(content, offer, number)
        changes: list[str] = []
        moved: str | None = None
        reminders: list[Reminder] = []
        if before is not None:
            changes = differences(before[0], content)
            old, new = before[1], program
            if old is not None and new is not None and old.deadline_date != new.deadline_date:
                unstated = t(request, N_("web.offers.not_stated"))
                moved = t(
                    request,
                    N_("web.offers.deadline_moved"),
                    old=_deadline(old, lang) or unstated,
                    new=_deadline(new, lang) or unstated,
                )
                reminders = _reminders(request, _plan(request, new))
        versions.append(
            Version(number, by, at, digest[:DIGEST_SHOWN], number == live_version, changes, moved, reminders)
        )
        before = (content, program)
    return versions[::-1]


async def offer_view(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    offer = request.match_info["offer"]
    program = ctx.offers.programs.get(offer)
    if program is None:
        raise web.HTTPNotFound()
    async with ctx.sessions() as session:
        rows = await _editions(session, offer)
        subscribers = await session.scalar(
            select(func.count()).where(Subscription.program_id == offer, Subscription.topic == TOPIC)
        )
    filled = Context(program, lang, ctx.today())
    facts = [(t(request, key), VALUES[name](filled)) for key, name in FIELDS]
    opened, status_text = _status(request, program)
    return page(
        request,
        "offers_offer.html",
        title=_title(program, lang),
        program=program,
        offer=offer,
        facts=facts,
        opened=opened,
        status_text=status_text,
        stated_deadline=not isinstance(program.deadline, NotStated),
        reminders=_reminders(request, _plan(request, program)),
        subscribers=int(subscribers or 0),
        versions=_versions(request, offer, rows),
    )


def setup(site: Site) -> None:
    site.get("/offers", list_view, Role.ORGANIZER)
    site.get("/offers/{offer}", offer_view, Role.ORGANIZER)
