"""The real action server on 127.0.0.1, judging as on 15 September 2021 (both offers open)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest

from bot.rasa.context import ActionContext
from rules import load_programs

from ...support.rasa import RasaCore, action_server

TODAY = date(2021, 9, 15)
PROGRAMS = load_programs()


@pytest.fixture
def context() -> ActionContext:
    return ActionContext.create(load_programs(), pinned_today=TODAY)


@pytest.fixture
async def server(context: ActionContext) -> AsyncIterator[str]:
    async with action_server(context) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def rasa(http: aiohttp.ClientSession, server: str) -> RasaCore:
    """A French conversation about the Québec offer; tests set other slots as they need."""
    return RasaCore(http, server, language="fr", programs=["quebec-psoig-2021-023"])
