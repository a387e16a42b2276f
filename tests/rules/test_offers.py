"""The offer files: faithful to the offer texts, complete, and data only."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rules import FACTS, KINDS, NotStated, OfferFileError, load_program, load_programs

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "rules" / "sources"
PROGRAMS = load_programs()
CONTRACT_CRITERIA = {
    "age",
    "education",
    "experience",
    "iom_interest",
    "citizenship",
    "quebec_domicile",
    "quebec_residency",
    "languages",
    "prior_participation",
}


def _normalise(text: str) -> str:
    text = re.sub(r"^\s*(?:[-•]|\d+\.)\s+", "", text, flags=re.MULTILINE)  # list markers
    return re.sub(r"\s+", " ", text).strip()


def _sources(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["source"]] if isinstance(node.get("source"), str) else []
        return found + [s for key, value in node.items() if key != "source" for s in _sources(value)]
    if isinstance(node, list):
        return [s for item in node for s in _sources(item)]
    return []


@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
def test_every_source_is_a_sentence_of_the_offer(program_id: str) -> None:
    program = PROGRAMS[program_id]
    offer = _normalise((SOURCES / program.source_file).read_text(encoding="utf-8"))
    quotes = _sources(program.model_dump(mode="json"))
    assert len(quotes) > 10
    for quote in quotes:
        assert _normalise(quote) in offer, quote


def test_contract_offer_ids_and_their_key_values() -> None:
    quebec = PROGRAMS["quebec-psoig-2021-023"]
    assert quebec.start_date == date(2022, 3, 7)
    assert not isinstance(quebec.dates, NotStated) and quebec.dates.end == date(2022, 9, 2)
    assert not isinstance(quebec.stipend, NotStated)
    assert (quebec.stipend.minimum, quebec.stipend.maximum, quebec.stipend.currency) == (13000, 15000, "CAD")
    assert quebec.deadline_date == date(2021, 10, 10)
    assert not isinstance(quebec.contacts, NotStated) and quebec.contacts[0].email == "stages.oig@mri.gouv.qc.ca"
    iom = PROGRAMS["iom-internship-rabat"]
    for absent in ("dates", "stipend", "deadline", "contacts"):
        assert isinstance(getattr(iom, absent), NotStated), absent


def test_criteria_use_contract_ids_and_known_facts() -> None:
    for program in PROGRAMS.values():
        assert {c.id for c in program.criteria} <= CONTRACT_CRITERIA
        assert {c.id for c in program.asset_criteria} <= {"field_of_study", "spanish"}
        for spec in (*program.criteria, *program.asset_criteria):
            assert spec.kind in KINDS
    assert set(FACTS) == {
        "birth_date",
        "education",
        "highest_degree",
        "graduation_date",
        "relevant_experience_years",
        "iom_interest",
        "citizenship",
        "quebec_domicile",
        "quebec_resident_since",
        "french_writing",
        "english_writing",
        "prior_psoig_internship",
        "spanish",
        "field_of_study",
    }


def test_a_third_offer_is_a_data_file(tmp_path: Path) -> None:
    text = (ROOT / "rules" / "offers" / "iom-internship-rabat.yaml").read_text(encoding="utf-8")
    text = text.replace("id: iom-internship-rabat", "id: demo-offer").replace(
        "{min_age: 20, max_age: 36", "{min_age: 21, max_age: 30"
    )
    (tmp_path / "demo-offer.yaml").write_text(text, encoding="utf-8")
    program = load_program(tmp_path / "demo-offer.yaml")
    from rules import evaluate, parse_facts

    result = evaluate(parse_facts({"birth_date": "2001-01-01"}), program, date(2021, 9, 1))
    assert {c.id: c.result.value for c in result.criteria}["age"] == "not_met"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("kind: age_range", "kind: age_between"), "unknown kind 'age_between'"),
        (("{min_age: 20, max_age: 36, at: today}", "{min_age: 20, at: today}"), "params.max_age"),
        (("{min_age: 20, max_age: 36, at: today}", "{min_age: 20, max_age: 36, at: start_date}"), "does not state"),
        (("source_file: 000_cbc5c7c24267b0f7.txt", "source_file: 000_cbc5c7c24267b0f7.txt\ncolour: red"), "colour"),
        (
            ("        url: https://www.iom.int/", "        link: https://www.iom.int/"),
            "also_stated_in.0.url: Field required",
        ),
        (("        url: https://www.iom.int/", "        url: http://www.iom.int/"), "also_stated_in.0.url"),
    ],
)
def test_a_wrong_offer_file_is_refused_with_one_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = (ROOT / "rules" / "offers" / "iom-internship-rabat.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "iom-internship-rabat.yaml"
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(OfferFileError) as error:
        load_program(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_iom_graduate_case_rests_on_iom_s_programme_page() -> None:
    criteria = {c.id: c for c in PROGRAMS["iom-internship-rabat"].criteria}
    education = criteria["education"]
    assert education.params["accepted_in_progress"] == ["bachelor_final_year", "master_in_progress", "phd_in_progress"]
    assert "dernière année universitaire d’un premier programme" in education.source  # the offer's own words
    [page] = education.also_stated_in
    assert (page.title, page.url) == ("Internships at IOM", "https://www.iom.int/internships-iom")
    assert (
        "Be enrolled in a graduate degree programme (second university degree or equivalent, or higher)" in page.quote
    )
    # what the page says otherwise (ages 19 to 36, "within one-year") does not replace the offer's own values
    assert education.params["window"] == {"months": 12, "before": "today", "include_reference_day": True}
    assert criteria["age"].params == {"min_age": 20, "max_age": 36, "at": "today"}
    assert not criteria["age"].also_stated_in


def test_rules_import_nothing_of_the_edges() -> None:
    code = (
        "import sys, rules, rules.criteria, rules.evaluate, rules.questioning\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'bot', 'dialogs', 'telegram', 'sqlalchemy', 'aiosqlite', 'asyncpg', 'rasa_sdk', 'babel'}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""
    for path in (ROOT / "rules").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(bot|dialogs)\b", source, re.MULTILINE), path
