"""Getting updates in: long polling or a webhook, each storing an update before acknowledging it.

Polling confirms an update to Telegram (the next `getUpdates` offset) only after it is stored;
the webhook answers 200 only after it is stored, and 403 without touching anything when the
`X-Telegram-Bot-Api-Secret-Token` header is wrong. Stored updates are then applied per person,
in update_id order, even when several webhook processes share the database.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from .sender import retry_seconds
from .service import TelegramService, where

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


MAX_UPDATE_ID = 2**63 - 1  # the inbox keeps update ids as 64-bit integers


class PollingStopped(Exception):
    """Telegram refuses our polling for good (a wrong token, or another process polling for too long)."""


class Poller:
    """`getUpdates` long polling that never confirms an update before it is stored.

    A 409 Conflict means another process polls with the same token (usually the old one during a
    rolling deploy): it is retried with backoff, and only if it lasts `conflict_timeout` seconds
    does polling stop, with `PollingStopped` saying why in one line.
    """

    def __init__(
        self,
        bot: Bot,
        service: TelegramService,
        dispatch: Callable[[Update], Awaitable[None]],
        *,
        timeout: int = 30,
        conflict_timeout: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.service = service
        self.dispatch = dispatch
        self.timeout = timeout
        self.conflict_timeout = conflict_timeout
        self.offset: int | None = None
        self.running = True
        self.sleep = sleep  # the pauses between tries (tests pass one that does not wait)

    async def run(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        conflict_since: float | None = None
        while self.running:
            try:
                with warnings.catch_warnings():
                    # Raw getUpdates on purpose: Bot.get_updates fails the whole batch on one bad update.
                    warnings.simplefilter("ignore", PTBUserWarning)
                    raw = await self.bot.do_api_request(
                        "getUpdates",
                        api_kwargs={"offset": self.offset, "timeout": self.timeout, "allowed_updates": ALLOWED_UPDATES},
                        read_timeout=self.timeout + 10,
                    )
                failures, conflict_since = 0, None
            except RetryAfter as error:
                await self.sleep(retry_seconds(error))
                continue
            except InvalidToken:
                raise PollingStopped("Telegram refused the bot token (TELEGRAM_BOT_TOKEN); polling stopped") from None
            except Conflict:
                conflict_since = conflict_since if conflict_since is not None else loop.time()
                lasted = loop.time() - conflict_since
                if lasted >= self.conflict_timeout:
                    raise PollingStopped(
                        f"another process has been polling Telegram with this bot token for {lasted:.0f} s "
                        "(409 Conflict); stop it, or run one poller (or the webhook mode)"
                    ) from None
                failures += 1
                delay = min(0.5 * 2.0 ** (failures - 1), 15.0, max(self.conflict_timeout - lasted, 0.1))
                logger.warning("getUpdates: 409 Conflict, another poller is running; retrying in %.0fs", delay)
                await self.sleep(delay)
                continue
            except (NetworkError, TelegramError) as error:
                failures += 1
                delay = min(0.5 * 2 ** (failures - 1), 5.0)  # 0.5, 1, 2, 4, then every 5 s
                logger.warning("getUpdates failed (%s); retrying in %ss", type(error).__name__, delay)
                await self.sleep(delay)
                continue
            updates, unreadable = self._parse(raw)
            try:  # the whole batch in one transaction, durable before the next offset confirms it
                await self.service.store_many(updates)
            except Exception as error:  # the database is unreachable: fetch them again later
                logger.error("could not store updates: %s", where(error))
                await self.sleep(1.0)
                continue
            seen = [update.update_id for update, _ in updates] + unreadable
            if seen:  # confirmed only now: the readable ones are stored, the others skipped for good
                self.offset = max(self.offset or 0, max(seen) + 1)
            for update, _ in updates:
                await self.dispatch(update)

    def _parse(self, raw: object) -> tuple[list[tuple[Update, dict[str, Any]]], list[int]]:
        """Updates parsed one by one (each with what Telegram sent), and the ids of those that
        cannot be read: skipped once the batch is stored, not fetched again forever."""
        updates: list[tuple[Update, dict[str, Any]]] = []
        unreadable: list[int] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                updates.append((Update.de_json(item, self.bot), item))
            except Exception as error:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                logger.error("update %s could not be read and is skipped: %s", update_id, type(error).__name__)
                if isinstance(update_id, int) and not isinstance(update_id, bool):
                    unreadable.append(update_id)
        return updates, unreadable

    def stop(self) -> None:
        self.running = False


def webhook_app(
    service: TelegramService, bot: Bot, path: str, secret: str | None, dispatch: Callable[[Update], Awaitable[None]]
) -> web.Application:
    """The webhook endpoint (and `/healthz` for the load balancer)."""

    async def receive(request: web.Request) -> web.Response:
        if secret is not None and not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        try:
            data = await request.json()
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if isinstance(update_id, bool) or not isinstance(update_id, int) or not 0 <= update_id <= MAX_UPDATE_ID:
                raise ValueError("update_id out of range")
            update = Update.de_json(data, bot)
        except Exception as error:  # invalid input: 400, so that it is not delivered again and again
            logger.warning("webhook body refused: %s", type(error).__name__)
            return web.Response(status=400)
        try:
            await service.store(update, data)
        except Exception as error:
            logger.error("could not store an update: %s", where(error))
            return web.Response(status=503)  # Telegram will deliver it again
        await dispatch(update)
        return web.Response(status=200)

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/" + path.strip("/"), receive)
    app.router.add_get("/healthz", health)
    return app
