"""The site under attack, and in the hands of a confused new user: odd sign-in data, replayed
widget data, redirects to elsewhere, link guessing behind a proxy, absurd form values, double
clicks, a language switch mid-form, a session that ends under a live page, a failing database."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web as aiohttp_web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.broadcasts.message import MAX_TEXT
from bot.storage.models import AuditEntry, Broadcast
from bot.web.app import errors
from bot.web.auth import make_link_token, widget_hash

from ...conftest import BACKENDS
from .conftest import ORGANIZER, STAFF, TOKEN, Web
from .test_gaps import ask

on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ENGLISH = {"Accept-Language": "en-CA,en;q=0.9"}
MESSAGE = {
    "text_fr": "Bonjour, la date limite approche.",
    "text_en": "Hello, the deadline is near.",
    "kind": "subscribers",
    "offer": "all",
    "language": "both",
}
ONCE = re.compile(r'name="once" value="([^"]+)"')


async def broadcasts(web: Web) -> int:
    async with web.context.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Broadcast)) or 0)


@pytest.mark.parametrize("token", ["abc.é", "a.b\u200b"])
async def test_a_link_with_letters_beyond_ascii_is_refused_not_an_error(web: Web, token: str) -> None:
    shown = await web.client.get("/login/link", params={"token": token}, headers=ENGLISH)
    used = await web.client.post("/login/link", data={"token": token}, headers=ENGLISH)
    assert (shown.status, used.status) == (403, 403)
    assert "link" in await used.text()


async def test_login_widget_data_beyond_ascii_is_refused_not_an_error(web: Web) -> None:
    fields = {"id": str(STAFF), "auth_date": str(int(web.clock.now().timestamp())), "hash": "é" * 64}
    response = await web.client.get("/login/telegram", params=fields)
    assert response.status == 403


@pytest.mark.parametrize(
    "target", ["/\r\nSet-Cookie: stagebot_session=forged", "/\x00", "/\t/evil.example", "/\n/evil"]
)
async def test_a_next_address_with_control_characters_goes_home(web: Web, target: str) -> None:
    response = await web.client.get("/lang/en", params={"next": target}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"
    assert "stagebot_session" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00"])
async def test_an_absurd_date_is_refused_in_words(web: Web, when: str) -> None:
    await web.sign_in(ORGANIZER)
    response = await web.post("/broadcasts/new", {**MESSAGE, "action": "schedule", "when": when}, headers=ENGLISH)
    assert response.status == 400
    assert 'role="alert"' in await response.text()
    assert await broadcasts(web) == 0


@on_both_databases
async def test_a_double_click_on_send_creates_one_broadcast(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    form = await (await web.client.get("/broadcasts/new")).text()
    found = ONCE.search(form)
    assert found is not None, "the compose form has no one-time value"
    data = {
        **MESSAGE,
        "once": found.group(1),
        "action": "schedule",
        "when": "2026-03-05T10:00",
        "csrf": await web.csrf(),
    }
    first, second = await asyncio.gather(
        *(web.client.post("/broadcasts/new", data=data, allow_redirects=False) for _ in range(2))
    )
    assert await broadcasts(web) == 1
    assert first.headers["Location"] == second.headers["Location"] == "/broadcasts/1?done=schedule"
    # Back, then the same form sent again: still one; changed, it is a new broadcast
    again = await web.client.post("/broadcasts/new", data=data, allow_redirects=False)
    assert again.headers["Location"] == "/broadcasts/1?done=schedule"
    changed = await web.client.post("/broadcasts/new", data={**data, "text_en": "Hello again."}, allow_redirects=False)
    assert changed.headers["Location"] == "/broadcasts/2?done=schedule"
    # a fresh form may send the same text again, on purpose
    fresh = ONCE.search(await (await web.client.get("/broadcasts/new")).text())
    assert fresh is not None and fresh.group(1) != found.group(1)
    later = await web.client.post("/broadcasts/new", data={**data, "once": fresh.group(1)}, allow_redirects=False)
    assert later.headers["Location"] == "/broadcasts/3?done=schedule"
    assert await broadcasts(web) == 3


async def test_a_refused_form_keeps_its_one_time_value(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    once = "A" * 24
    refused = await web.post("/broadcasts/new", {**MESSAGE, "text_en": "", "once": once, "action": "send"})
    assert refused.status == 400
    assert f'name="once" value="{once}"' in await refused.text()


async def test_login_widget_data_signs_in_once(web: Web) -> None:
    fields = {"id": str(STAFF), "first_name": "Ana", "auth_date": str(int(web.clock.now().timestamp()))}
    fields["hash"] = widget_hash(fields, TOKEN)
    first = await web.client.get("/login/telegram", params=fields, allow_redirects=False)
    assert first.status == 303
    assert (await web.post("/logout", allow_redirects=False)).status == 303
    # someone else at the same computer, minutes later, finds the address in the history
    web.clock.advance(5 * 60)
    again = await web.client.get("/login/telegram", params=fields, allow_redirects=False, headers=ENGLISH)
    assert again.status == 403
    assert (await web.client.get("/", allow_redirects=False)).status == 303  # not signed in


@pytest.mark.parametrize("path", ["/broadcasts/reach?kind=subscribers", "/broadcasts/1/progress"])
async def test_a_live_part_of_a_page_sends_an_expired_session_to_sign_in(web: Web, path: str) -> None:
    await web.sign_in(ORGANIZER)
    web.clock.advance(web.context.config.web.session_hours * 3600 + 1)
    live = {"HX-Request": "true", "HX-Current-URL": "https://staff.example.org/broadcasts/1"}
    response = await web.client.get(path, headers=live, allow_redirects=False)
    # not the sign-in page drawn inside the counter: the whole page goes there, and comes back
    assert response.status == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fbroadcasts%2F1"


async def test_a_database_error_while_sending_shows_no_traceback_and_saves_nothing(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    await web.sign_in(ORGANIZER)
    from bot.broadcasts import store

    create = store.create

    async def failing(session: Any, *args: Any, **kwargs: Any) -> Any:
        await create(session, *args, **kwargs)  # everything written, then the database fails
        raise OperationalError("INSERT", None, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(store, "create", failing)
    data = {**MESSAGE, "action": "schedule", "when": "2026-03-05T10:00", "once": "B" * 24}
    response = await web.post("/broadcasts/new", data, headers=ENGLISH)
    assert response.status == 500
    body = await response.text()
    assert "Traceback" not in body and "INSERT" not in body and "server closed" not in body
    assert await broadcasts(web) == 0
    monkeypatch.setattr(store, "create", create)
    # the form sent again once the database is back: its one-time value was not used up
    retried = await web.post("/broadcasts/new", data, allow_redirects=False)
    assert retried.headers["Location"] == "/broadcasts/1?done=schedule"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_another_method_gets_the_sites_page_in_the_viewers_language(web: Web, method: str) -> None:
    await web.sign_in(ORGANIZER)
    headers = {"X-CSRF-Token": await web.csrf(), "Accept-Language": "fr-CA"}
    response = await web.client.request(method, "/broadcasts/new", headers=headers)
    assert response.status == 405
    assert response.headers["Allow"]
    body = await response.text()
    assert '<html lang="fr">' in body and 'role="alert"' in body
    assert "Method Not Allowed" not in body


async def test_a_text_typed_in_the_browser_is_stored_as_telegram_would_store_it(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    # browsers send a textarea's line breaks as CRLF: near the limit, they counted twice
    lines = [f"Ligne {n:03d} : la date limite approche." for n in range(94)]
    typed = "\r\n".join(lines)
    assert len(typed) > MAX_TEXT >= len("\n".join(lines))
    data = {**MESSAGE, "text_fr": typed, "action": "schedule", "when": "2026-03-05T10:00", "once": "C" * 24}
    response = await web.post("/broadcasts/new", data, allow_redirects=False)
    assert response.status == 303, await response.text()
    async with web.context.sessions() as session:
        stored = (await session.execute(select(Broadcast))).scalar_one()
    assert stored.text_fr == "\n".join(lines)


async def test_switching_language_while_composing_keeps_what_was_typed(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    await web.client.get("/lang/fr")
    form = await (await web.client.get("/broadcasts/new")).text()
    # the switch sends the form along (a plain link would load an empty form)
    assert 'form="compose" formaction="/broadcasts/new?lang=en"' in form
    typed = {
        **MESSAGE,
        "text_fr": "Un long texte <b>tapé</b> avec soin",
        "kind": "eligible",
        "when": "2026-03-05T10:00",
    }
    switched = await web.post("/broadcasts/new?lang=en", {**typed, "action": "preview"})
    assert switched.status == 200
    html = await switched.text()
    assert '<html lang="en">' in html and "Send now" in html
    assert ">Un long texte &lt;b&gt;tapé&lt;/b&gt; avec soin</textarea>" in html
    assert '<option value="eligible" selected>' in html and 'value="2026-03-05T10:00"' in html
    assert await broadcasts(web) == 0
    # and English stays chosen
    assert '<html lang="en">' in await (await web.client.get("/broadcasts")).text()


async def test_a_browser_that_goes_away_mid_form_is_not_logged_as_an_error(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    # a double click: the browser drops the first request while its form is being read
    request = make_mocked_request("POST", "/broadcasts/new", app=web.client.server.app)

    async def reading(request: aiohttp_web.Request) -> aiohttp_web.StreamResponse:
        raise ConnectionResetError("Connection lost")

    with pytest.raises(ConnectionResetError):
        await errors(request, reading)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@on_both_databases
@pytest.mark.parametrize("action", ["add", "dismiss"])
async def test_a_double_click_on_an_unanswered_question_acts_once(web: Web, action: str) -> None:
    question = await ask(web, "11", "Y a-t-il un logement?")
    await web.sign_in(STAFF)
    csrf = await web.csrf()
    data = {"csrf": csrf, "id": str(question), "action": action, "topic": web.context.faq.topics()[0]}
    first, second = await asyncio.gather(
        *(web.client.post("/gaps", data=data, allow_redirects=False) for _ in range(2))
    )
    locations = sorted([first.headers["Location"], second.headers["Location"]])
    assert locations[1] == "/gaps?done=stale"  # the second click finds it handled
    async with web.context.sessions() as session:
        entries = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert entries == ["faq.example" if action == "add" else "faq.dismiss"]


async def test_someone_guessing_links_does_not_lock_every_staff_member_out(web: Web) -> None:
    # behind the reverse proxy (the site listens on 127.0.0.1), every request comes from it
    guesser = {"X-Forwarded-For": "203.0.113.9"}
    statuses = [
        (await web.client.post("/login/link", data={"token": "x.y"}, headers=guesser)).status for _ in range(15)
    ]
    assert statuses[-1] == 429  # the guesser is slowed down
    staff = {"X-Forwarded-For": "10.0.0.1, 198.51.100.7"}  # the first entry: whatever the browser sent
    token = make_link_token(STAFF, TOKEN, web.clock.now(), timedelta(minutes=10))
    response = await web.client.post("/login/link", data={"token": token}, headers=staff, allow_redirects=False)
    assert response.status == 303
    # a guesser who writes the address of another into the header is still slowed down
    forged = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    assert (await web.client.post("/login/link", data={"token": "x.y"}, headers=forged)).status == 429
