"""Every route of the site, for every role and for none: what the site lists in `Site.routes` is
what is served, and each is refused without its role, without a session, without a CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.staff.roles import Role
from bot.storage.models import AuditEntry, RoleGrant
from bot.web.app import SITE

from .conftest import ADMIN, NOBODY, ORGANIZER, STAFF, Web

HOLDS = {ADMIN: set(Role), STAFF: {Role.STAFF}, ORGANIZER: {Role.ORGANIZER}}


SAMPLES = {"topic": "stipend", "offer": "quebec-psoig-2021-023", "program": "quebec-psoig-2021-023"}


def _sample(match: re.Match[str]) -> str:
    name, _, pattern = match.group(1).partition(":")
    if "|" in pattern:  # one of a few words: the first
        return pattern.strip("()").split("|")[0]
    return next((value for key, value in SAMPLES.items() if key in name), "1")


def concrete(path: str) -> str:
    """A path with its parameters filled (`/broadcasts/{id:\\d+}` -> `/broadcasts/1`)."""
    return re.sub(r"\{([^{}]+(?:\{[^}]*\}[^{}]*)*)\}", _sample, path)


def routes(web: Web) -> list[tuple[str, str, Role | None]]:
    listed = web.client.server.app[SITE].routes
    assert ("POST", "/logout", None) in listed
    return listed


async def audit_count(web: Web) -> int:
    async with web.context.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_without_a_session_nothing_is_served(web: Web) -> None:
    for method, path, _role in routes(web):
        response = await web.client.request(method, concrete(path), allow_redirects=False)
        if method == "GET":
            assert response.status == 303, path
            assert response.headers["Location"].startswith("/login?next="), path
        else:
            assert response.status == 401, path


@pytest.mark.parametrize("user", [ADMIN, STAFF, ORGANIZER])
async def test_each_role_reaches_its_routes_only(web: Web, user: int) -> None:
    await web.sign_in(user)
    for method, path, role in routes(web):
        if path == "/logout":
            continue
        allowed = role is None or role in HOLDS[user]
        if method == "GET":
            response = await web.client.get(concrete(path), allow_redirects=False)
        else:  # with the CSRF token: only the role stops it
            response = await web.post(concrete(path), {}, allow_redirects=False)
        if allowed:
            assert response.status not in (401, 403), (method, path, response.status)
            assert response.status < 500, (method, path, response.status)
        else:
            assert response.status == 403, (method, path, response.status)


@pytest.mark.parametrize("user", [STAFF, ORGANIZER])
async def test_refused_changes_write_nothing(web: Web, user: int) -> None:
    await web.sign_in(user)
    before = await audit_count(web)
    for method, path, role in routes(web):
        if method == "POST" and role is not None and role not in HOLDS[user]:
            assert (await web.post(concrete(path), {}, allow_redirects=False)).status == 403, path
    assert await audit_count(web) == before


async def test_a_change_without_its_csrf_token_is_refused_everywhere(web: Web) -> None:
    await web.sign_in(ADMIN)
    before = await audit_count(web)
    for method, path, _role in routes(web):
        if method == "POST":
            assert (await web.client.post(concrete(path), data={}, allow_redirects=False)).status == 403, path
            wrong = await web.client.post(concrete(path), data={"csrf": "x" * 43}, allow_redirects=False)
            assert wrong.status == 403, path
    assert await audit_count(web) == before
    assert (await web.client.get("/", allow_redirects=False)).status == 200  # still signed in


async def test_someone_without_a_role_never_gets_a_session(web: Web) -> None:
    await web.client.post("/login/link", data={"token": "forged.token"})
    for _method, path, _role in routes(web):
        response = await web.client.get(concrete(path), allow_redirects=False)
        assert response.status in (303, 405), path
    assert NOBODY not in HOLDS


async def test_a_role_taken_back_stops_working_at_the_next_click(web: Web) -> None:
    granted = 9010
    async with web.context.sessions.begin() as session:
        session.add(RoleGrant(user_id=granted, role="staff", granted_by=None, granted_at=datetime.now(UTC)))
    await web.sign_in(granted)
    assert (await web.client.get("/", allow_redirects=False)).status == 200
    async with web.context.sessions.begin() as session:
        await session.delete(await session.get(RoleGrant, (granted, "staff")))
    assert (await web.client.get("/", allow_redirects=False)).status == 403
    staff_pages = [p for m, p, r in routes(web) if m == "GET" and r is Role.STAFF]
    for path in staff_pages:
        assert (await web.client.get(concrete(path), allow_redirects=False)).status == 403, path
