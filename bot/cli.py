"""`python -m bot ...`: the command line of docs/contracts.md. Bad input exits 2 with one line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from dialogs.questions import implausible
from rules import N_, FactError, Message, RulesError, evaluate, load_programs, parse_facts, select_programs

from .clock import SystemClock, local_today
from .config import Config, load_config
from .errors import BotError, ConfigError, InputError
from .i18n import LANGUAGES, render
from .present import result_json

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, naming the argument."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{self.prog}: {message}")


def iso_date(field: str) -> Callable[[str], date]:
    """An argparse type reading `YYYY-MM-DD`; its name (`field`) is what argparse's error names."""

    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None

    parse.__name__ = field
    return parse


def _port(text: str) -> int:
    """A TCP port to listen on, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {port}")
    return port


_port.__name__ = "port"


def refuse_repeated_keys(problem: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A `json.loads` hook refusing a key given twice in an object (`problem` names it as `{key}`)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise InputError(problem.format(key=key))
        return dict(pairs)

    return hook


def today_in(config: Config) -> date:
    """Today's date in the configured time zone (ages and deadlines count in local days)."""
    return local_today(SystemClock(), config.zone)


def _read_answers(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"answers: cannot read {path}: {error.strerror or error}") from None

    try:
        raw = json.loads(
            text, object_pairs_hook=refuse_repeated_keys("answers.{key}: given twice; expected each fact once")
        )
    except json.JSONDecodeError as error:
        raise InputError(f"answers: not valid JSON (line {error.lineno}): {error.msg}") from None
    if not isinstance(raw, dict):
        raise InputError('answers: expected a JSON object of facts, e.g. {"birth_date": "1995-04-01"}')
    return raw


def cmd_eligibility(args: argparse.Namespace, config: Config) -> int:
    raw = _read_answers(args.answers)
    try:
        facts = parse_facts(raw)
    except FactError as error:
        raise InputError(f"answers.{error.field}: {error.expected}") from None
    programs = select_programs(load_programs(config.offers_path()), [args.program] if args.program else None)
    today = args.today or today_in(config)
    for fact, problem in implausible(facts, today).items():  # what the chat would refuse too
        raise InputError(f"answers.{fact}: {render(Message(problem.reason, problem.params), args.lang)}")
    output = {
        "today": today.isoformat(),
        "programs": [result_json(evaluate(facts, p, today), args.lang) for p in programs],
    }
    json.dump(output, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_programs(args: argparse.Namespace, config: Config) -> int:
    today = args.today or today_in(config)
    programs = load_programs(config.offers_path())
    rows: list[dict[str, str]] = []
    for program in programs.values():
        deadline = program.deadline_date
        rows.append(
            {
                "id": program.id,
                "status": "open" if program.offer_open(today) else "closed",
                "deadline": deadline.isoformat() if deadline else "",
                "title": program.title.localized().in_language(args.lang),
            }
        )
    if args.json:
        listed = [{**row, "deadline": row["deadline"] or None} for row in rows]
        json.dump({"today": today.isoformat(), "programs": listed}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        print(f"{row['id']:<{width}}  {row['status']:<6}  {row['deadline'] or '-':<10}  {row['title']}")
    return 0


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from .console import start_console

    return start_console(config, args.lang or config.default_language, args.today, sys.stdin, sys.stdout)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    if config.bot_token is None:
        print(render(N_("console.no_token"), config.default_language), file=sys.stderr)
        args.lang, args.today = None, None
        return cmd_chat(args, config)
    from .telegram.app import run_telegram

    return run_telegram(config)


def cmd_rasa_actions(args: argparse.Namespace, config: Config) -> int:
    try:
        from .rasa.server import main as serve_actions
    except ImportError:  # the optional extra is not installed
        raise ConfigError("the Rasa action server needs rasa-sdk: pip install '.[rasa]'") from None
    return serve_actions(config, args.host, args.port, args.today)


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from .telegram.logs import configure_logging
    from .web.server import serve_alone

    settings: dict[str, Any] = {}
    if args.port is not None:
        settings["port"] = args.port
    if args.host is not None:
        settings["listen"] = args.host
    if settings:
        config = config.model_copy(update={"web": config.web.model_copy(update=settings)})
    configure_logging(config.bot_token.get_secret_value() if config.bot_token else None)
    asyncio.run(serve_alone(config))
    return 0


def cmd_db(args: argparse.Namespace, config: Config) -> int:
    from .storage import migrate

    url = config.sqlalchemy_url()
    if args.action == "upgrade":
        migrate.upgrade(url)
    else:
        migrate.current(url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bot", description="Internship eligibility bot")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    eligibility = commands.add_parser("eligibility", help="evaluate answers against the offers (JSON)")
    eligibility.add_argument("--answers", type=Path, required=True, metavar="FILE.json")
    eligibility.add_argument("--program", metavar="ID")
    eligibility.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD")
    eligibility.add_argument("--lang", choices=LANGUAGES, default="fr")
    eligibility.set_defaults(handler=cmd_eligibility)

    programs = commands.add_parser("programs", help="list the offers, open or closed on a date")
    programs.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD")
    programs.add_argument("--lang", choices=LANGUAGES, default="fr")
    programs.add_argument("--json", action="store_true", help="print JSON")
    programs.set_defaults(handler=cmd_programs)

    chat = commands.add_parser("chat", help="the dialog on this terminal (reads piped input too)")
    chat.add_argument("--lang", choices=LANGUAGES)
    chat.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD")
    chat.set_defaults(handler=cmd_chat)

    run = commands.add_parser("run", help="the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the console chat")
    run.set_defaults(handler=cmd_run)

    rasa = commands.add_parser("rasa-actions", help="the Rasa action server (rasa-sdk): the same rules and FAQ")
    rasa.add_argument("--port", type=_port, default=5055, help="default 5055, as in Rasa's endpoints.yml")
    rasa.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1; 0.0.0.0 in a container")
    rasa.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD", help="judge as on that day")
    rasa.set_defaults(handler=cmd_rasa_actions)

    site = commands.add_parser("web", help="the staff website alone (it also runs in the bot when web.enabled)")
    site.add_argument("--port", type=_port, help="default web.port of config.yaml (8080)")
    site.add_argument("--host", help="default web.listen of config.yaml (127.0.0.1)")
    site.set_defaults(handler=cmd_web)

    db = commands.add_parser("db", help="database migrations (the bot also upgrades on start)")
    db.add_argument("action", choices=("upgrade", "current"))
    db.set_defaults(handler=cmd_db)

    from .broadcasts.cli import add_commands as add_broadcast_commands
    from .faq.cli import add_commands as add_faq_commands  # here: it imports this module's helpers
    from .offers.cli import add_commands as add_offers_commands

    add_faq_commands(commands, _Parser)
    add_broadcast_commands(commands, _Parser)
    add_offers_commands(commands, _Parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        config = load_config()
        handler: Callable[[argparse.Namespace, Config], int] = args.handler
        return handler(args, config)
    except (BotError, RulesError) as error:
        print(str(error).splitlines()[0] if str(error) else type(error).__name__, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
