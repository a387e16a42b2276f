"""/audit: admins read every change, whichever door it came through; nobody else does."""

from __future__ import annotations

from bot.faq.store import Author
from bot.staff.roles import Role, grant

from .conftest import ADMIN, ORGANIZER, STAFF, Web


async def test_admins_read_every_change_in_their_language(web: Web) -> None:
    async with web.context.sessions.begin() as session:
        await grant(session, 777001, Role.STAFF, Author(None, "admin"), web.clock.now())
    await web.sign_in(ADMIN)
    french = await (await web.client.get("/audit", headers={"Accept-Language": "fr"})).text()
    assert "Rôle donné" in french
    assert "777001" in french  # whose role changed
    assert "2 mars 2026" in french  # when, in the bot's time zone
    await web.client.get("/lang/en")
    english = await (await web.client.get("/audit")).text()
    assert "Role granted" in english
    assert "March 2, 2026" in english


async def test_only_admins_read_it(web: Web) -> None:
    for user in (STAFF, ORGANIZER):
        web.client.session.cookie_jar.clear()
        await web.sign_in(user)
        assert (await web.client.get("/audit")).status == 403
