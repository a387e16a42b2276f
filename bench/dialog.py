"""Dialogs on Telegram: N people at once completing the Rabat eligibility dialog, closed and open loop (issue 10).

`python -m bench dialog [--people N] [--duration S] [--warmup S] [--rate R] [--open-duration S]
[--database-url URL] [--configuration-duration S]` runs, one after the other, each bot in a process
of its own against the Bot API emulator in another (`bench/dialog_load.py`: the emulator and the
simulated people, on their own core), flood limits off on both sides:
- this project's bot as deployed (`python -m bot run`, polling, SQLite in a temporary directory),
  its flood pacing lifted in its config file, so that its processing capacity is measured and not
  Telegram's per-chat limit;
- a bare python-telegram-bot echo bot (default `HTTPXRequest`), the same seven steps typed;
- the same questions as a `ConversationHandler` with `PicklePersistence` (`bench/reference_bots.py`).

Closed loop: each person sends her next step once the bot's answer to the previous one has arrived;
a finished dialog makes room for a new person (a new chat). It prints, over the measured window
(after a warm-up): updates answered per second, the reply time (update to the bot's first message)
at p50/p95/p99, the bot process's CPU per update (from /proc) and peak resident memory, and the
ratios ours / echo and ours / ConversationHandler.

Open loop (`--rate`, 100 steps a second by default, for `--open-duration` seconds; 0 skips it): the
N people are a pool, and steps go out on a fixed schedule whatever the replies, to whoever is ready
(no one has two steps in flight); it prints, for the three bots, the achieved rates (steps sent,
updates answered), the reply time at p50/p99 and the turns missed because all N were waiting.

Our bot's database work: a separate, short run (`bench/counted_bot.py`, instrumented, never timed)
counts the transactions and SQL statements per update handled.

With `--database-url` (or TEST_DATABASE_URL), a PostgreSQL server on which each run creates, then
drops, a database of its own: our bot also runs, closed loop for `--configuration-duration` seconds,
on PostgreSQL with polling, then in webhook mode, one process and then two sharing the database
behind a round-robin balancer (`bench/balancer.py`); a table row per configuration. Figures only,
nothing is asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.config import normalise_database_url

from .balancer import KeptAliveRoundRobin, free_port
from .broadcast import EmulatorProcess, MiB, Parser, cpu_seconds, database, ratio, resident, start_bot
from .counted_bot import COUNTS

PEOPLE = 200
WARMUP = 3.0  # seconds of load before the measured window (connections, caches, the first rows)
DURATION = 20.0  # seconds measured per bot, closed loop
RATE = 100.0  # steps a second offered, open loop
OPEN_DURATION = 30.0  # seconds measured per bot, open loop
CONFIGURATION_DURATION = 10.0  # seconds measured per configuration of ours on PostgreSQL
COUNTED_DURATION = 5.0  # seconds counted (after a warm-up of COUNTED_WARMUP)
COUNTED_WARMUP = 1.0
UNLIMITED = 1_000_000.0  # messages per second: no pacing
SETTINGS: Mapping[str, object] = {  # the `telegram` section of the bot's config: flood pacing lifted
    "flood": {
        "overall_per_second": UNLIMITED,
        "per_chat_per_second": UNLIMITED,
        "per_chat_burst": 1_000_000,
        "per_group_per_minute": UNLIMITED,
    },
}
STOP = 15.0  # seconds a bot may take to stop before it is killed


@dataclass(frozen=True)
class Bot:
    name: str
    short: str
    module: Sequence[str]
    script: str  # what the people say: the dialog, or its steps typed for the echo bot


OURS = Bot("this project, the Rabat dialog (SQLite)", "ours", ("bot", "run"), "dialog")
ECHO = Bot("python-telegram-bot echo bot, default HTTPXRequest", "echo", ("bench.reference_bots", "echo"), "echo")
CONVERSATION = Bot(
    "same questions, ConversationHandler + PicklePersistence",
    "ConversationHandler",
    ("bench.reference_bots", "conversation"),
    "dialog",
)
COUNTED = ("bench.counted_bot", "run")


@dataclass(frozen=True)
class Run:
    """One measured run: a bot, how it is deployed, the load."""

    bot: Bot
    people: int
    warmup: float
    duration: float
    rate: float = 0.0  # steps a second, open loop; 0: closed loop
    server: str | None = None  # a PostgreSQL server (a database of its own created on it); None: SQLite
    webhooks: int = 0  # 0: polling; else that many webhook processes (behind a balancer when more than one)
    counted: bool = False  # ours through `bench.counted_bot`: its database work counted

    @property
    def configuration(self) -> str:
        delivery = f"webhook ×{self.webhooks}" if self.webhooks else "polling"
        return f"{self.bot.short}, {'PostgreSQL' if self.server else 'SQLite'}, {delivery}"


@dataclass(frozen=True)
class Figures:
    """One bot under the load, over the measured window."""

    name: str
    short: str
    seconds: float
    answered: int
    latencies: list[float]
    dialogs: int
    unanswered: int
    lost: int
    cpu: float  # seconds of the bot processes' CPU within the window
    peak: int  # bytes: the bot processes' resident high-water marks, added up
    emulator_cpu: float  # share of a core the emulator and the people used
    configuration: str = ""
    sent: int = 0  # steps sent within the window
    missed: int = 0  # open loop: turns that found every person waiting
    counts: Mapping[str, int] | None = None  # counted runs: updates, transactions, statements within the window
    spread: tuple[int, ...] = ()  # webhook processes behind the balancer: the calls each one took

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def sent_rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.answered if self.answered else float("nan")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")

    def per_update(self, what: str) -> float:
        counts = self.counts or {}
        return counts.get(what, 0) / counts["updates"] if counts.get("updates") else float("nan")


@contextlib.contextmanager
def environment(name: str, value: str | None) -> Iterator[None]:
    """`name` set to `value` in this process's environment (that the bot processes copy) meanwhile."""
    if value is None:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        del os.environ[name]


