"""The FAQ as every channel uses it: a question in, an answer (or "did you mean", or an honest
"I don't know") out, from the offers' data and what staff published.

One `FaqService` per process holds a snapshot of staff content and the matcher built from it.
`refresh` compares one number with the database before each turn that may need the FAQ: a
publication in any process is live in every other at its next message, without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.outputs import FAQ_STEP, AnswerBlock, Button, FaqAnswer, Output, Say, Suggestions, Unanswered
from dialogs.questions import QUESTIONS
from rules import N_, Localized, Message, Program

from ..i18n import render
from ..render import label_text
from . import store
from .answers import BUILTIN_TOPICS, default_template, fill, topic_title
from .matcher import HELP_TOPIC_PREFIX, PENDING_HELP_TOPIC, Example, Match, Matcher, MatchingData, load_matching_data
from .telegram_html import to_plain


@dataclass
class FaqService:
    """Answers questions about the offers; implements the dialog engine's interruption hook."""

    programs: Mapping[str, Program]
    data: MatchingData
    content: store.FaqContent = store.EMPTY
    matcher: Matcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = Matcher.build(self.data)

    @classmethod
    def create(cls, programs: Mapping[str, Program], data: MatchingData | None = None) -> FaqService:
        return cls(programs, data or load_matching_data())

    # --- staff content -----------------------------------------------------------------------

    async def refresh(self, session: AsyncSession) -> None:
        """Take what staff changed since the last look (one small statement when nothing did)."""
        if await store.generation(session) > self.content.generation:
            self.install(await store.load(session))

    def install(self, content: store.FaqContent) -> None:
        """Take a snapshot, unless a newer one is already installed (two turns refreshing at once)."""
        if content.generation <= self.content.generation:
            return
        examples_changed = content.examples != self.content.examples
        self.content = content
        if examples_changed:
            extra = [Example(e.topic, e.lang, e.text) for e in content.examples]
            self.matcher = Matcher.build(self.data, extra)

    def topics(self) -> list[str]:
        """Every topic people can be answered on: the contract's, then those staff created."""
        return [*BUILTIN_TOPICS, *(t for t in self.content.topics if t not in BUILTIN_TOPICS)]

    def title(self, topic: str, lang: str) -> str | None:
        if topic in self.content.topics:
            fr, en = self.content.topics[topic]
            return en if lang == "en" else fr
        return topic_title(topic, lang)

    def label(self, topic: str) -> Localized | None:
        fr, en = self.title(topic, "fr"), self.title(topic, "en")
        return None if fr is None or en is None else Localized(fr, en)

    def template(self, topic: str, program: Program, lang: str) -> str | None:
        """The live template of a topic for an offer: its own staff text, else staff text for all
        offers, else the built-in answer. A version with no text withdraws staff text at its level."""
        for key in ((topic, program.id), (topic, store.ALL_OFFERS)):
            published = self.content.answers.get(key)
            if published is not None and published.text(lang) is not None:
                return published.text(lang)
        return default_template(topic, program, lang)

    def text(self, topic: str, program: Program, lang: str, today: date) -> str | None:
        template = self.template(topic, program, lang)
        return None if template is None else fill(template, program, lang, today)

    # --- answering ---------------------------------------------------------------------------

    def offers(self, chosen: Sequence[str]) -> list[Program]:
        """The offers a person chose, else every offer."""
        picked = [self.programs[p] for p in chosen if p in self.programs]
        return picked or list(self.programs.values())

    def topic(self, topic: str, lang: str, programs: Sequence[str], today: date) -> list[Output] | None:
        """A topic's answer for the person's offers: one block per offer, headed when several."""
        if topic.startswith(HELP_TOPIC_PREFIX):
            question = QUESTIONS.get(topic.removeprefix(HELP_TOPIC_PREFIX))
            return None if question is None else [Say(Message(question.help))]
        offers = self.offers(programs)
        texts = [(p, self.text(topic, p, lang, today)) for p in offers]
        blocks = tuple(
            AnswerBlock(text, p.short_title.localized() if len(offers) > 1 else None) for p, text in texts if text
        )
        if not blocks:
            return None
        return [FaqAnswer(topic, None, blocks)]  # each answer opens with its own bold label

    def answer(
        self, text: str, lang: str, programs: Sequence[str], today: date, *, pending: str | None, sure_only: bool
    ) -> list[Output] | None:
        """The engine's hook: answer, suggest, or say honestly that there is no good answer."""
        if not any(char.isalnum() for char in text):  # "???", "?!": nothing to answer, nothing to keep
            return None if sure_only else [Say(Message(N_("interrupt.not_understood")))]
        several = self.matcher.topics_asked(text, lang, pending=pending)[:3]
        if several:  # two questions in one message: each answered
            answers = [output for topic in several for output in self.topic(topic, lang, programs, today) or []]
            if answers:
                return answers
        match = self.matcher.match(text, lang, pending=pending)
        chosen = match.topic
        if chosen == PENDING_HELP_TOPIC:
            chosen = f"{HELP_TOPIC_PREFIX}{pending}" if pending else None
        if chosen is not None:
            answered = self.topic(chosen, lang, programs, today)
            if answered:
                return answered
        if sure_only or (match.score == 0 and not text.rstrip().endswith("?")):
            return None  # nothing to go on ("ok", "bof"): the dialog says it did not understand
        choices = [  # only topics with something to say for these offers
            s.topic for s in match.alternatives if self.label(s.topic) and self.topic(s.topic, lang, programs, today)
        ][:3]
        if choices:
            buttons = tuple(Button(f"{FAQ_STEP}:{t}", label) for t in choices if (label := self.label(t)) is not None)
            return [Unanswered(text), Suggestions(buttons)]
        return [Unanswered(text), self.dont_know(lang, programs, today)]

    def dont_know(self, lang: str, programs: Sequence[str], today: date) -> FaqAnswer:
        """No good answer: say so, and give each offer's contact (or where to ask) and /help."""
        offers = self.offers(programs)
        blocks = tuple(
            AnswerBlock(text, p.short_title.localized() if len(offers) > 1 else None)
            for p in offers
            if (text := self.text("contact", p, lang, today))
        )
        return FaqAnswer("", None, blocks, intro=Message(N_("faq.unknown")))

    def ask(self, text: str, lang: str, program: str | None, today: date) -> dict[str, Any]:
        """The command line's and Rasa's answer: the contract's JSON object, the answer as plain text."""
        match: Match = self.matcher.match(text, lang)
        programs = [program] if program else []
        topic = match.topic if match.topic != PENDING_HELP_TOPIC else None
        outputs = self.topic(topic, lang, programs, today) if topic else None
        if not outputs:
            topic = None
            outputs = [self.dont_know(lang, programs, today)]
        known = set(self.topics())  # the public topics: not the dialog's help pseudo-topics
        return {
            "topic": topic,
            "score": round(match.score, 3),
            "answer": plain_answer(outputs, lang),
            "alternatives": [s.topic for s in match.alternatives if s.topic in known],
        }


def plain_answer(outputs: Sequence[Output], lang: str) -> str:
    """Outputs as plain text (terminal, command line, JSON)."""
    parts: list[str] = []
    for output in outputs:
        if isinstance(output, Say):
            parts.append(render(output.message, lang))
        elif isinstance(output, FaqAnswer):
            if output.intro is not None:
                parts.append(render(output.intro, lang))
            for block in output.blocks:
                heading = None if block.heading is None else label_text(block.heading, lang)
                body = to_plain(block.html)
                parts.append(f"{heading}\n{body}" if heading else body)
    return "\n\n".join(parts)
