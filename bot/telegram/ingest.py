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

from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from .sender import retry_seconds
from .service import TelegramService, _where

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


class Poller:
    """`getUpdates` long polling that never confirms an update before it is stored."""

    def __init__(
        self, bot: Bot, service: TelegramService, dispatch: Callable[[Update], Awaitable[None]], *, timeout: int = 30
    ) -> None:
        self.bot = bot
        self.service = service
        self.dispatch = dispatch
        self.timeout = timeout
        self.offset: int | None = None
        self.running = True

    async def run(self) -> None:
        failures = 0
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
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except (InvalidToken, Conflict) as error:
                logger.error("polling stopped: %s", type(error).__name__)
                raise
            except (NetworkError, TelegramError) as error:
                failures += 1
                delay = min(0.5 * 2 ** (failures - 1), 5.0)  # 0.5, 1, 2, 4, then every 5 s
                logger.warning("getUpdates failed (%s); retrying in %ss", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            updates = self._parse(raw)
            stored = []
            try:
                for update in updates:
                    await self.service.store(update)  # durable before the next offset confirms it
                    self.offset = update.update_id + 1
                    stored.append(update)
            except Exception as error:  # the database is unreachable: fetch them again later
                logger.error("could not store updates: %s", _where(error))
                await asyncio.sleep(1.0)
            for update in stored:
                await self.dispatch(update)

    def _parse(self, raw: object) -> list[Update]:
        """Updates parsed one by one: one that cannot be read is skipped, not retried forever."""
        updates: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                updates.append(Update.de_json(item, self.bot))
            except Exception as error:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                logger.error("update %s could not be read and is skipped: %s", update_id, type(error).__name__)
                if isinstance(update_id, int):
                    self.offset = max(self.offset or 0, update_id + 1)
        return updates

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
            update = Update.de_json(data, bot)
        except Exception as error:
            logger.warning("webhook body refused: %s", type(error).__name__)
            return web.Response(status=400)
        try:
            await service.store(update)
        except Exception as error:
            logger.error("could not store an update: %s", _where(error))
            return web.Response(status=503)  # Telegram will deliver it again
        await dispatch(update)
        return web.Response(status=200)

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/" + path.strip("/"), receive)
    app.router.add_get("/healthz", health)
    return app
