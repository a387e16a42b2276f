"""The website's application: sign-in, sessions, roles on every route, CSRF, headers, pages.

Each page module (`bot/web/pages/*.py`) has `setup(site)`, which adds its routes through
`site.get` / `site.post` with the role they need; nothing is served without a role check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rules import N_, Message

from ..clock import Clock, SystemClock, local_today
from ..config import Config
from ..faq import store as faq_store
from ..faq.service import FaqService
from ..i18n import LANGUAGES, format_day, format_number, render
from ..offers.catalog import OfferCatalog
from ..staff.roles import Role, Roles, granted
from ..storage import rate, repo
from ..storage.db import failure
from . import auth

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "stagebot_session"
LANG_COOKIE = "stagebot_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_EVERY = 1.0  # seconds between two looks at the database for published changes
MAX_BODY = 256 * 1024  # a form is small: texts of a few thousand characters at most

# The navigation: (path, catalog key, role needed)
NAV: tuple[tuple[str, str, Role], ...] = (
    ("/faq", N_("web.nav.faq"), Role.STAFF),
    ("/gaps", N_("web.nav.gaps"), Role.STAFF),
    ("/broadcasts", N_("web.nav.broadcasts"), Role.ORGANIZER),
    ("/offers", N_("web.nav.offers"), Role.ORGANIZER),
    ("/stats", N_("web.nav.stats"), Role.ORGANIZER),
)
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' https://telegram.org",  # telegram.org: the Login Widget's own script
        "frame-src https://oauth.telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


@dataclass
class WebContext:
    """What every page reads: settings, the database, the live offers and FAQ, the time."""

    config: Config
    sessions: async_sessionmaker[AsyncSession]
    offers: OfferCatalog
    faq: FaqService
    bot_token: str
    clock: Clock = field(default_factory=SystemClock)
    bot_username: str | None = None  # the Login Widget needs it; None: sign-in by /web link only
    refresh_every: float = REFRESH_EVERY
    # In the bot's process: the conversation service's own refresh (it also moves its engine to
    # new offer editions); alone: the offers and the FAQ above.
    refresher: Callable[[AsyncSession], Awaitable[None]] | None = None
    _next_look: float = field(default=0.0, init=False)

    @property
    def registry(self) -> Roles:
        return Roles.from_config(self.config)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return local_today(self.clock, self.config.zone)

    async def refresh(self) -> None:
        """Take what was published since the last look (by the bot, the command line or this site)."""
        if time.monotonic() < self._next_look:
            return
        self._next_look = time.monotonic() + self.refresh_every
        await self.refresh_now()

    async def refresh_now(self) -> None:
        try:
            async with self.sessions() as session:
                if self.refresher is not None:
                    await self.refresher(session)
                    return
                if await self.offers.refresh(session):
                    self.faq.programs = self.offers.programs
                await self.faq.refresh(session)
        except Exception as error:  # what was read last is still right, or nearly
            logger.warning("could not read published changes: %s", failure(error))


@dataclass
class Viewer:
    """The signed-in staff member of this request."""

    user: int
    roles: frozenset[Role]
    csrf: str
    token: str

    def has(self, role: Role) -> bool:
        return role in self.roles

    def author(self, role: Role, person_id: int | None) -> faq_store.Author:
        """Who makes a change, for the audit log: admins act as admins."""
        return faq_store.Author(person_id, Role.ADMIN.value if Role.ADMIN in self.roles else role.value)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTEXT = web.AppKey("context", WebContext)
VIEWER = web.RequestKey("viewer", Viewer)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def language(request: web.Request) -> str:
    """The page's language: the one chosen on the site, else the browser's, else the bot's default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return request.app[CONTEXT].config.default_language


def context(request: web.Request) -> WebContext:
    return request.app[CONTEXT]


def viewer(request: web.Request) -> Viewer:
    """The signed-in viewer (routes added by `Site` are only reached with one)."""
    found = request.get(VIEWER)
    assert isinstance(found, Viewer)
    return found


def t(request: web.Request, key: str, **params: Any) -> str:
    return render(Message(key, params) if params else Message(key), language(request))


async def roles_of(session: AsyncSession, registry: Roles, user: int) -> frozenset[Role]:
    """The user's roles now: the configuration's and those granted from Telegram (read each time,
    so a revoked role stops working at the next click)."""
    held = set(registry.configured_for(user))
    held |= {Role(name) for name in await granted(session, user) if name in Role.__members__.values()}
    return frozenset(Role) if Role.ADMIN in held else frozenset(held)


async def person_id(session: AsyncSession, user: int) -> int | None:
    """The bot's row of a Telegram user (the audit log's actor), if they ever wrote to the bot."""
    person = await repo.find_person(session, "telegram", str(user))
    return person.id if person is not None else None