def webhook_settings(port: int, public_url: str) -> dict[str, object]:
    hook = {"listen": "127.0.0.1", "port": port, "url_path": "telegram", "public_url": public_url}
    return {**SETTINGS, "mode": "webhook", "webhook": hook}


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP)
        except TimeoutError:
            process.kill()
            await process.wait()


def window(counts_path: Path) -> dict[str, int] | None:
    """The counts between the two snapshots taken around the measured window."""
    lines = counts_path.read_text(encoding="utf-8").splitlines() if counts_path.exists() else []
    if len(lines) < 2:
        return None
    before, after = json.loads(lines[0]), json.loads(lines[1])
    return {key: int(after[key]) - int(before[key]) for key in after}


async def measure(run: Run) -> Figures:
    """The bot (one process or more) and the emulator, each in its own process; the people talk for
    warmup + duration seconds."""
    bot = run.bot
    command = ["-m", "bench.dialog_load", "--people", str(run.people), "--script", bot.script]
    command += ["--warmup", str(run.warmup), "--duration", str(run.duration), "--rate", str(run.rate)]
    module = COUNTED if run.counted else bot.module
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        counts_path = workdir / "counts.jsonl"
        async with database(run.server, workdir) as url:
            emulator = EmulatorProcess(run.people, command, report_timeout=run.warmup + run.duration + 90)
            processes: list[asyncio.subprocess.Process] = []
            balancer: KeptAliveRoundRobin | None = None
            settings: list[Mapping[str, object]] = [SETTINGS]
            if run.webhooks:
                ports = [free_port() for _ in range(run.webhooks)]
                if run.webhooks > 1:
                    balancer = KeptAliveRoundRobin(ports)
                    await balancer.start()
                public = f"http://127.0.0.1:{balancer.port if balancer else ports[0]}/telegram"
                settings = [webhook_settings(port, public) for port in ports]
            try:
                base_url = await emulator.start()
                with environment(COUNTS, str(counts_path) if run.counted else None):
                    for number, each in enumerate(settings):
                        (workdir / f"bot{number}").mkdir()
                        processes.append(
                            await start_bot(workdir / f"bot{number}", url, base_url, settings=each, module=module)
                        )
                await emulator.tell("go")
                await emulator.report()  # {"measuring": true}
                cpu = sum(cpu_seconds(process.pid) for process in processes)
                if run.counted:
                    processes[0].send_signal(signal.SIGUSR1)
                await emulator.report()  # {"measured": true}
                cpu = sum(cpu_seconds(process.pid) for process in processes) - cpu
                if run.counted:
                    processes[0].send_signal(signal.SIGUSR1)
                peak = sum(resident(process.pid)[1] for process in processes)
                report: dict[str, Any] = await emulator.report()
            finally:
                for process in processes:
                    await stop(process)
                if balancer is not None:
                    await balancer.stop()
                await emulator.stop()
            counts = window(counts_path) if run.counted else None
            spread = tuple(balancer.served.values()) if balancer is not None else ()
    return Figures(
        name=bot.name,
        short=bot.short,
        seconds=float(report["seconds"]),
        answered=int(report["answered"]),
        latencies=[float(seconds) for seconds in report["latencies"]],
        dialogs=int(report["dialogs"]),
        unanswered=int(report["unanswered"]),
        lost=int(report["lost_count"]),
        cpu=cpu,
        peak=peak,
        emulator_cpu=float(report["emulator_cpu"]),
        configuration=run.configuration,
        sent=int(report["sent"]),
        missed=int(report["missed"]),
        counts=counts,
        spread=spread,
    )


