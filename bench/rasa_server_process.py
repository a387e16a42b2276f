"""The Rasa action server in a process of its own, for `bench/rasa.py` (the load generator gets the other core).

`python -m bench.rasa_server_process [--profile PATH]` serves our actions and a trivial reference
action (`action_trivial`: one fixed sentence, no events) on the same rasa-sdk app, in one event
loop as `python -m bot rasa-actions` does, the shipped offers judged as on 2021-09-15 (no
database). It prints `{"port": ...}` on stdout once listening and serves until its
stdin closes; with `--profile`, cProfile's statistics of the whole run are written to PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import socket
import sys
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.rasa.context import ActionContext
from bot.rasa.server import serve_actions
from rules import load_programs

TODAY = date(2021, 9, 15)  # both shipped offers are open


class TrivialAction(Action):  # type: ignore[misc]  # rasa-sdk is untyped
    """What rasa-sdk costs by itself: the lightest action a server can have."""

    def name(self) -> str:
        return "action_trivial"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        dispatcher.utter_message(text="Bonjour !")
        return []


def free_port() -> int:
    """A port free now: Sanic's `create_server` reads port 0 as its default 8000, not as "any"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve() -> None:
    context = ActionContext.create(load_programs(), pinned_today=TODAY)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    def ready(port: int) -> None:
        print(json.dumps({"port": port}), flush=True)

    server = asyncio.create_task(serve_actions(context, "127.0.0.1", free_port(), stop, ready, extra=[TrivialAction()]))
    closed = asyncio.create_task(stdin.read())  # until the caller is done: no thread left blocked on a failure
    await asyncio.wait([server, closed], return_when=asyncio.FIRST_COMPLETED)
    closed.cancel()
    stop.set()
    await server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rasa_server_process", description=__doc__)
    parser.add_argument("--profile", metavar="PATH", help="write cProfile's statistics of the run there")
    args = parser.parse_args()
    if args.profile is None:
        asyncio.run(serve())
        return
    with cProfile.Profile() as profile:
        asyncio.run(serve())
    profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
