"""The matching data file (`bot/faq/data/matching.yaml`), validated: examples per topic,
out-of-scope examples, thresholds, normalisation tables, weights. A wrong file raises
`ValueError` with one line naming the key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .normalize import Lexicon

DEFAULT_PATH = Path(__file__).parent / "data" / "matching.yaml"
TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{1,31}|help:[a-z][a-z0-9_]{1,63}")
OUT_OF_SCOPE = ""  # the topic of out-of-scope examples
_LANGS = ("fr", "en")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when present: 10× faster on this file


@dataclass(frozen=True)
class Example:
    """One example question of a topic (from the data file or added by staff)."""

    topic: str
    lang: str  # "fr" | "en"
    text: str


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts (data file, `weights`)."""

    word: float = 1.0  # a content word's stem
    concept: float = 1.0  # a concept of the synonym table
    corrected: float = 0.6  # factor for a word that was a typo corrected to a known word
    question_side: float = 0.75  # 0.5 is cosine; more trusts what the question says over the example's length
    centroid: float = 0.3  # share of the topic's centroid (all its examples together) in its score


@dataclass(frozen=True)
class MatchingData:
    """The data file, validated: examples, out-of-scope examples, thresholds, normalisation tables."""

    examples: tuple[Example, ...]
    out_of_scope: tuple[Example, ...]  # topic == "" for these
    answer_threshold: float
    suggest_threshold: float
    lexicon: Lexicon = field(default_factory=Lexicon)
    weights: Weights = field(default_factory=Weights)
    concept_weights: Mapping[str, float] = field(default_factory=dict)  # concepts that count more (or less)
    ambiguity_margin: float = 0.0  # a rival topic this close (relative) to the best: ask, do not guess
    clause_words: tuple[str, ...] = ()  # words that join two questions in one message ("et", "and", "pis")
    question_words: tuple[str, ...] = ()  # how a question starts: a join followed by one splits the message


def _fail(path: Path, key: str, problem: str) -> ValueError:
    return ValueError(f"{path.name}: {key}: {problem}")


def _strings(path: Path, key: str, value: Any) -> list[str]:
    """A list of non-empty strings (YAML turns `yes`, `on` and dates into other types: refused)."""
    if not isinstance(value, list):
        raise _fail(path, key, "must be a list")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _fail(path, f"{key}[{index}]", f"must be a non-empty string (quote it), not {item!r}")
    return value


def _mapping(path: Path, key: str, value: Any, *, empty_values: bool = False) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(path, key, "must be a mapping")
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, str) or not (empty_values or item.strip()):
            raise _fail(path, f"{key}.{name}", f"must map a word to a string, not {item!r}")
    return value


def _number(path: Path, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(path, key, f"must be a number from {low} to {high}, not {value!r}")
    return float(value)


def _examples(path: Path, key: str, value: Any, topic: str) -> list[Example]:
    if not isinstance(value, dict) or not value or set(value) - set(_LANGS):
        raise _fail(path, key, "must map fr and/or en to lists of questions")
    return [
        Example(topic, lang, text) for lang in _LANGS for text in _strings(path, f"{key}.{lang}", value.get(lang, []))
    ]


def _weights(path: Path, value: Any) -> Weights:
    if value is None:
        return Weights()
    if not isinstance(value, dict) or set(value) - set(Weights.__dataclass_fields__):
        raise _fail(path, "weights", f"must map some of {', '.join(Weights.__dataclass_fields__)} to numbers")
    return Weights(**{name: _number(path, f"weights.{name}", number, 0, 1) for name, number in value.items()})


def load_matching_data(path: Path | None = None) -> MatchingData:
    """The matching data file (default: the shipped one), validated; a bad file raises ValueError naming the key."""
    path = path or DEFAULT_PATH
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path.name}: cannot read: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: must be a mapping of keys")
    known = {"answer_threshold", "suggest_threshold", "ambiguity_margin", "clause_words", "question_words",
             "weights", "abbreviations",
             "accented_words", "symbols", "stop_words", "answer_words", "months", "synonyms", "concept_weights",
             "topics", "out_of_scope"}  # fmt: skip
    for key in raw:
        if key not in known:
            raise _fail(path, str(key), "unknown key")
    answer = _number(path, "answer_threshold", raw.get("answer_threshold"), 0.01, 1)
    suggest = _number(path, "suggest_threshold", raw.get("suggest_threshold"), 0.01, 1)
    if suggest > answer:
        raise _fail(path, "suggest_threshold", f"must not exceed answer_threshold ({answer})")
    margin = _number(path, "ambiguity_margin", raw.get("ambiguity_margin", 0.0), 0.0, 0.5)
    synonyms = raw.get("synonyms") or {}
    if not isinstance(synonyms, dict):
        raise _fail(path, "synonyms", "must map concepts to lists of words")
    lexicon = Lexicon.from_tables(
        abbreviations=_mapping(path, "abbreviations", raw.get("abbreviations") or {}, empty_values=True),
        accented_words=_mapping(path, "accented_words", raw.get("accented_words") or {}),
        symbols=_mapping(path, "symbols", raw.get("symbols") or {}),
        stop_words=_strings(path, "stop_words", raw.get("stop_words") or []),
        answer_words=_strings(path, "answer_words", raw.get("answer_words") or []),
        months=_strings(path, "months", raw.get("months") or []),
        synonyms={str(name): _strings(path, f"synonyms.{name}", words) for name, words in synonyms.items()},
    )
    concept_weights = raw.get("concept_weights") or {}
    if not isinstance(concept_weights, dict):
        raise _fail(path, "concept_weights", "must map concepts to numbers")
    for name in concept_weights:
        if name not in synonyms:
            raise _fail(path, f"concept_weights.{name}", "not a concept of synonyms")
    weights = {str(k): _number(path, f"concept_weights.{k}", v, 0.01, 10) for k, v in concept_weights.items()}
    topics = raw.get("topics")
    if not isinstance(topics, dict) or not topics:
        raise _fail(path, "topics", "must map topic ids to example questions")
    examples: list[Example] = []
    for topic, questions in topics.items():
        if not isinstance(topic, str) or not TOPIC_ID.fullmatch(topic):
            raise _fail(path, f"topics.{topic}", "a topic id is [a-z][a-z0-9_]{1,31} or help:<fact>")
        examples += _examples(path, f"topics.{topic}", questions, topic)
    out_of_scope = _examples(path, "out_of_scope", raw.get("out_of_scope") or {"fr": []}, OUT_OF_SCOPE)
    return MatchingData(
        tuple(examples),
        tuple(out_of_scope),
        answer,
        suggest,
        lexicon,
        _weights(path, raw.get("weights")),
        weights,
        margin,
        tuple(_strings(path, "clause_words", raw.get("clause_words") or [])),
        tuple(_strings(path, "question_words", raw.get("question_words") or [])),
    )
