"""`python -m bot run` with a token: the bot on Telegram, by long polling or webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable
from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from rules import N_

from ..broadcasts import schedule as scheduled_broadcasts
from ..broadcasts.progress import ProgressReporter
from ..clock import Clock
from ..config import Config
from ..i18n import LANGUAGES, gettext
from ..reminders.scheduler import REMINDERS_EVERY, ReminderScheduler
from ..services import ConversationService
from ..storage.db import create_engine, sessionmaker
from ..storage.leases import Liveness
from ..storage.migrate import upgrade_async
from ..web.app import WebContext
from ..web.server import start_site, token_of
from .bulk_sender import BulkSender, BulkSettings
from .ingest import ALLOWED_UPDATES, Poller, PollingStopped, webhook_app
from .jobs import JobRunner, LeasedJob
from .logs import configure_logging
from .processor import PerPersonUpdateProcessor
from .request import AiohttpRequest
from .sender import Sender
from .service import TelegramService, where

logger = logging.getLogger(__name__)

COMMANDS = {
    "start": N_("command.start.description"),
    "help": N_("command.help.description"),
    "language": N_("command.language.description"),
    "back": N_("command.back.description"),
    "review": N_("command.review.description"),
    "skip": N_("command.skip.description"),
    "restart": N_("command.restart.description"),
    "privacy": N_("command.privacy.description"),
    "mydata": N_("command.mydata.description"),
    "forget": N_("command.forget.description"),
    "reminders": N_("command.reminders.description"),
}


async def set_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu in both languages (and the default one for other languages)."""
    for lang in (*LANGUAGES, None):
        shown = lang or "fr"
        commands = [BotCommand(name, gettext(key, shown)) for name, key in COMMANDS.items()]
        try:
            await application.bot.set_my_commands(commands, language_code=lang)
        except TelegramError as error:
            logger.warning("setMyCommands failed (%s); the menu may be outdated", type(error).__name__)


