"""The website's application: sign-in, sessions, roles on every route, CSRF, headers, pages.

Each page module (`bot/web/pages/*.py`) has `setup(site)`, which adds its routes through
`site.get` / `site.post` with the role they need; nothing is served without a role check.
"""

from __future__ import annotations

import ipaddress
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
from ..i18n import LANGUAGES, format_day, format_moment, format_number, render
from ..offers.catalog import OfferCatalog
from ..staff.roles import Role, Roles, granted
from ..storage import rate, repo
from ..storage.db import failure
from ..telegram.service import where
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
    ("/audit", N_("web.nav.audit"), Role.ADMIN),
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
SWITCHED = web.RequestKey("switched", str)  # the language chosen by this very request (a form sent with `?lang=`)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def language(request: web.Request) -> str:
    """The page's language: the one chosen on the site, else the browser's, else the bot's default."""
    chosen = request.get(SWITCHED) or request.cookies.get(LANG_COOKIE)
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
    """A page rendered in the viewer's language; `values` are the template's own (they may not
    reuse the names every page has: `t`, `day`, `number`, `moment`, `csrf`...)."""
    body = fragment(request, template, **values)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def fragment(request: web.Request, template: str, **values: Any) -> str:
    """A template rendered with what every page has (an htmx fragment is one too)."""
    lang = language(request)
    found = request.get(VIEWER)
    common: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "fr" else "fr",
        "t": lambda key, **params: render(Message(key, params) if params else Message(key), lang),
        "day": lambda value: format_day(value, lang),
        "number": lambda value: format_number(value, lang),
        "moment": lambda value: moment(value, lang, request.app[CONTEXT]),
        "viewer": found,
        "csrf": found.csrf if isinstance(found, Viewer) else "",
        "nav": [(path, key) for path, key, role in NAV if isinstance(found, Viewer) and found.has(role)],
        "path": request.path,
        "static": lambda name: str(request.app.router["static"].url_for(filename=name)),
        "title": "",
        "keep_form": "",  # a form whose typed text the language switch sends along (it shows it again)
    }
    clash = set(values) & (set(common) - {"title", "keep_form"})
    if clash:
        raise TypeError(f"template values reuse the names every page has: {sorted(clash)}")
    return request.app[TEMPLATES].get_template(template).render({**common, **values})


def moment(value: datetime | None, lang: str, ctx: WebContext) -> str:
    """A date and time in the bot's time zone: `7 mars 2022, 10 h 05` / `March 7, 2022, 10:05`."""
    return "—" if value is None else format_moment(value, lang, ctx.config.zone)


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser asks for the page with GET."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None) -> str:
    """A redirect target on this site only (`/path?query`), never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):  # no header injection, no `/\t/host`
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
                if request.method == "GET" and "HX-Request" not in request.headers:
                    return redirect(f"/login?next={quote(request.path_qs, safe='')}")
                return signed_out(request)
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


def signed_out(request: web.Request) -> web.Response:
    """401; a live part of a page (htmx) sends the whole page to the sign-in, which then comes back
    to it (not the login page drawn inside a counter, nor a fragment shown as a page)."""
    response = page(request, "error.html", 401, message=t(request, N_("web.error.signed_out")))
    if "HX-Request" in request.headers:
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = safe_next(shown.path + (f"?{shown.query}" if shown.query else ""))
        response.headers["HX-Redirect"] = f"/login?next={quote(back, safe='')}"
    return response


# --- middlewares -------------------------------------------------------------------------------


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # a /web link's token never leaves this site in a Referer (and forms keep their `Origin`,
    # which `no-referrer` would turn into `null`)
    response.headers["Referrer-Policy"] = "same-origin"
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
        if http.status in (404, 405, 413) and request.method != "HEAD":  # HEAD: no body to show
            key = {404: N_("web.error.not_found"), 405: N_("web.error.not_found"), 413: N_("web.error.too_large")}
            shown = page(request, "error.html", http.status, message=t(request, key[http.status]))
            if "Allow" in http.headers:
                shown.headers["Allow"] = http.headers["Allow"]
            return shown
        raise
    except ConnectionResetError:  # the browser went away (a second click cancels the first): not an error
        raise
    except Exception as error:
        # its type and place, and a database error's first line: never its message, which may quote a form
        logger.error("web: %s on %s %s (%s)", where(error), request.method, request.path, failure(error))
        return page(request, "error.html", 500, message=t(request, N_("web.error.internal")))


@web.middleware
async def switch_language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A form sent with `?lang=fr|en` (the language switch of a page with a form: nothing typed is
    lost) is answered in that language, which stays chosen."""
    switched = request.query.get("lang") if request.method == "POST" else None
    if switched not in LANGUAGES:
        return await handler(request)
    request[SWITCHED] = switched
    response = await handler(request)
    _remember_language(response, switched)
    return response


def _remember_language(response: web.StreamResponse, lang: str) -> None:
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, secure=True, samesite="Lax", path="/")


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
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
        return page(request, "error.html", 403, message=t(request, N_("web.error.csrf")))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/login"):
        found = request.get(VIEWER)
        if not isinstance(found, Viewer):
            return signed_out(request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.post()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not auth.csrf_ok(found.csrf, sent):
            return page(request, "error.html", 403, message=t(request, N_("web.error.csrf")))
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    """A form sent from another site is refused when the browser says so (`Origin`): sign-in forms
    carry no CSRF token (the link is the secret), and this keeps another site from signing a
    browser in as someone else."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = urlsplit(origin).netloc
    public = request.app[CONTEXT].config.web.public_url
    return host == request.host or (public is not None and host == urlsplit(public).netloc)


# --- sign-in -------------------------------------------------------------------------------------


async def _too_many(request: web.Request) -> bool:
    """Login attempts per client address, in the database (every process shares the count)."""
    ctx = context(request)
    per_minute = ctx.config.web.login_attempts_per_minute
    name = "web-login:" + auth.token_hash(client_address(request))[:16]
    async with ctx.sessions() as session, session.begin():
        taken, _wait = await rate.take(session, 1, per_minute / 60, max(1.0, per_minute), ctx.now(), name=name)
    return taken == 0


def client_address(request: web.Request) -> str:
    """The browser's address. Behind a reverse proxy on this machine (the site listens on 127.0.0.1
    by default, TLS ends in the proxy), every request comes from 127.0.0.1: the proxy's last
    `X-Forwarded-For` entry names the browser (the earlier ones are whatever the browser sent)."""
    remote = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    try:
        behind_proxy = ipaddress.ip_address(remote).is_loopback
    except ValueError:  # a Unix socket
        behind_proxy = True
    return forwarded if forwarded and behind_proxy else remote


async def _sign_in(request: web.Request, user: int, target: str) -> web.StreamResponse:
    ctx = context(request)
    async with ctx.sessions() as session, session.begin():
        roles = await roles_of(session, ctx.registry, user)
        if not roles:
            return page(request, "error.html", 403, message=t(request, N_("web.error.no_role")))
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:  # signing in again in the same browser: its earlier session ends
            await auth.close_session(session, previous)
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
    # once, as a /web link: the address stays in the browser's history after the sign-out
    async with ctx.sessions() as session, session.begin():
        fresh = await auth.use_once(
            session, "widget:" + fields["hash"].lower()[:56], ctx.now(), ctx.now() + max_age + auth.CLOCK_SKEW
        )
    if not fresh:
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
    _remember_language(response, lang)
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
    app = web.Application(middlewares=[headers, errors, switch_language, signed_in], client_max_size=MAX_BODY)
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
