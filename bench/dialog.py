"""Dialogs on Telegram: N people at once completing the Rabat eligibility dialog, closed loop (issue 10).

`python -m bench dialog [--people N] [--duration S] [--warmup S]` runs, one after the other, each
bot in a process of its own against the Bot API emulator in another (`bench/dialog_load.py`: the
emulator and the simulated people, on their own core), flood limits off on both sides:
- this project's bot as deployed (`python -m bot run`, polling, SQLite in a temporary directory),
  its flood pacing lifted in its config file, so that its processing capacity is measured and not
  Telegram's per-chat limit;
- a bare python-telegram-bot echo bot (default `HTTPXRequest`), the same seven steps typed;
- the same questions as a `ConversationHandler` with `PicklePersistence` (`bench/reference_bots.py`).

Each person sends her next step once the bot's answer to the previous one has arrived; a finished
dialog makes room for a new person (a new chat). It prints, over the measured window (after a
warm-up): updates answered per second, the reply time (update to the bot's first message) at
p50/p95/p99, the bot process's CPU per update (from /proc) and peak resident memory, and the
ratios ours / echo and ours / ConversationHandler. Figures only, nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .broadcast import EmulatorProcess, MiB, Parser, cpu_seconds, database, ratio, resident, start_bot

PEOPLE = 200
WARMUP = 3.0  # seconds of load before the measured window (connections, caches, the first rows)
DURATION = 20.0  # seconds measured per bot
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
    cpu: float  # seconds of the bot process's CPU within the window
    peak: int  # bytes: the bot process's resident high-water mark
    emulator_cpu: float  # share of a core the emulator and the people used

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.answered if self.answered else float("nan")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


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


async def measure(bot: Bot, people: int, warmup: float, duration: float) -> Figures:
    """One bot and the emulator, each in its own process; the people talk for warmup + duration seconds."""
    command = ["-m", "bench.dialog_load", "--people", str(people), "--script", bot.script]
    command += ["--warmup", str(warmup), "--duration", str(duration)]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        async with database(None, workdir) as url:
            emulator = EmulatorProcess(people, command, report_timeout=warmup + duration + 90)
            process: asyncio.subprocess.Process | None = None
            try:
                base_url = await emulator.start()
                process = await start_bot(workdir, url, base_url, settings=SETTINGS, module=bot.module)
                await emulator.tell("go")
                await emulator.report()  # {"measuring": true}
                cpu = cpu_seconds(process.pid)
                await emulator.report()  # {"measured": true}
                cpu = cpu_seconds(process.pid) - cpu
                _, peak = resident(process.pid)
                report: dict[str, Any] = await emulator.report()
            finally:
                if process is not None and process.returncode is None:
                    process.terminate()
                    try:
                        await asyncio.wait_for(process.wait(), STOP)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
                await emulator.stop()
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
    )


def row(figures: Figures) -> str:
    p50, p95, p99 = (figures.percentile(share) * 1000 for share in (0.5, 0.95, 0.99))
    return (
        f"| {figures.name} | {figures.rate:6.0f} | {figures.cpu_per_update * 1000:5.1f} ms"
        f" | {p50:5.0f} / {p95:5.0f} / {p99:5.0f} ms | {figures.peak / MiB:5.1f} MiB | {figures.dialogs:5d} |"
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


def main(argv: Sequence[str] = ()) -> None:
    parser = Parser(prog="python -m bench dialog", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"people talking at once (default {PEOPLE})")
    parser.add_argument("--duration", type=float, default=DURATION, help=f"seconds measured per bot ({DURATION:.0f})")
    parser.add_argument("--warmup", type=float, default=WARMUP, help=f"seconds before measuring ({WARMUP:.0f})")
    args = parser.parse_args(list(argv))
    if args.people < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--people at least 1, --duration above 0, --warmup not negative")
    started, load = time.perf_counter(), os.getloadavg()[0]
    runs = [asyncio.run(measure(bot, args.people, args.warmup, args.duration)) for bot in (ECHO, CONVERSATION, OURS)]
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
    print(
        f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs;"
        f" took {time.perf_counter() - started:.0f} s"
    )
