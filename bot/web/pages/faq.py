"""The FAQ on the site: every topic, both languages side by side with the answer as Telegram shows
it, editing with a preview, publishing, going back to the built-in answer, new topics and example
questions (the history of a topic and restoring a version: `faq_history.py`).

Every change goes through `bot.faq.editing`, as Telegram's /faq and /faq_history do: the same
checks, the same concurrency rule (the form carries the live version it was opened on), the same
audit log. What is published is live for the bot at its next message (content version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message, Program

from ...faq import editing, store
from ...faq.answers import BUILTIN_TOPICS, PLACEHOLDERS, default_template
from ...i18n import render
from ...staff import gaps
from ...staff.history import AUTHOR_ROLES
from ...staff.roles import Role
from ..app import Site, context, language, page, person_id, redirect, t, viewer
from ..preview import telegram_preview

ALL = "all"  # the scope of the answer for every offer without its own
LANG_KEYS = {"fr": N_("web.faq.lang.fr"), "en": N_("web.faq.lang.en")}


# --- what the pages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """All offers (`program` None) or one offer."""

    ref: str
    program: Program | None

    @property
    def program_id(self) -> str | None:
        return None if self.program is None else self.program.id


def _programs(request: web.Request) -> list[Program]:
    return list(context(request).faq.programs.values())


def _scope(request: web.Request, ref: str) -> Scope:
    if ref == ALL:
        return Scope(ALL, None)
    program = context(request).faq.programs.get(ref)
    if program is None:
        raise web.HTTPNotFound()
    return Scope(ref, program)


def _offers(request: web.Request, scope: Scope) -> list[Program]:
    """The offers an answer of this scope is filled for (and checked against)."""
    return _programs(request) if scope.program is None else [scope.program]


def offer_name(program: Program, lang: str) -> str:
    return program.short_title.localized().in_language(lang)


def _scope_name(request: web.Request, scope: Scope) -> str:
    if scope.program is None:
        return t(request, N_("web.faq.all_offers"))
    return offer_name(scope.program, language(request))


def topic_of(request: web.Request) -> str:
    topic = request.match_info["topic"]
    if topic not in context(request).faq.topics():
        raise web.HTTPNotFound()
    return topic


def title_of(request: web.Request, topic: str, lang: str | None = None) -> str:
    return context(request).faq.title(topic, lang or language(request)) or topic


def role_name(request: web.Request, role: str) -> str:
    return t(request, AUTHOR_ROLES.get(role, N_("staff.role.staff")))


def reason(request: web.Request, problem: Message) -> str:
    return render(problem, language(request))


async def author_of(request: web.Request, session: AsyncSession) -> store.Author:
    seen = viewer(request)
    return seen.author(Role.STAFF, await person_id(session, seen.user))


def form_text(form: Any, name: str) -> str:
    """A field as typed, without the browser's CR LF line ends (Telegram's texts end lines with LF)
    and without NUL, which no one types and PostgreSQL cannot store."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def form_number(form: Any, name: str) -> int | None:
    value = form_text(form, name)
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@dataclass(frozen=True)
class Shown:
    """One offer's answer in both languages, as a person sees it (safe HTML, or None: no answer)."""

    offer: str
    own_answer_stays: bool
    bubbles: dict[str, Markup | None]


def _previews(
    request: web.Request, topic: str, offers: Sequence[Program], texts: dict[str, str] | None, *, all_offers: bool
) -> list[Shown]:
    ctx = context(request)
    lang = language(request)
    return [
        Shown(
            offer_name(preview.program, lang),
            preview.own_answer_stays,
            {k: None if m is None else telegram_preview(m.text) for k, m in preview.messages.items()},
        )
        for preview in editing.previews(ctx.faq, topic, offers, texts, ctx.today(), all_offers=all_offers)
    ]


# --- the list -----------------------------------------------------------------------------------


