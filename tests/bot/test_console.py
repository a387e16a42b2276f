"""Scripted console conversations: each verdict for each offer, in each language."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUEBEC_FR = ["2", "15 mars 1995", "3", "oui", "1", "oui", "2010-01-01", "excellent", "excellent", "non", "oui", "droit"]
QUEBEC_EN = [
    "2",
    "March 15, 1995",
    "finishing a master's degree",
    "yes",
    "Canadian citizen",
    "y",
    "1 January 2010",
    "1",
    "1",
    "no",
    "no",
    "law",
]
IOM_FR = ["1", "1998-05-20", "1", "1,5", "oui"]
IOM_EN = ["1", "20 May 1998", "final year of a bachelor's degree", "18 months", "yes"]

SCRIPTS = {
    ("fr", "quebec", "eligible"): (QUEBEC_FR, "Admissible : vous remplissez tous les critères."),
    ("fr", "quebec", "not_eligible"): (["2", "1980-01-01"], "Non admissible : au moins un critère n’est pas rempli."),
    ("fr", "quebec", "incomplete"): ([*QUEBEC_FR[:3], "/skip", *QUEBEC_FR[4:]], "Incomplet : il manque des réponses"),
    ("en", "quebec", "eligible"): (QUEBEC_EN, "Eligible: you meet every criterion."),
    ("en", "quebec", "not_eligible"): ([*QUEBEC_EN[:7], "good"], "Not eligible: at least one criterion is not met."),
    ("en", "quebec", "incomplete"): ([*QUEBEC_EN[:-3], "/skip", "no", "law"], "Incomplete: some answers are missing"),
    ("fr", "iom", "eligible"): (IOM_FR, "Admissible : vous remplissez tous les critères."),
    ("fr", "iom", "not_eligible"): (["1", "1998-05-20", "1", "3 ans"], "Non admissible : au moins un critère"),
    ("fr", "iom", "incomplete"): (["1", "1998-05-20", "1", "/skip", "oui"], "Incomplet : il manque des réponses"),
    ("en", "iom", "eligible"): (IOM_EN, "Eligible: you meet every criterion."),
    ("en", "iom", "not_eligible"): (
        ["1", "20 May 1998", "2", "no degree"],
        "Not eligible: at least one criterion is not met.",
    ),
    ("en", "iom", "incomplete"): ([*IOM_EN[:3], "/skip", "yes"], "Incomplete: some answers are missing"),
}


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's terminal chats keep their conversation in a database of their own."""
    path = tmp_path / "chat.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return path


def chat(lang: str, lines: list[str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", *(args or ("chat", "--lang", lang, "--today", "2021-09-15"))]
    return subprocess.run(command, input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=cwd, timeout=60)


def shown(out: subprocess.CompletedProcess[str]) -> str:
    return out.stdout.replace("\u00a0", " ").replace("\u202f", " ")


def with_consent(lang: str, lines: list[str]) -> list[str]:
    """The offer chosen first, then the privacy notice accepted, as a person does."""
    return [lines[0], "oui" if lang == "fr" else "yes", *lines[1:]]


@pytest.mark.parametrize(("lang", "offer", "verdict"), sorted(SCRIPTS))
def test_a_scripted_conversation_reaches_the_verdict(lang: str, offer: str, verdict: str) -> None:
    lines, expected = SCRIPTS[(lang, offer, verdict)]
    out = chat(lang, with_consent(lang, lines))
    assert out.returncode == 0, out.stderr
    shown = out.stdout.replace("\u00a0", " ").replace("\u202f", " ")
    assert expected in shown, shown[-3000:]
    assert shown.count("Traceback") == 0 and out.stderr == ""
    assert shown.rstrip().endswith("Au revoir!" if lang == "fr" else "Goodbye!")


def test_commands_and_numbered_options_on_the_console() -> None:
    lines = ["2", "yes", "/language fr", "/help", "1995-03-15", "/back", "1995-03-16", "/review", "1", "/restart"]
    out = chat("en", lines)
    shown = out.stdout.replace("\u00a0", " ")
    assert "Je vous parle maintenant en français." in shown
    assert "Commandes : /back" in shown
    assert "C’est noté : 16 mars 1995." in shown
    assert "• date de naissance : 16 mars 1995" in shown
    assert "On recommence." in shown


def test_run_without_a_token_opens_the_console_and_says_so_in_one_line() -> None:
    out = chat("fr", ["1", "/quit"], "run")
    assert out.returncode == 0
    assert out.stderr.strip().splitlines() == [
        "Aucun TELEGRAM_BOT_TOKEN défini : ouverture du clavardage local en console "
        "(tapez /help pour les commandes, Ctrl-D pour quitter).".replace(" :", "\u00a0:")
    ]
    assert "Quelle offre voulez-vous vérifier?" in out.stdout


def test_a_number_typed_at_a_question_without_options_is_an_answer() -> None:
    out = chat("fr", ["1", "oui", "15 mars 1999", "1", "1"])  # "1" year of experience, after a question with options
    shown = out.stdout.replace("\u00a0", " ")
    assert "C’est noté : un an." in shown and "Ce bouton appartient" not in shown


def test_quitting_and_coming_back_resumes_where_the_person_stopped(tmp_path: Path) -> None:
    first = chat("fr", ["1", "oui", "15 mars 1999"])  # then Ctrl-D (end of input)
    assert "Laquelle de ces situations" in shown(first) and first.returncode == 0
    again = shown(chat("fr", ["1", "1,5"], "run"))
    assert "Rebonjour! Reprenons là où vous étiez." in again
    assert again.index("Rebonjour") < again.index("Laquelle de ces situations")
    assert "Quelle est votre date de naissance?" not in again and "Êtes-vous d’accord?" not in again
    assert "Connaissez-vous le travail de l’OIM" in again  # "1" chose the first option, "1,5" answered the next


def test_mydata_and_forget_work_on_the_terminal(tmp_path: Path) -> None:
    out = shown(chat("en", ["1", "yes", "20 May 1998", "/mydata"], cwd=tmp_path))
    saved = tmp_path / "mydata.json"
    assert f"Saved to: {saved}" in out
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["answers"] == {"birth_date": "1998-05-20"} and document["person"]["channel"] == "console"
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    out = shown(chat("en", ["/forget", "1"], cwd=tmp_path))
    assert "Everything stored about you has been erased." in out
    assert not saved.exists()  # the export written here goes with the rest
    fresh = shown(chat("en", []))
    assert "Welcome back" not in fresh and "Which offer do you want to check?" in fresh


def test_i_dont_know_on_a_date_question_is_understood_at_once() -> None:
    out = shown(chat("fr", ["1", "oui", "je ne sais pas"]))
    assert "Répondez" not in out and "Laquelle de ces situations" in out


def test_on_a_date_question_i_dont_know_is_a_label_not_a_number() -> None:
    out = shown(chat("fr", ["1", "oui"]))
    tail = out[out.index("Quelle est votre date de naissance?") :]
    assert "  – Je ne sais pas" in tail and "1. Je ne sais pas" not in tail
    out = shown(chat("fr", ["Je ne sais pas"]))  # typed as its label (the conversation resumed)
    assert "le verdict indiquera ce qui manque" in out