def row(figures: Figures, label: str | None = None) -> str:
    p50, p95, p99 = (figures.percentile(share) * 1000 for share in (0.5, 0.95, 0.99))
    return (
        f"| {label or figures.name} | {figures.rate:6.0f} | {figures.cpu_per_update * 1000:5.1f} ms"
        f" | {p50:5.0f} / {p95:5.0f} / {p99:5.0f} ms | {figures.peak / MiB:5.1f} MiB | {figures.dialogs:5d} |"
    )


def open_row(figures: Figures) -> str:
    p50, p99 = (figures.percentile(share) * 1000 for share in (0.5, 0.99))
    return (
        f"| {figures.name} | {figures.sent_rate:6.1f} | {figures.rate:6.1f} | {p50:5.0f} / {p99:5.0f} ms"
        f" | {figures.missed:5d} | {figures.cpu_per_update * 1000:5.1f} ms |"
    )


def remarks(figures: Figures) -> str:
    trouble = []
    if figures.unanswered:
        trouble.append(f"{figures.unanswered} steps unanswered")
    if figures.lost:
        trouble.append(f"{figures.lost} dialogs where the bot asked something unexpected")
    problems = f"; {', '.join(trouble)}" if trouble else ""
    return (
        f"{figures.name}: {figures.answered} updates answered in {figures.seconds:.1f} s, the emulator and the"
        f" people used {figures.emulator_cpu:.0%} of a core{problems}"
    )


def counted_line(figures: Figures) -> str:
    counts = figures.counts or {}
    return (
        f"{figures.configuration}: {figures.per_update('transactions'):.2f} transactions and"
        f" {figures.per_update('statements'):.1f} SQL statements per update ({counts.get('updates', 0)} updates"
        f" handled in {figures.seconds:.0f} s, instrumented run, not timed)"
    )


