"""`python -m bot faq ask|export|import`, run in-process on a temporary configuration and database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.faq.answers import BUILTIN_TOPICS

from ...conftest import BACKENDS
from ...support.cli import Command, Run

QUEBEC = "quebec-psoig-2021-023"
TODAY = ("--today", "2021-09-15")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration of its own (French by default) whose SQLite file does not exist yet."""
    config = tmp_path / "config.yaml"
    config.write_text("default_language: fr\ndatabase:\n  sqlite_path: data/bot.sqlite3\n", encoding="utf-8")
    monkeypatch.setenv("STAGEBOT_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def faq(home: Path, capsys: pytest.CaptureFixture[str]) -> FaqCommand:
    return FaqCommand("faq", home, capsys)


@dataclass(frozen=True)
class FaqCommand(Command):
    def revisions(self) -> int:
        return int(str(self.rows("SELECT count(*) FROM faq_revisions")[0][0]))


def plain_spaces(text: str) -> str:
    """Babel's no-break and narrow no-break spaces as plain ones (CLDR releases move them)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def assert_refused(run: Run, *expected: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr holding each expected part, no traceback."""
    assert run.code == 2, run
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    for part in expected:
        assert part in lines[0], lines[0]


# --- ask ---------------------------------------------------------------------------------------


def test_an_sms_style_question_gets_the_offers_stipend_in_french(faq: FaqCommand) -> None:
    run = faq("ask", "c koi l allocation", "--program", QUEBEC, *TODAY)
    assert run.code == 0, run.err
    [answer] = run.json_lines()
    assert set(answer) == {"topic", "score", "answer", "alternatives"}
    assert answer["topic"] == "stipend"
    assert isinstance(answer["score"], float) and 0 < answer["score"] <= 1
    assert "13 000,00 $ CA" in plain_spaces(str(answer["answer"]))
    assert "<b>" not in str(answer["answer"])  # plain text, not Telegram HTML
    assert not faq.database.exists()  # nothing published yet: the built-in answers, and no file created


def test_a_question_in_english_is_answered_in_english(faq: FaqCommand) -> None:
    [answer] = faq("ask", "how much is the stipend?", "--lang", "en", "--program", QUEBEC, *TODAY).json_lines()
    assert answer["topic"] == "stipend"
    assert "13,000" in str(answer["answer"]) and "Stipend" in str(answer["answer"])


def test_an_out_of_scope_question_gets_no_topic(faq: FaqCommand) -> None:
    [answer] = faq("ask", "quel temps fera-t-il demain à Montréal?", *TODAY).json_lines()
    assert answer["topic"] is None
    assert answer["answer"]  # an honest "I don't know", with where to ask
    assert isinstance(answer["alternatives"], list)


def test_batch_answers_every_line_in_order(faq: FaqCommand) -> None:
    lines = [
        {"text": "c koi l allocation", "program": QUEBEC},
        {"text": "tell me a joke", "lang": "en"},
        {},  # a blank line, skipped
        {"text": "who do i contact?", "lang": "en", "program": QUEBEC},
    ]
    batch = faq.file("questions.jsonl", "\n".join(json.dumps(line) if line else "" for line in lines) + "\n")
    run = faq("ask", "--batch", batch, *TODAY)
    assert run.code == 0, run.err
    answers = run.json_lines()
    assert [a["topic"] for a in answers] == ["stipend", None, "contact"]
    assert "13 000,00 $ CA" in plain_spaces(str(answers[0]["answer"]))  # French: the config's default language


@pytest.mark.parametrize(
    ("third_line", "expected"),
    [
        ('{"text": "is it remote?", "lang": "de"}', "batch line 3: lang: expected fr or en"),
        ('{"text": ""}', "batch line 3: text: "),
        ('{"lang": "en"}', "batch line 3: text: "),
        ('{"text": "hi", "colour": "blue"}', "batch line 3: colour: unknown key"),
        ('{"text": "hi", "program": "nasa-2030"}', "batch line 3: program: unknown id 'nasa-2030'"),
        ('{"text": "hi", "text": "ho"}', "batch line 3: text: given twice"),
        ('["is it remote?"]', "batch line 3: expected a JSON object"),
        ("{text: hi}", "batch line 3: not valid JSON"),
    ],
)
def test_a_bad_batch_line_is_named_and_nothing_is_answered(faq: FaqCommand, third_line: str, expected: str) -> None:
    batch = faq.file("questions.jsonl", f'{{"text": "c koi l allocation"}}\n{{"text": "hi"}}\n{third_line}\n')
    run = faq("ask", "--batch", batch, *TODAY)
    assert_refused(run, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ask", "is it remote?", "--program", "nasa-2030"], "nasa-2030"),
        (["ask", "   "], "text: "),
        (["ask"], "text: "),
        (["ask", "is it remote?", "--lang", "de"], "--lang"),
        (["ask", "is it remote?", "--today", "2021-02-30"], "--today"),
        (["ask", "--batch", "missing.jsonl"], "batch: cannot read missing.jsonl"),
        (["ask", "is it remote?", "--batch", "questions.jsonl"], "not both"),
    ],
)
def test_bad_ask_input_exits_2_with_one_line(faq: FaqCommand, args: list[str], expected: str) -> None:
    assert_refused(faq(*args), expected)


