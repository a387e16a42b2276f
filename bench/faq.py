"""FAQ matching: accuracy on the held-out labelled set, time per question, and how cost grows with topics.

`python -m bench faq` prints: top-1 accuracy per language, out-of-scope rejection, questions forced
to a wrong topic, time per question (mean and p99 over every labelled question, several passes),
build time, the matcher's memory and the import time; then the same with 2 000 synthetic topics
added (ten generated examples each, in made-up words) to show how matching cost grows.
Figures only: times depend on the machine, so nothing here asserts on them.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Protocol

import yaml
from rapidfuzz import fuzz, process

from bot.faq.matcher import Example, Match, Matcher, MatchingData, load_matching_data
from bot.faq.normalize import fold

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "bot" / "faq" / "labelled_questions.yaml"
SYNTHETIC_TOPICS = 2_000
PASSES = 5

Labelled = tuple[str, str, str | None]  # text, lang, topic


def labelled() -> list[Labelled]:
    return [(i["text"], i["lang"], i["topic"]) for i in yaml.safe_load(LABELLED.read_text(encoding="utf-8"))]


def synthetic(count: int, seed: int = 8) -> tuple[list[Example], list[Labelled]]:
    """Topics in made-up words (so they neither help nor collide with real ones), and one question each."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ou", "ai")]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))

    common = [word() for _ in range(300)]  # words many topics share, as real topics share "stage"
    examples: list[Example] = []
    questions: list[Labelled] = []
    for number in range(count):
        topic, vocabulary = f"synthetic_{number:04d}", [word() for _ in range(12)]
        for index in range(10):
            words = rng.sample(vocabulary, 3) + rng.sample(common, 2)
            examples.append(Example(topic, "fr" if index % 2 else "en", " ".join(words) + "?"))
        # a paraphrase of its last example: two of its topic words, another of the topic's, other common words
        asked = [*words[:2], rng.choice(vocabulary), *rng.sample(common, 2)]
        questions.append((" ".join(rng.sample(asked, len(asked))), "en", topic))
    return examples, questions


def build(data: MatchingData, extra: list[Example]) -> tuple[Matcher, float, float]:
    """The matcher, its build time (best of three) and the memory it holds (MiB)."""
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        Matcher.build(data, extra)
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    matcher = Matcher.build(data, extra)
    for text, lang, _ in labelled():  # the memos of stems and corrections, as a running bot fills them
        matcher.match(text, lang)
    memory = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    return matcher, min(seconds), memory


class NearestExample:
    """The reference, written for the benchmark: each question's closest example by rapidfuzz's
    `token_set_ratio` on lower-case, accent-free text (what one would write first), with a cut-off."""

    def __init__(self, data: MatchingData, extra: list[Example], cutoff: float = 70) -> None:
        examples = [*data.examples, *data.out_of_scope, *extra]
        self.texts = [fold(e.text) for e in examples]
        self.topics = [e.topic for e in examples]
        self.cutoff = cutoff

    def match(self, text: str, lang: str | None = None, *, pending: str | None = None) -> Match:
        found = process.extractOne(fold(text), self.texts, scorer=fuzz.token_set_ratio, score_cutoff=self.cutoff)
        if found is None or not self.topics[found[2]]:
            return Match(None, 0.0, ())
        topic = self.topics[found[2]]
        if topic.startswith("help:") and topic != f"help:{pending}":
            return Match(None, 0.0, ())
        return Match(topic, found[1] / 100, ())


class Matching(Protocol):
    def match(self, text: str, lang: str | None = None, *, pending: str | None = None) -> Match: ...