def page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page rendered in the viewer's language."""
    lang = language(request)
    env = request.app[TEMPLATES]
    found = request.get(VIEWER)
    values.setdefault("title", "")
    body = env.get_template(template).render(
        request=request,
        lang=lang,
        other_lang="en" if lang == "fr" else "fr",
        t=lambda key, **params: render(Message(key, params) if params else Message(key), lang),
        day=lambda value: format_day(value, lang),
        number=lambda value: format_number(value, lang),
        moment=lambda value: moment(value, lang, request.app[CONTEXT]),
        viewer=found,
        csrf=found.csrf if isinstance(found, Viewer) else "",
        nav=[(path, key) for path, key, role in NAV if isinstance(found, Viewer) and found.has(role)],
        path=request.path,
        static=lambda name: str(request.app.router["static"].url_for(filename=name)),
        **values,
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def moment(value: datetime | None, lang: str, ctx: WebContext) -> str:
    """A date and time in the bot's time zone: `7 mars 2022, 10 h 05` / `March 7, 2022, 10:05`."""
    if value is None:
        return "—"
    local = value.astimezone(ctx.config.zone)
    clock = f"{local.hour} h {local.minute:02d}" if lang == "fr" else f"{local.hour}:{local.minute:02d}"
    return f"{format_day(local.date(), lang)}, {clock}"


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser asks for the page with GET."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None) -> str:
    """A redirect target on this site only (`/path?query`), never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


class Site:
    """Adds routes with their role: every route needs a signed-in viewer holding `role` (None: any
    role; someone whose roles were all taken back is refused too)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.routes: list[tuple[str, str, Role | None]] = []  # (method, path, role): the tests go through each

    def _guarded(self, role: Role | None, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            found = request.get(VIEWER)
            if not isinstance(found, Viewer):
                if request.method == "GET":
                    return redirect(f"/login?next={quote(request.path_qs, safe='')}")
                return page(request, "error.html", 401, message=t(request, N_("web.error.signed_out")))
            if not found.roles or (role is not None and not found.has(role)):
                return page(request, "error.html", 403, message=t(request, N_("web.error.forbidden")))
            return await handler(request)

        return guarded

    def get(self, path: str, handler: Handler, role: Role | None) -> None:
        self.app.router.add_get(path, self._guarded(role, handler), allow_head=False)
        self.routes.append(("GET", path, role))

    def post(self, path: str, handler: Handler, role: Role | None) -> None:
        self.app.router.add_post(path, self._guarded(role, handler))
        self.routes.append(("POST", path, role))


SITE = web.AppKey("site", Site)


# --- middlewares -------------------------------------------------------------------------------


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # a /web link's token never leaves in a Referer
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    public = request.app[CONTEXT].config.web.public_url or ""
    if public.startswith("https://"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No traceback reaches a browser; the log gets the error's type and the route, nothing sent."""
    try:
        return await handler(request)
    except web.HTTPException as http:
        if http.status in (404, 405, 413) and request.method in ("GET", "POST"):
            key = {404: N_("web.error.not_found"), 405: N_("web.error.not_found"), 413: N_("web.error.too_large")}
            return page(request, "error.html", http.status, message=t(request, key[http.status]))
        raise
    except Exception as error:
        logger.error("web: %s on %s %s: %s", type(error).__name__, request.method, request.path, failure(error))
        return page(request, "error.html", 500, message=t(request, N_("web.error.internal")))


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Finds the session of the cookie, its roles, and checks the CSRF token of every change."""
    if request.path.startswith("/static/"):
        return await handler(request)
    ctx = request.app[CONTEXT]
    await ctx.refresh()
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        async with ctx.sessions() as session:
            row = await auth.find_session(session, token, ctx.now())
            if row is not None:
                roles = await roles_of(session, ctx.registry, row.user_id)
                request[VIEWER] = Viewer(row.user_id, roles, row.csrf, token)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/login"):
        found = request.get(VIEWER)
        if not isinstance(found, Viewer):
            return page(request, "error.html", 401, message=t(request, N_("web.error.signed_out")))
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.post()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not auth.csrf_ok(found.csrf, sent):
            return page(request, "error.html", 403, message=t(request, N_("web.error.csrf")))
    return await handler(request)


# --- sign-in -------------------------------------------------------------------------------------


async def _too_many(request: web.Request) -> bool:
    """Login attempts per client address, in the database (every process shares the count)."""
    ctx = context(request)
    per_minute = ctx.config.web.login_attempts_per_minute
    address = request.remote or "?"
    name = "web-login:" + auth.token_hash(address)[:16]
    async with ctx.sessions() as session, session.begin():
        taken, _wait = await rate.take(session, 1, per_minute / 60, max(1.0, per_minute), ctx.now(), name=name)
    return taken == 0


async def _sign_in(request: web.Request, user: int, target: str) -> web.StreamResponse:
    ctx = context(request)
    async with ctx.sessions() as session, session.begin():
        roles = await roles_of(session, ctx.registry, user)
        if not roles:
            return page(request, "error.html", 403, message=t(request, N_("web.error.no_role")))
        token, _row = await auth.open_session(session, user, ctx.now(), timedelta(hours=ctx.config.web.session_hours))
    response = redirect(safe_next(target))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.config.web.session_hours * 3600,
        httponly=True,
        secure=True,
        samesite="Lax",
        path="/",
    )
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    return page(
        request,
        "login.html",
        title=t(request, N_("web.login.title")),
        bot_username=ctx.bot_username,
        link_minutes=ctx.config.web.link_minutes,
        auth_url=f"/login/telegram?next={quote(safe_next(request.query.get('next')), safe='')}",
    )


async def login_widget(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    if await _too_many(request):
        return page(request, "error.html", 429, message=t(request, N_("web.error.too_many")))
    fields = {k: v for k, v in request.query.items() if k != "next"}
    max_age = timedelta(seconds=ctx.config.web.login_max_age)
    user = auth.widget_user(fields, ctx.bot_token, ctx.now(), max_age)
    if user is None:
        return page(request, "error.html", 403, message=t(request, N_("web.error.bad_login")))
    return await _sign_in(request, user, request.query.get("next", "/"))


async def link_page(request: web.Request) -> web.StreamResponse:
    """The link only shows a button: previews and prefetchers that open it do not use it up."""
    ctx = context(request)
    token = request.query.get("token", "")
    if auth.read_link_token(token, ctx.bot_token, ctx.now()) is None:
        return page(request, "error.html", 403, message=t(request, N_("web.error.bad_link")))
    return page(request, "link.html", title=t(request, N_("web.login.title")), token=token)


async def link_use(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    if await _too_many(request):
        return page(request, "error.html", 429, message=t(request, N_("web.error.too_many")))
    form = await request.post()
    token = form.get("token")
    link = auth.read_link_token(token, ctx.bot_token, ctx.now()) if isinstance(token, str) else None
    if link is None:
        return page(request, "error.html", 403, message=t(request, N_("web.error.bad_link")))
    async with ctx.sessions() as session, session.begin():
        fresh = await auth.use_link(session, link, ctx.now())
    if not fresh:
        return page(request, "error.html", 403, message=t(request, N_("web.error.used_link")))
    return await _sign_in(request, link.user, "/")


async def logout(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    async with ctx.sessions() as session, session.begin():
        await auth.close_session(session, viewer(request).token)
    response = redirect("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def choose_language(request: web.Request) -> web.StreamResponse:
    lang = request.match_info["lang"]
    if lang not in LANGUAGES:
        raise web.HTTPNotFound()
    response = redirect(safe_next(request.query.get("next")))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, secure=True, samesite="Lax", path="/")
    return response


async def home(request: web.Request) -> web.StreamResponse:
    found = request.get(VIEWER)
    if not isinstance(found, Viewer):
        return redirect("/login")
    if not found.roles:
        return page(request, "error.html", 403, message=t(request, N_("web.error.forbidden")))
    return page(request, "home.html", title=t(request, N_("web.home.title")))


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


PageSetup = Callable[[Site], None]


def create_app(ctx: WebContext, pages: Mapping[str, PageSetup] | None = None) -> web.Application:
    """The website. `pages`: the page modules' `setup` (default: every page of `bot/web/pages`)."""
    app = web.Application(middlewares=[headers, errors, signed_in], client_max_size=MAX_BODY)
    app[CONTEXT] = ctx
    app[TEMPLATES] = templates()
    app.router.add_get("/", home, allow_head=False)
    app.router.add_get("/login", login_page, allow_head=False)
    app.router.add_get("/login/telegram", login_widget, allow_head=False)
    app.router.add_get("/login/link", link_page, allow_head=False)
    app.router.add_post("/login/link", link_use)
    app.router.add_get("/lang/{lang}", choose_language, allow_head=False)
    app.router.add_static("/static/", HERE / "static", append_version=True, name="static")
    site = Site(app)
    app[SITE] = site
    site.post("/logout", logout, None)
    for setup in (pages if pages is not None else _default_pages()).values():
        setup(site)
    return app


def _default_pages() -> dict[str, PageSetup]:
    from .pages import PAGES

    return PAGES
