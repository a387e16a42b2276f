"""A command of the bot started as a process, as an operator starts it, its output in a file."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

LOG_POLL = 0.1  # how often the output is read for "ready" while the process starts (a poll, not a wait)


@contextmanager
def started(command: Sequence[str], log: Path, cwd: Path, env: Mapping[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The process, killed at the end if the test left it running."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def output(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


async def ready(process: subprocess.Popen[bytes], log: Path, line: str, what: str, limit: float = 60) -> None:
    """Until `line` is in the output; fails at once with the output if the process ended first."""
    deadline = time.monotonic() + limit
    while line not in output(log):  # a few kilobytes, read at once
        assert process.poll() is None, output(log)
        assert time.monotonic() < deadline, f"{what} did not start in {limit:.0f} s"
        await asyncio.sleep(LOG_POLL)
