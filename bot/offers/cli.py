"""`python -m bot offers import|list`: organizers publish a new edition of an offer, no developer.

An offer file has exactly the schema of `rules/offers/*.yaml`. Every file is validated before the
database is opened; the import is one transaction (all or nothing). Each offer whose content
differs from its live version gets a new version, with who imported it and when; the same content
again adds nothing. Every running process takes the new version at its next message.
Bad input exits 2 with one line naming the file and the key (`bot.cli.main`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rules import Program, load_programs
from rules.model import NotStated, parse_program

from ..cli import iso_date, today_in
from ..clock import Clock, SystemClock
from ..config import Config, yaml_problem
from ..errors import InputError
from ..faq.cli import database, run_async  # one home for "the configured database, migrated" in commands
from ..i18n import LANGUAGES

if TYPE_CHECKING:  # imported by the command that needs it: `python -m bot` builds this parser
    from .store import Edition, Imported

MAX_BY = 120  # the column's width


def add_commands(commands: argparse._SubParsersAction[Any], parser_class: type[argparse.ArgumentParser]) -> None:
    """`offers import|list` under the top-level subcommands of `bot.cli.build_parser`."""
    offers = commands.add_parser("offers", help="editions of the offers: import a new one, list the live ones")
    actions = offers.add_subparsers(dest="offers_command", required=True, parser_class=parser_class)

    load = actions.add_parser("import", help="publish offer files (the schema of rules/offers), all or nothing")
    load.add_argument("files", nargs="+", metavar="FILE.yaml")
    load.add_argument(
        "--dry-run", action="store_true", help="print the differences with the live version, change nothing"
    )
    load.add_argument("--by", metavar="NAME", help="who imports (default: the user running the command)")
    load.set_defaults(handler=cmd_import)

    listing = actions.add_parser("list", help="the live version of each offer")
    listing.add_argument("--today", type=iso_date("today"), metavar="YYYY-MM-DD", help="open or closed on this day")
    listing.add_argument("--lang", choices=LANGUAGES, default="fr", help="the language of the titles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)


# --- import ------------------------------------------------------------------------------------


def _offer_loader() -> type[Any]:
    """YAML refusing a key given twice, with dates left as text for the schema to read: an
    impossible date (2027-02-30) is then refused naming its key, not by the YAML reader."""
    import yaml

    from ..faq.exchange import UniqueKeyLoader  # one home for the duplicate-key check

    class OfferLoader(UniqueKeyLoader):
        pass

    def as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    OfferLoader.add_constructor("tag:yaml.org,2002:timestamp", as_text)
    return OfferLoader


def read_offer_file(path: Path) -> Program:
    """One offer file, validated like the shipped ones (its name need not be the offer's id)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    except OSError as error:
        raise InputError(f"{path.name}: cannot read: {error.strerror or error}") from None
    try:
        raw = yaml.load(text, Loader=_offer_loader())  # noqa: S506 (a SafeLoader)
    except (yaml.YAMLError, RecursionError) as error:
        raise InputError(yaml_problem(path.name, error)) from None
    if not isinstance(raw, dict):
        raise InputError(f"{path.name}: expected an offer (id: ..., title: ..., deadline: ...), as in rules/offers")
    try:
        return parse_program(raw, path.name)
    except RecursionError:  # a value nested too deeply for the schema's checks
        raise InputError(f"{path.name}: a value is nested too deeply") from None


def importer(by: str | None) -> str:
    """`--by`, else the operating system's user name."""
    if by is None:
        try:
            by = getpass.getuser()
        except (OSError, KeyError):  # no user name in the environment nor the password database
            raise InputError("--by: no user name found; give --by NAME") from None
    name = by.strip()
    if not name or len(name) > MAX_BY or not name.isprintable():
        raise InputError(f"--by: expected a name of 1 to {MAX_BY} printable characters")
    return name


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    files = [Path(name) for name in args.files]
    programs = [read_offer_file(path) for path in files]  # every file checked before the database is opened
    named: dict[str, str] = {}
    for path, program in zip(files, programs, strict=True):
        if program.id in named:
            raise InputError(f"{path.name}: id {program.id!r} is also in {named[program.id]}; one file per offer")
        named[program.id] = path.name
    by = importer(args.by)
    for line in import_files(config, list(zip(files, programs, strict=True)), by, dry_run=args.dry_run):
        print(line)
    return 0


def import_files(
    config: Config, files: Sequence[tuple[Path, Program]], by: str, *, dry_run: bool, clock: Clock | None = None
) -> list[str]:
    """Import validated offers (or, in a dry run, say what would change); the report's lines."""
    shipped = load_programs(config.offers_path())
    at = (clock or SystemClock()).now()
    results = run_async(_import(config, [p for _, p in files], shipped, by, at, dry_run=dry_run))
    lines: list[str] = []
    for (path, _), result in zip(files, results, strict=True):
        lines.extend(_report(path.name, result, dry_run=dry_run))
    if dry_run:
        lines.append("nothing was changed (--dry-run)")
    elif not any(result.added for result in results):
        lines.append("nothing imported: every offer is identical to its live version")
    return lines


async def _import(
    config: Config, programs: list[Program], shipped: Mapping[str, Program], by: str, at: Any, *, dry_run: bool
) -> list[Imported]:
    from sqlalchemy.exc import IntegrityError

    from . import store

    async with database(config, create=not dry_run) as sessions:
        if sessions is None:  # no database yet: the shipped files are live
            return store.plan(programs, store.shipped_editions(shipped), {}, by, at)
        async with sessions() as session:
            if dry_run:
                current = await store.live(session, shipped)
                return store.plan(programs, current, await store.highest_versions(session), by, at)
            results = await store.import_editions(session, programs, shipped, by, at)
            if not any(result.added for result in results):
                return results  # rolled back: not even the content counter moves
            try:
                await session.commit()
            except IntegrityError:  # an edition of the same offer committed meanwhile
                raise InputError(
                    "offers: the live editions changed meanwhile; nothing was imported, try again"
                ) from None
            return results


def _version(edition: Edition) -> str:
    return f"version {edition.version}" + (" (shipped file)" if edition.imported_at is None else "")


def _report(source: str, result: Imported, *, dry_run: bool) -> list[str]:
    from .changes import differences
    from .store import content_of

    edition, previous, offer = result.edition, result.previous, result.edition.program.id
    if not result.added:
        return [f"{source}: {offer}: identical to the live {_version(edition)}; no new version"]
    verb = "would be" if dry_run else "imported as"
    if previous is None:
        return [f"{source}: {offer}: new offer; {verb} version {edition.version}"]
    head = f"{source}: {offer}: {verb} version {edition.version}, replacing {_version(previous)}"
    changed = differences(content_of(previous.program), content_of(edition.program))
    return [head, *(f"  {line}" for line in changed)] if dry_run else [head]


# --- list --------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    shipped = load_programs(config.offers_path())
    today = args.today or today_in(config)
    rows = [_row(edition, config, today, args.lang) for edition in run_async(_live(config, shipped)).values()]
    if args.json:
        json.dump({"today": today.isoformat(), "offers": rows}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    table = [
        (
            row["id"],
            f"v{row['version']}",
            "shipped file" if row["imported_at"] is None else f"{row['imported_at'][:16]}Z by {row['imported_by']}",
            _deadline_text(row["deadline"]),
            row["status"],
            row["title"],
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in table) for i in range(5)]
    for cells in table:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)), cells[5]]))
    return 0


