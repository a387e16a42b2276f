"""Input that is not an answer: a question, a greeting, thanks. The FAQ plugs in as a hook."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Protocol

from .outputs import Output
from .parsing import normalize


class Interruption(StrEnum):
    QUESTION = "question"
    GREETING = "greeting"
    THANKS = "thanks"


class InterruptHook(Protocol):
    """Answers what is not an answer (the FAQ): outputs, or None when it has nothing good to say.

    `programs` are the offers the person chose (empty: none yet); `pending` is the fact of the
    question waiting for an answer, if any, so that a question about it gets its own help.
    """

    def answer(
        self, text: str, lang: str, programs: Sequence[str], today: date, *, pending: str | None, sure_only: bool
    ) -> list[Output] | None:
        """A typed question. With `sure_only` (text that may be a mistyped answer), only a
        confident answer; otherwise an answer, "did you mean" choices, or an honest "I don't know"."""
        ...

    def topic(self, topic: str, lang: str, programs: Sequence[str], today: date) -> list[Output] | None:
        """The answer of one topic, chosen with a "did you mean" button; None for an unknown topic."""
        ...


_QUESTION_WORDS = (
    "quand",
    "combien",
    "comment",
    "pourquoi",
    "ou",
    "qui",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "est-ce",
    "when",
    "how",
    "why",
    "where",
    "who",
    "what",
    "which",
    "is there",
    "are there",
    "can i",
    "do i",
    "does",
    "puis-je",
    "y a-t-il",
    "c'est quoi",
    "cest quoi",
    "c quoi",
    "ces quoi",
)
# Whole words only: "quelques mois" and "however many" are answers, not questions.
_QUESTION_START = re.compile(r"^(?:" + "|".join(re.escape(w) for w in _QUESTION_WORDS) + r")(?![\w'-])")
_GREETINGS = {"bonjour", "bonsoir", "salut", "allo", "coucou", "hello", "hi", "hey", "good morning", "good evening"}
_THANKS = {"merci", "merci beaucoup", "thanks", "thank you", "thx", "super merci"}


def classify(text: str) -> Interruption | None:
    """What kind of interruption a text is, if it is one."""
    clean = normalize(text)
    bare = re.sub(r"[!.,?\s]+$", "", clean)
    if bare in _GREETINGS:
        return Interruption.GREETING
    if bare in _THANKS:
        return Interruption.THANKS
    if clean.endswith("?") or _QUESTION_START.match(clean):
        return Interruption.QUESTION
    return None
