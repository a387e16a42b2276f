"""Injected faults, outages and Telegram's flood limits."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.telegram_emulator import Fault, ManualClock, RateLimitConfig, TelegramEmulator
from tests.telegram_emulator.client import RawApi

from .conftest import TOKEN

pytestmark = pytest.mark.emulator(rate_limits=False, chats=[(1001, "Amina"), (1002, "Bob")])
# Wall-clock seconds after which a hang fails the test; no test asserts how long anything took.
HANG_GUARD = 5.0


def bot_texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m["text"] for m in emulator.chat_messages(chat_id) if m["from"]["is_bot"]]


@pytest.mark.parametrize(
    ("fault", "status", "body"),
    [
        (
            Fault.too_many_requests(retry_after=2),
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2},
            },
        ),
        (
            Fault.blocked(),
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        ),
        (
            Fault.bad_request("chat not found"),
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
        ),
        (Fault.server_error(502), 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
        (Fault.server_error(), 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
    ],
)
async def test_error_faults_answer_and_have_no_effect(
    emulator: TelegramEmulator, api: RawApi, fault: Fault, status: int, body: dict
) -> None:
    emulator.inject(method="sendMessage", chat_id=1001, fault=fault, times=1)
    assert await api.call("sendMessage", chat_id=1001, text="lost") == (status, body)
    assert bot_texts(emulator, 1001) == []
    assert (await api.ok("sendMessage", chat_id=1001, text="kept"))["text"] == "kept"
    assert bot_texts(emulator, 1001) == ["kept"]
    call = [e for e in emulator.transcript if e.kind == "call"][-2]
    assert (call.status, call.note) == (status, fault.kind)


async def test_faults_match_method_and_chat(emulator: TelegramEmulator, api: RawApi) -> None:
    emulator.inject(method="sendMessage", chat_id=1001, fault=Fault.blocked())
    assert (await api.error("sendMessage", chat_id=1001, text="x"))[0] == 403
    assert (await api.error("sendMessage", chat_id=1001, text="y"))[0] == 403  # no limit
    assert await api.ok("sendMessage", chat_id=1002, text="other chat")
    assert await api.ok("sendChatAction", chat_id=1001, action="typing")
    emulator.clear_faults()
    assert await api.ok("sendMessage", chat_id=1001, text="after clear")


async def test_nth_and_times(emulator: TelegramEmulator, api: RawApi) -> None:
    injection = emulator.inject(method="sendmessage", fault=Fault.server_error(502), nth=2, times=2)
    statuses = [(await api.call("sendMessage", chat_id=1001, text=f"m{i}"))[0] for i in range(5)]
    assert statuses == [200, 502, 502, 200, 200]
    assert (injection.seen, injection.fired, injection.exhausted) == (3, 2, True)
    assert bot_texts(emulator, 1001) == ["m0", "m3", "m4"]
    only_third = emulator.inject(fault=Fault.bad_request("x"), nth=3)
    statuses = [(await api.call("getMe"))[0] for _ in range(4)]
    assert statuses == [200, 200, 400, 200] and only_third.exhausted


async def test_answer_callback_faults_match_the_query_chat(emulator: TelegramEmulator, api: RawApi) -> None:
    await api.ok(
        "sendMessage",
        chat_id=1001,
        text="?",
        reply_markup={"inline_keyboard": [[{"text": "Oui", "callback_data": "y"}]]},
    )
    query = await emulator.user(1001).press("Oui")
    emulator.inject(method="answerCallbackQuery", chat_id=1001, fault=Fault.server_error(), times=1)
    assert (await api.error("answerCallbackQuery", callback_query_id=query["id"]))[0] == 500
    assert emulator.user(1001).callback_answers == []
    assert await api.ok("answerCallbackQuery", callback_query_id=query["id"]) is True


async def test_slow_takes_effect_although_the_client_gives_up(
    emulator: TelegramEmulator, api: RawApi, clock: ManualClock
) -> None:
    emulator.inject(method="sendMessage", chat_id=1001, fault=Fault.slow(0.5), times=1)
    sending = asyncio.create_task(api.call("sendMessage", chat_id=1001, text="sent anyway"))
    assert await clock.wait_for_pending() == [0.5]  # the answer waits for the clock
    assert bot_texts(emulator, 1001) == ["sent anyway"]
    assert (await emulator.user(1001).next_reply(timeout=1)).text == "sent anyway"
    sending.cancel()  # the client gives up before the answer
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert bot_texts(emulator, 1001) == ["sent anyway"]
    assert "[slow 0.5s]" in emulator.transcript_text()

    clock.advance(0.5)  # the abandoned answer is done with
    emulator.inject(method="getMe", fault=Fault.slow(0.2), times=1)
    asking = asyncio.create_task(api.ok("getMe"))
    assert await clock.wait_for_pending() == [pytest.approx(0.2)]
    clock.advance(0.1)
    assert clock.pending() == [pytest.approx(0.1)]
    assert not asking.done()
    clock.advance(0.1)  # answered only after the delay
    assert (await asyncio.wait_for(asking, HANG_GUARD))["id"] == 123


async def test_drop_connection(emulator: TelegramEmulator, api: RawApi) -> None:
    emulator.inject(method="sendMessage", fault=Fault.drop_connection(), times=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("sendMessage", chat_id=1001, text="never")
    assert bot_texts(emulator, 1001) == []
    assert "connection dropped" in emulator.transcript_text()
    assert await api.ok("sendMessage", chat_id=1001, text="again")


async def test_outage_refuses_connections_then_recovers(
    emulator: TelegramEmulator, api: RawApi, clock: ManualClock
) -> None:
    assert await api.ok("getMe")  # a kept-alive connection exists now
    emulator.outage(0.3)
    await emulator.wait_until(lambda: not emulator.accepting_connections)
    with pytest.raises(aiohttp.ClientError):
        await api.call("getMe")
    async with RawApi(emulator.base_url, TOKEN) as fresh:
        with pytest.raises(aiohttp.ClientConnectorError):
            await fresh.call("getMe")
    clock.advance(0.2)
    assert emulator.outage_remaining() == pytest.approx(0.1)
    with pytest.raises(aiohttp.ClientError):
        await api.call("getMe")
    clock.advance(0.1)
    assert emulator.outage_remaining() == 0
    await emulator.wait_until(lambda: emulator.accepting_connections)
    assert (await api.ok("getMe"))["id"] == 123
    assert "not listening for 0.3s" in emulator.transcript_text()


async def test_outage_with_bad_gateway(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    emulator.outage(0.2, mode="502")
    assert await api.call("sendMessage", chat_id=1001, text="x") == (
        502,
        {"ok": False, "error_code": 502, "description": "Bad Gateway"},
    )
    clock.advance(0.1)
    assert (await api.call("sendMessage", chat_id=1001, text="x"))[0] == 502
    clock.advance(0.1)
    assert await api.ok("sendMessage", chat_id=1001, text="x")
    assert bot_texts(emulator, 1001) == ["x"]


async def rate_limited(clock: ManualClock, **config: int) -> TelegramEmulator:
    emulator = TelegramEmulator(TOKEN, clock=clock, rate_limits=RateLimitConfig(**config))
    await emulator.start()
    return emulator


async def test_private_chat_burst_gets_429() -> None:
    clock = ManualClock()
    emulator = await rate_limited(clock)
    try:
        await emulator.user(1001, "Amina").send("/start")
        async with RawApi(emulator.base_url, TOKEN) as api:
            for i in range(3):
                assert await api.ok("sendMessage", chat_id=1001, text=f"burst {i}")
            status, body = await api.call("sendMessage", chat_id=1001, text="too much")
            assert status == 429
            assert body == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            assert len(emulator.chat_messages(1001)) == 4  # /start and the burst only
            # Editing is not a new message in the chat.
            assert await api.ok("editMessageText", chat_id=1001, message_id=2, text="edited")
            clock.advance(1)  # one message per second
            assert await api.ok("sendMessage", chat_id=1001, text="later")
            assert (await api.call("sendMessage", chat_id=1001, text="too soon"))[0] == 429
        first, second = emulator.rate_limit_violations
        assert (first.method, first.chat_id, first.limit, first.retry_after) == (
            "sendMessage",
            1001,
            "private_chat",
            1,
        )
        assert (first.at, first.emulated_at, second.at) == (0.0, 0.0, 1.0)
    finally:
        await emulator.stop()


async def test_time_scale_shortens_windows_and_retry_after() -> None:
    clock = ManualClock(time_scale=10)
    emulator = await rate_limited(clock, private_burst=1)
    try:
        await emulator.user(1001, "Amina").send("/start")
        async with RawApi(emulator.base_url, TOKEN) as api:
            assert await api.ok("sendMessage", chat_id=1001, text="one")
            status, body = await api.call("sendMessage", chat_id=1001, text="two")
            assert (status, body["parameters"]["retry_after"]) == (429, 0.1)
            assert body["description"] == "Too Many Requests: retry after 0.1"
            clock.advance(0.05)  # half an emulated second
            assert (await api.call("sendMessage", chat_id=1001, text="two"))[0] == 429
            clock.advance(0.05)
            assert await api.ok("sendMessage", chat_id=1001, text="two")
        assert [v.emulated_at for v in emulator.rate_limit_violations] == [0.0, 0.5]
    finally:
        await emulator.stop()


async def test_group_limit_is_20_per_minute() -> None:
    clock = ManualClock(time_scale=60)  # a minute lasts 1 s
    emulator = await rate_limited(clock)
    try:
        emulator.add_group(-100123, "Stagiaires")
        async with RawApi(emulator.base_url, TOKEN) as api:
            for i in range(20):
                assert await api.ok("sendMessage", chat_id=-100123, text=f"n{i}")
            status, body = await api.call("sendMessage", chat_id=-100123, text="n20")
            assert status == 429
            assert body["parameters"]["retry_after"] == 1  # 60 emulated seconds
            assert emulator.rate_limit_violations[-1].limit == "group_chat"
            clock.advance(0.5)
            status, body = await api.call("sendMessage", chat_id=-100123, text="n20")
            assert (status, body["parameters"]["retry_after"]) == (429, 0.5)
            clock.advance(body["parameters"]["retry_after"])
            assert await api.ok("sendMessage", chat_id=-100123, text="n20")
    finally:
        await emulator.stop()


async def test_global_limit_across_chats() -> None:
    clock = ManualClock()
    emulator = await rate_limited(clock)
    try:
        users = [emulator.user(2000 + i, f"U{i}") for i in range(40)]
        for user in users:
            await user.send("/start")
        async with RawApi(emulator.base_url, TOKEN) as api:
            statuses = [(await api.call("sendMessage", chat_id=u.chat_id, text="news"))[0] for u in users]
            # One message per chat: only the global bucket (30, refilled at 30/s) can refuse.
            assert statuses == [200] * 30 + [429] * 10
            assert {v.limit for v in emulator.rate_limit_violations} == {"global"}
            clock.advance(0.1)  # three more tokens
            later = [(await api.call("sendMessage", chat_id=u.chat_id, text="news"))[0] for u in users[30:34]]
            assert later == [200, 200, 200, 429]
    finally:
        await emulator.stop()


async def test_rate_limits_can_be_switched_off(emulator: TelegramEmulator, api: RawApi) -> None:
    for i in range(40):
        assert await api.ok("sendMessage", chat_id=1001, text=f"{i}")
    assert emulator.rate_limit_violations == []
