"""getUpdates (offset, limit, long poll, allowed_updates, conflicts) and webhook delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.telegram_emulator import ManualClock, TelegramEmulator
from tests.telegram_emulator.client import RawApi

from .conftest import TOKEN

pytestmark = pytest.mark.emulator(rate_limits=False)

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
# Wall-clock seconds after which a hang fails the test; no test asserts how long anything took.
HANG_GUARD = 5.0
T = TypeVar("T")


async def finished(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, HANG_GUARD)


class Receiver:
    """A webhook endpoint whose answers the test scripts. With hold=True each request waits
    until the test releases it (by the text of its message)."""

    def __init__(self, clock: ManualClock, statuses: list[int] | None = None, *, hold: bool = False) -> None:
        self.clock = clock
        self.statuses = list(statuses or [])
        self.hold = hold
        self.calls: list[dict[str, Any]] = []
        self.log: list[tuple[str, str]] = []  # ("start" | "end", message text), in order
        self.reply: dict[str, Any] | None = None
        self._gates: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _note(self, event: str, text: str) -> None:
        async with self._changed:
            self.log.append((event, text))
            self._changed.notify_all()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = body.get("message", {}).get("text", "")
        await self._note("start", text)
        if self.hold:
            await self._gates.setdefault(text, asyncio.Event()).wait()
        status = self.statuses.pop(0) if self.statuses else 200
        self.calls.append({"update": body, "status": status, "at": self.clock.real(), "headers": dict(request.headers)})
        await self._note("end", text)
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)

    def release(self, text: str) -> None:
        self._gates.setdefault(text, asyncio.Event()).set()

    @property
    def in_flight(self) -> set[str]:
        started = {text for event, text in self.log if event == "start"}
        return started - {text for event, text in self.log if event == "end"}

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await finished(self._changed.wait_for(predicate))

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
        self.hold = False
        for gate in self._gates.values():
            gate.set()
        await self._runner.cleanup()


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


async def test_long_poll_waits_for_an_update(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    user = emulator.user(1001, "Amina")
    poll = asyncio.create_task(api.ok("getUpdates", timeout=30))
    assert await clock.wait_for_pending() == [30.0]  # the poll waits 30 emulated seconds
    clock.advance(29)
    assert clock.pending() == [1.0]
    assert not poll.done()
    await user.send("réveil")
    # The clock stays 1 s short of the timeout: only the update can end the poll.
    updates = await finished(poll)
    assert [u["message"]["text"] for u in updates] == ["réveil"]
    assert clock.pending() == []


async def test_long_poll_ends_at_its_timeout(api: RawApi, clock: ManualClock) -> None:
    # timeout=0 answers at once (the clock never moves unless the test advances it).
    assert await finished(api.ok("getUpdates", timeout=0)) == []
    poll = asyncio.create_task(api.ok("getUpdates", timeout=3))
    assert await clock.wait_for_pending() == [3.0]
    clock.advance(2.5)
    assert clock.pending() == [0.5]
    assert not poll.done()
    clock.advance(0.5)
    assert await finished(poll) == []
    assert clock.pending() == []


async def test_long_poll_timeout_is_scaled() -> None:
    clock = ManualClock(time_scale=10)
    async with TelegramEmulator(TOKEN, clock=clock) as emulator, RawApi(emulator.base_url, TOKEN) as api:
        poll = asyncio.create_task(api.ok("getUpdates", timeout=3))
        assert await clock.wait_for_pending() == [pytest.approx(0.3)]  # 3 emulated seconds = 0.3 s
        clock.advance(0.2)
        assert not poll.done()
        clock.advance(0.1)
        assert await finished(poll) == []


async def test_long_poll_on_the_wall_clock() -> None:
    # time_scale=1000: 5 emulated seconds are 5 ms of the wall clock.
    async with TelegramEmulator(TOKEN, time_scale=1000) as emulator, RawApi(emulator.base_url, TOKEN) as api:
        assert await finished(api.ok("getUpdates", timeout=5)) == []
        poll = asyncio.create_task(api.ok("getUpdates", timeout=50))
        await emulator.user(1001, "Amina").send("vite")
        assert [u["message"]["text"] for u in await finished(poll)] == ["vite"]


async def test_a_second_poller_terminates_the_first(api: RawApi, clock: ManualClock) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=30))
    await clock.wait_for_pending()  # the first poll is waiting
    assert await api.ok("getUpdates") == []
    status, body = await finished(first)
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


async def test_webhook_blocks_get_updates(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    poll = asyncio.create_task(api.call("getUpdates", timeout=30))
    await clock.wait_for_pending()  # the poll is waiting
    status, body = await api.call("setWebhook", url="https://example.org/hook")
    assert (status, body) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    assert (await finished(poll))[0] == 409
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


async def test_webhook_delivery_secret_and_retry(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    user = emulator.user(1001, "Amina")
    async with Receiver(clock, statuses=[500, 502]) as receiver:
        await api.ok("setWebhook", url=receiver.url, secret_token="s3cr3t_-X")
        await user.send("bonjour")
        await emulator.wait_until(lambda: len(receiver.calls) == 1)
        info = await api.ok("getWebhookInfo")
        assert info["pending_update_count"] == 1
        assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
        assert info["last_error_date"] == clock.unix()
        # Retried after 1 emulated second, then 2, 4 ... (backoff doubles).
        assert await clock.wait_for_pending() == [1.0]
        clock.advance(0.5)
        assert clock.pending() == [0.5]
        assert len(receiver.calls) == 1
        clock.advance(0.5)
        await emulator.wait_until(lambda: len(receiver.calls) == 2)
        assert emulator.webhook_info()["last_error_message"] == "Wrong response from the webhook: 502 Bad Gateway"
        assert await clock.wait_for_pending() == [2.0]
        clock.advance(2)
        await emulator.wait_until(lambda: not emulator.pending_updates())
        first, second, third = receiver.calls
        assert [c["at"] for c in receiver.calls] == [0.0, 1.0, 3.0]
        assert first["update"] == second["update"] == third["update"]
        assert third["update"]["message"]["text"] == "bonjour"
        assert third["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t_-X"
        assert third["headers"]["Content-Type"] == "application/json"
        assert "attempt 3: delivered" in emulator.transcript_text()
        assert clock.pending() == []  # nothing left to retry


async def test_webhook_connection_errors_are_retried(
    emulator: TelegramEmulator, api: RawApi, clock: ManualClock
) -> None:
    async with Receiver(clock) as receiver:
        url = receiver.url
    await api.ok("setWebhook", url=url)  # nothing listens there any more
    await emulator.user(1001, "Amina").send("hello?")
    await emulator.wait_until(lambda: emulator.webhook_info().get("last_error_message") is not None)
    assert emulator.webhook_info()["last_error_message"] == "Connection refused"
    assert emulator.webhook_info()["pending_update_count"] == 1
    assert await clock.wait_for_pending() == [1.0]
    clock.advance(1)
    await emulator.wait_until(lambda: "attempt 2: Connection refused" in emulator.transcript_text())
    assert emulator.webhook_info()["pending_update_count"] == 1


async def test_webhook_delivery_times_out_after_60_emulated_seconds(
    emulator: TelegramEmulator, api: RawApi, clock: ManualClock
) -> None:
    async with Receiver(clock, hold=True) as receiver:
        await api.ok("setWebhook", url=receiver.url)
        await emulator.user(1001, "Amina").send("lent")
        await receiver.wait_for(lambda: receiver.in_flight == {"lent"})
        assert clock.pending() == [60.0]
        clock.advance(60)
        await emulator.wait_until(lambda: "attempt 1: Read timeout expired" in emulator.transcript_text())
        assert emulator.webhook_info()["last_error_message"] == "Read timeout expired"
        assert emulator.webhook_info()["pending_update_count"] == 1


async def test_webhook_is_sequential_per_chat(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    amina, bob = emulator.user(1001, "Amina"), emulator.user(1002, "Bob")
    async with Receiver(clock, hold=True) as receiver:
        for text in ("1", "2", "3"):
            await amina.send(text)
        await bob.send("b")
        await api.ok("setWebhook", url=receiver.url, drop_pending_updates=False)
        # Another chat is not held up by the first one: both heads are in flight together.
        await receiver.wait_for(lambda: receiver.in_flight == {"1", "b"})
        receiver.release("b")
        await emulator.wait_until(lambda: "attempt 1: delivered" in emulator.transcript_text(chat_id=1002))
        assert receiver.in_flight == {"1"}
        receiver.release("1")
        await receiver.wait_for(lambda: receiver.in_flight == {"2"})
        receiver.release("2")
        await receiver.wait_for(lambda: receiver.in_flight == {"3"})
        receiver.release("3")
        await emulator.wait_until(lambda: not emulator.pending_updates())
    amina_log = [(event, text) for event, text in receiver.log if text != "b"]
    assert amina_log == [("start", "1"), ("end", "1"), ("start", "2"), ("end", "2"), ("start", "3"), ("end", "3")]


async def test_webhook_reply_can_carry_a_method(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    user = emulator.user(1001, "Amina")
    async with Receiver(clock) as receiver:
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
