"""Saying "I don't know", in French or English, as people type it.

Such an answer sets the question aside as unknown (like `/skip`): the verdict says what is
missing. It must never be read as an answer: "aucune idée" or "no idea" begin with a word that
means "no", so callers look for these phrases before any other parser.
"""

from __future__ import annotations

import re

from .parsing import normalize

# As people write them; compared without accents, case, apostrophes or punctuation.
DONT_KNOW_PHRASES = frozenset(
    {
        # French, including Québec and spoken spellings
        "je ne sais pas",
        "je sais pas",
        "j'sais pas",
        "j'sais pô",
        "chais pas",
        "chai pas",
        "ché pas",
        "chépa",
        "jsp",  # texting: "j'sais pas"
        "j sais pas",
        "sais pas",
        "je ne sais vraiment pas",
        "je sais vraiment pas",
        "je ne sais plus",
        "je sais plus",
        "je ne le sais pas",
        "je le sais pas",
        "je l'ignore",
        "j'en sais rien",
        "je n'en sais rien",
        "aucune idée",
        "aucune espèce d'idée",
        "pas d'idée",
        "j'ai aucune idée",
        "je n'ai aucune idée",
        "j'en ai aucune idée",
        "je n'en ai aucune idée",
        "pas sûr",
        "pas sûre",
        "pas sûr(e)",
        "pas certain",
        "pas certaine",
        "je ne suis pas sûr",
        "je ne suis pas sûre",
        "je suis pas sûr",
        "je suis pas sûre",
        "chu pas sûr",
        "chu pas sûre",
        "je ne suis pas certain",
        "je ne suis pas certaine",
        "je suis pas certain",
        "je suis pas certaine",
        "incertain",
        "incertaine",
        "je ne me souviens pas",
        "je me souviens pas",
        "je ne m'en souviens pas",
        "je m'en souviens pas",
        "je ne me rappelle pas",
        "je me rappelle pas",
        "je ne m'en rappelle pas",
        "inconnu",
        "inconnue",
        "nsp",
        # English
        "i don't know",
        "i do not know",
        "don't know",
        "do not know",
        "i really don't know",
        "dunno",
        "i dunno",
        "idk",
        "not sure",
        "i'm not sure",
        "i am not sure",
        "unsure",
        "i'm unsure",
        "i am unsure",
        "not certain",
        "i'm not certain",
        "i am not certain",
        "no idea",
        "i have no idea",
        "i've no idea",
        "no clue",
        "i have no clue",
        "not a clue",
        "i don't remember",
        "i do not remember",
        "don't remember",
        "i can't remember",
        "i cannot remember",
        "can't remember",
        "i forget",
        "i forgot",
        "unknown",
        "beats me",
        "who knows",
    }
)
# Words around the phrase that change nothing: "euh, je ne sais pas trop", "honestly, no idea, sorry".
_BEFORE = (
    *("euh", "heu", "hmm", "hum", "ben", "bah", "bof", "oh", "ah", "honnetement", "franchement", "desole", "desolee"),
    *("well", "um", "uh", "honestly", "sorry"),
)
_AFTER = (
    *("trop", "vraiment", "du tout", "encore", "exactement", "non plus", "desole", "desolee", "malheureusement"),
    *("really", "at all", "yet", "exactly", "either", "sorry", "unfortunately"),
)


def _canonical(text: str) -> str:
    """Lower case, no accents, no apostrophes ("j'sais" = "jsais"), other punctuation as spaces."""
    clean = normalize(text).replace("'", "")
    return re.sub(r"[^a-z0-9]+", " ", clean).strip()


_PHRASES = frozenset(_canonical(phrase) for phrase in DONT_KNOW_PHRASES)
_BEFORE_RE = re.compile(r"^(?:(?:" + "|".join(_BEFORE) + r") )+")
_AFTER_RE = re.compile(r"(?: (?:" + "|".join(_AFTER) + r"))+$")


def says_dont_know(text: str) -> bool:
    """Whether the whole text says "I don't know" (a phrase above, maybe with "euh" or "trop" around it)."""
    clean = _canonical(text)
    if clean in _PHRASES:
        return True
    trimmed = _AFTER_RE.sub("", _BEFORE_RE.sub("", clean))
    return trimmed in _PHRASES