def main(argv: Sequence[str] = ()) -> None:
    parser = Parser(prog="python -m bench dialog", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"people talking at once (default {PEOPLE})")
    parser.add_argument("--duration", type=float, default=DURATION, help=f"seconds measured per bot ({DURATION:.0f})")
    parser.add_argument("--warmup", type=float, default=WARMUP, help=f"seconds before measuring ({WARMUP:.0f})")
    parser.add_argument("--rate", type=float, default=RATE, help=f"steps a second, open loop ({RATE:.0f})")
    parser.add_argument(
        "--open-duration", type=float, default=OPEN_DURATION, help=f"seconds, open loop ({OPEN_DURATION:.0f}; 0: none)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default TEST_DATABASE_URL; each run its own db)")
    parser.add_argument(
        "--configuration-duration",
        type=float,
        default=CONFIGURATION_DURATION,
        help=f"seconds measured per configuration on PostgreSQL ({CONFIGURATION_DURATION:.0f})",
    )
    args = parser.parse_args(list(argv))
    if args.people < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--people at least 1, --duration above 0, --warmup not negative")
    if args.rate <= 0 or args.open_duration < 0 or args.configuration_duration <= 0:
        parser.error("--rate and --configuration-duration above 0, --open-duration not negative")
    given = args.database_url or os.environ.get("TEST_DATABASE_URL")
    server = normalise_database_url(given) if given else None
    if server is not None and not server.startswith("postgresql"):
        parser.error("--database-url: a PostgreSQL URL (SQLite is the default)")
    started, load = time.perf_counter(), os.getloadavg()[0]
    closed = Run(ECHO, args.people, args.warmup, args.duration)
    runs = [asyncio.run(measure(replace(closed, bot=bot))) for bot in (ECHO, CONVERSATION, OURS)]
    opened = Run(ECHO, args.people, args.warmup, args.open_duration, rate=args.rate)
    open_bots = (ECHO, CONVERSATION, OURS) if args.open_duration else ()
    open_runs = [asyncio.run(measure(replace(opened, bot=bot))) for bot in open_bots]
    counting = Run(OURS, args.people, COUNTED_WARMUP, COUNTED_DURATION, counted=True)
    counted = [asyncio.run(measure(replace(counting, server=each))) for each in (None, server)[: 2 if server else 1]]
    configurations = []
    if server is not None:
        configured = Run(OURS, args.people, args.warmup, args.configuration_duration, server=server)
        configurations = [asyncio.run(measure(replace(configured, webhooks=n))) for n in (0, 1, 2)]
    echo, conversation, ours = runs
    print(
        f"{args.people} people, closed loop, each bot in its own process against the Bot API emulator (flood limits"
        f" off), {args.duration:.0f} s measured after {args.warmup:.0f} s of warm-up"
    )
    print("| bot | updates/s | bot CPU per update | reply p50 / p95 / p99 | bot peak memory | dialogs finished |")
    print("|---|---|---|---|---|---|")
    for figures in runs:
        print(row(figures))
    for other in (echo, conversation):
        print(
            f"ours / {other.short}: updates/s ×{ratio(ours.rate, other.rate):.2f},"
            f" CPU per update ×{ratio(ours.cpu_per_update, other.cpu_per_update):.1f},"
            f" reply p50 ×{ratio(ours.percentile(0.5), other.percentile(0.5)):.1f},"
            f" p99 ×{ratio(ours.percentile(0.99), other.percentile(0.99)):.1f}"
        )
    for figures in runs:
        print(remarks(figures))
    if open_runs:
        print(
            f"\nopen loop: {args.rate:.0f} steps a second offered, evenly spaced, over a pool of {args.people} people"
            f" (none with two steps in flight), {args.open_duration:.0f} s measured after {args.warmup:.0f} s"
        )
        print("| bot | steps sent/s | updates answered/s | reply p50 / p99 | turns missed | bot CPU per update |")
        print("|---|---|---|---|---|---|")
        for figures in open_runs:
            print(open_row(figures))
        for figures in open_runs:
            if figures.unanswered or figures.lost:
                print(remarks(figures))
            if figures.missed:
                print(
                    f"{figures.name}: {figures.missed} turns found all {args.people} people waiting for an answer:"
                    " the bot is behind the offered rate (its reply times are those of a saturated bot)"
                )
    if configurations:
        print(
            f"\nours by configuration, closed loop, {args.people} people, {args.configuration_duration:.0f} s measured"
            " (SQLite: the run above; CPU and memory: the bot processes added up, PostgreSQL's own CPU not counted)"
        )
        print("| configuration | updates/s | bot CPU per update | reply p50 / p95 / p99 | bot peak memory | dialogs |")
        print("|---|---|---|---|---|---|")
        for figures in (ours, *configurations):
            print(row(figures, figures.configuration))
        for figures in configurations:
            if figures.unanswered or figures.lost:
                print(remarks(figures))
            if figures.spread:
                calls = " and ".join(str(calls) for calls in figures.spread)
                print(f"{figures.configuration}: the balancer passed {calls} webhook calls to the processes")
    print("\nour bot's database work, closed loop:")
    for figures in counted:
        print(counted_line(figures))
    print(
        f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs;"
        f" took {time.perf_counter() - started:.0f} s"
    )
