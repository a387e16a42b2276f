"""The bot end to end: python-telegram-bot's real HTTP stack against the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.clock import Clock
from bot.config import Config, normalise_database_url
from bot.storage.db import create_engine, sessionmaker
from bot.telegram.app import serve

from ..telegram_emulator import SimulatedUser, TelegramEmulator
from .browser import chromium  # noqa: F401  (the browser tests' fixture)

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
ROOT = Path(__file__).resolve().parents[2]


def make_config(
    database_url: str, emulator: TelegramEmulator, *, top: dict[str, Any] | None = None, **telegram: Any
) -> Config:
    """The bot's settings for a test: `telegram` overrides, `top` other top-level keys (roles)."""
    settings = {
        "mode": "polling",
        "base_url": emulator.base_url,
        "poll_timeout": 1,
        "read_timeout": 5,
        "connect_timeout": 2,
        "retry_interval": 0.3,
        # Telegram's limits on the emulator's clock (time_scale=10), with room for network jitter
        "flood": {
            "overall_per_second": 250,
            "per_chat_per_second": 7,
            "per_chat_burst": 3,
            "per_group_per_minute": 180,
        },
        **telegram,
    }
    return Config.model_validate(
        {
            "telegram": settings,
            "bot_token": TOKEN,
            "database_url": database_url,
            "offers_dir": str(ROOT / "rules/offers"),
            **(top or {}),
        }
    )


@dataclass
class ShiftedClock:
    """The real clock moved to another day: time passes at its pace from `start` (the bot's pacing
    needs time to pass), and `jump` moves it again."""

    start: datetime

    def __post_init__(self) -> None:
        self.jump(self.start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump(self, to: datetime) -> None:
        self.offset = to - datetime.now(UTC)


STOP_LIMIT = 120.0  # more than the sum of `serve()`'s bounded stop steps


class RunningBot:
    """The bot served in this event loop until `stop()`."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock  # None: the system clock
        self.stopper = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.database: AsyncEngine | None = None

    async def start(self) -> None:
        self.stopper = asyncio.Event()
        self.task = asyncio.create_task(serve(self.config, self.stopper, signals=False, clock=self.clock))

    async def stop(self) -> None:
        """Stop as SIGTERM does; `serve()` bounds every step of its stop, so this ends."""
        self.stopper.set()
        if self.task is not None:
            task, self.task = self.task, None
            done, _ = await asyncio.wait({task}, timeout=STOP_LIMIT)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise AssertionError(f"the bot did not stop within {STOP_LIMIT:.0f}s")
            task.result()  # a failure of the bot itself fails the test
        if self.database is not None:
            await self.database.dispose()
            self.database = None

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the bot's database, for a test to look at what is stored."""
        if self.database is None:
            self.database = create_engine(self.config.sqlalchemy_url())
        return sessionmaker(self.database)


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(TOKEN, time_scale=10) as running:
        yield running
        # Telegram never had to tell the bot to slow down (flood control kept on our side)
        assert running.rate_limit_violations == [], running.transcript_text(last=40)


@pytest.fixture
async def bot(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[RunningBot]:
    running = RunningBot(make_config(database_url, emulator))
    await running.start()
    yield running
    await running.stop()


def years_ago(years: int, today: date | None = None) -> date:
    today = today or date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28))


Probe = Callable[[], Awaitable[bool]]
_SETTLED: weakref.WeakKeyDictionary[TelegramEmulator, Probe] = weakref.WeakKeyDictionary()


def database_settled(database_url: str) -> tuple[Probe, Callable[[], Awaitable[None]]]:
    """A probe that says the bot has finished its work: every stored update applied, every reply
    recorded as sent (or given up); and how to close it. Read-only, never takes a write lock."""
    engine = create_async_engine(normalise_database_url(database_url))

    async def settled() -> bool:
        try:
            async with engine.connect() as connection:
                busy = await connection.scalar(
                    text(
                        "SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL)"
                        " + (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))"
                    )
                )
        except DBAPIError:  # not migrated yet: the bot is still starting
            return False
        return busy == 0

    return settled, engine.dispose