# --- import and export -------------------------------------------------------------------------

STAFF_FILE = f"""\
topics:
  stipend:
    answers:
      {QUEBEC}:
        fr: |-
          L’allocation est de {{stipend}}.
          <i>Texte du personnel.</i>
        en: |-
          The stipend is {{stipend}}.
          <i>Staff text.</i>
    examples:
      fr: [c combien la paye]
  housing:
    title: {{fr: Logement, en: Housing}}
    answers:
      all offers:
        fr: Aucun logement n’est fourni.
        en: No housing is provided.
    examples:
      en:
      - is housing provided for interns?
"""


def test_an_imported_answer_is_live_for_ask(faq: FaqCommand) -> None:
    run = faq("import", faq.file("faq.yaml", STAFF_FILE))
    assert run.code == 0, run.err
    assert run.out == "faq.yaml: published 1 new topic, 2 answers, 2 new examples\n"
    assert faq.revisions() == 2
    roles = {row[0] for row in faq.rows("SELECT author_role FROM faq_revisions")}
    assert roles == {"import"} and faq.rows("SELECT author_id FROM faq_revisions WHERE author_id IS NOT NULL") == []
    audited = sorted(str(row[0]) for row in faq.rows("SELECT action FROM audit_log WHERE actor_role = 'import'"))
    assert audited == ["faq.example", "faq.example", "faq.publish", "faq.publish", "faq.topic"]

    [fr] = faq("ask", "c koi l allocation", "--program", QUEBEC, *TODAY).json_lines()
    assert fr["topic"] == "stipend"
    assert "L’allocation est de 13 000,00 $ CA à 15 000,00 $ CA." in plain_spaces(str(fr["answer"]))
    assert "Texte du personnel." in str(fr["answer"])
    [en] = faq("ask", "is housing provided for interns?", "--lang", "en", *TODAY).json_lines()
    assert en["topic"] == "housing" and "No housing is provided." in str(en["answer"])

    again = faq("import", faq.file("faq.yaml", STAFF_FILE))  # the same file: nothing new
    assert again.code == 0 and "nothing to publish" in again.out
    assert faq.revisions() == 2


def test_export_then_import_publishes_nothing(faq: FaqCommand) -> None:
    assert faq("import", faq.file("faq.yaml", STAFF_FILE)).code == 0
    exported = faq("export", "-")
    assert exported.code == 0, exported.err
    assert exported.out.startswith("# FAQ answers")
    data = yaml.safe_load(exported.out)
    assert list(data["topics"]) == [*BUILTIN_TOPICS, "housing"]
    assert data["topics"]["housing"]["title"] == {"fr": "Logement", "en": "Housing"}
    assert (
        data["topics"]["stipend"]["answers"][QUEBEC]["fr"]
        == "L’allocation est de {stipend}.\n<i>Texte du personnel.</i>"
    )
    assert data["topics"]["stipend"]["examples"] == {"fr": ["c combien la paye"]}
    assert data["topics"]["dates"] == {}  # the built-in answers are live: nothing written
    assert "{stipend_min}" in exported.out  # the placeholders are explained in the header

    path = faq.home / "exported.yaml"
    assert faq("export", str(path)).code == 0
    assert path.read_text(encoding="utf-8") == exported.out
    revisions = faq.revisions()
    again = faq("import", str(path))
    assert again.code == 0, again.err
    assert again.out == "exported.yaml: nothing to publish; everything in it is live\n"
    assert faq.revisions() == revisions
    assert faq.rows("SELECT count(*) FROM faq_examples") == [(2,)]


