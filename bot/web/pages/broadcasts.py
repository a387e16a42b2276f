"""/broadcasts (organizers): the recent broadcasts, composing one (both texts, the audience with a
live count, the preview as Telegram shows it, send now or at a local time), and each one's live
progress, pause / resume / cancel, and delivery report with a chart.

Everything goes through `bot.broadcasts.store`, as /broadcast on Telegram and the command line
do: one code path for a broadcast, whichever door it came through (and its audit entries).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from babel.dates import get_timezone_name
from markupsafe import Markup
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message, Program

from ...broadcasts import store
from ...broadcasts.audience import Audience, Kind, count
from ...broadcasts.message import MAX_TEXT
from ...broadcasts.wording import counted
from ...i18n import LANGUAGES, LOCALES, format_number, render
from ...staff.broadcast_editor import BOTH, KIND_LABELS, LANG_LABELS, STATUS_LABELS, audience_words
from ...staff.roles import Role
from ...storage.models import Broadcast
from .. import auth, charts
from ..app import Site, context, language, page, person_id, redirect, t, viewer
from ..preview import telegram_preview

ALL = "all"  # the offer field's value for every offer (subscribers only)
LIST_LENGTH = 30
POLL_RUNNING = 2  # seconds between two looks at a running broadcast's progress
POLL_SCHEDULED = 10  # a scheduled one only changes when it starts
ONCE = re.compile(r"[A-Za-z0-9_-]{16,40}")  # a compose form's one-time value (`auth.form_nonce`)
ONCE_KEPT = timedelta(days=1)  # how long a sent form is remembered (a Back button, a double click)
ROLES = {"admin": N_("staff.role.admin"), "organizer": N_("staff.role.organizer")}
ORIGINS = {
    "telegram": N_("web.broadcasts.origin.telegram"),
    "cli": N_("web.broadcasts.origin.cli"),
    "web": N_("web.broadcasts.origin.web"),
}
MISSING = {"fr": N_("web.broadcasts.missing_fr"), "en": N_("web.broadcasts.missing_en")}
REFUSED = {"fr": N_("web.broadcasts.refused_fr"), "en": N_("web.broadcasts.refused_en")}
TEXT_LABELS = {"fr": N_("web.broadcasts.text_fr"), "en": N_("web.broadcasts.text_en")}
Change = Callable[..., Awaitable[Broadcast | None]]
# action -> (store function, what the page says after it, what it says when it was not possible)
CHANGES: dict[str, tuple[Change, str, str]] = {
    "pause": (store.pause, N_("broadcast.paused"), N_("web.broadcasts.cannot_pause")),
    "resume": (store.resume, N_("broadcast.resumed"), N_("web.broadcasts.cannot_resume")),
    "cancel": (store.cancel, N_("broadcast.cancelled"), N_("web.broadcasts.cannot_cancel")),
}


@dataclass
class Draft:
    """The compose form as typed: shown again as it is when something is refused."""

    text_fr: str = ""
    text_en: str = ""
    kind: str = Kind.SUBSCRIBERS.value
    offer: str = ALL
    language: str = BOTH
    when: str = ""  # `2026-03-02T16:30` in the bot's time zone (an `<input type="datetime-local">`)
    once: str = ""  # the form's one-time value: the same form sent twice creates one broadcast

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> Draft:
        def field(name: str, default: str = "") -> str:
            value = form.get(name, default)
            return value if isinstance(value, str) else default

        def text(name: str) -> str:  # a browser sends a textarea's lines with CRLF; Telegram's have LF
            return field(name).replace("\r\n", "\n").replace("\r", "\n").strip()

        return cls(
            text_fr=text("text_fr"),
            text_en=text("text_en"),
            kind=field("kind", Kind.SUBSCRIBERS.value),
            offer=field("offer", ALL),
            language=field("language", BOTH),
            when=field("when").strip(),
            once=field("once") if ONCE.fullmatch(field("once")) else auth.form_nonce(),
        )

    def sent_key(self, action: str) -> str:
        """What marks this form as sent: its one-time value and what it sends (changed text, new broadcast)."""
        sent = "\n".join(
            (self.once, action, self.text_fr, self.text_en, self.kind, self.offer, self.language, self.when)
        )
        return "broadcast:" + hashlib.sha256(sent.encode()).hexdigest()[:48]


def audience_of(draft: Draft, programs: Mapping[str, Program]) -> Audience | Message:
    """The draft's audience, or why it cannot be one (in the catalog's words)."""
    if draft.kind not in Kind.__members__.values() or draft.language not in (BOTH, *LANGUAGES):
        return Message(N_("web.broadcasts.bad_audience"))
    kind = Kind(draft.kind)
    if draft.offer == ALL:
        if kind is not Kind.SUBSCRIBERS:
            return Message(N_("web.broadcasts.offer_needed"))
        program = None
    elif draft.offer in programs:
        program = draft.offer
    else:
        return Message(N_("web.broadcasts.bad_audience"))
    return Audience(kind, program, None if draft.language == BOTH else draft.language)


def scheduled_moment(when: str, now: datetime, zone: Any) -> datetime | Message:
    """The UTC moment of a local date and time typed in the form; refused when it is not a time,
    does not exist that day (the hour skipped when clocks spring forward), or is not in the future."""
    try:
        local = datetime.fromisoformat(when)
    except ValueError:
        return Message(N_("web.broadcasts.bad_time"))
    if local.tzinfo is not None:
        return Message(N_("web.broadcasts.bad_time"))
    try:
        moment = local.replace(tzinfo=zone).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) != local:
            return Message(N_("web.broadcasts.no_such_time"))
    except OverflowError:  # year 1 or 9999: outside what a date holds once moved to UTC
        return Message(N_("web.broadcasts.bad_time"))
    if moment <= now:
        return Message(N_("web.broadcasts.past_time"))
    return moment


def _offers(request: web.Request) -> list[tuple[str, str]]:
    """(id, short title) of every live offer, in the viewer's language."""
    lang = language(request)
    return [(p.id, p.short_title.localized().in_language(lang)) for p in context(request).offers.programs.values()]