def measure(matcher: Matching, items: list[Labelled]) -> dict[str, float]:
    """As tests/bot/faq/test_accuracy.py counts: top-1 is the best-ranked topic (answered, or offered
    first as "did you mean"); a question about a dialog question is asked while it is pending."""
    counts: Counter[str] = Counter()
    for text, lang, topic in items:
        pending = topic.removeprefix("help:") if topic and topic.startswith("help:") else None
        match = matcher.match(text, lang, pending=pending)
        found = match.topic
        first = found or (match.alternatives[0].topic if match.alternatives else None)
        if topic is None:
            counts["outside"] += 1
            counts["rejected"] += found is None
        else:
            counts[lang] += 1
            counts[f"{lang} right"] += first == topic
            counts[f"{lang} direct"] += found == topic
            counts["wrong"] += found is not None and found != topic
    timings = []
    for _ in range(PASSES):
        for text, lang, _ in items:
            start = time.perf_counter_ns()
            matcher.match(text, lang)
            timings.append(time.perf_counter_ns() - start)
    inside = counts["fr"] + counts["en"]
    figures = {f"top-1 {lang}": counts[f"{lang} right"] / counts[lang] for lang in ("fr", "en") if counts[lang]}
    figures |= {
        f"answered directly {lang}": counts[f"{lang} direct"] / counts[lang] for lang in ("fr", "en") if counts[lang]
    }
    if counts["outside"]:
        figures["out-of-scope rejected"] = counts["rejected"] / counts["outside"]
    figures["forced to a wrong topic"] = counts["wrong"] / max(1, inside)
    figures["mean µs"] = statistics.fmean(timings) / 1e3
    figures["p99 µs"] = statistics.quantiles(timings, n=100)[98] / 1e3
    return figures


def import_time() -> float:
    """Milliseconds to import the matcher in a fresh interpreter (numpy, rapidfuzz, PyStemmer, yaml)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import bot.faq.matcher"], capture_output=True, text=True, check=True
    )
    for line in result.stderr.splitlines():
        if line.rstrip().endswith("| bot.faq.matcher"):
            return int(line.split("|")[1]) / 1e3
    return float("nan")


def show(title: str, matcher: Matcher, seconds: float, memory: float, figures: dict[str, float]) -> None:
    print(f"{title}: {len(matcher.topics)} topics, built in {seconds * 1e3:.0f} ms, {memory:.1f} MiB")
    shares = ", ".join(f"{k} {v:.1%}" for k, v in figures.items() if not k.endswith("µs"))
    print(f"  {shares}")
    print(f"  per question: mean {figures['mean µs']:.0f} µs, p99 {figures['p99 µs']:.0f} µs")


def main() -> None:
    data = load_matching_data()
    items = labelled()
    start = time.perf_counter()
    load_matching_data()
    loading = time.perf_counter() - start
    print(f"FAQ matching ({len(items)} labelled questions, held out from the data file)")
    print(f"  import {import_time():.0f} ms, data file loaded in {loading * 1e3:.0f} ms")
    matcher, seconds, memory = build(data, [])
    ours = measure(matcher, items)
    show("shipped data", matcher, seconds, memory, ours)
    reference = measure(NearestExample(data, []), items)
    shares = ", ".join(f"{k} {v:.1%}" for k, v in reference.items() if not k.endswith("µs"))
    print(f"reference, nearest example by rapidfuzz token_set_ratio (same data, same run):\n  {shares}")
    print(f"  per question: mean {reference['mean µs']:.0f} µs, p99 {reference['p99 µs']:.0f} µs")
    print(
        "  ratios ours / reference: top-1 fr {:.2f}, en {:.2f}; time per question {:.2f}".format(
            ours["top-1 fr"] / reference["top-1 fr"],
            ours["top-1 en"] / reference["top-1 en"],
            ours["mean µs"] / reference["mean µs"],
        )
    )
    extra, questions = synthetic(SYNTHETIC_TOPICS)
    matcher, seconds, memory = build(data, extra)
    show(f"+ {SYNTHETIC_TOPICS} synthetic topics", matcher, seconds, memory, measure(matcher, items))
    synthetic_figures = measure(matcher, questions)
    print(
        f"  synthetic questions: top-1 {synthetic_figures['top-1 en']:.1%}, "
        f"mean {synthetic_figures['mean µs']:.0f} µs, p99 {synthetic_figures['p99 µs']:.0f} µs"
    )


if __name__ == "__main__":
    main()
