"""`python -m bot broadcast ...`, run in-process on a temporary configuration and database."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts.cli import follow
from bot.cli import main
from bot.clock import ManualClock
from bot.storage.db import create_engine, sessionmaker
from bot.storage.migrate import upgrade_async
from bot.storage.models import Broadcast, OutboxMessage, Person, Subscription, VerdictRow

from ...conftest import BACKENDS

QC = "quebec-psoig-2021-023"
AT = datetime(2022, 3, 1, 15, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def _seed(url: str) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    async with sessionmaker(engine).begin() as session:
        for external, lang, status, subscribed in (
            (201, "fr", "eligible", True),
            (202, "en", "eligible", True),
            (203, None, "not_eligible", True),
            (204, "fr", "eligible", False),  # never opted in
        ):
            person = Person(
                channel="telegram", external_id=str(external), language=lang, created_at=AT, last_seen_at=AT
            )
            session.add(person)
            await session.flush()
            session.add(VerdictRow(person_id=person.id, program_id=QC, status=status, failing={}, evaluated_at=AT))
            if subscribed:
                session.add(Subscription(person_id=person.id, program_id=QC, topic="deadline", created_at=AT))
    await engine.dispose()


async def _query(url: str, statement: Any) -> object:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine).begin() as session:
            result = await session.execute(statement)
            return result.scalar() if getattr(statement, "is_select", False) else None
    finally:
        await engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str) -> Cli:
    config = tmp_path / "config.yaml"
    config.write_text("default_language: fr\n", encoding="utf-8")
    monkeypatch.setenv("STAGEBOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    asyncio.run(_seed(database_url))
    return Cli(tmp_path, database_url, capsys)


@dataclass(frozen=True)
class Cli:
    home: Path
    url: str
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> Run:
        code = main(["broadcast", *args])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def message(self, text: str) -> str:
        path = self.home / "msg.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def count(self, model: type) -> int:
        found = asyncio.run(_query(self.url, select(func.count()).select_from(model)))
        return int(found) if isinstance(found, int) else 0


GOOD = "fr: |\n  <b>Date limite</b> dans 7 jours.\nen: |\n  <b>Deadline</b> in 7 days.\n"
on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@on_both_databases
def test_dry_run_prints_the_count_and_the_preview_and_writes_nothing(cli: Cli) -> None:
    run = cli("send", "--file", cli.message(GOOD), "--audience", f"eligible:{QC}", "--dry-run")
    assert run.code == 0, run.err
    assert f"audience eligible:{QC}: 2 people (fr 1, en 1)" in run.out
    assert "Date limite dans 7 jours." in run.out and "Deadline in 7 days." in run.out  # as people see it
    assert "[🔕 Ne plus recevoir de messages]" in run.out and "[🔕 Stop these messages]" in run.out  # the stop button
    assert "nothing was written" in run.out
    assert cli.count(Broadcast) == 0 and cli.count(OutboxMessage) == 0


@on_both_databases
def test_send_detached_then_status_pause_resume_cancel(cli: Cli) -> None:
    run = cli("send", "--file", cli.message(GOOD), "--audience", "subscribers", "--detach")
    assert run.code == 0, run.err
    assert "broadcast 1: queued for 3 people" in run.out  # the one who never opted in is not among them
    assert cli.count(OutboxMessage) == 3

    status = cli("status", "1", "--json")
    shown = json.loads(status.out)
    assert (shown["status"], shown["total"], shown["pending"], shown["sent"]) == ("sending", 3, 3, 0)
    assert shown["audience"] == {"kind": "subscribers", "program": None, "lang": None}

    assert cli("pause", "1").out.strip() == "broadcast 1: paused"
    again = cli("pause", "1")
    assert again.code == 2 and again.err.strip() == "broadcast 1: is paused; cannot pause it"
    assert cli("resume", "1").out.strip() == "broadcast 1: sending"
    asyncio.run(_query(cli.url, update(OutboxMessage).where(OutboxMessage.chat_id == 201).values(status="sent")))
    assert cli("cancel", "1").out.strip() == "broadcast 1: cancelled"
    final = json.loads(cli("status", "1", "--json").out)
    assert (final["status"], final["sent"], final["cancelled"], final["pending"]) == ("cancelled", 1, 2, 0)
    listed = cli("list")
    assert "cancelled" in listed.out and "sent 1/3" in listed.out


@on_both_databases
@pytest.mark.parametrize(
    ("args", "text", "expected"),
    [
        (["--audience", "everyone"], GOOD, "audience: unknown kind 'everyone'"),
        (["--audience", "eligible"], GOOD, "audience: eligible needs an offer"),
        (["--audience", "eligible:nowhere"], GOOD, "audience: unknown offer 'nowhere'"),
        (["--audience", "subscribers"], "fr: Bonjour\n", "en: expected the en text (both languages are required)"),
        (["--audience", "subscribers"], "fr: <b>Bonjour\nen: Hello\n", "fr: "),
        (["--audience", "subscribers"], "fr: Bonjour\nen: Hello\nde: Hallo\n", "de: unknown key"),
        (["--audience", "subscribers"], "fr: [unclosed\n", "msg.yaml: line 2: not valid YAML"),
        (
            ["--audience", "subscribers"],
            "fr: Salut\nen: Hello\nfr: Bonjour\n",
            "line 3: not valid YAML: 'fr' given twice",
        ),
        (["--audience", "subscribers"], "fr: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        (
            ["--audience", "subscribers"],
            'fr: "\\u200f \\u200b\\u3164"\nen: Hello\n',
            "fr: The text has no visible character (only spaces or invisible marks).",
        ),
        (["--audience", "subscribers", "--lang", "de"], GOOD, "--lang: invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, args: list[str], text: str, expected: str
) -> None:
    run = cli("send", "--file", cli.message(text), *args)
    assert run.code == 2, run
    assert expected in run.err and len(run.err.strip().splitlines()) == 1, run.err
    assert cli.count(Broadcast) == 0


@on_both_databases
def test_an_offer_that_exists_only_as_an_imported_edition_is_an_audience(cli: Cli) -> None:
    shipped = (Path(__file__).parents[3] / "rules" / "offers" / f"{QC}.yaml").read_text(encoding="utf-8")
    edition = cli.home / "new-offer.yaml"
    edition.write_text(shipped.replace(f"id: {QC}", "id: quebec-2027"), encoding="utf-8")
    assert main(["offers", "import", str(edition), "--by", "Nadia"]) == 0, cli.capsys.readouterr().err
    cli.capsys.readouterr()
    run = cli("send", "--file", cli.message(GOOD), "--audience", "subscribers:quebec-2027", "--dry-run")
    assert run.code == 0, run.err
    assert "audience subscribers:quebec-2027: 0 people" in run.out


@on_both_databases
def test_a_broadcast_sent_from_the_command_line_is_done_once_sent_and_cannot_be_paused(cli: Cli) -> None:
    from bot.broadcasts.progress import ProgressReporter

    assert cli("send", "--file", cli.message(GOOD), "--audience", "subscribers", "--detach").code == 0
    asyncio.run(_query(cli.url, update(OutboxMessage).values(status="sent")))

    async def report_round() -> int:  # the running bot's reporter; this broadcast has no progress chat
        engine = create_engine(cli.url)
        try:
            reporter = ProgressReporter(None, sessionmaker(engine), ManualClock(AT), None, "fr")  # type: ignore[arg-type]
            return await reporter.run_once(AT)
        finally:
            await engine.dispose()

    assert asyncio.run(report_round()) == 0  # nothing to send anyone
    assert json.loads(cli("status", "1", "--json").out)["status"] == "done"
    assert " done " in cli("list").out
    refused = cli("pause", "1")
    assert refused.code == 2 and refused.err.strip() == "broadcast 1: is done; cannot pause it"


@on_both_databases
def test_pausing_a_broadcast_with_nothing_left_to_send_finishes_it(cli: Cli) -> None:
    assert cli("send", "--file", cli.message(GOOD), "--audience", "subscribers", "--detach").code == 0
    asyncio.run(_query(cli.url, update(OutboxMessage).values(status="sent")))
    refused = cli("pause", "1")
    assert refused.code == 2 and refused.err.strip() == "broadcast 1: is done; cannot pause it"
    assert json.loads(cli("status", "1", "--json").out)["status"] == "done"


@on_both_databases
def test_unknown_broadcast_and_bad_id_exit_2(cli: Cli) -> None:
    for args, expected in (
        (["status", "9"], "broadcast 9: not found"),
        (["cancel", "x"], "expected a broadcast number"),
    ):
        run = cli(*args)
        assert run.code == 2 and expected in run.err and len(run.err.strip().splitlines()) == 1, run.err


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_follow_shows_progress_until_done_and_says_when_no_sender_runs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from bot.broadcasts import store
    from bot.broadcasts.audience import Audience, Kind
    from bot.faq.store import Author

    async with sessions.begin() as session:
        for external in (301, 302):
            person = Person(channel="telegram", external_id=str(external), created_at=AT, last_seen_at=AT)
            session.add(person)
            await session.flush()
            session.add(Subscription(person_id=person.id, program_id=QC, topic="deadline", created_at=AT))
        broadcast = await store.create(
            session,
            "Bonjour",
            "Hello",
            Audience(Kind.SUBSCRIBERS),
            "cli",
            Author(None, "cli"),
            AT,
            default_language="fr",
        )
        created = broadcast.id
    clock = ManualClock(AT)
    ticks = 0

    async def sleep(seconds: float) -> None:  # no sender for 40 s, then one message a tick
        nonlocal ticks
        ticks += 1
        clock.advance(seconds if ticks < 40 else 1)
        if ticks >= 40:
            async with sessions.begin() as session:
                row = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "pending").limit(1))
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row).values(status="sent"))

    out = io.StringIO()
    assert await follow(sessions, created, sleep=sleep, clock=clock, out=out) == 0
    shown = out.getvalue()
    assert shown.count("is the bot running") == 1, shown
    assert "2/2" in shown  # the bar reached the end
