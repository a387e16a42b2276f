"""Bulk delivery: a broadcast to 10 000 subscribers through the Bot API emulator, its limits enforced.

`python -m bench broadcast [--database-url URL]` runs the bot as it is deployed (`python -m bot
run`, a fresh process per audience size) against the emulator in a process of its own
(`bench/emulator_process.py`: on this kind of machine the two in one process are CPU-bound), and
prints:
- the achieved rate as a fraction of the configured overall limit, over the steady part: from the
  first copy to the last one, as the emulator's transcript timed them. Telegram's clocks run
  `SCALE` times faster in the emulator (its 30/s becomes 120/s), and the limit is scaled as much;
- the reply latency (p50, p99) of a person chatting during the broadcast, from her message to the
  bot's first message in answer;
- the bot process's peak memory (its resident set's high-water mark, from /proc) at 2 000 and
  10 000 recipients, and how much of it the sending added over the idle bot: flat means the
  sender never loads the whole audience;
- the bot's CPU time per copy, and the machine's load average: the bot needs most of a core at
  the limit, so other work on the machine shows in the rate and the latencies.

The reference, on the same emulator and limit in the same run: how a python-telegram-bot user
typically broadcasts, a loop over the chat ids calling `bot.send_message` paced with
`asyncio.sleep(1 / rate)` (PTB's `AIORateLimiter` would need `aiolimiter`, not installed), in a
background task so that the same person's messages are still answered meanwhile, straight from
memory (no database, nothing durable). To 1 000 recipients: it is slower, and the run stays
under about three minutes.

SQLite in a temporary directory by default; `--database-url` names a PostgreSQL server on which
each run creates and then drops a database of its own. Figures only, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml
from sqlalchemy import update
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.config import normalise_database_url
from bot.storage.db import create_engine, sessionmaker
from bot.storage.migrate import upgrade_async
from bot.storage.models import Broadcast
from tests.bot.delivery import seed
from tests.e2e.conftest import ROOT, TOKEN
from tests.support.databases import temporary_database

SCALE = 4  # Telegram's clocks 4 times faster: its 30 messages a second become 120
LIMIT = 25 * SCALE  # the configured overall limit: the default 25/s, scaled as much (100/s)
SIZES = (2_000, 10_000)
REFERENCE = 1_000  # recipients of the reference loop (slower: fewer, to keep the run short)
EVERY = 1.0  # seconds between the chatting person's messages
READY = 30.0  # seconds the bot may take to start
SETTLE = 1.0  # seconds the idle bot runs before its memory is read
FLOOD = {
    "overall_per_second": LIMIT,
    "per_chat_per_second": 0.9 * SCALE,  # under Telegram's 1/s per chat, scaled
    "per_chat_burst": 3,
    "per_group_per_minute": 18 * SCALE,
}
# The shared bucket holds a fifth of a second of the rate (20 messages, under the emulator's burst
# of 30 refilled at 120/s) and batches take half of it: a late step loses no token to the cap.
BULK = {"bulk_batch": 10, "bulk_concurrency": 32, "bulk_burst_seconds": 0.2}
MiB = 2**20


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Bad input: one line on stderr, exit status 2."""
        self.exit(2, f"{self.prog}: {message}\n")


@dataclass(frozen=True)
class Figures:
    """One broadcast as the emulator saw it (and, for the bot, its process's memory)."""

    count: int
    copies: int
    chats: int
    seconds: float  # from the first copy to the last
    too_many_requests: int
    latencies: list[float]
    peak: int = 0  # bytes: the bot process's resident high-water mark
    idle: int = 0  # bytes: its resident set before the broadcast started
    cpu: float = 0.0  # seconds of CPU the bot process used while sending

    @property
    def rate(self) -> float:
        return (self.copies - 1) / self.seconds if self.seconds > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.rate / LIMIT

    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")

    def summary(self) -> str:
        unsent = f", {self.count - self.chats} never reached" if self.chats < self.count else ""
        twice = f", {self.copies - self.chats} sent twice" if self.copies > self.chats else ""
        return (
            f"{self.rate:5.1f} msg/s = {self.fraction:4.2f} of the limit   429 answers: {self.too_many_requests}"
            f"{unsent}{twice}"
        )

    def replies(self) -> str:
        if not self.latencies:
            return "no reply timed"
        return (
            f"p50 {self.median() * 1000:4.0f} ms   p99 {self.percentile(0.99) * 1000:4.0f} ms"
            f"   ({len(self.latencies)} messages, one every {EVERY:.0f} s)"
        )


