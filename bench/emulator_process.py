"""The Bot API emulator in a process of its own, for `bench/broadcast.py` (one CPU core each).

`python -m bench.emulator_process --count N [--first CHAT] [--time-scale S] [--every SECONDS]`
serves a `TelegramEmulator` (Telegram's limits `S` times faster), registers the private chats
FIRST .. FIRST+N-1 and prints `{"base_url": ...}` on stdout. While the copies come in, a person
chats with the bot: `/start` every `--every` seconds, each timed from sending it to the bot's
first message in answer, until 95 % of the chats have their copy (so every sample falls during
the broadcast). Once every chat has one (or after `--timeout`), it prints the report, one JSON
line: copies, distinct chats, first and last copy (transcript seconds), 429 answers, limit
violations, the latencies. It serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tests.bot.delivery.seed import FIRST_CHAT
from tests.e2e.conftest import TOKEN
from tests.telegram_emulator import TelegramEmulator

PERSON = 9_000_001  # the person chatting during the broadcast (outside the audience's chat range)
CHATTING_UNTIL = 0.95  # fraction of the copies delivered after which the person stops asking
LOOK_EVERY = 0.05  # seconds between two reads of the transcript's new entries
NO_REPLY = 60.0  # seconds after which the person gives up waiting for an answer


@dataclass
class Tally:
    """What the transcript says so far, read incrementally (it only grows)."""

    first_chat: int
    count: int
    read: int = 0
    copies: int = 0
    chats: set[int] = field(default_factory=set)
    first: float | None = None
    last: float | None = None
    too_many_requests: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set at the first copy

    def update(self, emulator: TelegramEmulator) -> None:
        entries = emulator.transcript_log.entries
        for entry in entries[self.read :]:
            if entry.kind != "call" or entry.method != "sendMessage":
                continue
            if entry.status == 429:
                self.too_many_requests += 1
            chat = entry.chat_id
            if entry.status == 200 and chat is not None and self.first_chat <= chat < self.first_chat + self.count:
                self.copies += 1
                self.chats.add(chat)
                self.first = entry.at if self.first is None else self.first
                self.started.set()
                self.last = entry.at
        self.read = len(entries)


async def chat_during(emulator: TelegramEmulator, tally: Tally, every: float, latencies: list[float]) -> None:
    """Seconds from each `/start` to the bot's first message in answer, while the copies go out."""
    person = emulator.user(PERSON, "Amina", language_code="fr")
    await tally.started.wait()
    while len(tally.chats) < CHATTING_UNTIL * tally.count:
        asked = time.perf_counter()
        await person.send("/start")
        try:
            await person.next_reply(timeout=NO_REPLY)
        finally:
            latencies.append(time.perf_counter() - asked)  # a reply that never came counts as NO_REPLY
        await asyncio.sleep(every)
        await person.replies_until_idle(idle=0, timeout=NO_REPLY)  # the rest of that answer, if any


async def serve(args: argparse.Namespace) -> None:
    async with TelegramEmulator(TOKEN, time_scale=args.time_scale) as emulator:
        for chat in range(args.first, args.first + args.count):
            emulator.state.private_chat({"id": chat, "is_bot": False, "first_name": "Subscriber"})
        print(json.dumps({"base_url": emulator.base_url}), flush=True)
        tally = Tally(args.first, args.count)
        latencies: list[float] = []
        chatting = asyncio.create_task(chat_during(emulator, tally, args.every, latencies))
        deadline = time.monotonic() + args.timeout
        while len(tally.chats) < args.count and time.monotonic() < deadline:
            await asyncio.sleep(LOOK_EVERY)
            tally.update(emulator)
        if not chatting.done():
            chatting.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await chatting
        tally.update(emulator)
        report: dict[str, Any] = {
            "copies": tally.copies,
            "chats": len(tally.chats),
            "first": tally.first,
            "last": tally.last,
            "too_many_requests": tally.too_many_requests,
            "violations": len(emulator.rate_limit_violations),
            "latencies": latencies,
        }
        print(json.dumps(report), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the caller is done


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_process", description=__doc__)
    parser.add_argument("--count", type=int, required=True, help="chats in the audience")
    parser.add_argument("--first", type=int, default=FIRST_CHAT, help="the audience's first chat id")
    parser.add_argument("--time-scale", type=float, default=4.0, help="Telegram's clocks this many times faster")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between the person's messages")
    parser.add_argument("--timeout", type=float, default=600.0, help="report after this many seconds at most")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