def _by(request: web.Request, broadcast: Broadcast) -> str:
    """Who created it: `organisation · Telegram`, `ligne de commande`."""
    origin = t(request, ORIGINS[broadcast.origin]) if broadcast.origin in ORIGINS else broadcast.origin
    role = ROLES.get(broadcast.created_role)
    return f"{t(request, role)} · {origin}" if role else origin


def _status(request: web.Request, broadcast: Broadcast) -> str:
    return t(request, STATUS_LABELS[broadcast.status]) if broadcast.status in STATUS_LABELS else broadcast.status


def _audience_text(request: web.Request, broadcast: Broadcast) -> str:
    audience = Audience.from_json(broadcast.audience)
    return audience_words(audience, language(request), context(request).offers.programs)


def _broadcast_id(request: web.Request) -> int:
    """The id in the path; a forged one (too large to be an id) is not found."""
    raw = request.match_info["id"]
    if len(raw) > 9:
        raise web.HTTPNotFound()
    return int(raw)


# --- the list --------------------------------------------------------------------------------------


async def list_page(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    rows = []
    async with ctx.sessions() as session:
        for broadcast in await store.recent(session, LIST_LENGTH):
            counts = await store.counts(session, broadcast)
            rows.append(
                {
                    "id": broadcast.id,
                    "status_label": _status(request, broadcast),
                    "scheduled_at": broadcast.scheduled_at if broadcast.status == store.SCHEDULED else None,
                    "audience": _audience_text(request, broadcast),
                    "by": _by(request, broadcast),
                    "at": broadcast.created_at,
                    "sent": None
                    if broadcast.status == store.SCHEDULED
                    else counted("sent_of", counts.sent, lang, total=counts.total),
                    "blocked": counts.blocked,
                    "failed": counts.failed,
                }
            )
    return page(request, "broadcasts_list.html", title=t(request, N_("web.broadcasts.title")), rows=rows)


# --- composing --------------------------------------------------------------------------------------


def _compose(
    request: web.Request, draft: Draft, reach: dict[str, Any], status: int = 200, error: str | None = None
) -> web.Response:
    ctx = context(request)
    now_local = ctx.now().astimezone(ctx.config.zone)
    return page(
        request,
        "broadcasts_new.html",
        status,
        title=t(request, N_("web.broadcasts.new")),
        keep_form="compose",  # switching the language keeps what was typed
        draft=draft,
        error=error,
        kinds=[(kind.value, t(request, label)) for kind, label in KIND_LABELS.items()],
        offers=_offers(request),
        languages=[(value, t(request, LANG_LABELS[value])) for value in (BOTH, *LANGUAGES)],
        all_offers=ALL,
        max_text=MAX_TEXT,
        earliest=now_local.strftime("%Y-%m-%dT%H:%M"),
        zone=get_timezone_name(ctx.config.zone, locale=LOCALES[language(request)]),
        previews=_previews(request, draft),
        **reach,
    )


def _previews(request: web.Request, draft: Draft) -> list[dict[str, Any]]:
    """Each language's text as Telegram shows it, with its stop button, or why it is refused."""
    lang = language(request)
    shown = []
    for text_lang, text in (("fr", draft.text_fr), ("en", draft.text_en)):
        problem = store.text_problem(text) if text else None
        shown.append(
            {
                "lang": text_lang,
                "label": t(request, TEXT_LABELS[text_lang]),
                "html": telegram_preview(text) if text else Markup(""),
                "problem": render(problem, lang) if problem is not None else None,
                "stop": render(N_("reminders.button.stop_all"), text_lang),
            }
        )
    return shown


async def _reach(request: web.Request, draft: Draft) -> dict[str, Any]:
    """How many people the draft's audience reaches now (`reach`), or why it is no audience (`reach_problem`)."""
    ctx = context(request)
    audience = audience_of(draft, ctx.offers.programs)
    if isinstance(audience, Message):
        return {"reach": None, "reach_problem": render(audience, language(request))}
    async with ctx.sessions() as session:
        reached = await count(session, audience, ctx.config.default_language)
    lang = language(request)
    total = sum(reached.values())
    words = t(
        request,
        N_("web.broadcasts.reach"),
        people=counted("people", total, lang),
        fr=format_number(reached["fr"], lang),
        en=format_number(reached["en"], lang),
    )
    return {"reach": {"total": total, "words": words}, "reach_problem": None}


async def compose_page(request: web.Request) -> web.StreamResponse:
    draft = Draft(once=auth.form_nonce())
    return _compose(request, draft, await _reach(request, draft))


async def reach_fragment(request: web.Request) -> web.StreamResponse:
    """The live count (htmx, on every change of the audience's fields)."""
    draft = Draft.read(request.query)
    return page(request, "broadcasts_reach.html", **(await _reach(request, draft)))


async def preview_fragment(request: web.Request) -> web.StreamResponse:
    """Both texts as Telegram shows them (htmx, as they are typed); changes nothing."""
    draft = Draft.read(await request.post())
    return page(request, "broadcasts_preview.html", previews=_previews(request, draft))


async def compose_post(request: web.Request) -> web.StreamResponse:
    """`action`: preview (show the form again), send (now), or schedule (at `when`)."""
    ctx = context(request)
    form: MultiDictProxy[Any] = await request.post()
    draft = Draft.read(form)
    action = form.get("action")
    reach = await _reach(request, draft)
    if action not in ("send", "schedule"):
        return _compose(request, draft, reach)

    def refuse(message: Message | str) -> web.Response:
        text = render(message, language(request)) if isinstance(message, Message) else message
        return _compose(request, draft, reach, 400, text)

    for text_lang, text in (("fr", draft.text_fr), ("en", draft.text_en)):
        if not text:
            return refuse(Message(MISSING[text_lang]))
        problem = store.text_problem(text)
        if problem is not None:
            return refuse(t(request, REFUSED[text_lang], reason=render(problem, language(request))))
    audience = audience_of(draft, ctx.offers.programs)
    if isinstance(audience, Message):
        return refuse(audience)
    at = ctx.now()
    scheduled_at: datetime | None = None
    if action == "schedule":
        moment = scheduled_moment(draft.when, at, ctx.config.zone)
        if isinstance(moment, Message):
            return refuse(moment)
        scheduled_at = moment
    elif reach["reach"] is not None and reach["reach"]["total"] == 0:
        return refuse(Message(N_("broadcast.nobody")))
    async with ctx.sessions.begin() as session:
        if not await auth.use_once(session, draft.sent_key(str(action)), at, at + ONCE_KEPT):
            return redirect(await _sent_before(session, draft, str(action)))
        author = viewer(request).author(Role.ORGANIZER, await person_id(session, viewer(request).user))
        broadcast = await store.create(
            session,
            draft.text_fr,
            draft.text_en,
            audience,
            "web",
            author,
            at,
            default_language=ctx.config.default_language,
            scheduled_at=scheduled_at,
        )
        created = broadcast.id
    return redirect(f"/broadcasts/{created}?done={'schedule' if scheduled_at else 'send'}")


async def _sent_before(session: AsyncSession, draft: Draft, action: str) -> str:
    """Where the same form, sent before (a double click), shows its broadcast."""
    query = (
        select(Broadcast.id)
        .where(Broadcast.origin == "web", Broadcast.text_fr == draft.text_fr, Broadcast.text_en == draft.text_en)
        .order_by(Broadcast.id.desc())
        .limit(1)
    )
    found = await session.scalar(query)
    return "/broadcasts" if found is None else f"/broadcasts/{found}?done={action}"


# --- one broadcast -----------------------------------------------------------------------------------


def _progress_values(request: web.Request, broadcast: Broadcast, counts: store.Counts) -> dict[str, Any]:
    lang = language(request)
    over = broadcast.status in ("done", "cancelled") and counts.waiting == 0
    scheduled = broadcast.status == store.SCHEDULED
    chart = None
    if over and counts.total:
        items = [
            (t(request, N_("web.broadcasts.chart.sent")), counts.sent),
            (t(request, N_("web.broadcasts.chart.blocked")), counts.blocked),
            (t(request, N_("web.broadcasts.chart.failed")), counts.failed),
        ]
        kinds = ["good", "bad", "bad"]
        if counts.cancelled:
            items.append((t(request, N_("web.broadcasts.chart.cancelled")), counts.cancelled))
            kinds.append("")
        chart = charts.bars(
            items,
            title=t(request, N_("web.broadcasts.chart.title"), id=str(broadcast.id)),
            kinds=kinds,
            figures=[format_number(number, lang) for _label, number in items],
        )
    return {
        "broadcast": broadcast,
        "counts": counts,
        "status_label": _status(request, broadcast),
        "handled": counted("handled_of", counts.done, lang, total=counts.total),
        "over": over,
        "scheduled": scheduled,
        "chart": chart,
        "poll": None if over else (POLL_SCHEDULED if scheduled else POLL_RUNNING),
        "can_pause": broadcast.status == "sending",
        "can_resume": broadcast.status == "paused",
        "can_cancel": broadcast.status in store.CANCELLABLE,
    }


async def _found(request: web.Request) -> tuple[Broadcast, store.Counts]:
    async with context(request).sessions() as session:
        found = await store.status(session, _broadcast_id(request))
    if found is None:
        raise web.HTTPNotFound()
    return found


def _show(
    request: web.Request,
    broadcast: Broadcast,
    values: dict[str, Any],
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> web.Response:
    texts = [
        {
            "label": t(request, TEXT_LABELS[lang]),
            "html": telegram_preview(text),
            "stop": render(N_("reminders.button.stop_all"), lang),
        }
        for lang, text in (("fr", broadcast.text_fr), ("en", broadcast.text_en))
    ]
    return page(
        request,
        "broadcasts_show.html",
        status,
        title=t(request, N_("web.broadcasts.one"), id=str(broadcast.id)),
        audience=_audience_text(request, broadcast),
        by=_by(request, broadcast),
        texts=texts,
        notice=notice,
        error=error,
        **values,
    )


async def show_page(request: web.Request) -> web.StreamResponse:
    broadcast, counts = await _found(request)
    done = request.query.get("done")
    notices = {
        "send": N_("web.broadcasts.sent_notice"),
        "schedule": N_("web.broadcasts.scheduled_notice"),
        **{action: key for action, (_change, key, _refused) in CHANGES.items()},
    }
    notice = t(request, notices[done], id=str(broadcast.id)) if done in notices else None
    return _show(request, broadcast, _progress_values(request, broadcast, counts), notice=notice)


async def progress_fragment(request: web.Request) -> web.StreamResponse:
    """Where it stands (htmx, every 2 s while it runs): counts, bar, buttons, then the report."""
    broadcast, counts = await _found(request)
    return page(request, "broadcasts_progress.html", **(_progress_values(request, broadcast, counts)))


async def change(request: web.Request) -> web.StreamResponse:
    """Pause, resume or cancel; one no longer possible (finished, changed meanwhile) says why."""
    apply, _done, refused = CHANGES[request.match_info["action"]]
    broadcast_id = _broadcast_id(request)
    ctx = context(request)
    async with ctx.sessions.begin() as session:
        if await store.get(session, broadcast_id) is None:
            raise web.HTTPNotFound()
        author = viewer(request).author(Role.ORGANIZER, await person_id(session, viewer(request).user))
        changed = await apply(session, broadcast_id, author, ctx.now())
    if changed is not None:
        return redirect(f"/broadcasts/{broadcast_id}?done={request.match_info['action']}")
    broadcast, counts = await _found(request)
    error = t(request, refused, status=_status(request, broadcast))
    return _show(request, broadcast, _progress_values(request, broadcast, counts), 409, error=error)


def setup(site: Site) -> None:
    site.get("/broadcasts", list_page, Role.ORGANIZER)
    site.get("/broadcasts/new", compose_page, Role.ORGANIZER)
    site.post("/broadcasts/new", compose_post, Role.ORGANIZER)
    site.get("/broadcasts/reach", reach_fragment, Role.ORGANIZER)
    site.post("/broadcasts/preview", preview_fragment, Role.ORGANIZER)
    site.get(r"/broadcasts/{id:[0-9]+}", show_page, Role.ORGANIZER)
    site.get(r"/broadcasts/{id:[0-9]+}/progress", progress_fragment, Role.ORGANIZER)
    site.post(r"/broadcasts/{id:[0-9]+}/{action:pause|resume|cancel}", change, Role.ORGANIZER)
