"""Crash points for the crash tests: inert unless `STAGEBOT_CRASH_AT` names one.

`STAGEBOT_CRASH_AT=outbox.sent` kills the process with SIGKILL (no cleanup, as a power cut or
an OOM kill) the first time it passes that point; `outbox.sent#3` the third time. The tests use
it to kill the bot exactly between two steps and check what survives.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

POINTS = frozenset({"inbox.stored", "turn.committed", "outbox.sent"})
_passed: Counter[str] = Counter()


def crash_point(name: str) -> None:
    wanted = os.environ.get("STAGEBOT_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _passed[name] += 1
    if _passed[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
