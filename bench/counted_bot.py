"""The bot with its database work counted, for `bench/dialog.py`: `python -m bench.counted_bot run`.

Runs `python -m bot run` in this process after registering SQLAlchemy event listeners on the
`Engine` class (so on every engine the bot makes, SQLite or PostgreSQL): `begin` counts the
transactions, `before_cursor_execute` the SQL statements (executemany counts once); and after
wrapping `TelegramService.handle`, which counts the updates handled. The counts go, as a line of
JSON (`{"updates": ..., "transactions": ..., "statements": ...}`), to the file named by
`BENCH_COUNTS`: appended at each SIGUSR1 (the caller's snapshots around its measured window) and
at exit. The listeners cost CPU: a counted run is never the timed one.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import runpy
import signal
import sys
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.telegram.service import TelegramService

COUNTS = "BENCH_COUNTS"  # the environment variable naming the counts file
counts: Counter[str] = Counter({"updates": 0, "transactions": 0, "statements": 0})


@event.listens_for(Engine, "begin")
def _began(_connection: object) -> None:
    counts["transactions"] += 1


@event.listens_for(Engine, "before_cursor_execute")
def _executing(*_args: object) -> None:
    counts["statements"] += 1


def counted(handle: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., Coroutine[Any, Any, None]]:
    @functools.wraps(handle)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        counts["updates"] += 1
        await handle(*args, **kwargs)

    return wrapper


def write(path: Path) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(dict(counts)) + "\n")


def main() -> None:
    path = Path(os.environ[COUNTS])
    TelegramService.handle = counted(TelegramService.handle)  # type: ignore[method-assign]
    atexit.register(write, path)

    def snapshot(_signal: int, _frame: FrameType | None) -> None:
        write(path)

    signal.signal(signal.SIGUSR1, snapshot)
    sys.argv = ["bot", *sys.argv[1:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
