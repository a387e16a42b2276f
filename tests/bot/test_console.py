"""Scripted console conversations: each verdict for each offer, in each language."""

from __future__ import annotations

import os
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


def chat(
    lang: str, lines: list[str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", *(args or ("chat", "--lang", lang, "--today", "2021-09-15"))]
    return subprocess.run(
        command, input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )


@pytest.mark.parametrize(("lang", "offer", "verdict"), sorted(SCRIPTS))
def test_a_scripted_conversation_reaches_the_verdict(lang: str, offer: str, verdict: str) -> None:
    lines, expected = SCRIPTS[(lang, offer, verdict)]
    out = chat(lang, lines)
    assert out.returncode == 0, out.stderr
    shown = out.stdout.replace("\u00a0", " ").replace("\u202f", " ")
    assert expected in shown, shown[-3000:]
    assert shown.count("Traceback") == 0 and out.stderr == ""
    assert shown.rstrip().endswith("Au revoir!" if lang == "fr" else "Goodbye!")


def test_commands_and_numbered_options_on_the_console() -> None:
    out = chat("en", ["2", "/language fr", "/help", "1995-03-15", "/back", "1995-03-16", "/review", "1", "/restart"])
    shown = out.stdout.replace("\u00a0", " ")
    assert "Je vous parle maintenant en français." in shown
    assert "Commandes : /back" in shown
    assert "C’est noté : 16 mars 1995." in shown
    assert "• date de naissance : 16 mars 1995" in shown
    assert "On recommence." in shown


def test_run_without_a_token_opens_the_console_and_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    out = chat("fr", ["1", "/quit"], "run", env=env)
    assert out.returncode == 0
    assert out.stderr.strip().splitlines() == [
        "Aucun TELEGRAM_BOT_TOKEN défini : ouverture du clavardage local en console "
        "(tapez /help pour les commandes, Ctrl-D pour quitter).".replace(" :", "\u00a0:")
    ]
    assert "Quelle offre voulez-vous vérifier?" in out.stdout


def test_a_number_typed_at_a_question_without_options_is_an_answer() -> None:
    out = chat("fr", ["1", "15 mars 1999", "1", "1"])  # "1" year of experience, after a question with options
    shown = out.stdout.replace("\u00a0", " ")
    assert "C’est noté : un an." in shown and "Ce bouton appartient" not in shown
