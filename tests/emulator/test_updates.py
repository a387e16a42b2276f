"""getUpdates (offset, limit, long poll, allowed_updates, conflicts) and webhook delivery."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import web

from tests.telegram_emulator import TelegramEmulator
from tests.telegram_emulator.client import RawApi

pytestmark = pytest.mark.emulator(rate_limits=False)

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


class Receiver:
    """A webhook endpoint whose answers the test scripts."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.reply: dict[str, Any] | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        body = await request.json()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        self.calls.append(
            {
                "update": body,
                "status": status,
                "started": started,
                "ended": time.monotonic(),
                "headers": dict(request.headers),
            }
        )
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def wait_until(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_offset_and_limit(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    for text in ("a", "b", "c", "d"):
        await user.send(text)
    first = await api.ok("getUpdates", limit=2)
    assert [u["message"]["text"] for u in first] == ["a", "b"]
    again = await api.ok("getUpdates", limit=0)  # clamped to 1
    assert [u["message"]["text"] for u in again] == ["a"]
    rest = await api.ok("getUpdates", offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["c", "d"]
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["c", "d"]
    await user.send("e")
    assert [u["message"]["text"] for u in await api.ok("getUpdates", offset=-1)] == ["e"]
    # The negative offset forgot everything before the last update.
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["e"]
    assert emulator.pending_updates()[0]["message"]["text"] == "e"


async def test_long_poll_waits_for_an_update(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    started = time.monotonic()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=30))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await user.send("réveil")
    updates = await asyncio.wait_for(poll, 1)
    assert [u["message"]["text"] for u in updates] == ["réveil"]
    assert time.monotonic() - started < 1.5


async def test_long_poll_timeout_is_scaled(api: RawApi) -> None:
    started = time.monotonic()
    assert await api.ok("getUpdates", timeout=3) == []  # 3 emulated seconds = 0.3 s
    assert 0.25 < time.monotonic() - started < 1.0
    started = time.monotonic()
    assert await api.ok("getUpdates", timeout=0) == []
    assert time.monotonic() - started < 0.2


async def test_a_second_poller_terminates_the_first(api: RawApi) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=30))
    await asyncio.sleep(0.1)
    assert await api.ok("getUpdates") == []
    status, body = await asyncio.wait_for(first, 1)
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    )


async def test_allowed_updates_filter_and_are_remembered(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    start = await api.ok("getUpdates", allowed_updates=["callback_query"])
    # Updates queued before the filter was set are still delivered, as Telegram warns.
    assert [u["message"]["text"] for u in start] == ["/start"]
    await api.ok(
        "sendMessage",
        chat_id=1001,
        text="?",
        reply_markup={"inline_keyboard": [[{"text": "Oui", "callback_data": "y"}]]},
    )
    await user.send("ignored text")
    await user.press("Oui")
    updates = await api.ok("getUpdates", offset=start[-1]["update_id"] + 1)
    assert [list(u)[1] for u in updates] == ["callback_query"]
    await user.send("still ignored")  # no allowed_updates given: the filter stays
    assert len(await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)) == 0
    await api.ok("getUpdates", allowed_updates=[])  # back to the default set
    await user.send("seen")
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["seen"]
    assert "dropped: not in allowed_updates" in emulator.transcript_text()


async def test_webhook_blocks_get_updates(emulator: TelegramEmulator, api: RawApi) -> None:
    poll = asyncio.create_task(api.call("getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    status, body = await api.call("setWebhook", url="https://example.org/hook")
    assert (status, body) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    assert (await asyncio.wait_for(poll, 1))[0] == 409
    assert await api.error("getUpdates") == (409, WEBHOOK_CONFLICT)
    again = await api.call("setWebhook", url="https://example.org/hook")
    assert again[1]["description"] == "Webhook is already set"
    info = await api.ok("getWebhookInfo")
    assert info["url"] == "https://example.org/hook" and info["has_custom_certificate"] is False
    assert info["max_connections"] == 40 and info["pending_update_count"] == 0
    deleted = await api.call("deleteWebhook")
    assert deleted[1]["description"] == "Webhook was deleted"
    assert (await api.call("deleteWebhook"))[1]["description"] == "Webhook is already deleted"
    assert await api.ok("getUpdates") == []
    assert await api.ok("getWebhookInfo") == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "ftp://example.org"}, "bad webhook: An HTTPS URL must be provided for webhook"),
        ({"url": "https://e.org/h", "secret_token": "a b"}, "secret token contains unallowed characters"),
        ({"url": "https://e.org/h", "secret_token": "a" * 257}, "secret token is too long"),
    ],
)
async def test_set_webhook_validation(api: RawApi, params: dict, description: str) -> None:
    assert await api.error("setWebhook", **params) == (400, f"Bad Request: {description}")


