"""The staff website over HTTP on 127.0.0.1: a real aiohttp server and client, a manual clock.

Users by role (configured in the settings): ADMIN, STAFF, ORGANIZER; NOBODY has no role.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Config
from bot.web.app import WebContext, create_app
from bot.web.auth import make_link_token
from bot.web.server import standalone_context

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
ADMIN, STAFF, ORGANIZER, NOBODY = 9001, 9002, 9003, 9004
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_config(**top: Any) -> Config:
    return Config.model_validate(
        {
            "bot_token": TOKEN,
            "offers_dir": str(ROOT / "rules/offers"),
            "admins": [ADMIN],
            "staff": [STAFF],
            "organizers": [ORGANIZER],
            "web": {"public_url": "https://staff.example.org"},
            **top,
        }
    )


@dataclass
class Web:
    """A browser on the site: its client (with cookies), the site's context and clock."""

    client: TestClient[Any, Any]
    context: WebContext
    clock: ManualClock

    async def sign_in(self, user: int) -> None:
        """As the bot's /web link would: open the link, press the button."""
        token = make_link_token(user, TOKEN, self.clock.now(), timedelta(minutes=10))
        response = await self.client.post("/login/link", data={"token": token}, allow_redirects=False)
        assert response.status == 303, await response.text()

    async def csrf(self, path: str = "/") -> str:
        """The CSRF token of the signed-in session, as a page carries it."""
        found = CSRF.search(await (await self.client.get(path)).text())
        assert found is not None, "the page has no CSRF field"
        return found.group(1)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A form sent with the session's CSRF token."""
        return await self.client.post(path, data={"csrf": await self.csrf(), **(data or {})}, **kwargs)


@pytest.fixture
def web_clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 15, tzinfo=UTC))


@pytest.fixture
async def web(sessions: async_sessionmaker[AsyncSession], web_clock: ManualClock) -> AsyncIterator[Web]:
    context = standalone_context(web_config(), sessions, web_clock)
    context.bot_username = "stagebot_test_bot"
    server = TestServer(create_app(context), host="127.0.0.1")
    await server.start_server()
    # the cookies are Secure: this plain-HTTP test server on 127.0.0.1 is treated as a secure origin,
    # as browsers treat localhost
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))  # unsafe: an IP address
    client: TestClient[Any, Any] = TestClient(server, cookie_jar=jar)
    await client.start_server()
    try:
        yield Web(client, context, web_clock)
    finally:
        await client.close()