def test_export_without_a_database_writes_the_topics_and_creates_nothing(faq: FaqCommand) -> None:
    run = faq("export", "-")
    assert run.code == 0, run.err
    assert list(yaml.safe_load(run.out)["topics"]) == list(BUILTIN_TOPICS)
    assert not faq.database.exists()


def test_dry_run_prints_the_differences_and_changes_nothing(faq: FaqCommand) -> None:
    assert faq("import", faq.file("faq.yaml", STAFF_FILE)).code == 0
    changed = STAFF_FILE.replace("<i>Texte du personnel.</i>", "<b>Versée chaque mois.</b>").replace(
        "- is housing provided for interns?\n", "- is housing provided for interns?\n      - where will I live?\n"
    )
    run = faq("import", faq.file("faq.yaml", changed), "--dry-run")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"--- stipend/{QUEBEC}/fr (revision 1)",
        f"+++ stipend/{QUEBEC}/fr (faq.yaml)",
        "@@ -1,2 +1,2 @@",
        " L’allocation est de {stipend}.",
        "-<i>Texte du personnel.</i>",
        "+<b>Versée chaque mois.</b>",
        "+ example housing (en): where will I live?",
        "faq.yaml: would publish 0 new topics, 1 answer, 1 new example; nothing was changed (--dry-run)",
    ]
    assert faq.revisions() == 2 and faq.rows("SELECT count(*) FROM faq_examples") == [(2,)]
    [answer] = faq("ask", "c koi l allocation", "--program", QUEBEC, *TODAY).json_lines()
    assert "Texte du personnel." in str(answer["answer"])


def test_dry_run_without_a_database_compares_with_the_built_in_answers(faq: FaqCommand) -> None:
    run = faq("import", faq.file("faq.yaml", STAFF_FILE), "--dry-run")
    assert run.code == 0, run.err
    assert "+ topic housing: Logement / Housing" in run.out
    assert f"--- stipend/{QUEBEC}/fr (built-in answer)" in run.out
    assert "-<b>Allocation financière accordée</b> : {stipend}." in plain_spaces(run.out)
    assert "--- housing/all offers/en (built-in answer of each offer)" in run.out
    assert not faq.database.exists()


def test_going_back_to_the_built_in_answer(faq: FaqCommand) -> None:
    assert faq("import", faq.file("faq.yaml", STAFF_FILE)).code == 0
    back = f"topics:\n  stipend:\n    answers:\n      {QUEBEC}: built-in\n"
    run = faq("import", faq.file("back.yaml", back))
    assert run.code == 0 and run.out == "back.yaml: published 0 new topics, 1 answer, 0 new examples\n"
    assert faq.rows("SELECT text_fr, text_en FROM faq_revisions ORDER BY id DESC LIMIT 1") == [(None, None)]
    [answer] = faq("ask", "c koi l allocation", "--program", QUEBEC, *TODAY).json_lines()
    assert "Allocation financière accordée" in str(answer["answer"])
    assert faq("import", faq.file("back.yaml", back)).out.startswith("back.yaml: nothing to publish")