async def _live(config: Config, shipped: Mapping[str, Program]) -> dict[str, Edition]:
    from . import store

    async with database(config, create=False) as sessions:
        if sessions is None:
            return store.shipped_editions(shipped)
        async with sessions() as session:
            return await store.live(session, shipped)


def _row(edition: Edition, config: Config, today: date, lang: str) -> dict[str, Any]:
    program = edition.program
    deadline = None
    if not isinstance(program.deadline, NotStated):
        deadline = {
            "date": program.deadline.date.isoformat(),
            "time": None if program.deadline.time is None else program.deadline.time.isoformat("minutes"),
            "time_zone": program.deadline.time_zone or config.timezone,
            "zone_stated": program.deadline.time_zone is not None,
        }
    return {
        "id": program.id,
        "version": edition.version,
        "imported_at": None if edition.imported_at is None else _utc(edition),
        "imported_by": edition.imported_by,
        "deadline": deadline,
        "status": "open" if program.offer_open(today) else "closed",
        "title": program.title.localized().in_language(lang),
    }


def _utc(edition: Edition) -> str:
    from datetime import UTC

    assert edition.imported_at is not None
    moment = edition.imported_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _deadline_text(deadline: dict[str, Any] | None) -> str:
    if deadline is None:
        return "no deadline stated"
    when = deadline["date"] if deadline["time"] is None else f"{deadline['date']} {deadline['time']}"
    zone = deadline["time_zone"] if deadline["zone_stated"] else f"{deadline['time_zone']} (default zone)"
    return f"{when} {zone}"
