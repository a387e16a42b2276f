"""Serving the website: inside the bot's process (`web.enabled`) or alone (`python -m bot web`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rules import load_programs

from ..clock import Clock, SystemClock
from ..config import Config
from ..errors import ConfigError
from ..faq.service import FaqService
from ..offers.catalog import OfferCatalog
from ..storage.db import create_engine, sessionmaker
from ..storage.migrate import upgrade_async
from .app import WebContext, create_app

logger = logging.getLogger(__name__)


def token_of(config: Config) -> str:
    """The bot's token: sign-in is checked against it (the Login Widget's key, the /web links')."""
    if config.bot_token is None:
        raise ConfigError("the staff website needs TELEGRAM_BOT_TOKEN: sign-in is signed with the bot's token")
    return config.bot_token.get_secret_value()


async def start_site(ctx: WebContext) -> web.AppRunner:
    """The website listening on `web.listen:web.port`; `runner.cleanup()` stops it."""
    settings = ctx.config.web
    runner = web.AppRunner(create_app(ctx), access_log=None)  # an access log would hold /web links' tokens
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen, settings.port).start()
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(f"web: cannot listen on {settings.listen}:{settings.port}: {error.strerror}") from None
    await ctx.refresh_now()
    logger.info("staff website on http://%s:%s/", settings.listen, settings.port)
    return runner


async def bot_username(config: Config) -> str | None:
    """The bot's username for the Login Widget (getMe); None when Telegram cannot be reached."""
    from telegram import Bot
    from telegram.error import TelegramError

    base = config.telegram.base_url
    bot = Bot(token_of(config), base_url=base or "https://api.telegram.org/bot")
    try:
        async with bot:
            return bot.username
    except TelegramError as error:
        logger.warning("web: getMe failed (%s): sign-in by /web link only", type(error).__name__)
        return None


def standalone_context(
    config: Config, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None
) -> WebContext:
    catalog = OfferCatalog(load_programs(config.offers_path()))
    return WebContext(
        config,
        sessions,
        catalog,
        FaqService.create(catalog.programs),
        token_of(config),
        clock=clock or SystemClock(),
    )


async def serve_alone(config: Config, stop: asyncio.Event | None = None, *, signals: bool = True) -> None:
    """`python -m bot web`: the website alone, until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT) if signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    token_of(config)
    await upgrade_async(config.sqlalchemy_url())
    database = create_engine(config.sqlalchemy_url(), busy_timeout_ms=config.database.busy_timeout_ms)
    try:
        ctx = standalone_context(config, sessionmaker(database))
        ctx.bot_username = await bot_username(config)
        runner = await start_site(ctx)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        await database.dispose()