@pytest.fixture(autouse=True)
async def bot_settles_on_its_database(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[None]:
    """`texts()` reads a burst of replies once the bot's database says it is done, not after a pause."""
    probe, close = database_settled(database_url)
    _SETTLED[emulator] = probe
    yield
    await close()


async def texts(user: SimulatedUser) -> str:
    """Everything the bot sent in answer (at least one message), as the person reads it.

    The burst ends when Telegram has the person's updates confirmed and the bot's database says
    every update is applied and every reply sent: a condition, not a quiet period.
    """
    replies = [await user.next_reply(timeout=20)]
    probe = _SETTLED[user.emulator]

    async def done() -> bool:
        return not user.emulator.state.has_unconfirmed(user.chat_id) and await probe()

    await eventually(done, f"the bot finished answering chat {user.chat_id}", timeout=30)
    replies += await user.replies_until_idle(idle=0, timeout=20)
    return "\n".join(r.text for r in replies).replace("\u00a0", " ").replace("\u202f", " ")


def sent_texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    """Every message the bot sent to a chat (after edits), typographic spaces as spaces."""
    return [
        m.get("text", "").replace("\u00a0", " ").replace("\u202f", " ")
        for m in emulator.chat_messages(chat_id)
        if m.get("from", {}).get("is_bot")
    ]


CHECK_EVERY = 0.05  # seconds between two looks at a condition that nothing announces (the database)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until `check()` holds (polled), or fail naming `what`: a condition, never a fixed sleep."""
    for _ in range(int(timeout / CHECK_EVERY)):
        if await check():
            return
        await asyncio.sleep(CHECK_EVERY)
    raise AssertionError(f"never happened: {what}")


async def say_and_read(user: SimulatedUser, text: str) -> str:
    await user.send(text)
    return await texts(user)


RABAT = {"fr": "OIM Rabat — lutte contre la traite (ouverte)", "en": "IOM Rabat — counter-trafficking (open)"}
AGREE = {"fr": "J’accepte", "en": "I agree"}


async def at_birth_date(user: SimulatedUser) -> None:
    """/start, the Rabat offer, the privacy notice accepted: the first question, the birth date, waits."""
    lang = "en" if (user.language_code or "").startswith("en") else "fr"
    await say_and_read(user, "/start")
    await press_and_read(user, RABAT[lang])
    await press_and_read(user, AGREE[lang])


async def press_and_read(user: SimulatedUser, label: str) -> str:
    await user.press(label)
    return await texts(user)


def post_in_group(
    emulator: TelegramEmulator, group_id: int, text: str, sender: SimulatedUser | None = None
) -> dict[str, Any]:
    """Someone (or, without `sender`, the group itself, as an anonymous admin) posts in a group."""
    from ..telegram_emulator.formatting import format_incoming

    state = emulator.state
    record = state.chats[group_id]
    formatted = format_incoming(text)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    message = state.store_message(
        record,
        from_bot=False,
        sender=sender.as_dict() if sender is not None else anonymous,
        text=formatted.text,
        entities=formatted.api_entities(),
        raw_text=text,
    )
    payload = state.message_dict(record, message)
    if sender is None:
        payload["sender_chat"] = dict(record.chat)
    state.add_update("message", payload, group_id)
    return payload


def forge_press(
    emulator: TelegramEmulator, presser: SimulatedUser, data: str, message: dict[str, Any]
) -> dict[str, Any]:
    """A callback query no Telegram client would send: any data, on any message of any chat."""
    state = emulator.state
    record = state.chats[message["chat"]["id"]]
    stored = record.messages[message["message_id"]]
    query = state.new_callback_query(presser.user_id, stored, data)
    payload = {
        "id": query.query_id,
        "from": presser.as_dict(),
        "message": message,
        "chat_instance": "7",
        "data": data,
    }
    state.add_update("callback_query", payload, presser.chat_id)
    return payload
