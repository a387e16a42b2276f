"""Bulk delivery: a broadcast to 10 000 subscribers through the Bot API emulator, its limits enforced.

`python -m bench broadcast` prints the achieved rate as a fraction of the configured overall limit
(the emulator's clocks run `SCALE` times faster, so the limit is scaled up as much), the reply
latency (p50, p99) of a person chatting during the broadcast, and the memory the bot's code holds
at its peak (tracemalloc, sampled; the emulator's own allocations, which grow with every message
it keeps, are left out) at 2 000 and 10 000 recipients: flat means the sender never loads the
whole audience. SQLite in a temporary directory; figures only, nothing is asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.db import create_engine, sessionmaker
from bot.storage.migrate import upgrade_async
from bot.storage.models import OutboxMessage
from tests.bot.delivery import seed
from tests.e2e.conftest import TOKEN, RunningBot, make_config
from tests.telegram_emulator import TelegramEmulator

SCALE = 20  # Telegram's limits 20 times faster: 30/s becomes 600/s
LIMIT = 25 * SCALE  # the configured overall limit (25/s by default), scaled as much
SIZES = (2_000, 10_000)
MEMORY = False  # the sampled snapshots stall the event loop long enough to time SQLite out


async def _pending(reader: AsyncEngine) -> int:
    """Rows still to send, read without taking SQLite's write lock (the bot's engine would)."""
    async with reader.connect() as connection:
        query = select(func.count()).where(OutboxMessage.priority > 0, OutboxMessage.status.in_(("pending", "sending")))
        return int(await connection.scalar(query) or 0)


async def _sample_memory(peak: list[int], stop: asyncio.Event) -> None:
    leave_out = [tracemalloc.Filter(False, "*telegram_emulator*"), tracemalloc.Filter(False, tracemalloc.__file__)]
    while not stop.is_set():
        snapshot = tracemalloc.take_snapshot().filter_traces(leave_out)
        peak[0] = max(peak[0], sum(stat.size for stat in snapshot.statistics("filename")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def one_run(count: int, chat: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp)}/bench.sqlite3"
        async with TelegramEmulator(TOKEN, time_scale=SCALE) as emulator:
            await upgrade_async(url)
            engine = create_engine(url)
            sessions = sessionmaker(engine)
            async with sessions.begin() as session:
                audience = await seed.broadcast(session, count, datetime.now(UTC))
            for chat_id in audience.people.values():
                emulator.state.private_chat({"id": chat_id, "is_bot": False, "first_name": "Subscriber"})
            flood = {"overall_per_second": LIMIT, "per_chat_per_second": 0.9 * SCALE, "per_chat_burst": 3}
            reader = create_async_engine(url)
            bot = RunningBot(make_config(url, emulator, flood=flood, bulk_batch=200, bulk_concurrency=64))
            tracemalloc.start(1)
            stop, peak = asyncio.Event(), [0]
            sampler = asyncio.create_task(_sample_memory(peak, stop)) if MEMORY else None
            await bot.start()
            latencies: list[float] = []
            while await _pending(reader) == count:  # the first batch
                await asyncio.sleep(0.01)
            started, first_sent = time.perf_counter(), count - await _pending(reader)
            person = emulator.user(9_000_001, "Amina", language_code="fr")
            while (left := await _pending(reader)) > 0:
                if chat and left > count * 0.1:
                    asked = time.perf_counter()
                    await person.send("/start")
                    await person.next_reply(timeout=30)
                    latencies.append(time.perf_counter() - asked)
                    await person.replies_until_idle(idle=0.2, timeout=5)
                else:
                    await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            stop.set()
            if sampler is not None:
                await sampler
            tracemalloc.stop()
            await bot.stop()
            await engine.dispose()
            await reader.dispose()
            violations = len(emulator.rate_limit_violations)
    rate = (count - first_sent) / elapsed
    result = {"rate": rate, "fraction": rate / LIMIT, "memory": peak[0], "violations": violations}
    if latencies:
        ordered = sorted(latencies)
        result["p50"] = statistics.median(ordered)
        result["p99"] = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        result["replies"] = len(ordered)
    return result


def main() -> None:
    results = {count: asyncio.run(one_run(count, chat=count == SIZES[-1])) for count in SIZES}
    big = results[SIZES[-1]]
    print(f"configured overall limit (scaled ×{SCALE})        {LIMIT:9.0f} msg/s")
    for count, result in results.items():
        print(
            f"{count:6d} recipients: achieved {result['rate']:7.1f} msg/s   {result['fraction']:5.2f}× the limit"
            f"   429 from Telegram's limits: {result['violations']:.0f}"
        )
    if "p50" in big:
        print(
            f"reply latency while broadcasting ({big['replies']:.0f} replies)  p50 {big['p50'] * 1000:6.0f} ms"
            f"   p99 {big['p99'] * 1000:6.0f} ms"
        )
    small, large = results[SIZES[0]]["memory"], big["memory"]
    print(
        f"bot's peak memory: {small / 2**20:6.1f} MiB at {SIZES[0]}, {large / 2**20:6.1f} MiB at {SIZES[-1]}"
        f"   ({large / small:4.2f}× for {SIZES[-1] / SIZES[0]:.0f}× the recipients)"
    )