class EmulatorProcess:
    """`bench/emulator_process.py` for one audience; `report()` once every chat has its copy.

    `command` runs another module in its place (e.g. `bench/dialog_load.py`), `report_timeout` bounds
    each `report()`: both default to the broadcast's. `tell()` writes a line to its stdin."""

    def __init__(self, count: int, command: Sequence[str] | None = None, report_timeout: float | None = None) -> None:
        self.count = count
        self.command = list(command) if command is not None else None
        self.report_timeout = report_timeout if report_timeout is not None else count / LIMIT * 3 + 90
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> str:
        command = self.command
        if command is None:
            command = ["-m", "bench.emulator_process", "--count", str(self.count), "--time-scale", str(SCALE)]
            command += ["--every", str(EVERY), "--timeout", str(self.count / LIMIT * 3 + 60)]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,  # a report's line may hold every latency measured
        )
        return str((await self._line(READY))["base_url"])

    async def report(self) -> dict[str, Any]:
        """Its next line of JSON."""
        return await self._line(self.report_timeout)

    async def tell(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def _line(self, seconds: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), seconds)
        if not line:
            raise RuntimeError(f"the emulator exited with {await self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # it serves until its stdin closes
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def figures(report: dict[str, Any], count: int) -> Figures:
    first, last = report["first"], report["last"]
    return Figures(
        count=count,
        copies=int(report["copies"]),
        chats=int(report["chats"]),
        seconds=float(last - first) if first is not None and last is not None else 0.0,
        too_many_requests=int(report["too_many_requests"]),
        latencies=[float(seconds) for seconds in report["latencies"]],
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident(pid: int) -> tuple[int, int]:
    """(resident set, its high-water mark) of a process, in bytes (Linux's /proc)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


@contextlib.asynccontextmanager
async def database(server: str | None, workdir: Path) -> AsyncIterator[str]:
    """A fresh database: SQLite in `workdir`, or one created (then dropped) on the PostgreSQL `server`."""
    if server is None:
        yield f"sqlite+aiosqlite:///{workdir}/bench.sqlite3"
        return
    async with temporary_database(server, "bench") as url:
        yield url


async def bot_run(count: int, server: str | None) -> Figures:
    """The bot (`python -m bot run`, its own process) sends a broadcast to `count` subscribers."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        async with database(server, workdir) as url:
            await upgrade_async(url)
            engine = create_engine(url)
            async with sessionmaker(engine).begin() as session:  # queued paused: the idle bot is measured first
                audience = await seed.broadcast(session, count, datetime.now(UTC), status="paused")
            emulator = EmulatorProcess(count)
            bot: asyncio.subprocess.Process | None = None
            try:
                base_url = await emulator.start()
                bot = await start_bot(workdir, url, base_url)
                await asyncio.sleep(SETTLE)
                idle, _ = resident(bot.pid)
                cpu = cpu_seconds(bot.pid)
                async with sessionmaker(engine).begin() as session:
                    await session.execute(
                        update(Broadcast).where(Broadcast.id == audience.broadcast_id).values(status="sending")
                    )
                report = await emulator.report()
                _, peak = resident(bot.pid)
                cpu = cpu_seconds(bot.pid) - cpu
            finally:
                if bot is not None and bot.returncode is None:
                    bot.terminate()
                    await bot.wait()
                await emulator.stop()
                await engine.dispose()
    return Figures(**{**figures(report, count).__dict__, "peak": peak, "idle": idle, "cpu": cpu})


async def start_bot(
    workdir: Path,
    url: str,
    base_url: str,
    *,
    settings: Mapping[str, object] | None = None,
    module: Sequence[str] = ("bot", "run"),
) -> asyncio.subprocess.Process:
    """`python -m <module>` (the bot by default) with the token, base URL, database and a config file
    whose `telegram` section is `settings` (default: the broadcast's); ready once it logs "bot ready"."""
    config = workdir / "bot.yaml"
    if settings is None:
        settings = {"flood": FLOOD, **BULK}  # otherwise as deployed (long polls, retry interval)
    config.write_text(yaml.safe_dump({"telegram": dict(settings)}), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_URL": url,
        "STAGEBOT_CONFIG": str(config),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = workdir / "bot.log"
    with log_path.open("wb") as log:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", *module, cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    deadline = time.monotonic() + READY
    while "bot ready" not in log_path.read_text(encoding="utf-8", errors="replace"):
        if bot.returncode is not None or time.monotonic() > deadline:
            if bot.returncode is None:
                bot.kill()
            raise RuntimeError(f"the bot did not start:\n{log_path.read_text(encoding='utf-8')[-2000:]}")
        await asyncio.sleep(0.1)
    return bot


async def reference_run(count: int) -> Figures:
    """A python-telegram-bot user's broadcast: `send_message` in a loop paced by `asyncio.sleep`."""
    emulator = EmulatorProcess(count)
    try:
        base_url = await emulator.start()
        application = ApplicationBuilder().token(TOKEN).base_url(base_url).build()

        async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            if update.effective_message is not None:
                await update.effective_message.reply_text("Bonjour !")

        application.add_handler(MessageHandler(filters.ALL, answer))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            chats = range(seed.FIRST_CHAT, seed.FIRST_CHAT + count)
            loop = asyncio.create_task(send_all(application, chats))
            report = await emulator.report()
            await loop
            await application.updater.stop()
            await application.stop()
    finally:
        await emulator.stop()
    return figures(report, count)


async def send_all(application: Application, chats: Sequence[int]) -> None:  # type: ignore[type-arg]
    for number, chat in enumerate(chats):
        while True:
            try:
                await application.bot.send_message(chat, seed.TEXTS["en" if number % 2 else "fr"])
                break
            except RetryAfter as error:  # the well-behaved loop: wait as told, then again
                wait = error.retry_after
                await asyncio.sleep(wait if isinstance(wait, (int, float)) else wait.total_seconds())
        await asyncio.sleep(1 / LIMIT)


def ratio(mine: float, theirs: float) -> float:
    return mine / theirs if theirs else float("nan")


def main(argv: Sequence[str] = ()) -> None:
    parser = Parser(prog="python -m bench broadcast", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (each run creates and drops a database)")
    args = parser.parse_args(list(argv))
    server = normalise_database_url(args.database_url) if args.database_url else None
    if server is not None and not server.startswith("postgresql"):
        parser.error("--database-url: a PostgreSQL URL (SQLite is the default)")
    started, load = time.perf_counter(), os.getloadavg()[0]
    runs = {count: asyncio.run(bot_run(count, server)) for count in SIZES}
    reference = asyncio.run(reference_run(REFERENCE))
    small, big = runs[SIZES[0]], runs[SIZES[-1]]
    backend = "PostgreSQL" if server else "SQLite"
    print(
        f"the bot (python -m bot run, {backend}) and the Bot API emulator in two processes, Telegram's limits ×{SCALE}"
    )
    print(f"configured overall limit                     {LIMIT:5.0f} msg/s (the default 25/s ×{SCALE})")
    for count, run in runs.items():
        print(f"{count:6d} recipients, first to last copy       {run.summary()}")
    print(f"reply latency while broadcasting to {SIZES[-1]}    {big.replies()}")
    cpu = {count: run.cpu / count for count, run in runs.items()}
    print(
        f"bot's CPU per copy                           {cpu[SIZES[0]] * 1000:5.1f} ms at {SIZES[0]},"
        f" {cpu[SIZES[-1]] * 1000:.1f} ms at {SIZES[-1]} (the limit takes {cpu[SIZES[-1]] * LIMIT:.2f} of a core)"
    )
    print(
        f"bot process's peak memory                    {small.peak / MiB:5.1f} MiB at {SIZES[0]},"
        f" {big.peak / MiB:.1f} MiB at {SIZES[-1]}: ×{big.peak / small.peak:.2f} for ×{SIZES[-1] / SIZES[0]:.0f}"
        f" the recipients (sending added {(small.peak - small.idle) / MiB:.1f} and"
        f" {(big.peak - big.idle) / MiB:.1f} MiB to the idle bot)"
    )
    print(
        f"reference: a PTB loop, send_message then asyncio.sleep(1/{LIMIT}), to {REFERENCE} recipients (slower: fewer)"
    )
    print(f"{REFERENCE:6d} recipients, first to last copy       {reference.summary()}")
    print(f"its replies (from memory, nothing stored)    {reference.replies()}")
    print(
        f"the bot against the reference                rate ×{ratio(big.rate, reference.rate):.2f}"
        f"   reply p50 ×{ratio(big.median(), reference.median()):.1f}"
        f"   p99 ×{ratio(big.percentile(0.99), reference.percentile(0.99)):.1f}"
    )
    print(
        f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs;"
        f" took {time.perf_counter() - started:.0f} s"
    )