async def topics_page(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    lang = language(request)
    async with ctx.sessions() as session:
        changes = await editing.last_changes(session)
    rows = []
    for topic in ctx.faq.topics():
        own = [
            offer_name(program, lang)
            for program in _programs(request)
            if (answer := ctx.faq.content.answers.get((topic, program.id))) is not None and answer.text_fr is not None
        ]
        change = changes.get(topic)
        rows.append(
            {
                "id": topic,
                "fr": title_of(request, topic, "fr"),
                "en": title_of(request, topic, "en"),
                "builtin": topic in BUILTIN_TOPICS,
                "own": own,
                "role": role_name(request, change.author_role) if change else None,
                "at": change.created_at if change else None,
            }
        )
    return page(request, "faq_list.html", title=t(request, N_("web.faq.title")), rows=rows)


# --- a topic ------------------------------------------------------------------------------------


async def topic_page(
    request: web.Request, *, status: int = 200, error: str = "", example: str = "", example_lang: str = ""
) -> web.StreamResponse:
    ctx = context(request)
    topic = topic_of(request)
    lang = language(request)
    scopes = [Scope(ALL, None), *(Scope(p.id, p) for p in _programs(request))]
    live = {s.ref: ctx.faq.content.answers.get((topic, s.program_id)) for s in scopes}
    async with ctx.sessions() as session:
        versions = {ref: await store.revision(session, answer.revision) for ref, answer in live.items() if answer}
    shown = {
        p.program.id: p
        for p in editing.previews(ctx.faq, topic, _programs(request), None, ctx.today(), all_offers=False)
    }
    sections = []
    for scope in scopes:
        answer, version = live[scope.ref], versions.get(scope.ref)
        preview = shown.get(scope.program_id or "")
        sections.append(
            {
                "scope": scope,
                "name": _scope_name(request, scope),
                "texts": None
                if answer is None or answer.text_fr is None
                else {"fr": answer.text_fr, "en": answer.text_en},
                "version": version,
                "role": role_name(request, version.author_role) if version else None,
                "base": answer.revision if answer else 0,
                "can_go_back": editing.can_go_back(ctx.faq, topic, scope.program_id),
                "bubbles": None
                if preview is None
                else {k: None if m is None else telegram_preview(m.text) for k, m in preview.messages.items()},
            }
        )
    builtin_examples = [e for e in ctx.faq.data.examples if e.topic == topic]
    staff_examples = [e for e in ctx.faq.content.examples if e.topic == topic]
    done = request.query.get("done", "")
    notices = {
        "published": N_("web.faq.published"),
        "builtin": N_("web.faq.back_to_builtin"),
        "example": N_("web.faq.example_added"),
        "created": N_("web.faq.created"),
    }
    return page(
        request,
        "faq_topic.html",
        status=status,
        title=title_of(request, topic),
        topic=topic,
        titles={"fr": title_of(request, topic, "fr"), "en": title_of(request, topic, "en")},
        builtin=topic in BUILTIN_TOPICS,
        sections=sections,
        builtin_examples=builtin_examples,
        staff_examples=staff_examples,
        notice=t(request, notices[done]) if done in notices else "",
        error=error,
        example=example,
        example_lang=example_lang or lang,
        lang_keys=LANG_KEYS,
        max_example=store.MAX_EXAMPLE,
    )


async def topic_view(request: web.Request) -> web.StreamResponse:
    return await topic_page(request)


async def add_example(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    topic = topic_of(request)
    form = await request.post()
    text, lang = form_text(form, "text"), form_text(form, "lang")
    if lang not in LANG_KEYS:
        lang = language(request)
    if editing.example_problem(text):
        error = t(request, N_("web.faq.bad_example"), limit=store.MAX_EXAMPLE)
        return await topic_page(request, status=422, error=error, example=text, example_lang=lang)
    async with ctx.sessions() as session, session.begin():  # a second click finds it there: added once
        await editing.add_example(session, topic, lang, text, await author_of(request, session), ctx.now())
    await ctx.refresh_now()
    return redirect(f"/faq/topic/{topic}?done=example#examples")


async def back_to_builtin(request: web.Request) -> web.StreamResponse:
    """`Back to the built-in answer` (or, for one offer, to the answer for all offers)."""
    ctx = context(request)
    topic = topic_of(request)
    form = await request.post()
    scope = _scope(request, form_text(form, "offer"))
    base = form_number(form, "base")
    if base is None or not editing.can_go_back(ctx.faq, topic, scope.program_id):
        return await topic_page(request, status=409, error=t(request, N_("web.faq.stale")))
    async with ctx.sessions() as session, session.begin():
        author = await author_of(request, session)
        published = await editing.publish(session, topic, scope.program_id, None, base, author, ctx.now())
    if isinstance(published, editing.ChangedMeanwhile | editing.TopicTaken):
        await ctx.refresh_now()
        return await topic_page(request, status=409, error=t(request, N_("web.faq.stale")))
    await ctx.refresh_now()
    return redirect(f"/faq/topic/{topic}?done=builtin")


# --- editing ------------------------------------------------------------------------------------


def _edit_page(
    request: web.Request,
    topic: str,
    scope: Scope,
    texts: dict[str, str],
    base: int,
    *,
    status: int = 200,
    error: str = "",
    previews: list[Shown] | None = None,
    current: dict[str, str | None] | None = None,
) -> web.StreamResponse:
    return page(
        request,
        "faq_edit.html",
        status=status,
        title=t(request, N_("web.faq.edit_title"), topic=title_of(request, topic), offer=_scope_name(request, scope)),
        topic=topic,
        scope=scope,
        texts=texts,
        base=base,
        error=error,
        previews=previews,
        current=current,
        placeholders=[f"{{{name}}}" for name in PLACEHOLDERS],
        lang_keys=LANG_KEYS,
        keep_form="faq-form",  # switching the language keeps what was typed
        builtins=_builtin_templates(request, topic) if scope.program is None else [],
    )


def _builtin_templates(request: web.Request, topic: str) -> list[tuple[str, dict[str, str]]]:
    """Each offer's built-in template (offer name, by language): what an answer for all offers replaces."""
    lang = language(request)
    found = []
    for program in _programs(request):
        texts = {code: default_template(topic, program, code) for code in LANG_KEYS}
        if all(text is not None for text in texts.values()):
            found.append((offer_name(program, lang), {code: text or "" for code, text in texts.items()}))
    return found


def _live_texts(request: web.Request, topic: str, scope: Scope) -> tuple[dict[str, str], int]:
    """The text to start from, and the live version: the live staff text of this scope; else, for
    one offer, what it shows now; else, for all offers, the built-in template when it is the same
    for every offer (when it differs, the form starts empty: the page shows each offer's)."""
    ctx = context(request)
    live = ctx.faq.content.answers.get((topic, scope.program_id))
    base = live.revision if live else 0
    if live is not None and live.text_fr is not None and live.text_en is not None:
        return {"fr": live.text_fr, "en": live.text_en}, base
    if scope.program is not None:
        return {code: ctx.faq.template(topic, scope.program, code) or "" for code in LANG_KEYS}, base
    builtins = [texts for _name, texts in _builtin_templates(request, topic)]
    same = {code: {texts[code] for texts in builtins} for code in LANG_KEYS}
    return {code: next(iter(found)) if len(found) == 1 else "" for code, found in same.items()}, base


async def edit_view(request: web.Request) -> web.StreamResponse:
    topic = topic_of(request)
    scope = _scope(request, request.query.get("offer", ALL))
    texts, base = _live_texts(request, topic, scope)
    return _edit_page(request, topic, scope, texts, base)


def _refusal(request: web.Request, texts: dict[str, str], offers: Sequence[Program]) -> str | None:
    """Telegram's checks, French then English: the refusal in the viewer's language, else None."""
    refused = editing.texts_problem(texts, offers)
    if refused is None:
        return None
    lang, problem = refused
    return t(request, N_("web.faq.refused"), language=t(request, LANG_KEYS[lang]), reason=reason(request, problem))


async def edit_send(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    topic = topic_of(request)
    form = await request.post()
    scope = _scope(request, form_text(form, "offer"))
    texts = {lang: form_text(form, lang) for lang in LANG_KEYS}
    base = form_number(form, "base")
    if base is None:  # a form cut short: publishing is refused as stale, what was typed is kept
        base = -1
    offers = _offers(request, scope)
    refusal = _refusal(request, texts, offers)
    if refusal is not None:
        return _edit_page(request, topic, scope, texts, base, status=422, error=refusal)
    previews = _previews(request, topic, offers, texts, all_offers=scope.program is None)
    if form_text(form, "action") != "publish":
        return _edit_page(request, topic, scope, texts, base, previews=previews)
    async with ctx.sessions() as session, session.begin():
        author = await author_of(request, session)
        published = await editing.publish(
            session, topic, scope.program_id, (texts["fr"], texts["en"]), base, author, ctx.now()
        )
    await ctx.refresh_now()
    if isinstance(published, editing.ChangedMeanwhile | editing.TopicTaken):
        live = ctx.faq.content.answers.get((topic, scope.program_id))
        if live is not None and (live.text_fr, live.text_en) == (texts["fr"], texts["en"]):
            return redirect(f"/faq/topic/{topic}?done=published")  # a double click: the first one published it
        current: dict[str, str | None] = {"fr": live.text_fr if live else None, "en": live.text_en if live else None}
        number = live.revision if live else 0
        error = t(request, N_("web.faq.changed_meanwhile"), number=str(number))
        return _edit_page(request, topic, scope, texts, number, status=409, error=error, current=current)
    return redirect(f"/faq/topic/{topic}?done=published")


# --- a new topic --------------------------------------------------------------------------------


MAX_EXAMPLES = 100  # question ids a new topic may take from /gaps at once


def _example_ids(values: list[str]) -> list[int]:
    """The unanswered questions' ids a new topic was started from (/gaps' "new topic"): junk is dropped."""
    ids = [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10]
    return sorted(set(ids))[:MAX_EXAMPLES]


async def _waiting(request: web.Request, ids: list[int]) -> list[store.Asked]:
    if not ids:
        return []
    async with context(request).sessions() as session:
        return await store.asked(session, ids)


def _new_page(
    request: web.Request,
    values: dict[str, str],
    *,
    status: int = 200,
    error: str = "",
    previews: list[Shown] | None = None,
    examples: Sequence[store.Asked] = (),
) -> web.StreamResponse:
    return page(
        request,
        "faq_new.html",
        status=status,
        title=t(request, N_("web.faq.new_title")),
        values=values,
        error=error,
        previews=previews,
        placeholders=[f"{{{name}}}" for name in PLACEHOLDERS],
        lang_keys=LANG_KEYS,
        examples=examples,
        keep_form="faq-form",  # switching the language keeps what was typed
    )


def _created(request: web.Request, topic: str, values: dict[str, str]) -> bool:
    """Whether `topic` is the very topic this form creates (same titles, same answer): a second click."""
    faq = context(request).faq
    live = faq.content.answers.get((topic, None))
    return (
        faq.content.topics.get(topic) == (values["title_fr"], values["title_en"])
        and live is not None
        and (live.text_fr, live.text_en) == (values["fr"], values["en"])
    )


async def new_view(request: web.Request) -> web.StreamResponse:
    examples = await _waiting(request, _example_ids(request.query.getall("example", [])))
    return _new_page(request, {"title_fr": "", "title_en": "", "fr": "", "en": ""}, examples=examples)


async def new_send(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    form = await request.post()
    values = {name: form_text(form, name) for name in ("title_fr", "title_en", "fr", "en")}
    ids = _example_ids([v for v in form.getall("example", []) if isinstance(v, str)])
    examples = await _waiting(request, ids)
    if editing.title_problem(values["title_fr"]) or editing.title_problem(values["title_en"]):
        error = t(request, N_("web.faq.bad_title"), limit=store.MAX_TITLE)
        return _new_page(request, values, status=422, error=error, examples=examples)
    offers = _programs(request)
    texts = {"fr": values["fr"], "en": values["en"]}
    refusal = _refusal(request, texts, offers)
    if refusal is not None:
        return _new_page(request, values, status=422, error=refusal, examples=examples)
    titles = (values["title_fr"], values["title_en"])
    taken = editing.titled(ctx.faq, titles)
    if taken is not None:
        if form_text(form, "action") == "publish" and _created(request, taken, values):
            return redirect(f"/faq/topic/{taken}?done=created")  # a second click: the first one created it
        error = t(request, N_("web.faq.title_taken"), topic=title_of(request, taken))
        return _new_page(request, values, status=422, error=error, examples=examples)
    topic = editing.new_topic_id(values["title_en"], ctx.faq.topics())
    if form_text(form, "action") != "publish":
        shown = _previews(request, topic, offers, texts, all_offers=True)
        return _new_page(request, values, previews=shown, examples=examples)
    async with ctx.sessions() as session, session.begin():
        author = await author_of(request, session)
        pair = (texts["fr"], texts["en"])
        published = await editing.publish(session, topic, None, pair, 0, author, ctx.now(), new_titles=titles)
        still = await store.asked(session, ids) if ids else []
        if still and not isinstance(published, editing.ChangedMeanwhile | editing.TopicTaken):
            # the unanswered question(s) it was started from: its example, as /gaps and /faq_gaps do
            await gaps.add_to_topic(session, still, topic, author, ctx.now())
    await ctx.refresh_now()
    if isinstance(published, editing.ChangedMeanwhile | editing.TopicTaken):  # created meanwhile
        if _created(request, topic, values):  # by a second click at the same time
            return redirect(f"/faq/topic/{topic}?done=created")
        return _new_page(request, values, status=409, error=t(request, N_("web.faq.stale")), examples=examples)
    return redirect(f"/faq/topic/{topic}?done=created")


def setup(site: Site) -> None:
    site.get("/faq", topics_page, Role.STAFF)
    site.get("/faq/new", new_view, Role.STAFF)
    site.post("/faq/new", new_send, Role.STAFF)
    site.get("/faq/topic/{topic}", topic_view, Role.STAFF)
    site.get("/faq/topic/{topic}/edit", edit_view, Role.STAFF)
    site.post("/faq/topic/{topic}/edit", edit_send, Role.STAFF)
    site.post("/faq/topic/{topic}/builtin", back_to_builtin, Role.STAFF)
    site.post("/faq/topic/{topic}/examples", add_example, Role.STAFF)
