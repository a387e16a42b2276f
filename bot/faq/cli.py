"""`python -m bot faq ask|export|import`: the FAQ from a terminal, on what staff published.

Every command reads the configured database (DATABASE_URL, else the SQLite file of config.yaml),
migrated first as the bot does. When that SQLite file does not exist yet, `ask`, `export` and
`import --dry-run` use the built-in answers and create nothing; `import` creates it.
Bad input exits 2 with one line naming what is wrong (`bot.cli.main`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rules import Program, UnknownProgramError, load_programs, select_programs

from ..cli import iso_date, refuse_repeated_keys, today_in
from ..clock import SystemClock
from ..config import Config
from ..errors import ConfigError, InputError
from ..i18n import LANGUAGES

if TYPE_CHECKING:  # the rest is imported by the command that needs it: `python -m bot` builds this parser
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from . import store
    from .exchange import Changes, TopicFile

T = TypeVar("T")
IMPORT_ROLE = "import"  # the author of what an import publishes (no person: whoever ran the command)
STDIO = "-"
BATCH_KEYS = ("text", "lang", "program")


def add_commands(commands: argparse._SubParsersAction[Any], parser_class: type[argparse.ArgumentParser]) -> None:
    """`faq ask|export|import` under the top-level subcommands of `bot.cli.build_parser`."""
    faq = commands.add_parser("faq", help="questions about the offers; staff answers to and from a YAML file")
    actions = faq.add_subparsers(dest="faq_command", required=True, parser_class=parser_class)

    ask = actions.add_parser("ask", help="answer a question (or a JSON Lines file of them) as JSON")
    ask.add_argument("text", nargs="?", metavar="TEXT", help="the question")
    ask.add_argument("--batch", metavar="FILE.jsonl", help='one {"text", "lang", "program"} a line (- for stdin)')
    ask.add_argument("--lang", choices=LANGUAGES, help="the question's language (default: config default_language)")
    ask.add_argument("--program", metavar="ID", help="the offer the person chose (default: every offer)")
    ask.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD")
    ask.set_defaults(handler=cmd_ask)

    export = actions.add_parser("export", help="write every topic, staff answer and example to a YAML file")
    export.add_argument("file", metavar="FILE.yaml", help="- for stdout")
    export.set_defaults(handler=cmd_export)

    load = actions.add_parser("import", help="publish a YAML file's answers, all or nothing")
    load.add_argument("file", metavar="FILE.yaml", help="- for stdin")
    load.add_argument("--dry-run", action="store_true", help="print the differences, change nothing")
    load.set_defaults(handler=cmd_import)


# --- the database ------------------------------------------------------------------------------


def _no_database_yet(url: str) -> bool:
    """An SQLite file that does not exist: nothing was ever published (and none is created to read)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(str(parsed.database)).exists()


@asynccontextmanager
async def database(config: Config, *, create: bool) -> AsyncIterator[async_sessionmaker[AsyncSession] | None]:
    """Sessions on the configured database, migrated; None when it does not exist and `create` is False."""
    from ..storage.db import sessionmaker
    from ..storage.migrate import open_migrated

    url = config.sqlalchemy_url()
    if not create and _no_database_yet(url):
        yield None
        return
    engine = await open_migrated(url, config.database.busy_timeout_ms)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


async def _live_content(config: Config) -> store.FaqContent:
    from . import store

    async with database(config, create=False) as sessions:
        if sessions is None:
            return store.EMPTY
        async with sessions() as session:
            return await store.load(session)