def build(config: Config, clock: Clock | None = None) -> tuple[Application, TelegramService, AsyncEngine]:  # type: ignore[type-arg]
    """The python-telegram-bot application, the service behind it, and its database engine.

    `clock`: the time every part reads (default the system's); tests pass a `ManualClock`.
    """
    assert config.bot_token is not None
    token = config.bot_token.get_secret_value()
    tg = config.telegram
    builder = ApplicationBuilder().token(token).updater(None).concurrent_updates(PerPersonUpdateProcessor(256))
    if tg.http_client == "aiohttp":
        timeouts = {"read_timeout": tg.read_timeout, "write_timeout": tg.read_timeout, "pool_timeout": tg.read_timeout}
        builder = builder.request(AiohttpRequest(32, connect_timeout=tg.connect_timeout, **timeouts))
        # getUpdates has a request object of its own in python-telegram-bot (the poller's long
        # poll passes its own read timeout)
        builder = builder.get_updates_request(AiohttpRequest(1, connect_timeout=tg.connect_timeout, **timeouts))
    else:
        builder = (
            builder.connect_timeout(tg.connect_timeout)
            .read_timeout(tg.read_timeout)
            .write_timeout(tg.read_timeout)
            .pool_timeout(tg.read_timeout)
            .connection_pool_size(32)
        )
    if tg.base_url:
        builder = builder.base_url(tg.base_url).base_file_url(tg.base_url.replace("/bot", "/file/bot"))
    application = builder.build()
    url = config.sqlalchemy_url()
    database = create_engine(url, busy_timeout_ms=config.database.busy_timeout_ms)
    sessions = sessionmaker(database)
    conversations = ConversationService.from_config(config, sessions, database, clock=clock)
    sender = Sender(
        application.bot,
        sessions,
        tg.flood,
        instance=tg.instance_name(),
        clock=conversations.clock,
        lease=timedelta(seconds=tg.lease_seconds),
        burst_seconds=tg.bulk_burst_seconds,
        # as many as can each take their whole timeout within one lease, so none is sent twice
        claim_limit=int(tg.lease_seconds // (tg.connect_timeout + tg.read_timeout)),
    )
    service = TelegramService(application.bot, sessions, conversations, sender, config.privacy.retention_days)
    sender.documents = service.document
    service.bulk = BulkSender(
        application.bot,
        sessions,
        tg.flood,
        owner=sender.owner,
        clock=conversations.clock,
        settings=BulkSettings(
            batch=tg.bulk_batch,
            concurrency=tg.bulk_concurrency,
            attempts=tg.bulk_attempts,
            burst_seconds=tg.bulk_burst_seconds,
            lease=timedelta(seconds=tg.lease_seconds),
        ),
        single=database.dialect.name != "postgresql",  # SQLite: one sender, under the lease `bulk-sender`
    )
    sender.spacing = service.bulk.spacing  # replies count where bulk sends leave: the bulk yields
    sender.liveness = Liveness(database, sender.owner)
    reminders = ReminderScheduler(
        sessions,
        lambda: conversations.offers.programs,
        config.reminders,
        config.zone,
        conversations.clock,
        config.default_language,
        refresh=conversations.refresh_offers,
    )
    service.jobs.append(LeasedJob("reminders", reminders.run_once, every=REMINDERS_EVERY))
    progress = ProgressReporter.job(application.bot, sessions, conversations.clock, sender, config.default_language)
    service.jobs.append(progress)  # the organizer's progress message and final report (`broadcast-progress`)
    service.jobs.append(scheduled_broadcasts.job(sessions, config.default_language))  # `broadcast-schedule`

    async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await service.handle(update)

    async def on_error(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            logger.error("handler error: %s", where(context.error))

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application, service, database


async def _initialize(application: Application) -> None:  # type: ignore[type-arg]
    """`getMe`, retried while Telegram is unreachable."""
    delay = 1.0
    while True:
        try:
            await application.initialize()
            return
        except TelegramError as error:
            logger.warning("Telegram unreachable at start (%s); retrying in %.0fs", type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


async def _set_webhook(application: Application, url: str, secret: str | None, stop: asyncio.Event) -> None:  # type: ignore[type-arg]
    """`setWebhook`, retried while Telegram is unreachable (the server already listens)."""
    delay = 1.0
    while not stop.is_set():
        try:
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
            return
        except TelegramError as error:
            logger.warning("setWebhook failed (%s); retrying in %.0fs", type(error).__name__, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30)


async def serve(
    config: Config, stop: asyncio.Event | None = None, *, signals: bool = True, clock: Clock | None = None
) -> None:
    """Run until `stop` is set (or SIGTERM/SIGINT when `signals`)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT) if signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await upgrade_async(config.sqlalchemy_url())
    application, service, database = build(config, clock)
    await _initialize(application)
    service.username = application.bot.username
    await set_commands(application)
    await application.start()
    assert service.sender.liveness is not None
    await service.sender.liveness.start()
    background = asyncio.create_task(service.background(config.telegram.retry_interval))
    jobs = JobRunner(service.sessions, service.sender.owner, service.conversations.clock, service.jobs)
    periodic = asyncio.create_task(jobs.run())
    assert service.bulk is not None
    bulk = asyncio.create_task(service.bulk.run())
    runner: web.AppRunner | None = None
    site: web.AppRunner | None = None
    poller: Poller | None = None
    try:
        await service.recover()
        if config.web.enabled:
            site = await start_site(web_context(config, service, application.bot.username))
        dispatch = application.update_queue.put
        if config.telegram.mode == "polling":
            with contextlib.suppress(TelegramError):
                await application.bot.delete_webhook(drop_pending_updates=False)
            poller = Poller(
                application.bot,
                service,
                dispatch,
                timeout=config.telegram.poll_timeout,
                conflict_timeout=config.telegram.conflict_timeout,
            )
            polling = asyncio.create_task(poller.run())
            stopped = asyncio.create_task(stop.wait())
            logger.info("bot ready: long polling")
            await asyncio.wait([polling, stopped], return_when=asyncio.FIRST_COMPLETED)
            poller.stop()
            stopped.cancel()
            if polling.done() and (failure := polling.exception()) is not None:
                raise failure  # e.g. a persistent 409: the process stops, non-zero
            polling.cancel()
        else:
            hook = config.telegram.webhook
            secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
            app = webhook_app(service, application.bot, hook.url_path, secret, dispatch)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, hook.listen, hook.port).start()
            if hook.public_url:
                await _set_webhook(application, hook.public_url, secret, stop)
            logger.info("bot ready: webhook on %s:%s/%s", hook.listen, hook.port, hook.url_path)
            await stop.wait()
    finally:  # every step bounded: a stop never hangs, whatever is stuck (what was not sent stays queued)
        background.cancel()
        periodic.cancel()
        bulk.cancel()  # its batches in flight get `close_wait` seconds, then are cancelled
        if runner is not None:
            await _bounded("the webhook server", runner.cleanup())
        if site is not None:
            await _bounded("the staff website", site.cleanup())
        await _bounded("update handling", application.stop())  # no update is being handled any more
        await _bounded("the background tasks", asyncio.gather(background, periodic, bulk, return_exceptions=True))
        await _bounded("the job leases", jobs.release())
        await _bounded("the delayed sends", service.sender.close())  # their messages stay queued
        await _bounded("the Telegram client", application.shutdown())
        await _bounded("the liveness", service.sender.liveness.stop())
        await _bounded("the database", database.dispose())


def web_context(config: Config, service: TelegramService, username: str | None) -> WebContext:
    """The website in the bot's process reads the same live offers and FAQ as the bot."""
    conversations = service.conversations

    async def refresh(session: AsyncSession) -> None:
        await conversations.refresh_offers(session)
        await conversations.faq.refresh(session)

    return WebContext(
        config,
        service.sessions,
        conversations.offers,
        conversations.faq,
        token_of(config),
        clock=conversations.clock,
        bot_username=username,
        refresher=refresh,
    )


STOP_STEP = 10.0  # seconds one step of a stop may take before it is abandoned


async def _bounded(what: str, step: Awaitable[object], seconds: float = STOP_STEP) -> None:
    """Await one step of a stop for at most `seconds`; then cancel it and go on (logged)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        logger.warning("stopping: %s did not finish in %.0fs; abandoned", what, seconds)
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    elif not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("stopping: %s failed: %s", what, type(error).__name__)


def run_telegram(config: Config) -> int:
    """Serve until SIGTERM/SIGINT (exit 0), or until Telegram refuses us for good (one line, exit 1)."""
    token = config.bot_token.get_secret_value() if config.bot_token else None
    level = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO").upper())
    configure_logging(token, level if isinstance(level, int) else logging.INFO)
    if config.telegram.mode == "webhook" and not config.telegram.webhook.public_url:
        logger.warning("webhook mode without telegram.webhook.public_url: setWebhook is left to you")
    try:
        asyncio.run(serve(config))
    except PollingStopped as error:
        logger.error("%s", error)
        return 1
    return 0