async def test_webhook_delivery_secret_and_retry(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    async with Receiver(statuses=[500]) as receiver:
        await api.ok("setWebhook", url=receiver.url, secret_token="s3cr3t_-X")
        await user.send("bonjour")
        await wait_until(lambda: len(receiver.calls) == 1)
        info = await api.ok("getWebhookInfo")
        assert info["pending_update_count"] == 1
        assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
        assert isinstance(info["last_error_date"], int)
        await wait_until(lambda: len(receiver.calls) == 2)  # retried after 1 emulated second
        first, second = receiver.calls
        assert first["update"] == second["update"]
        assert second["update"]["message"]["text"] == "bonjour"
        assert second["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t_-X"
        assert second["headers"]["Content-Type"] == "application/json"
        assert 0.08 < second["started"] - first["ended"] < 1.0
        await wait_until(lambda: not emulator.pending_updates())
        assert "attempt 2: delivered" in emulator.transcript_text()


async def test_webhook_connection_errors_are_retried(emulator: TelegramEmulator, api: RawApi) -> None:
    async with Receiver() as receiver:
        url = receiver.url
    await api.ok("setWebhook", url=url)  # nothing listens there any more
    await emulator.user(1001, "Amina").send("hello?")
    await wait_until(lambda: emulator.webhook_info().get("last_error_message") is not None)
    assert emulator.webhook_info()["last_error_message"] == "Connection refused"
    assert emulator.webhook_info()["pending_update_count"] == 1


async def test_webhook_is_sequential_per_chat(emulator: TelegramEmulator, api: RawApi) -> None:
    amina, bob = emulator.user(1001, "Amina"), emulator.user(1002, "Bob")
    async with Receiver(delay=0.1) as receiver:
        for text in ("1", "2", "3"):
            await amina.send(text)
        await bob.send("b")
        await api.ok("setWebhook", url=receiver.url, drop_pending_updates=False)
        await wait_until(lambda: len(receiver.calls) == 4)
    by_chat: dict[int, list[dict[str, Any]]] = {}
    for call in sorted(receiver.calls, key=lambda c: c["started"]):
        by_chat.setdefault(call["update"]["message"]["chat"]["id"], []).append(call)
    assert [c["update"]["message"]["text"] for c in by_chat[1001]] == ["1", "2", "3"]
    for before, after in zip(by_chat[1001], by_chat[1001][1:], strict=False):
        assert after["started"] >= before["ended"]
    # Another chat is not held up by the first one.
    assert by_chat[1002][0]["started"] < by_chat[1001][0]["ended"]


async def test_webhook_reply_can_carry_a_method(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    async with Receiver() as receiver:
        receiver.reply = {"method": "sendMessage", "chat_id": 1001, "text": "réponse directe"}
        await api.ok("setWebhook", url=receiver.url)
        await user.send("ping")
        assert (await user.next_reply(timeout=2)).text == "réponse directe"


async def test_drop_pending_updates(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("old")
    await api.ok("deleteWebhook", drop_pending_updates=True)
    assert await api.ok("getUpdates") == []
    await user.send("old again")
    await api.ok("setWebhook", url="https://example.org/h", drop_pending_updates=True)
    assert (await api.ok("getWebhookInfo"))["pending_update_count"] == 0
    body = json.dumps(emulator.webhook_info())
    assert "example.org" in body
