"""Text normalisation for FAQ matching: what people type, reduced to the words it means.

People ask in French or English, with or without accents, with SMS spellings ("c koi", "qd", "u")
and elisions ("l'allocation", "qu’il"). Matching compares words, so every text, question or
example alike, goes through the same steps here: Unicode folding, accent removal, apostrophes and
punctuation as word breaks, the abbreviation table, then concepts (words of both languages that
mean the same thing). The tables are data (bot/faq/data/matching.yaml); this module applies them.

Accents are removed with the standard library (NFKD, then dropping combining marks) rather than
a transliteration package: French needs no more than that and the ligatures below, and the
GPL-licensed `unidecode` would not fit the project's MIT licence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Lexicon", "fold", "split_words"]

# Ligatures and letters that NFKD does not decompose into a base letter plus marks.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
# Runs of three or more of the same letter ("quoiii", "sooo") are emphasis, not spelling.
_REPEATS = re.compile(r"(\D)\1{2,}")
# A word is a run of letters or digits; everything else (apostrophes ’ ' ` included) separates words.
_WORD = re.compile(r"[^\W_]+")
# Dotted acronyms are one word: `I.O.M.` is `iom`, `c.v.` is `cv`.
_ACRONYM = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}[^\W\d_]?(?!\w)")


def fold(text: str) -> str:
    """Lower case without accents: `Élève’s CŒUR` -> `eleve’s coeur` (punctuation is kept)."""
    lowered = unicodedata.normalize("NFKC", text).casefold().translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def split_words(folded: str) -> list[str]:
    """The words of a folded text; elided articles become words of their own (`l allocation`)."""
    joined = _ACRONYM.sub(lambda found: found.group(0).replace(".", ""), folded)
    return _WORD.findall(_REPEATS.sub(r"\1", joined))


@dataclass(frozen=True)
class Lexicon:
    """The normalisation tables of the data file, and the tokenizer that applies them.

    `abbreviations` maps a folded word to the words it stands for (possibly none: a word to drop);
    `accented_words` are replaced before accents are removed, because their accent carries the
    meaning (`où` is "where", `ou` is "or"); `symbols` become words before punctuation is dropped;
    `concepts` maps a phrase (a tuple of normalised words) to the concepts it expresses.
    """

    abbreviations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    accented_words: Mapping[str, str] = field(default_factory=dict)
    symbols: Mapping[str, str] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()
    answer_words: frozenset[str] = frozenset()
    months: frozenset[str] = frozenset()
    concepts: Mapping[tuple[str, ...], frozenset[str]] = field(default_factory=dict)
    _accented: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _longest_phrase: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.accented_words:
            words = sorted(self.accented_words, key=len, reverse=True)
            pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(word) for word in words) + r")(?!\w)")
            object.__setattr__(self, "_accented", pattern)
        object.__setattr__(self, "_longest_phrase", max(map(len, self.concepts), default=0))

    @classmethod
    def from_tables(
        cls,
        *,
        abbreviations: Mapping[str, str],
        accented_words: Mapping[str, str],
        symbols: Mapping[str, str],
        stop_words: Iterable[str],
        answer_words: Iterable[str],
        months: Iterable[str],
        synonyms: Mapping[str, Iterable[str]],
    ) -> Lexicon:
        """The lexicon of the data file's tables, every word in them normalised like a question's."""
        plain = cls(
            abbreviations={fold(key): tuple(split_words(fold(value))) for key, value in abbreviations.items()},
            accented_words={unicodedata.normalize("NFKC", k).casefold(): v for k, v in accented_words.items()},
            symbols=dict(symbols),
        )

        def words(values: Iterable[str]) -> frozenset[str]:
            return frozenset(word for value in values for word in plain.tokens(value))

        concepts: dict[tuple[str, ...], set[str]] = {}
        for concept, phrases in synonyms.items():
            for phrase in phrases:
                if key := tuple(plain.tokens(phrase)):
                    concepts.setdefault(key, set()).add(concept)
        return cls(
            abbreviations=plain.abbreviations,
            accented_words=plain.accented_words,
            symbols=plain.symbols,
            stop_words=words(stop_words),
            answer_words=words(answer_words),
            months=words(months),
            concepts={phrase: frozenset(names) for phrase, names in concepts.items()},
        )

    def tokens(self, text: str) -> list[str]:
        """The normalised words of `text`, abbreviations expanded: `C koi l’allocation??` -> c quoi l allocation."""
        lowered = unicodedata.normalize("NFKC", text).casefold()
        if self._accented is not None:
            lowered = self._accented.sub(lambda found: f" {self.accented_words[found.group(1)]} ", lowered)
        for symbol, word in self.symbols.items():
            if symbol in lowered:
                lowered = lowered.replace(symbol, f" {word} ")
        words: list[str] = []
        for word in split_words(fold(lowered)):
            words.extend(self.abbreviations.get(word, (word,)))
        return words

    def concepts_in(self, tokens: list[str]) -> set[str]:
        """The concepts of every phrase of the data file found in `tokens` (whole words, in order)."""
        found: set[str] = set()
        for start in range(len(tokens)):
            for end in range(start + 1, min(start + self._longest_phrase, len(tokens)) + 1):
                names = self.concepts.get(tuple(tokens[start:end]))
                if names:
                    found |= names
        return found

    def is_answer(self, text: str, tokens: list[str]) -> bool:
        """True when `text` (of words `tokens`) reads as a reply to a dialog question, not a question.

        "oui", "15 mars 1998", "2", "non merci", "maîtrise" answer the pending question; they are
        never matched to a topic, however close their words are to an example. The data file lists
        the few small words that surround such replies ("je suis canadien", "since 2010"). A
        question mark makes it a question: "je suis au bac, c'est ok?" asks something.
        """
        if "?" in text or not tokens:
            return False
        return all(word.isdigit() or word in self.answer_words or word in self.months for word in tokens)
