"""Sign-in: one-time links, the Login Widget's signed data, sessions, CSRF, roles, headers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.web.auth import make_link_token, widget_hash

from .conftest import ADMIN, NOBODY, STAFF, TOKEN, Web


async def test_a_link_signs_in_once(web: Web) -> None:
    token = make_link_token(STAFF, TOKEN, web.clock.now(), timedelta(minutes=10))
    shown = await web.client.get("/login/link", params={"token": token})
    assert shown.status == 200  # a link preview opening it uses nothing up
    first = await web.client.post("/login/link", data={"token": token}, allow_redirects=False)
    assert first.status == 303
    home = await web.client.get("/")
    assert home.status == 200
    assert "/faq" in await home.text()
    web.client.session.cookie_jar.clear()
    again = await web.client.post("/login/link", data={"token": token}, allow_redirects=False)
    assert again.status == 403
    assert "already been used" in await again.text() or "déjà servi" in await again.text()


async def test_an_expired_or_forged_link_is_refused(web: Web) -> None:
    token = make_link_token(STAFF, TOKEN, web.clock.now(), timedelta(minutes=10))
    web.clock.advance(11 * 60)
    assert (await web.client.post("/login/link", data={"token": token})).status == 403
    forged = make_link_token(ADMIN, "654321:other-token-abcdefghijklmnopqrstuv", web.clock.now(), timedelta(minutes=10))
    assert (await web.client.post("/login/link", data={"token": forged})).status == 403
    assert (await web.client.get("/", allow_redirects=False)).status == 303  # not signed in


async def test_someone_without_a_role_is_not_signed_in(web: Web) -> None:
    token = make_link_token(NOBODY, TOKEN, web.clock.now(), timedelta(minutes=10))
    response = await web.client.post("/login/link", data={"token": token}, allow_redirects=False)
    assert response.status == 403
    assert "stagebot_session" not in {c.key for c in web.client.session.cookie_jar}


@pytest.mark.parametrize("change", ["none", "altered", "old", "extra"])
async def test_the_login_widget(web: Web, change: str) -> None:
    fields = {"id": str(STAFF), "first_name": "Ana", "auth_date": str(int(web.clock.now().timestamp()))}
    fields["hash"] = widget_hash(fields, TOKEN)
    if change == "altered":
        fields["id"] = str(ADMIN)
    elif change == "old":
        web.clock.advance(web.context.config.web.login_max_age + 1)
    elif change == "extra":
        fields["username"] = "someone_else"
    response = await web.client.get("/login/telegram", params=fields, allow_redirects=False)
    assert response.status == (303 if change == "none" else 403)


async def test_a_change_without_the_csrf_token_is_refused(web: Web) -> None:
    await web.sign_in(STAFF)
    response = await web.client.post("/logout", data={})
    assert response.status == 403
    assert (await web.client.get("/")).status == 200  # still signed in
    assert (await web.post("/logout", allow_redirects=False)).status == 303
    assert (await web.client.get("/", allow_redirects=False)).status == 303


async def test_pages_carry_security_headers_and_secure_cookies(web: Web) -> None:
    token = make_link_token(STAFF, TOKEN, web.clock.now(), timedelta(minutes=10))
    response = await web.client.post("/login/link", data={"token": token}, allow_redirects=False)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    page = await web.client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' https://telegram.org" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in await page.text()  # no inline script


async def test_sign_in_attempts_are_limited(web: Web) -> None:
    for _ in range(10):
        assert (await web.client.post("/login/link", data={"token": "x.y"})).status == 403
    assert (await web.client.post("/login/link", data={"token": "x.y"})).status == 429
    web.clock.advance(60)
    assert (await web.client.post("/login/link", data={"token": "x.y"})).status == 403


async def test_the_site_speaks_both_languages(web: Web) -> None:
    await web.sign_in(STAFF)
    french = await (await web.client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"})).text()
    assert "Se déconnecter" in french
    await web.client.get("/lang/en?next=/")
    english = await (await web.client.get("/", headers={"Accept-Language": "fr-CA"})).text()
    assert "Sign out" in english
    offsite = await web.client.get("/lang/fr", params={"next": "//evil.example"}, allow_redirects=False)
    assert offsite.headers["Location"] == "/"


async def test_a_form_sent_from_another_site_is_refused(web: Web) -> None:
    token = make_link_token(STAFF, TOKEN, web.clock.now(), timedelta(minutes=10))
    evil = await web.client.post("/login/link", data={"token": token}, headers={"Origin": "https://evil.example"})
    assert evil.status == 403
    assert (await web.client.get("/", allow_redirects=False)).status == 303  # not signed in
    ours = await web.client.post(
        "/login/link", data={"token": token}, headers={"Origin": "https://staff.example.org"}, allow_redirects=False
    )
    assert ours.status == 303  # the public address is this site


async def test_signing_in_again_ends_the_earlier_session(web: Web) -> None:
    await web.sign_in(STAFF)
    first = next(c.value for c in web.client.session.cookie_jar if c.key == "stagebot_session")
    await web.sign_in(STAFF)
    second = next(c.value for c in web.client.session.cookie_jar if c.key == "stagebot_session")
    web.client.session.cookie_jar.clear()
    for token, status in ((first, 303), (second, 200)):  # the first one no longer works
        response = await web.client.get("/", headers={"Cookie": f"stagebot_session={token}"}, allow_redirects=False)
        assert response.status == status


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("https://staff.example.org/", True),
        ("http://127.0.0.1:8080", True),
        ("http://staff.example.org", False),  # its Secure cookie would never come back
        ("ftp://staff.example.org", False),
        ("staff.example.org", False),
    ],
)
def test_the_public_address_must_keep_the_session_cookie(address: str, accepted: bool) -> None:
    from pydantic import ValidationError

    from bot.config import Config

    if accepted:
        assert Config.model_validate({"web": {"public_url": address}}).web.public_url == address.rstrip("/")
    else:
        with pytest.raises(ValidationError):
            Config.model_validate({"web": {"public_url": address}})


async def test_a_staff_member_who_asks_to_be_forgotten_is_signed_out_of_the_site(web: Web) -> None:
    from bot.storage import repo

    async with web.context.sessions.begin() as session:
        person = await repo.lock_person(session, "telegram", str(STAFF), web.clock.now())
    await web.sign_in(STAFF)
    assert (await web.client.get("/", allow_redirects=False)).status == 200
    async with web.context.sessions.begin() as session:
        await repo.erase_person(session, person.id, web.clock.now())  # /forget on Telegram
    assert (await web.client.get("/", allow_redirects=False)).status == 303
