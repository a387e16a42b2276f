"""The Bot API emulator and N simulated people in a process of their own, for `bench/dialog.py`.

`python -m bench.dialog_load --people N --warmup S --duration S [--script dialog|echo] [--rate R]`
serves a `TelegramEmulator` without flood limits and prints `{"base_url": ...}` on stdout; once a
line comes on stdin, N people talk to the bot, closed loop: each sends her next step once the bot's
answer to the previous one has arrived. When one finishes her dialog, a new person (a new chat)
takes her place. With `--rate R`, open loop instead: the N are a pool, and steps go out at R a
second, evenly spaced, whatever the bot's replies: each turn goes to the person who has waited
longest with her next step ready (no one ever has two steps in flight); a turn that finds no one
ready (all N waiting for an answer) is missed and counted. After `--warmup` seconds it prints
`{"measuring": true}`, after `--duration` more `{"measured": true}` (the caller reads the bot's CPU
at both lines); then no new step is sent, the answers still awaited are waited for, and it prints
the report, one JSON line. It serves until its stdin closes.

`dialog` (the default): the eligibility dialog for the Rabat offer, answered by reading what is
asked, i.e. the step named by the latest inline keyboard's callback data (`<step>:<value>`):
/start, the offer, the privacy notice accepted, the birth date typed, the education by button, the
years of experience typed, the interest in IOM by button; a keyboard of `done:` buttons ends it.
`echo`: the same seven steps typed as text, each answered by one message (the echo bot).

Each step is timed from its update's creation to the bot's first new message in that chat (the
emulator's clock on both ends); a step counts in the throughput when that message came within the
measured window, and in the latencies when it was sent within it (as `NO_REPLY` seconds when no
reply came by then: the person gives up and a new one takes her place). The report also counts the
steps sent within the window and, open loop, the turns missed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tests.e2e.conftest import TOKEN
from tests.telegram_emulator import TelegramEmulator
from tests.telegram_emulator.models import BotReply
from tests.telegram_emulator.user import SimulatedUser

FIRST_PERSON = 20_000_001  # chat ids of the people, one new id per dialog
NO_REPLY = 60.0  # seconds after which a person gives up waiting and a new one takes her place
BIRTH_DATE = "15/03/2000"  # day over 12: never ambiguous (no "did you mean" question)
EXPERIENCE = {"fr": "1,5", "en": "1.5"}
PRESSES = {  # the step named by a keyboard -> the button pressed
    "programs": "programs:iom-internship-rabat",
    "consent": "consent:yes",
    "education": "education:bachelor_final_year",
    "iom_interest": "iom_interest:yes",
}
TYPED = {"birth_date": {"fr": BIRTH_DATE, "en": BIRTH_DATE}, "relevant_experience_years": EXPERIENCE}
ECHO_SCRIPT = ("/start", "IOM Rabat", "yes", BIRTH_DATE, "bachelor final year", "1.5", "yes")
FINISHED = "done"  # a keyboard with this step: the verdict has been given


@dataclass
class Load:
    emulator: TelegramEmulator
    script: str
    start: float = float("inf")  # the measured window, on the emulator's clock
    end: float = float("inf")
    stopping: bool = False
    rate: float = 0.0  # steps a second, open loop; 0: closed loop
    ready: collections.deque[asyncio.Future[bool]] = field(default_factory=collections.deque)  # open loop: in turn
    sent: int = 0  # steps sent within the window
    missed: int = 0  # open loop: turns within the window that found no one ready
    people: itertools.count[int] = field(default_factory=itertools.count)  # how many have started
    answered: int = 0  # steps whose first reply came within the window
    latencies: list[float] = field(default_factory=list)  # steps sent within the window
    dialogs: int = 0  # dialogs finished within the window
    unanswered: int = 0  # steps without a reply within NO_REPLY
    lost: list[str] = field(default_factory=list)  # steps not understood: what was asked instead

    def now(self) -> float:
        return self.emulator.clock.real()

    def within(self, moment: float) -> bool:
        return self.start <= moment < self.end

    async def turn(self) -> bool:
        """Closed loop: at once. Open loop: once the schedule gives this person a turn (False: stopping)."""
        if not self.rate:
            return not self.stopping
        turn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.ready.append(turn)
        return await turn

    async def schedule(self) -> None:
        """Open loop: a turn every 1/rate seconds, on a fixed schedule (late turns are caught up at once)."""
        loop = asyncio.get_running_loop()
        first, number = loop.time(), 0
        while not self.stopping:
            number += 1
            await asyncio.sleep(max(0.0, first + number / self.rate - loop.time()))
            while self.ready and self.ready[0].done():
                self.ready.popleft()  # a person cancelled while waiting
            if self.ready:
                self.ready.popleft().set_result(True)
            elif self.within(self.now()):
                self.missed += 1

    def stop(self) -> None:
        """No new step; the people waiting for a turn give up."""
        self.stopping = True
        while self.ready:
            turn = self.ready.popleft()
            if not turn.done():
                turn.set_result(False)


async def step(load: Load, person: SimulatedUser, action: Callable[[], Awaitable[object]]) -> BotReply | None:
    """One update (once the person has a turn) and the bot's first message in answer (None when none
    came, or when no turn came), timed."""
    if not await load.turn():
        return None
    sent = load.now()
    if load.within(sent):
        load.sent += 1
    await action()  # the update is created here
    try:
        reply = await person.next_reply(timeout=NO_REPLY)
    except AssertionError:
        load.unanswered += 1
        if load.within(sent):
            load.latencies.append(NO_REPLY)  # a reply that never came counts as NO_REPLY
        return None
    if load.within(reply.at):
        load.answered += 1
    if load.within(sent):
        load.latencies.append(round(reply.at - sent, 5))
    return reply


def asked(reply: BotReply) -> str | None:
    """The step a message's inline keyboard asks for (the callback data's prefix), if it has one."""
    rows = (reply.reply_markup or {}).get("inline_keyboard") or []
    steps = [str(button.get("callback_data", "")).split(":", 1)[0] for row in rows for button in row]
    if not steps:
        return None
    return FINISHED if FINISHED in steps else steps[0]


async def question(person: SimulatedUser, reply: BotReply) -> str | None:
    """The rest of the bot's answer, up to its message with a keyboard: the step it asks for."""
    while (step_name := asked(reply)) is None:
        try:
            reply = await person.next_reply(timeout=NO_REPLY)
        except AssertionError:
            return None
    return step_name


