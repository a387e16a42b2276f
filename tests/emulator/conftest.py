"""Fixtures of the emulator's own tests; a module tunes its emulator with `pytest.mark.emulator(...)`.

`pytest.mark.emulator(rate_limits=False, chats=[(1001, "Amina")])`: the emulator's settings, and
people who already wrote to the bot (a chat is unknown until then). The emulator runs on the
`clock` fixture, a ManualClock that only the test moves (`clock.advance(seconds)`), unless the
marker gives `time_scale=` (the wall clock) or its own `clock=`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot

from tests.telegram_emulator import ManualClock, TelegramEmulator
from tests.telegram_emulator.client import RawApi

TOKEN = "123:ABC"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[TelegramEmulator]:
    marker = request.node.get_closest_marker("emulator")
    settings: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if "time_scale" not in settings:
        settings.setdefault("clock", clock)
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
