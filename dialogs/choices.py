"""Closed choices and yes/no as people type them, in French or English."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rules import N_

from .dont_know import says_dont_know
from .parsing import Invalid, Parsed, normalize

_YES = {
    "oui",
    "o",
    "yes",
    "y",
    "ouais",
    "ouaip",
    "yep",
    "yup",
    "yeah",
    "vrai",
    "true",
    "absolument",
    "absolutely",
    "certain",
    "certaine",
    "certainement",
    "certainly",
    "definitely",
    "evidemment",
    "sure",
    "ok",
    "d'accord",
    "exact",
    "exactement",
}
_NO = {
    "non",
    "n",
    "no",
    "nope",
    "nah",
    "nan",
    "faux",
    "false",
    "jamais",
    "never",
    "aucun",
    "aucune",
    "none",
    "pantoute",  # Québec: "pas pantoute", not at all
}
# Words said before the answer that change nothing ("ben oui", "euh non", "well, yes").
_LEADING_FILLER = re.compile(r"^(?:ben|bin|bah|euh|eh|ah|oh|well|um|uh)\b[\s,]*")
_YES_PHRASES = ("bien sur", "of course", "je pense que oui", "i think so", "yes i do", "i do", "tout a fait")
_NO_PHRASES = (
    "pas pantoute",
    "pas du tout",
    "not at all",
    "pas vraiment",
    "not really",
    "je ne pense pas",
    "i don't think so",
    "i do not",
    "je n'en ai pas",
    "je n'ai pas",
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", normalize(text))


def parse_yes_no(text: str) -> Parsed | Invalid:
    """oui/non/yes/no/o/n/y, everyday variants, and answers that start with one ("oui je pense").

    "No idea" or "aucune idée" start with a "no" word but are not a no: refused here, so that a
    caller that does not look for "I don't know" first still never records a false answer.
    """
    if says_dont_know(text):
        return Invalid(N_("parse.yes_no"))
    clean = normalize(text).strip(" .!")
    while (bare := _LEADING_FILLER.sub("", clean, count=1)) != clean and bare:
        clean = bare
    if clean.startswith(_NO_PHRASES):
        return Parsed(False)
    if clean.startswith(_YES_PHRASES):
        return Parsed(True)
    words = _words(clean)
    if not words:
        return Invalid(N_("parse.yes_no"))
    first, rest = words[0], set(words[1:])
    if (clean in _YES or first in _YES) and not rest & (_NO - {"aucun", "aucune", "none"}):
        return Parsed(True)
    if (clean in _NO or first in _NO) and not rest & _YES:
        return Parsed(False)
    return Invalid(N_("parse.yes_no"))


# Words that say nothing about which option is meant ("je fais ma maîtrise", "I am a Canadian citizen").
_FILLER_WORDS = {
    "je",
    "j",
    "j'ai",
    "ai",
    "suis",
    "fais",
    "ma",
    "mon",
    "mes",
    "en",
    "un",
    "une",
    "le",
    "la",
    "les",
    "l",
    "de",
    "du",
    "des",
    "d",
    "au",
    "aux",
    "et",
    "ou",
    "c'est",
    "est",
    "actuellement",
    "presentement",
    "canada",
    "i",
    "i'm",
    "im",
    "am",
    "a",
    "an",
    "the",
    "my",
    "in",
    "of",
    "do",
    "doing",
    "currently",
    "have",
    "it",
    "is",
    "and",
    "or",
}


@dataclass(frozen=True)
class Option:
    """A closed choice: its stable id and every label or synonym it may be typed as (both languages)."""

    id: str
    labels: Sequence[str]


def _score(words: list[str], label: str) -> int:
    """0 unless every typed word begins a word of the label; whole words count double."""
    label_words = _words(label)
    score = 0
    for word in words:
        if word in label_words:
            score += 2
        elif len(word) >= 3 and any(lw.startswith(word) for lw in label_words):
            score += 1
        else:
            return 0
    return score


def parse_choice(text: str, options: Sequence[Option]) -> Parsed | Invalid:
    """The one option whose number (1-based), id, label or synonym the text names; else Invalid."""
    clean = normalize(text).strip(" .!")
    if not clean:
        return Invalid(N_("parse.choice.none"))
    if clean.isdigit() and 1 <= int(clean) <= len(options):
        return Parsed(options[int(clean) - 1].id)
    exact = [o for o in options if clean == normalize(o.id) or clean in (normalize(label) for label in o.labels)]
    if len(exact) == 1:
        return Parsed(exact[0].id)
    words = [w for w in _words(clean) if w not in _FILLER_WORDS]
    if not words:
        return Invalid(N_("parse.choice.none"))
    scores = {o.id: max((_score(words, label) for label in o.labels), default=0) for o in options}
    best = max(scores.values(), default=0)
    if best == 0:
        return Invalid(N_("parse.choice.none"))
    winners = [option_id for option_id, score in scores.items() if score == best]
    if len(winners) > 1:
        return Invalid(N_("parse.choice.ambiguous"))
    return Parsed(winners[0])
