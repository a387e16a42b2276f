"""Webhook delivery: POSTs updates in order (one at a time per chat), retries with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from .clock import RESOLUTION
from .models import PendingUpdate

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DELIVERY_TIMEOUT = 60.0
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0
# The delivery timeout is the clock's (DELIVERY_TIMEOUT emulated seconds), not aiohttp's.
NO_CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=None)


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    allowed_updates: list[str] | None


class WebhookDeliverer:
    """Times (timeout, backoff) are emulated seconds on the emulator's clock, so time_scale
    shortens them and a ManualClock's advance() drives them."""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self._emu = emulator
        self.config: WebhookConfig | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int | str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        return self.config is not None

    async def configure(self, config: WebhookConfig) -> None:
        self.config = config
        if self._session is None:
            self._session = aiohttp.ClientSession()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def remove(self) -> None:
        self.config = None
        self.last_error_date = self.last_error_message = None
        await self._stop_tasks()

    async def close(self) -> None:
        self.config = None
        await self._stop_tasks()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _stop_tasks(self) -> None:
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._in_flight.clear()
        for update in self._emu.state.updates:
            update.next_attempt_at = 0.0

    def info(self, pending: int, allowed_updates: list[str] | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.config.url if self.config else "",
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.config is None:
            return info
        if self.config.ip_address:
            info["ip_address"] = self.config.ip_address
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        info["max_connections"] = self.config.max_connections
        if allowed_updates:
            info["allowed_updates"] = list(allowed_updates)
        return info

    def _deliverable(self) -> tuple[list[PendingUpdate], float | None]:
        """Updates to send now (the head of each idle chat) and the next retry time."""
        assert self.config is not None
        now = self._emu.clock.emulated()
        ready: list[PendingUpdate] = []
        blocked: set[int | str] = set(self._in_flight)
        next_retry: float | None = None
        for update in self._emu.state.updates:
            key = self._key(update)
            if key in blocked:
                continue
            blocked.add(key)
            if update.next_attempt_at > now + RESOLUTION:
                next_retry = update.next_attempt_at if next_retry is None else min(next_retry, update.next_attempt_at)
                continue
            if len(self._in_flight) + len(ready) < self.config.max_connections:
                ready.append(update)
        return ready, next_retry

    @staticmethod
    def _key(update: PendingUpdate) -> int | str:
        return update.chat_id if update.chat_id is not None else f"u{update.update_id}"

    async def _run(self) -> None:
        signal = self._emu.state.update_signal
        while self.config is not None:
            if self._emu.outage_remaining() > 0:
                await self._emu.clock.sleep(self._emu.outage_remaining())
                continue
            ready, next_retry = self._deliverable()
            for update in ready:
                task = asyncio.get_running_loop().create_task(self._deliver(update))
                self._in_flight[self._key(update)] = task
            if next_retry is None:
                await self._emu.clock.wait(signal, None)
            else:
                await self._emu.clock.wait(signal, max(0.0, next_retry - self._emu.clock.emulated()))

    async def _deliver(self, update: PendingUpdate) -> None:
        key = self._key(update)
        try:
            error = await self._post(update)
        finally:
            self._in_flight.pop(key, None)
        update.attempts += 1
        if error is None:
            self._emu.state.remove_update(update.update_id)
        else:
            self.last_error_date = self._emu.clock.unix()
            self.last_error_message = error
            delay = min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2 ** (update.attempts - 1))
            update.next_attempt_at = self._emu.clock.emulated() + delay
        self._emu.state.update_signal.notify()

    async def _post(self, update: PendingUpdate) -> str | None:
        """None on success, else Telegram's wording of the failure."""
        config, session = self.config, self._session
        assert config is not None and session is not None
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers[SECRET_HEADER] = config.secret_token
        update.handed_out = True
        reply: Any = None
        error: str | None
        try:
            async with (
                self._emu.clock.timeout(DELIVERY_TIMEOUT),
                session.post(
                    config.url, data=json.dumps(update.payload), headers=headers, timeout=NO_CLIENT_TIMEOUT
                ) as response,
            ):
                status, reason = response.status, response.reason
                body = await response.read()
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection failed: {exc.__class__.__name__}"
        else:
            error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status} {reason}"
            if error is None:
                with contextlib.suppress(ValueError):
                    reply = json.loads(body) if body else None
        if error is not None:
            update.handed_out = False
        self._emu.transcript_log.add(
            "webhook",
            method=update.kind,
            chat_id=update.chat_id,
            note=f"#{update.update_id} attempt {update.attempts + 1}: {error or 'delivered'}",
        )
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {k: v for k, v in reply.items() if k != "method"}
            await self._emu.call_internal(reply["method"], params, source="webhook reply")
        return error
