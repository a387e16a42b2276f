"""`python -m bot offers import|list`, run in-process on a temporary configuration and database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import load_config
from bot.offers.cli import import_files, read_offer_file

from ...conftest import BACKENDS
from ...support.cli import Command
from .conftest import EDITION_2027, QUEBEC, edition_text

SHIPPED = Path(__file__).resolve().parents[3] / "rules" / "offers" / f"{QUEBEC}.yaml"


@dataclass(frozen=True)
class Offers(Command):
    def listed(self, *args: str) -> dict[str, dict[str, object]]:
        run = self("list", "--json", *args)
        assert run.code == 0, run.err
        return {row["id"]: row for row in json.loads(run.out)["offers"]}


@pytest.fixture
def offers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Offers:
    """A configuration of its own whose SQLite file does not exist yet."""
    config = tmp_path / "config.yaml"
    config.write_text("default_language: fr\ndatabase:\n  sqlite_path: data/bot.sqlite3\n", encoding="utf-8")
    monkeypatch.setenv("STAGEBOT_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return Offers("offers", tmp_path, capsys)


def test_before_any_import_the_shipped_files_are_live(offers: Offers) -> None:
    run = offers("list", "--today", "2021-09-15")
    lines = run.out.splitlines()
    assert run.code == 0 and len(lines) == 2, run
    quebec = next(line for line in lines if line.startswith(QUEBEC))
    assert "v0" in quebec and "shipped file" in quebec and "2021-10-10 America/Toronto" in quebec
    assert "open" in quebec and "Stage à l’Organisation internationale pour les migrations" in quebec
    rabat = next(line for line in lines if line.startswith("iom-internship-rabat"))
    assert "no deadline stated" in rabat
    assert not offers.database.exists()  # listing creates nothing


def test_a_dry_run_prints_each_difference_and_changes_nothing(offers: Offers) -> None:
    run = offers("import", str(EDITION_2027), "--dry-run")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == f"{EDITION_2027.name}: {QUEBEC}: would be version 1, replacing version 0 (shipped file)"
    for change in (
        "  deadline.date: 2021-10-10 -> 2027-01-15",
        "  deadline.time: null -> 23:59:00",
        "  deadline.time_zone: null -> America/Toronto",
        "  dates.start: 2022-03-07 -> 2027-05-03",
        "  dates.end: 2022-09-02 -> 2027-08-27",
        "  stipend.minimum: 13000.00 -> 13500.00",
        '  reminders: null -> {"days_before": [14, 7, 1], "hour": 10}',
    ):
        assert change in lines, run.out
    assert not any("criteria" in line or "title" in line for line in lines)  # only what differs
    assert lines[-1] == "nothing was changed (--dry-run)"
    assert not offers.database.exists()
    assert offers.listed()[QUEBEC]["version"] == 0


def test_each_import_is_a_version_with_who_and_when_and_an_audit_entry(offers: Offers) -> None:
    run = offers("import", str(EDITION_2027), "--by", "Nadia Tremblay")
    assert run.code == 0, run.err
    assert run.out == f"{EDITION_2027.name}: {QUEBEC}: imported as version 1, replacing version 0 (shipped file)\n"
    later = offers.file("later.yaml", edition_text(("date: 2027-01-15", "date: 2027-01-29")))
    dry = offers("import", later, "--dry-run")
    assert "  deadline.date: 2027-01-15 -> 2027-01-29" in dry.out.splitlines(), dry.out
    assert offers("import", later, "--by", "Marc").code == 0
    assert offers.rows("SELECT program_id, version, imported_by FROM offer_editions ORDER BY id") == [
        (QUEBEC, 1, "Nadia Tremblay"),
        (QUEBEC, 2, "Marc"),
    ]
    audit = offers.rows("SELECT action, actor_role, detail FROM audit_log ORDER BY id")
    assert [(a, r, json.loads(str(d))) for a, r, d in audit] == [
        ("offer.import", "organizer", {"program": QUEBEC, "version": 1}),
        ("offer.import", "organizer", {"program": QUEBEC, "version": 2}),
    ]
    live = offers.listed("--today", "2027-01-20")[QUEBEC]
    assert live["version"] == 2 and live["imported_by"] == "Marc" and live["status"] == "open"
    assert live["deadline"] == {
        "date": "2027-01-29",
        "time": "23:59",
        "time_zone": "America/Toronto",
        "zone_stated": True,
    }
    text = offers("list", "--today", "2027-02-01").out
    row = next(line for line in text.splitlines() if line.startswith(QUEBEC))
    assert "v2" in row and "by Marc" in row and "2027-01-29 23:59 America/Toronto" in row and "closed" in row


def test_the_same_content_again_adds_no_version_and_says_so(offers: Offers) -> None:
    assert offers("import", str(EDITION_2027)).code == 0
    counter = offers.rows("SELECT number FROM content_version")
    run = offers("import", str(EDITION_2027))
    assert run.code == 0
    assert run.out.splitlines() == [
        f"{EDITION_2027.name}: {QUEBEC}: identical to the live version 1; no new version",
        "nothing imported: every offer is identical to its live version",
    ]
    # the same data written differently (comments gone, keys reordered) is the same content
    reordered = offers.file("same.yaml", "\n".join(sorted(EDITION_2027.read_text().split("\n\n"), reverse=True)))
    assert "identical to the live version 1" in offers("import", reordered).out
    assert offers.rows("SELECT count(*) FROM offer_editions") == [(1,)]
    assert offers.rows("SELECT number FROM content_version") == counter  # no process reloads for nothing
    # going back to the shipped content is a new version, not a rewrite of history
    back = offers("import", str(SHIPPED), "--dry-run").out.splitlines()[0]
    assert back == f"{SHIPPED.name}: {QUEBEC}: would be version 2, replacing version 1"


def test_the_shipped_file_unchanged_is_no_new_version(offers: Offers) -> None:
    run = offers("import", str(SHIPPED))
    assert f"{QUEBEC}: identical to the live version 0 (shipped file); no new version" in run.out
    assert not offers.rows("SELECT count(*) FROM offer_editions")[0][0]


def test_a_new_offer_is_allowed(offers: Offers) -> None:
    new = offers.file("new.yaml", edition_text(("id: quebec-psoig-2021-023", "id: quebec-psoig-2027-001")))
    assert offers("import", new, "--dry-run").out.splitlines()[0] == (
        "new.yaml: quebec-psoig-2027-001: new offer; would be version 1"
    )
    assert offers("import", new).code == 0
    listed = offers.listed()
    assert list(listed) == ["iom-internship-rabat", QUEBEC, "quebec-psoig-2027-001"]
    assert listed["quebec-psoig-2027-001"]["version"] == 1 and listed[QUEBEC]["version"] == 0


BAD_FILES = [
    (("time_zone: America/Toronto", "time_zone: America/Montreal_Nord"), "deadline.time_zone: unknown time zone"),
    (('time: "23:59"', "time: 23:59"), 'deadline.time: expected a local time in quotes, e.g. "23:59"'),
    (("days_before: [14, 7, 1]", "days_before: [14, 7, 7]"), "reminders.days_before: each day once; 7 given twice"),
    (("days_before: [14, 7, 1]", "days_before: [14, 7, 0]"), "reminders.days_before.2: "),
    (("days_before: [14, 7, 1]", "days_before: [400]"), "reminders.days_before.0: "),
    (("hour: 10", "hour: 24"), "reminders.hour: "),
    (("  end: 2027-08-27", "  end: 2027-04-30"), "dates: start 2027-05-03 is after end 2027-04-30"),
    (('minimum: "13500.00"', 'minimum: "16000.00"'), "stipend: minimum 16000.00 is above maximum 15500.00"),
    (("  date: 2027-01-15", "  date: 2027-01-32"), "deadline.date: "),
    (("currency: CAD", "currency: CAD\n  bonus: 100"), "stipend.bonus: Extra inputs are not permitted"),
    (("kind: age_range", "kind: age_between"), "criterion age: unknown kind 'age_between'"),
    (("hour: 10", "hour: 10\n  hour: 11"), "not valid YAML: 'hour' given twice"),
    (("  date: 2027-01-15", "  date: [2027-01-15"), "not valid YAML"),
    # what the machine, a POSIX rule or a file of the database calls a zone is not an IANA place
    (("time_zone: America/Toronto", "time_zone: localtime"), "deadline.time_zone: unknown time zone 'localtime'"),
    (("time_zone: America/Toronto", "time_zone: EST5EDT"), "deadline.time_zone: unknown time zone 'EST5EDT'"),
    (("time_zone: America/Toronto", "time_zone: Factory"), "deadline.time_zone: unknown time zone 'Factory'"),
    (("days_before: [14, 7, 1]", "days_before: [true]"), "reminders.days_before.0: "),
    (("hour: 10", 'hour: "10"'), "reminders.hour: "),
    (('minimum: "13500.00"', 'minimum: "-1"'), "stipend.minimum: "),
    (("  fr: OIM Genève", "  fr: " + "OIM " * 30 + "\n    #"), "short_title.fr: "),
]


@pytest.mark.parametrize(("change", "message"), BAD_FILES)
def test_a_wrong_file_exits_2_with_one_line_and_nothing_is_written(
    offers: Offers, change: tuple[str, str], message: str
) -> None:
    bad = offers.file("bad.yaml", edition_text(change))
    for args in (("import", bad), ("import", bad, "--dry-run")):
        run = offers(*args)
        assert run.code == 2 and run.out == ""
        assert run.err.startswith("bad.yaml:") and message in run.err, run.err
        assert run.err.count("\n") == 1  # one line
    assert not offers.database.exists()


def test_one_bad_file_among_two_imports_neither(offers: Offers) -> None:
    assert offers("import", str(SHIPPED)).code == 0  # the database exists, nothing imported yet
    counter = offers.rows("SELECT number FROM content_version")
    rabat = (SHIPPED.parent / "iom-internship-rabat.yaml").read_text(encoding="utf-8")
    good = offers.file("rabat.yaml", rabat.replace("deadline:\n  not_stated: true", DEADLINE))
    bad = offers.file("bad.yaml", edition_text(("hour: 10", "hour: 25")))
    run = offers("import", good, bad)
    assert run.code == 2 and run.err.startswith("bad.yaml: reminders.hour:"), run.err
    assert offers.rows("SELECT count(*) FROM offer_editions") == [(0,)]
    assert offers.rows("SELECT count(*) FROM audit_log") == [(0,)]
    assert offers.rows("SELECT number FROM content_version") == counter
    both = offers("import", good, str(EDITION_2027))
    assert both.code == 0 and both.out.count("imported as version 1") == 2, both.out
    assert offers.listed()["iom-internship-rabat"]["deadline"] == {
        "date": "2027-02-28",
        "time": None,
        "time_zone": "Africa/Casablanca",
        "zone_stated": True,
    }


DEADLINE = 'deadline:\n  date: 2027-02-28\n  time_zone: Africa/Casablanca\n  source: "Date limite : 28 février 2027"'


def test_one_offer_twice_in_one_import_is_refused(offers: Offers) -> None:
    twice = offers.file("twice.yaml", EDITION_2027.read_text(encoding="utf-8"))
    run = offers("import", str(EDITION_2027), twice)
    assert run.code == 2 and run.err == (
        f"twice.yaml: id '{QUEBEC}' is also in {EDITION_2027.name}; one file per offer\n"
    )


def test_the_importer_is_the_os_user_unless_given(offers: Offers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "organizer7")  # getpass reads LOGNAME first
    assert offers("import", str(EDITION_2027)).code == 0
    assert offers.rows("SELECT imported_by FROM offer_editions") == [("organizer7",)]
    assert offers("import", str(EDITION_2027), "--by", "  ").code == 2


def test_the_moment_of_an_import_comes_from_the_clock(offers: Offers) -> None:
    clock = ManualClock(datetime(2026, 11, 2, 15, 4, 5, tzinfo=UTC))
    program = read_offer_file(EDITION_2027)
    lines = import_files(load_config(), [(EDITION_2027, program)], "Nadia", dry_run=False, clock=clock)
    assert lines == [f"{EDITION_2027.name}: {QUEBEC}: imported as version 1, replacing version 0 (shipped file)"]
    assert offers.listed()[QUEBEC]["imported_at"] == "2026-11-02T15:04:05Z"
    row = next(line for line in offers("list").out.splitlines() if line.startswith(QUEBEC))
    assert "2026-11-02T15:04Z by Nadia" in row


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_import_and_list_on_each_database(offers: Offers, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)  # what DATABASE_URL names, PostgreSQL too
    assert offers("import", str(EDITION_2027), "--dry-run").code == 0
    assert offers.listed()[QUEBEC]["version"] == 0
    assert offers("import", str(EDITION_2027), "--by", "Nadia").code == 0
    assert "identical to the live version 1" in offers("import", str(EDITION_2027)).out
    later = offers.file("later.yaml", edition_text(("date: 2027-01-15", "date: 2027-01-29")))
    assert offers("import", later, "--by", "Marc").out.startswith(f"later.yaml: {QUEBEC}: imported as version 2")
    live = offers.listed("--today", "2027-01-20")[QUEBEC]
    assert (live["version"], live["imported_by"], live["status"]) == (2, "Marc", "open")
    assert live["deadline"] == {
        "date": "2027-01-29",
        "time": "23:59",
        "time_zone": "America/Toronto",
        "zone_stated": True,
    }
