"""Fixtures of the emulator's own tests; a module tunes its emulator with `pytest.mark.emulator(...)`.

`pytest.mark.emulator(time_scale=1.0, rate_limits=False, chats=[(1001, "Amina")])`: the
emulator's settings, and people who already wrote to the bot (a chat is unknown until then).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot

from tests.telegram_emulator import TelegramEmulator
from tests.telegram_emulator.client import RawApi

TOKEN = "123:ABC"


@pytest.fixture
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[TelegramEmulator]:
    marker = request.node.get_closest_marker("emulator")
    settings: dict[str, Any] = {"time_scale": 10, **(marker.kwargs if marker else {})}
    chats = settings.pop("chats", ())
    async with TelegramEmulator(TOKEN, **settings) as emu:
        for user_id, name in chats:
            await emu.user(user_id, name).send("/start")
        yield emu


@pytest.fixture
async def api(emulator: TelegramEmulator) -> AsyncIterator[RawApi]:
    async with RawApi(emulator.base_url, TOKEN) as client:
        yield client


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emulator.base_url) as client:
        yield client
