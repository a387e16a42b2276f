"""`python -m bot broadcast send|status|pause|resume|cancel|list`: organizer broadcasts from a
terminal, on the configured database (DATABASE_URL, else the SQLite file of config.yaml).

`send` prints the count and the preview, writes the broadcast and its outbox rows (the running bot
sends them), then follows its progress with a bar read from the database, unless `--detach`.
Bad input exits 2 with one line naming what is wrong (`bot.cli.main`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clock import SystemClock
from ..config import Config
from ..errors import InputError
from ..i18n import LANGUAGES

if TYPE_CHECKING:  # imported by the command that needs it: `python -m bot` builds this parser
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from .audience import Audience
    from .store import Counts

CLI_ROLE = "cli"  # the author of what a command creates or changes (whoever ran it)
POLL_SECONDS = 1.0
QUIET_SECONDS = 30.0  # no row leaving the queue for this long: no sender seems to run
Sleep = Callable[[float], Awaitable[None]]


def add_commands(commands: argparse._SubParsersAction[Any], parser_class: type[argparse.ArgumentParser]) -> None:
    """`broadcast ...` under the top-level subcommands of `bot.cli.build_parser`."""
    broadcast = commands.add_parser("broadcast", help="organizer broadcasts to people who opted in")
    actions = broadcast.add_subparsers(dest="broadcast_command", required=True, parser_class=parser_class)

    send = actions.add_parser("send", help="send a message (fr and en texts of a YAML file) to an audience")
    send.add_argument("--file", required=True, metavar="MSG.yaml", help="fr: and en: texts (Telegram HTML)")
    send.add_argument(
        "--audience",
        required=True,
        metavar="SPEC",
        help="subscribers, subscribers:OFFER, eligible:OFFER, not_eligible:OFFER or incomplete:OFFER",
    )
    send.add_argument("--lang", choices=LANGUAGES, help="only people reading this language (default: both)")
    send.add_argument("--dry-run", action="store_true", help="print the count and the preview; write nothing")
    send.add_argument("--detach", action="store_true", help="do not follow the progress")
    send.set_defaults(handler=cmd_send)

    for name, what in (("status", "counts and failure reasons"), ("pause", "pause"), ("resume", "resume")):
        action = actions.add_parser(name, help=f"{what} of a broadcast")
        action.add_argument("id", type=_broadcast_id, metavar="ID")
        if name == "status":
            action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(handler=cmd_status if name == "status" else cmd_change)
    cancel = actions.add_parser("cancel", help="cancel a broadcast: what is not sent yet never will be")
    cancel.add_argument("id", type=_broadcast_id, metavar="ID")
    cancel.set_defaults(handler=cmd_change)

    listing = actions.add_parser("list", help="the recent broadcasts")
    listing.add_argument("--limit", type=int, default=20, metavar="N")
    listing.set_defaults(handler=cmd_list)


def _broadcast_id(text: str) -> int:
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a broadcast number, got {text!r}")


# --- reading the message file ------------------------------------------------------------------


def read_message(name: str) -> tuple[str, str]:
    """The `fr:` and `en:` texts of a YAML file, each checked as Telegram would."""
    import yaml

    from ..config import yaml_problem
    from ..faq.exchange import UniqueKeyLoader  # a key given twice is refused, as in offer files
    from .store import text_problem

    try:
        raw = yaml.load(Path(name).read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except OSError as error:
        raise InputError(f"file: cannot read {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"file: {name} is not UTF-8 text") from None
    except (yaml.YAMLError, RecursionError) as error:
        raise InputError(f"file: {yaml_problem(name, error)}") from None
    if not isinstance(raw, dict):
        raise InputError(f"file: {name}: expected fr: and en: texts")
    unknown = sorted(str(key) for key in raw if key not in LANGUAGES)
    if unknown:
        raise InputError(f"file: {name}: {unknown[0]}: unknown key; expected fr and en")
    texts: dict[str, str] = {}
    for lang in LANGUAGES:
        text = raw.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"file: {name}: {lang}: expected the {lang} text (both languages are required)")
        problem = text_problem(text.strip())
        if problem is not None:
            from ..i18n import render

            raise InputError(f"file: {name}: {lang}: {render(problem, 'en')}")
        texts[lang] = text.strip()
    return texts["fr"], texts["en"]


# --- the database ------------------------------------------------------------------------------


def _run(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[int]], config: Config) -> int:
    """`work` on the configured database, migrated (`bot.faq.cli.database`, `run_async`)."""
    from ..faq.cli import database, run_async

    async def main() -> int:
        async with database(config, create=True) as sessions:
            assert sessions is not None
            return await work(sessions)

    return run_async(main())


def _audience(args: argparse.Namespace, config: Config) -> Audience:
    """The audience, its offer checked against the live offers (imported editions included)."""
    from rules import load_programs

    from ..faq.cli import live_offers_and_content, run_async
    from .audience import parse

    programs, _ = run_async(live_offers_and_content(config, load_programs(config.offers_path())))
    return parse(args.audience, args.lang, programs=set(programs))


# --- send --------------------------------------------------------------------------------------


def cmd_send(args: argparse.Namespace, config: Config) -> int:
    from ..faq.telegram_html import to_plain
    from .message import broadcast_message

    text_fr, text_en = read_message(args.file)
    audience = _audience(args, config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        from ..faq.store import Author
        from . import store
        from .audience import count

        async with sessions.begin() as session:
            reached = await count(session, audience, config.default_language)
            total = sum(reached.values())
            print(f"audience {audience.describe()}: {total} people (fr {reached['fr']}, en {reached['en']})")
            for lang, text in (("fr", text_fr), ("en", text_en)):
                if reached[lang] or not total:
                    shown = broadcast_message(text, lang)
                    buttons = "  ".join(f"[{button.label}]" for button in shown.buttons)
                    print(f"--- {lang} ---\n{to_plain(shown.text)}\n{buttons}")
            if args.dry_run:
                print("nothing was written (--dry-run)")
                await session.rollback()
                return 0
            if not total:
                print("nobody matches this audience; nothing was written")
                await session.rollback()
                return 0
            broadcast = await store.create(
                session,
                text_fr,
                text_en,
                audience,
                "cli",
                Author(None, CLI_ROLE),
                SystemClock().now(),
                default_language=config.default_language,
            )
            created = broadcast.id
        print(f"broadcast {created}: queued for {broadcast.total} people")
        if args.detach:
            print(f"follow it with: python -m bot broadcast status {created}")
            return 0
        return await follow(sessions, created)

    return _run(work, config)


async def follow(
    sessions: async_sessionmaker[AsyncSession],
    broadcast_id: int,
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Any = None,
    out: Any = None,
) -> int:
    """A progress bar from the database's counts until nothing waits; says so when nothing moves."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    from . import store

    clock = clock or SystemClock()
    out = out or sys.stderr
    bar: Any = None
    last_done, moved_at, warned = -1, clock.now(), False
    while True:
        async with sessions() as session:
            found = await store.status(session, broadcast_id)
        if found is None:
            raise InputError(f"broadcast {broadcast_id}: not found")
        broadcast, counts = found
        if bar is None:
            bar = tqdm(total=counts.total, unit="msg", file=out, desc=f"broadcast {broadcast_id}")
        bar.n = counts.done
        bar.set_postfix(sent=counts.sent, blocked=counts.blocked, failed=counts.failed, refresh=False)
        bar.refresh()
        if counts.done != last_done:
            last_done, moved_at = counts.done, clock.now()
        elif not warned and clock.now() - moved_at >= timedelta(seconds=QUIET_SECONDS) and counts.waiting:
            warned = True
            bar.write("no message left the queue for 30 s: is the bot running (python -m bot run)?", file=out)
        if counts.waiting == 0 or broadcast.status == "paused":
            bar.close()
            print(_summary(broadcast.id, broadcast.status, counts))
            return 0
        await sleep(POLL_SECONDS)


