"""The history of a topic's answers on the site: every version, newest first, with what changed
in each language since the version before it, and any version made live again (as
/faq_history does on Telegram, through the same `editing.restore`)."""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_

from ...faq import editing, store
from ...staff.history import PAGE  # versions shown at a time, as on Telegram
from ...staff.roles import Role
from ...storage.models import FaqRevision
from ..app import Site, context, language, page, redirect, t
from .faq import LANG_KEYS, author_of, form_number, offer_name, reason, role_name, title_of, topic_of

_WORDS = re.compile(r"\s+|[^\s]+")


def diff(before: str, after: str) -> Markup:
    """`after` with what changed since `before`, word by word: <del class="diff">, <ins class="diff">."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f'<del class="diff">{html.escape("".join(old[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            parts.append(f'<ins class="diff">{html.escape("".join(new[j1:j2]))}</ins>')
        if op == "equal":
            parts.append(html.escape("".join(new[j1:j2])))
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above


def _texts_of(revision: FaqRevision | None) -> dict[str, str | None]:
    if revision is None:
        return {"fr": None, "en": None}
    return {"fr": revision.text_fr, "en": revision.text_en}


def _changes(before: FaqRevision | None, after: FaqRevision) -> dict[str, dict[str, Any]]:
    """By language: the text, and what changed since the version before (None: there was none)."""
    old, new = _texts_of(before), _texts_of(after)
    shown: dict[str, dict[str, Any]] = {}
    for code in LANG_KEYS:
        was, now = old[code], new[code]
        shown[code] = {"text": now, "diff": None if was is None or now is None else diff(was, now)}
    return shown


async def _restored_already(session: AsyncSession, number: int, changed: editing.ChangedMeanwhile) -> bool:
    live = await store.revision(session, changed.live)
    return live is not None and live.restored_from == number


def _scope_name(request: web.Request, program_id: str | None) -> str:
    if program_id is None:
        return t(request, N_("web.faq.all_offers"))
    program = context(request).faq.programs.get(program_id)
    return offer_name(program, language(request)) if program else program_id


async def history_page(request: web.Request, *, status: int = 200, error: str = "") -> web.StreamResponse:
    ctx = context(request)
    topic = topic_of(request)
    offset = form_number(request.query, "from") or 0
    async with ctx.sessions() as session:
        found = await store.history(session, topic, PAGE + 1, offset)
        versions = [
            {
                "revision": revision,
                "role": role_name(request, revision.author_role),
                "scope": _scope_name(request, revision.program_id),
                "changes": _changes(await store.previous(session, revision), revision),
                "live": await store.live_revision(session, topic, revision.program_id),
            }
            for revision in found[:PAGE]
        ]
    done = form_number(request.query, "restored")
    return page(
        request,
        "faq_history.html",
        status=status,
        title=t(request, N_("web.faq.history_title"), topic=title_of(request, topic)),
        topic=topic,
        versions=versions,
        older=offset + PAGE if len(found) > PAGE else None,
        newer=max(0, offset - PAGE) if offset else None,
        notice="" if done is None else t(request, N_("web.faq.restored"), number=str(done)),
        error=error,
        lang_keys=LANG_KEYS,
    )


async def history_view(request: web.Request) -> web.StreamResponse:
    return await history_page(request)


async def restore(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    topic = topic_of(request)
    form = await request.post()
    number = form_number(form, "revision")
    if number is None:
        raise web.HTTPNotFound()
    base = form_number(form, "live")  # the live version when the list was shown
    async with ctx.sessions() as session, session.begin():
        author = await author_of(request, session)
        restored: FaqRevision | editing.Refused | editing.Unknown | editing.ChangedMeanwhile
        if base is None:  # a link or script that does not say: as /faq_history does
            restored = await editing.restore(session, topic, number, ctx.faq.programs, author, ctx.now())
        else:
            restored = await editing.restore_over(session, topic, number, base, ctx.faq.programs, author, ctx.now())
        again = isinstance(restored, editing.ChangedMeanwhile) and await _restored_already(session, number, restored)
    if isinstance(restored, editing.Unknown):
        raise web.HTTPNotFound()
    if again:  # a second click: the first one restored it
        return redirect(f"/faq/topic/{topic}/history?restored={number}")
    if isinstance(restored, editing.ChangedMeanwhile):
        await ctx.refresh_now()
        return await history_page(request, status=409, error=t(request, N_("web.faq.stale")))
    if isinstance(restored, editing.Refused):
        error = t(request, N_("web.faq.restore_refused"), reason=reason(request, restored.problem))
        return await history_page(request, status=422, error=error)
    await ctx.refresh_now()
    return redirect(f"/faq/topic/{topic}/history?restored={number}")


def setup(site: Site) -> None:
    site.get("/faq/topic/{topic}/history", history_view, Role.STAFF)
    site.post("/faq/topic/{topic}/restore", restore, Role.STAFF)
