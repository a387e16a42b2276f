"""Every sentence exists in both catalogs: translated, not fuzzy, same placeholders, all used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("fr", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(lang: str) -> dict[str, tuple[str, bool]]:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: (m.string, m.fuzzy) for m in read_po(handle) if m.id}


CATALOGS = {lang: _catalog(lang) for lang in LANGS}


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for package in ("rules", "dialogs", "bot"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords={"N_": None, "Message": (1,)}
        ):
            keys.add(message if isinstance(message, str) else message[0])
    # the staff website's templates: {{ t("key", ...) }}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot" / "web" / "templates",
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        keywords={"t": None},
        options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
    ):
        if message:
            keys.add(message if isinstance(message, str) else message[0])
    return keys


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(CATALOGS["fr"]) == set(CATALOGS["en"])


@pytest.mark.parametrize("lang", LANGS)
def test_every_entry_is_translated_and_not_fuzzy(lang: str) -> None:
    bad = [key for key, (text, fuzzy) in CATALOGS[lang].items() if not text.strip() or fuzzy]
    assert bad == []


def test_placeholders_are_the_same_in_both_languages() -> None:
    for key, (fr_text, _) in CATALOGS["fr"].items():
        en_text = CATALOGS["en"][key][0]
        assert set(PLACEHOLDER.findall(fr_text)) == set(PLACEHOLDER.findall(en_text)), key


def test_every_key_in_the_code_is_in_the_catalogs_and_none_is_unused() -> None:
    used = _used_keys()
    assert used - set(CATALOGS["en"]) == set(), "keys used in the code but missing from the catalogs"
    assert set(CATALOGS["en"]) - used == set(), "catalog entries that no code uses"


def test_no_sentence_is_written_in_python() -> None:
    # A sentence is a capitalised word followed by more words and ending with . ? or !
    sentence = re.compile(r"""["'](?:[A-ZÀ-Ý][a-zà-ÿ]+ ){2,}[^"']*[.?!]["']""")
    offenders = []
    for package in ("dialogs",):
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                stripped = line.strip()
                if stripped.startswith("#") or '"""' in stripped:
                    continue
                if sentence.search(line):
                    offenders.append(f"{path.name}:{number}")
    assert offenders == []