ONE_ANSWER = f"topics:\n  stipend:\n    answers:\n      {QUEBEC}:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("topics: [unclosed\n", "faq.yaml: line 2: not valid YAML"),
        ("", "faq.yaml: empty"),
        ("topics:\n  stipend: {}\n  stipend: {}\n", "faq.yaml: line 3: not valid YAML: 'stipend' given twice"),
        ("topic: {}\n", "faq.yaml: topic: unknown key"),
        ("topics:\n  stipend:\n    answer: {}\n", "faq.yaml: topics.stipend.answer: unknown key"),
        (ONE_ANSWER + "        fr: Bonjour\n        de: Hallo\n", f"topics.stipend.answers.{QUEBEC}.de: unknown key"),
        (ONE_ANSWER + "        fr: L’allocation\n", f"faq.yaml: topics.stipend.answers.{QUEBEC}.en: missing"),
        (ONE_ANSWER + "        fr: 12\n        en: twelve\n", f"topics.stipend.answers.{QUEBEC}.fr: expected text"),
        (ONE_ANSWER.rstrip(":\n") + ": maybe\n", f"topics.stipend.answers.{QUEBEC}: expected fr and en texts"),
        (
            ONE_ANSWER + "        fr: <b>Allocation\n        en: <b>Stipend</b>\n",
            f"faq.yaml: topics.stipend.answers.{QUEBEC}.fr: ",
        ),
        (
            ONE_ANSWER + "        fr: Allocation {montant}\n        en: Stipend\n",
            f"faq.yaml: topics.stipend.answers.{QUEBEC}.fr: ",
        ),
        (
            "topics:\n  stipend:\n    answers:\n      nasa-2030: built-in\n",
            "topics.stipend.answers.nasa-2030: unknown offer",
        ),
        ("topics:\n  Housing: {}\n", "faq.yaml: topics.Housing: not a topic id"),
        ("topics:\n  help_me: {}\n", "faq.yaml: topics.help_me: not a topic id"),
        ("topics:\n  lodging: {}\n", "faq.yaml: topics.lodging.title: missing"),
        ("topics:\n  stipend:\n    title: {fr: A, en: B}\n", "faq.yaml: topics.stipend.title: a built-in topic"),
        ("topics:\n  lodging:\n    title: {fr: Logement}\n", "faq.yaml: topics.lodging.title.en: missing"),
        ("topics:\n  stipend:\n    examples: {fr: ['  ']}\n", "faq.yaml: topics.stipend.examples.fr[0]: "),
        ("topics:\n  housing:\n    answers: {all offers: built-in}\n", "a staff topic has no built-in answer"),
        ("topics:\n  lodging:\n    title: {fr: <b>Logement</b>, en: Lodging}\n", "topics.lodging.title.fr: expected"),
    ],
)
def test_a_bad_file_exits_2_with_one_line_and_changes_nothing(faq: FaqCommand, text: str, expected: str) -> None:
    assert faq("import", faq.file("faq.yaml", STAFF_FILE)).code == 0
    run = faq("import", faq.file("faq.yaml", text))
    assert_refused(run, expected)
    assert faq.revisions() == 2


def test_html_telegram_refuses_is_refused_with_the_reason(faq: FaqCommand) -> None:
    run = faq("import", faq.file("faq.yaml", ONE_ANSWER + "        fr: <b>Allocation\n        en: <b>Stipend</b>\n"))
    assert_refused(run, f"faq.yaml: topics.stipend.answers.{QUEBEC}.fr: ")
    reason = run.err.split(".fr: ", 1)[1]
    assert reason.strip() and not reason.startswith("faq.")  # a sentence, not a catalog key
    assert not faq.database.exists()  # refused before the database is opened


def test_an_import_is_all_or_nothing(faq: FaqCommand) -> None:
    assert faq("import", faq.file("faq.yaml", STAFF_FILE)).code == 0
    retitled = STAFF_FILE.replace("Texte du personnel.", "Autre texte.").replace("en: Housing", "en: Lodging")
    run = faq("import", faq.file("faq.yaml", retitled))
    assert_refused(run, "faq.yaml: topics.housing.title: differs from the live title")
    assert faq.revisions() == 2


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_round_trip_on_each_database(faq: FaqCommand, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)  # what DATABASE_URL names, PostgreSQL too
    published = faq("import", faq.file("faq.yaml", STAFF_FILE))
    assert published.out == "faq.yaml: published 1 new topic, 2 answers, 2 new examples\n", published.err
    again = faq("import", faq.file("again.yaml", faq("export", "-").out))
    assert again.out == "again.yaml: nothing to publish; everything in it is live\n"
    [answer] = faq("ask", "c koi l allocation", "--program", QUEBEC, *TODAY).json_lines()
    assert "Texte du personnel." in str(answer["answer"])
