"""Unanswered questions on the site: the questions the bot could not answer, grouped by similarity
(as Telegram's /faq_gaps groups them), those asked by the most people first, with how many times
and when. One click makes a question (or a whole group) an example of a topic, starts a new topic
with it (the FAQ page's new-topic form), or dismisses it.

Changes go through `bot.staff.gaps` (`add_to_topic`, `dismiss`), the path /faq_gaps takes: the same
example, the same audit entries. Staff see the texts and their language, never who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_

from ...faq import store
from ...staff import gaps
from ...staff.roles import Role
from ...storage.models import UnansweredQuestion
from ..app import Site, context, language, page, person_id, redirect, t, viewer

NEW_TOPIC_PAGE = "/faq/new"  # the FAQ page's form; it takes `example=<question id>` (repeated for a group)
DONE = {
    "added": N_("web.gaps.added"),
    "dismissed": N_("web.gaps.dismissed"),
    "stale": N_("web.gaps.stale"),
}
MAX_IDS = 500  # as many as `store.unanswered` lists


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    asked_at: datetime | None


@dataclass(frozen=True)
class Shown:
    """One group as the page shows it: the newest wording, how many people and times, when."""

    text: str
    lang: str
    people: int
    times: int
    first: datetime | None
    last: datetime | None
    questions: list[Question]

    @property
    def ids(self) -> list[int]:
        return [q.id for q in self.questions]


async def _asked_at(session: AsyncSession, ids: list[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = await session.execute(
        select(UnansweredQuestion.id, UnansweredQuestion.asked_at).where(UnansweredQuestion.id.in_(ids))
    )
    return {row_id: at for row_id, at in rows.tuples()}


async def _groups(session: AsyncSession) -> list[Shown]:
    asked = await store.unanswered(session, limit=MAX_IDS)
    when = await _asked_at(session, [q.id for q in asked])
    by_id = {q.id: q for q in asked}
    shown = []
    for found in gaps.group(asked):
        questions = [Question(i, by_id[i].text, when.get(i)) for i in found.ids]  # newest first
        dates = [q.asked_at for q in questions if q.asked_at is not None]
        shown.append(
            Shown(
                found.text,
                found.lang,
                len(found.askers),
                len(found.ids),
                min(dates, default=None),
                max(dates, default=None),
                questions,
            )
        )
    return shown


async def _list(request: web.Request, *, status: int = 200, error: str = "") -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    async with ctx.sessions() as session:
        groups = await _groups(session)
    done = DONE.get(request.query.get("done", ""))
    topic = request.query.get("topic", "")
    notice = t(request, done, topic=ctx.faq.title(topic, lang) or topic) if done is not None and not error else ""
    return page(
        request,
        "gaps_list.html",
        status=status,
        title=t(request, N_("web.gaps.title")),
        groups=groups,
        topics=[(topic, ctx.faq.title(topic, lang) or topic) for topic in ctx.faq.topics()],
        notice=notice,
        error=error,
    )


async def list_view(request: web.Request) -> web.StreamResponse:
    return await _list(request)


def _ids(form: Any) -> list[int]:
    """The questions a form names: `only` (one question) else every `id` (a group); bad values ignored."""
    only = form.get("only")
    values = [only] if isinstance(only, str) and only else form.getall("id", [])
    ids = [int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12]
    return list(dict.fromkeys(ids))[:MAX_IDS]


async def act(request: web.Request) -> web.StreamResponse:
    """A group's (or one question's) form: add to a topic, start a new topic, or dismiss."""
    ctx = context(request)
    form = await request.post()
    action = form.get("action")
    if isinstance(form.get("only"), str) and form.get("only"):
        action = "add"  # the button of one question of the group
    ids = _ids(form)
    topic = form.get("topic")
    topic = topic if isinstance(topic, str) else ""
    if not ids or action not in ("add", "new", "dismiss"):
        return await _list(request, status=400, error=t(request, N_("web.gaps.bad_request")))
    if action == "add" and topic not in ctx.faq.topics():
        return await _list(request, status=422, error=t(request, N_("web.gaps.pick_topic")))
    async with ctx.sessions() as session, session.begin():
        await store.serialize(session)  # a double click, two staff members: the second finds them handled
        still = await store.asked(session, ids)
        if not still:  # handled by someone else meanwhile, or its askers erased
            return redirect("/gaps?done=stale")
        if action == "new":
            return redirect(f"{NEW_TOPIC_PAGE}?{urlencode([('example', q.id) for q in still])}")
        seen = viewer(request)
        author = seen.author(Role.STAFF, await person_id(session, seen.user))
        if action == "add":
            await gaps.add_to_topic(session, still, topic, author, ctx.now())
        else:
            await gaps.dismiss(session, still, author, ctx.now())
    await ctx.refresh_now()  # the example is matched at once, here as in the bot
    if action == "add":
        return redirect(f"/gaps?{urlencode({'done': 'added', 'topic': topic})}")
    return redirect("/gaps?done=dismissed")


def setup(site: Site) -> None:
    site.get("/gaps", list_view, Role.STAFF)
    site.post("/gaps", act, Role.STAFF)