def _summary(broadcast_id: int, status: str, counts: Counts) -> str:
    line = (
        f"broadcast {broadcast_id}: {status}; total {counts.total}, sent {counts.sent}, blocked {counts.blocked}, "
        f"failed {counts.failed}, cancelled {counts.cancelled}, waiting {counts.waiting}"
    )
    reasons = ", ".join(f"{reason} {number}" for reason, number in counts.failures.items())
    return f"{line} (failures: {reasons})" if reasons else line


# --- status, pause, resume, cancel, list -------------------------------------------------------


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        from . import store

        async with sessions() as session:
            found = await store.status(session, args.id)
        if found is None:
            raise InputError(f"broadcast {args.id}: not found")
        broadcast, counts = found
        if args.json:
            shown = {
                "id": broadcast.id,
                "status": broadcast.status,
                "audience": broadcast.audience,
                "origin": broadcast.origin,
                "created_at": broadcast.created_at.isoformat(),
                "finished_at": broadcast.finished_at.isoformat() if broadcast.finished_at else None,
                "scheduled_at": broadcast.scheduled_at.isoformat() if broadcast.scheduled_at else None,
                **counts.to_json(),
            }
            json.dump(shown, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        print(_summary(broadcast.id, broadcast.status, counts))
        if broadcast.status == "scheduled" and broadcast.scheduled_at is not None:
            print(f"its recipients are chosen and queued at {_minute(broadcast.scheduled_at)}")
        return 0

    return _run(work, config)


def cmd_change(args: argparse.Namespace, config: Config) -> int:
    action: str = args.broadcast_command

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        from ..faq.store import Author
        from . import store

        change = {"pause": store.pause, "resume": store.resume, "cancel": store.cancel}[action]
        async with sessions.begin() as session:
            before = await store.get(session, args.id)
            if before is None:
                raise InputError(f"broadcast {args.id}: not found")
            changed = await change(session, args.id, Author(None, CLI_ROLE), SystemClock().now())
            status = before.status  # after the change: a pause of one with nothing left finished it
        if changed is None:
            raise InputError(f"broadcast {args.id}: is {status}; cannot {action} it")
        print(f"broadcast {args.id}: {changed.status}")
        return 0

    return _run(work, config)


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        from . import store
        from .audience import Audience

        async with sessions() as session:
            broadcasts = await store.recent(session, max(1, args.limit))
            rows = [(b, await store.counts(session, b)) for b in broadcasts]
        if not rows:
            print("no broadcasts yet")
        for broadcast, counts in rows:
            when = _minute(broadcast.created_at)
            if broadcast.status == "scheduled" and broadcast.scheduled_at is not None:
                when = f"{when} (starts {_minute(broadcast.scheduled_at)})"
            audience = Audience.from_json(broadcast.audience).describe()
            print(
                f"{broadcast.id:>5}  {broadcast.status:<9}  {when}  {audience}  "
                f"sent {counts.sent}/{counts.total}, blocked {counts.blocked}, failed {counts.failed}"
            )
        return 0

    return _run(work, config)


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