async def dialog(load: Load, person: SimulatedUser, lang: str) -> None:
    reply = await step(load, person, partial(person.send, "/start"))
    while reply is not None and not load.stopping:
        wanted = await question(person, reply)
        if wanted == FINISHED:
            if load.within(load.now()):
                load.dialogs += 1
            return
        if wanted in PRESSES:
            reply = await step(load, person, partial(person.press, f"data:{PRESSES[wanted]}"))
        elif wanted in TYPED:
            reply = await step(load, person, partial(person.send, TYPED[wanted][lang]))
        else:
            load.lost.append(str(wanted))
            return


async def echo(load: Load, person: SimulatedUser, lang: str) -> None:
    for text in ECHO_SCRIPT:
        if load.stopping or await step(load, person, partial(person.send, text)) is None:
            return
    if load.within(load.now()):
        load.dialogs += 1


async def someone(load: Load) -> None:
    """One of the N: a person after another, until the load stops."""
    talk = dialog if load.script == "dialog" else echo
    while not load.stopping:
        number = next(load.people)
        chat, lang = FIRST_PERSON + number, "en" if number % 2 else "fr"
        person = load.emulator.user(chat, "Amina" if lang == "fr" else "John", language_code=lang)
        await talk(load, person, lang)


async def readline() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def serve(args: argparse.Namespace) -> None:
    async with TelegramEmulator(TOKEN, rate_limits=False) as emulator:
        say({"base_url": emulator.base_url})
        if not await readline():
            return  # the caller gave up before the start
        load = Load(emulator, args.script, rate=args.rate)
        people = [asyncio.create_task(someone(load)) for _ in range(args.people)]
        schedule = asyncio.create_task(load.schedule()) if args.rate else None
        await asyncio.sleep(args.warmup)
        load.start, cpu = load.now(), time.process_time()
        say({"measuring": True})
        await asyncio.sleep(args.duration)
        load.end, cpu = load.now(), time.process_time() - cpu
        say({"measured": True})
        load.stop()  # no new step; the answers awaited still come (or time out)
        if schedule is not None:
            await schedule
        await asyncio.wait(people, timeout=NO_REPLY + 5)
        for person in people:
            person.cancel()
        seconds = load.end - load.start
        say({
            "seconds": seconds,
            "answered": load.answered,
            "sent": load.sent,
            "missed": load.missed,
            "latencies": load.latencies,
            "dialogs": load.dialogs,
            "unanswered": load.unanswered,
            "lost": load.lost[:10],
            "lost_count": len(load.lost),
            "emulator_cpu": cpu / seconds,
        })  # fmt: skip
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # the bot is stopped mid-request now
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the caller is done


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dialog_load", description=__doc__)
    parser.add_argument("--people", type=int, default=200, help="people talking at once")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the measured window")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--script", choices=("dialog", "echo"), default="dialog", help="what the people say")
    parser.add_argument("--rate", type=float, default=0.0, help="steps a second, open loop (default 0: closed loop)")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
