"""Bilingual matching of a free-text question to an FAQ topic, with a confidence score.

Every example question (data file and staff's) is a weighted set of features: the stem of each
content word (Snowball French and English: the shorter of the two, one feature per word whatever
its language) and the concepts its phrases express (`salaire`, `paid`, `rémunéré` all give
`money`), weighted by inverse document frequency so that words every question has count little.

A topic's score blends the question's similarity to the topic's closest example with its
similarity to the topic as a whole (its centroid), so one odd example weighs less. The similarity
is a geometric mean of two coverages, leaning to the question's side: how much of the question
the example explains, and how much of the example the question says (cosine is the even mean).
A short question ("allocation?") stays confident against a longer example, while words no
example uses (pizza, météo) lower it. Out-of-scope examples compete as one more topic, and so
does the share of the question that only they speak of: a question closer to them gets no
answer and no suggestion. Words no example knows are corrected to the closest known word (one
edit, two for long words; rapidfuzz) and count for less: a guessed word is weaker evidence.

Cost: a question of a few words adds up a handful of posting lists with numpy (`bincount`), well
under a millisecond, even with 2 000 topics; building is linear in the examples. `python -m bench
faq` prints the figures, and the alternatives measured (scikit-learn TF-IDF on character n-grams,
rapidfuzz alone) are in the README.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import Stemmer  # type: ignore[import-not-found]  # PyStemmer: the Snowball stemmers, compiled; no stubs
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .matching_data import (
    DEFAULT_PATH,
    OUT_OF_SCOPE,
    Example,
    MatchingData,
    Weights,
    load_matching_data,
)

__all__ = ["DEFAULT_PATH", "Example", "Match", "Matcher", "MatchingData", "Scored", "Weights", "load_matching_data"]

_MEMO_LIMIT = 50_000  # stems and typo corrections remembered; past that a memo starts afresh

Vector = dict[str, float]


@dataclass(frozen=True)
class Scored:
    """A topic and its score, 0..1, higher is better."""

    topic: str
    score: float


@dataclass(frozen=True)
class Match:
    """What a question matched.

    `topic` is the confident topic (score >= answer_threshold), else None. `score` is the best
    in-scope score (0 when none). `alternatives`: up to 3 other plausible topics, best first, each
    >= suggest_threshold; when `topic` is None these are the "did you mean" choices (may be empty).
    """

    topic: str | None
    score: float
    alternatives: tuple[Scored, ...] = ()


NO_MATCH = Match(None, 0.0, ())


# --- matching -------------------------------------------------------------------------------


HELP_TOPIC_PREFIX = "help:"
PENDING_HELP_TOPIC = "help:pending"  # "what do you mean?": the help of whichever question is pending


class Matcher:
    """Examples indexed for nearest-example search: `build` once (again when staff add examples), `match` often.

    `match` only reads the index; it fills two memos (stems, typo corrections), plain dicts whose
    single-key updates are safe under the GIL.
    """

    def __init__(self, data: MatchingData, examples: list[Example]) -> None:
        self._data = data
        self._lexicon = data.lexicon
        self._weights = data.weights
        self._french = Stemmer.Stemmer("french")
        self._english = Stemmer.Stemmer("english")
        self._stems: dict[str, str] = {}
        self._corrections: dict[str, tuple[str, bool]] = {}
        # the words a typo may be corrected to, by length (an edit changes the length by one at most)
        words = {w for example in examples for w in self._lexicon.tokens(example.text)}
        words |= {w for phrase in self._lexicon.concepts for w in phrase}
        self._known_words = frozenset(words | self._lexicon.stop_words | self._lexicon.answer_words)
        self._known_stems = frozenset(self._stem(word) for word in self._known_words)
        by_length: dict[int, list[str]] = {}
        for word in sorted(w for w in self._known_words if len(w) >= 3 and not w.isdigit()):
            by_length.setdefault(len(word), []).append(word)
        self._by_length = by_length
        # a new question: after a question mark, or a joining word followed by a question word
        # ("... pis c'est combien payé", "... and how much does it pay"; not "research and analysis")
        joins = "|".join(re.escape(w) for w in sorted(data.clause_words, key=len, reverse=True))
        starts = "|".join(re.escape(w) for w in sorted(data.question_words, key=len, reverse=True))
        pattern = rf"\?+|\b(?:{joins})\b(?=\s+(?:{starts})\b)" if joins and starts else r"\?+"
        self._clause_breaks = re.compile(pattern, re.IGNORECASE)
        self._index(examples)

    @classmethod
    def build(cls, data: MatchingData, extra: Iterable[Example] = ()) -> Matcher:
        """A matcher over the data file's examples and `extra` ones (staff's; topic "" is out of scope)."""
        return cls(data, [*data.examples, *data.out_of_scope, *extra])

    @property
    def topics(self) -> frozenset[str]:
        """Every topic an answer may name (help:<fact> pseudo-topics included; out-of-scope excluded)."""
        return frozenset(t for t in self._topic_names if t != OUT_OF_SCOPE)

    # -- features

    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            french, english = self._french.stemWord(word), self._english.stemWord(word)
            stem = min(french, english, key=lambda s: (len(s), s))
            if len(self._stems) >= _MEMO_LIMIT:
                self._stems.clear()
            self._stems[word] = stem
        return stem

    def _correct(self, word: str) -> tuple[str, bool]:
        """A word no example knows, replaced by the closest known word; True when it was replaced."""
        if word in self._known_words or len(word) < 4 or word.isdigit() or self._stem(word) in self._known_stems:
            return word, False
        memo = self._corrections.get(word)
        if memo is not None:
            return memo
        edits = 1 if len(word) < 9 else 2
        best: tuple[str, bool] = (word, False)
        best_distance = edits + 1
        for length in range(len(word) - edits, len(word) + edits + 1):
            candidates = self._by_length.get(length)
            if candidates:
                found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=best_distance - 1)
                if found is not None and found[1] < best_distance:
                    best, best_distance = (found[0], True), int(found[1])
        if len(self._corrections) >= _MEMO_LIMIT:
            self._corrections.clear()
        self._corrections[word] = best
        return best

    def _features(self, text: str, *, correct: bool) -> Vector:
        """The weighted features of a text (before idf): concepts and content-word stems."""
        lexicon, weights = self._lexicon, self._weights
        tokens = lexicon.tokens(text)
        if lexicon.is_answer(text, tokens):
            return {}
        features: Vector = {}
        corrected: set[str] = set()
        if correct:
            fixes = [self._correct(token) for token in tokens]
            tokens = [word for word, _ in fixes]
            corrected = {word for word, changed in fixes if changed}
        for concept in lexicon.concepts_in(tokens):
            features["c:" + concept] = weights.concept * self._data.concept_weights.get(concept, 1.0)
        for token in tokens:
            if token.isdigit():  # which number matters less than that there is one ("j'ai 37 ans")
                features["c:number"] = weights.concept
            if token in lexicon.stop_words or token in lexicon.months or token.isdigit():
                continue
            key = "w:" + self._stem(token)
            if correct and key not in self._slices and token in self._known_words:
                continue  # a word of the synonym tables that no example uses: its concept speaks for it
            weight = weights.word * (weights.corrected if token in corrected else 1.0)
            features[key] = max(weight, features.get(key, 0.0))
        return features

    # -- index

    def _index(self, examples: list[Example]) -> None:
        """Posting lists: for each feature, the examples that have it and their normalised weights."""
        ordered = sorted(examples, key=lambda e: e.topic)  # each topic's examples contiguous, for reduceat
        vectors = [self._features(e.text, correct=False) for e in ordered]
        kept = [(e, v) for e, v in zip(ordered, vectors, strict=True) if v]
        count = len(kept)
        frequency = Counter(feature for _, vector in kept for feature in vector)
        self._idf = {f: math.log((1 + count) / (1 + n)) + 1 for f, n in frequency.items()}
        in_scope = {f for example, vector in kept if example.topic != OUT_OF_SCOPE for f in vector}
        self._foreign = frozenset(frequency) - in_scope  # said only by out-of-scope examples
        self._unseen_idf = math.log(1 + count) + 1
        postings: dict[str, list[tuple[int, float]]] = {}
        example_side = 1 - self._weights.question_side
        centroids: dict[str, Vector] = {}
        for row, (example, vector) in enumerate(kept):
            weighted = {f: w * self._idf[f] for f, w in vector.items()}
            squared = sum(v * v for v in weighted.values())
            scale = squared**example_side
            centroid = centroids.setdefault(example.topic, {})
            for feature, value in weighted.items():
                postings.setdefault(feature, []).append((row, value / scale))
                centroid[feature] = centroid.get(feature, 0.0) + value / math.sqrt(squared)
        for number, centroid in enumerate(centroids.values()):
            scale = sum(v * v for v in centroid.values()) ** example_side
            for feature, value in centroid.items():
                postings[feature].append((count + number, value / scale))
        # one array for all posting lists; a feature is a slice of it
        self._slices: dict[str, tuple[int, int]] = {}
        flat: list[tuple[int, float]] = []
        for feature, entries in postings.items():
            self._slices[feature] = (len(flat), len(flat) + len(entries))
            flat.extend(entries)
        self._rows: npt.NDArray[np.int32] = np.array([r for r, _ in flat], dtype=np.int32)
        self._values: npt.NDArray[np.float32] = np.array([v for _, v in flat], dtype=np.float32)
        self._count = count
        starts = [row for row, (example, _) in enumerate(kept) if row == 0 or kept[row - 1][0].topic != example.topic]
        self._topic_names = [kept[row][0].topic for row in starts]
        self._help_topics = {t: i for i, t in enumerate(self._topic_names) if t.startswith(HELP_TOPIC_PREFIX)}
        self._starts: npt.NDArray[np.intp] = np.array(starts, dtype=np.intp)

    # -- matching

    def match(self, text: str, lang: str | None = None, *, pending: str | None = None) -> Match:
        """The topic of a question, with its score and the other plausible topics. Never raises.

        `lang` is accepted but not needed: people mix languages, so a question is compared with
        the examples of both, and concepts join the two vocabularies. "" or emoji match nothing.
        `pending` is the fact of the dialog question waiting for an answer: only its help
        (`help:<fact>`, `help:pending`) may match; without one, no help pseudo-topic does ("is
        health insurance included?" is not a question about a question nobody asked).
        """
        features = self._features(text, correct=True) if self._count and isinstance(text, str) else {}
        known = [(f, w * self._idf[f]) for f, w in features.items() if f in self._slices]
        if not known:
            return NO_MATCH
        norm = sum(v * v for _, v in known) + sum(
            (w * self._unseen_idf) ** 2 for f, w in features.items() if f not in self._slices
        )
        scale = norm**self._weights.question_side
        parts = [self._slices[f] for f, _ in known]
        rows = np.concatenate([self._rows[a:b] for a, b in parts])
        values = np.concatenate(
            [self._values[a:b] * np.float32(v / scale) for (a, b), (_, v) in zip(parts, known, strict=True)]
        )
        by_example = np.bincount(rows, weights=values, minlength=self._count + len(self._topic_names))
        by_topic = np.maximum.reduceat(by_example[: self._count], self._starts)
        share = self._weights.centroid
        if share:
            by_topic = (1 - share) * by_topic + share * by_example[self._count :]
        allowed = {f"{HELP_TOPIC_PREFIX}{pending}", PENDING_HELP_TOPIC} if pending else set()
        for topic, index in self._help_topics.items():
            if topic not in allowed:
                by_topic[index] = 0.0
        # the part of the question that only out-of-scope examples speak of (pizza, weather, the bot)
        foreign = sum(v * v for f, v in known if f in self._foreign) / norm
        return self._decide(by_topic, foreign**self._weights.question_side if foreign else 0.0)

    def topics_asked(self, text: str, lang: str | None = None, *, pending: str | None = None) -> list[str]:
        """The topics of a message that asks several things ("c quand la date limite pis c'est
        combien payé?"): its clauses, split at question marks and at `clause_words` that a
        question word follows, each matched on its own; the distinct confident topics in order,
        help pseudo-topics left out. One topic or none: the message asks one thing (or nothing
        clear), and `match` decides."""
        if not isinstance(text, str):
            return []
        found: list[str] = []
        for clause in self._clause_breaks.split(text):
            topic = self.match(clause, lang, pending=pending).topic if clause and clause.strip() else None
            if topic and not topic.startswith(HELP_TOPIC_PREFIX) and topic not in found:
                found.append(topic)
        return found if len(found) > 1 else []

    def _decide(self, by_topic: npt.NDArray[np.float64], foreign: float) -> Match:
        """The answer, the suggestions, or nothing, from each topic's score (only the best few are sorted)."""
        outside = foreign
        if self._topic_names and self._topic_names[0] == OUT_OF_SCOPE:  # "" sorts first
            outside = max(outside, float(by_topic[0]))
            by_topic[0] = -1.0
        count = min(4, len(by_topic))
        best_few = np.argpartition(-by_topic, count - 1)[:count]
        ranked = [
            Scored(self._topic_names[int(i)], round(min(1.0, float(by_topic[i])), 4))
            for i in sorted(best_few, key=lambda i: (-by_topic[i], i))
            if by_topic[i] > 0
        ]
        if not ranked:
            return NO_MATCH
        best = ranked[0]
        if outside >= best.score:  # closer to small talk, weather, other subjects: no guess at all
            return Match(None, best.score, ())
        plausible = tuple(s for s in ranked if s.score >= self._data.suggest_threshold)
        if best.score >= self._data.answer_threshold and not self._ambiguous(best, ranked[1:]):
            return Match(best.topic, best.score, plausible[1:4])
        return Match(None, best.score, plausible[:3])

    def _ambiguous(self, best: Scored, others: list[Scored]) -> bool:
        """Two FAQ topics almost as good ("quand?": the dates or the deadline): better to ask.

        The help of a dialog question never makes an FAQ topic ambiguous (it only matters while
        that question is pending), and a help topic that wins is answered as it is.
        """
        if best.topic.startswith(HELP_TOPIC_PREFIX):
            return False
        rival = next((s for s in others if not s.topic.startswith(HELP_TOPIC_PREFIX)), None)
        return rival is not None and rival.score >= best.score * (1 - self._data.ambiguity_margin)