async def live_offers_and_content(
    config: Config, shipped: dict[str, Program]
) -> tuple[dict[str, Program], store.FaqContent]:
    """The live offers (imported editions over the shipped files) and staff content."""
    from ..offers.catalog import OfferCatalog
    from . import store

    async with database(config, create=False) as sessions:
        if sessions is None:
            return shipped, store.EMPTY
        async with sessions() as session:
            offers = OfferCatalog(shipped)
            await offers.refresh(session)
            return offers.programs, await store.load(session)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """The async part of a command; a database that fails midway is one line too."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(coroutine)
    except SQLAlchemyError as error:
        raise ConfigError(f"database: {type(error).__name__}; check DATABASE_URL and the migrations") from None


# --- ask ---------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from .service import FaqService

    programs, content = run_async(live_offers_and_content(config, load_programs(config.offers_path())))
    lang = args.lang or config.default_language
    if args.program is not None:
        select_programs(programs, [args.program])  # unknown: `program: unknown id ...`
    if args.batch is not None:
        if args.text is not None:
            raise InputError("faq ask: give a question or --batch FILE.jsonl, not both")
        questions = _read_batch(args.batch, lang, args.program, programs)
    elif args.text is None or not args.text.strip():
        raise InputError("text: expected a question, e.g. faq ask \"c'est quoi l'allocation?\"")
    else:
        questions = [(args.text, lang, args.program)]
    service = FaqService.create(programs)
    service.install(content)
    today = args.today or today_in(config)
    for text, question_lang, program in questions:
        answer = service.ask(text, question_lang, program, today)
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    return 0


def _read_text(name: str, where: str) -> str:
    if name == STDIO:
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}: {name} is not UTF-8 text") from None
    except OSError as error:
        raise InputError(f"{where}: cannot read {name}: {error.strerror or error}") from None


def _read_batch(
    name: str, lang: str, program: str | None, programs: Mapping[str, Program]
) -> list[tuple[str, str, str | None]]:
    """Every question of a JSON Lines file, checked before any is answered (blank lines skipped)."""
    questions: list[tuple[str, str, str | None]] = []
    for number, line in enumerate(_read_text(name, "batch").splitlines(), start=1):
        if line.strip():
            questions.append(_batch_line(line, f"batch line {number}", lang, program, programs))
    return questions


def _batch_line(
    line: str, where: str, lang: str, program: str | None, programs: Mapping[str, Program]
) -> tuple[str, str, str | None]:
    try:
        raw = json.loads(line, object_pairs_hook=refuse_repeated_keys(where + ": {key}: given twice"))
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not valid JSON: {error.msg}") from None
    if not isinstance(raw, dict):
        raise InputError(f'{where}: expected a JSON object such as {{"text": "is it remote?", "lang": "en"}}')
    for key in raw:
        if key not in BATCH_KEYS:
            raise InputError(f"{where}: {key}: unknown key; expected {', '.join(BATCH_KEYS)}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: text: expected a question (non-empty text)")
    asked_lang = lang if raw.get("lang") is None else raw["lang"]
    if asked_lang not in LANGUAGES:
        raise InputError(f"{where}: lang: expected fr or en")
    chosen = program if raw.get("program") is None else raw["program"]
    if chosen is not None and not isinstance(chosen, str):
        raise InputError(f"{where}: program: expected an offer id")
    if chosen is not None and chosen not in programs:
        raise InputError(f"{where}: {UnknownProgramError(chosen, list(programs))}")
    return text, asked_lang, chosen


# --- export ------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from .exchange import export

    programs = load_programs(config.offers_path())
    content = run_async(_live_content(config))
    text, skipped = export(content, programs)
    if skipped:  # an offer removed from offers_dir since staff answered for it
        print(f"export: left out answers for offers no longer configured: {', '.join(skipped)}", file=sys.stderr)
    if args.file == STDIO:
        sys.stdout.write(text)
        return 0
    path = Path(args.file)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(f"export: cannot write {path}: {error.strerror or error}") from None
    answers = sum(1 for published in content.answers.values() if published.text_fr is not None)
    print(
        f"{path}: written (staff topics: {len(content.topics)}, answers: {answers}, examples: {len(content.examples)})"
    )
    return 0


# --- import ------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from .exchange import parse

    programs = load_programs(config.offers_path())
    source = "stdin" if args.file == STDIO else Path(args.file).name
    topics = parse(_read_text(args.file, source), source, programs)
    for line in run_async(_import(config, source, topics, programs, dry_run=args.dry_run)):
        print(line)
    return 0


async def _import(
    config: Config, source: str, topics: Sequence[TopicFile], programs: Mapping[str, Program], *, dry_run: bool
) -> list[str]:
    """Compare with the live content and, unless a dry run, publish every change in one transaction."""
    from sqlalchemy.exc import IntegrityError

    from . import store
    from .exchange import changes, describe

    async with database(config, create=not dry_run) as sessions:
        if sessions is None:
            found = changes(source, topics, store.EMPTY)
            return [*describe(found, source, programs), _dry_run_line(source, found)]
        async with sessions() as session:
            if not dry_run:  # other changes wait until this import commits: it compares with what is live
                await store.serialize(session)
            found = changes(source, topics, await store.load(session))
            if dry_run:
                return [*describe(found, source, programs), _dry_run_line(source, found)]  # rolled back on close
            if not found:
                return [f"{source}: nothing to publish; everything in it is live"]
            author, at = store.Author(None, IMPORT_ROLE), SystemClock().now()
            try:
                for topic, titles in found.topics:
                    await store.create_topic(session, topic, titles, author, at)
                for change in found.answers:
                    await store.publish(session, change.topic, change.program_id, change.after, author, at)
                for example in found.examples:
                    await store.add_example(session, example.topic, example.lang, example.text, author, at)
                await session.commit()
            except IntegrityError:  # a topic of the file created meanwhile (from Telegram)
                raise InputError(
                    f"{source}: the live answers changed meanwhile; nothing was published, try again"
                ) from None
            return [f"{source}: published {found.summary()}"]


def _dry_run_line(source: str, found: Changes) -> str:
    if not found:
        return f"{source}: no differences; nothing to publish (--dry-run)"
    return f"{source}: would publish {found.summary()}; nothing was changed (--dry-run)"
