"""Changing the FAQ, whichever door the change comes through (Telegram's /faq and /faq_history,
the staff website): one function per change, each checking what Telegram's flow checks and writing
the audit log through `store`. The callers turn the typed results into their own messages.

Every function runs inside the caller's transaction; a change that depends on what is live
calls `store.serialize` first, so two staff members publishing at once are ordered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.outputs import AnswerBlock, FaqAnswer
from rules import Message, Program

from ..render import Rendered, render_output
from ..storage.models import FaqExample, FaqRevision
from . import store
from .answers import BUILTIN_TOPICS, check_template, fill
from .service import FaqService

LANGS = ("fr", "en")


@dataclass(frozen=True)
class ChangedMeanwhile:
    """Someone published this answer since the editor was opened: `live` is the live version now."""

    live: int


@dataclass(frozen=True)
class TopicTaken:
    """A new topic's id was taken meanwhile (another staff member created it)."""


@dataclass(frozen=True)
class Refused:
    """A text cannot be published: `problem` says why (in the reader's language once rendered)."""

    problem: Message


@dataclass(frozen=True)
class Unknown:
    """The version asked for does not exist, or belongs to another topic (an old or forged request)."""


def new_topic_id(title: str, taken: Iterable[str]) -> str:
    """A stable id from the English title (`housing`, `housing_2`), never one already in use."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_title).strip("_")[:24] or "topic"
    if not base[0].isalpha() or base.startswith("help"):  # `help...` ids are the dialog's own pseudo-topics
        base = f"t_{base}"[:24]
    used = set(taken)
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # control, format (bidi, zero-width), line breaks
_JOINER = "\u200d"  # joins an emoji sequence (👩‍💻): allowed between visible characters


def title_problem(title: str) -> bool:
    """`store.title_problem`, and also a title with invisible characters (zero-width, bidi
    overrides, line separators): on a button it would look empty, reversed or like another."""
    hidden = any(c != _JOINER and unicodedata.category(c) in _INVISIBLE for c in title)
    return store.title_problem(title) or hidden or title.strip(_JOINER + " ") != title.strip()


def _plain(title: str) -> str:
    return " ".join(title.split()).casefold()


def titled(faq: FaqService, titles: tuple[str, str]) -> str | None:
    """The topic already called by one of these titles (French, English), else None: two topics
    with one title could not be told apart on the buttons people and staff pick from."""
    for topic in faq.topics():
        for lang, title in zip(LANGS, titles, strict=True):
            shown = faq.title(topic, lang)
            if title and shown is not None and _plain(shown) == _plain(title):
                return topic
    return None


def texts_problem(texts: Mapping[str, str], offers: Sequence[Program] | None) -> tuple[str, Message] | None:
    """The first language whose text cannot be published (filled for each of `offers`, both
    languages required) and why, else None."""
    for lang in LANGS:
        problem = check_template(texts.get(lang, ""), offers)
        if problem is not None:
            return lang, problem
    return None


def can_go_back(faq: FaqService, topic: str, program_id: str | None) -> bool:
    """Whether "back to the built-in answer" means something: staff text is live at this level, and
    there is something to go back to (a built-in topic, or an offer's own answer over the general one)."""
    live = faq.content.answers.get((topic, program_id))
    return live is not None and live.text_fr is not None and (topic in BUILTIN_TOPICS or program_id is not None)


async def publish(
    session: AsyncSession,
    topic: str,
    program_id: str | None,
    texts: tuple[str, str] | None,
    base: int,
    author: store.Author,
    at: datetime,
    *,
    new_titles: tuple[str, str] | None = None,
) -> FaqRevision | ChangedMeanwhile | TopicTaken:
    """A new live version of (topic, offer): both texts, or None for the built-in answer.

    `base` is the live version the editor was opened on: if another one went live since, nothing
    is published (their text would be lost). `new_titles`: the topic is created first, with them.
    The texts were checked by the caller (`texts_problem`), as they were typed.
    """
    await store.serialize(session)  # another staff member's change commits first, or waits for this one
    live = await store.live_revision(session, topic, program_id)
    if live != base:
        return ChangedMeanwhile(live)
    if new_titles is not None:
        if topic in BUILTIN_TOPICS or await store.topic_exists(session, topic):  # created meanwhile
            return TopicTaken()
        await store.create_topic(session, topic, new_titles, author, at)
    pair: tuple[str | None, str | None] = texts if texts is not None else (None, None)
    return await store.publish(session, topic, program_id, pair, author, at)


async def restore(
    session: AsyncSession,
    topic: str,
    number: int,
    programs: Mapping[str, Program],
    author: store.Author,
    at: datetime,
) -> FaqRevision | Refused | Unknown:
    """Version `number` of `topic` live again, as a new version; it is checked against today's
    offers like a new text (they may have changed since)."""
    await store.serialize(session)
    old = await store.revision(session, number)
    if old is None or old.topic != topic:
        return Unknown()
    program = programs.get(old.program_id) if old.program_id is not None else None
    offers = [program] if program is not None else None  # None: every offer
    for text in (old.text_fr, old.text_en):
        problem = None if text is None else check_template(text, offers)
        if problem is not None:
            return Refused(problem)
    return await store.publish(
        session, old.topic, old.program_id, (old.text_fr, old.text_en), author, at, restored_from=old.id
    )


async def restore_over(
    session: AsyncSession,
    topic: str,
    number: int,
    base: int,
    programs: Mapping[str, Program],
    author: store.Author,
    at: datetime,
) -> FaqRevision | Refused | Unknown | ChangedMeanwhile:
    """`restore`, unless another version of that answer went live since `base` was (a second
    click on a list, or someone else's change): then nothing is restored."""
    await store.serialize(session)
    old = await store.revision(session, number)
    if old is not None and old.topic == topic:
        live = await store.live_revision(session, topic, old.program_id)
        if live != base:
            return ChangedMeanwhile(live)
    return await restore(session, topic, number, programs, author, at)


def example_problem(text: str) -> bool:
    """Whether an example question cannot be added: empty or too long."""
    return not text or len(text) > store.MAX_EXAMPLE


async def add_example(
    session: AsyncSession, topic: str, lang: str, text: str, author: store.Author, at: datetime
) -> bool:
    """A staff member's example question for `topic`; False if the topic has it already (a second
    click, or two staff at once): nothing added."""
    await store.serialize(session)
    same = select(FaqExample.id).where(FaqExample.topic == topic, FaqExample.lang == lang, FaqExample.text == text)
    if await session.scalar(same.limit(1)) is not None:
        return False
    await store.add_example(session, topic, lang, text, author, at)
    return True


@dataclass(frozen=True)
class Preview:
    """One offer's answer as a person sees it: a message per language (None: no answer), or
    `own_answer_stays` when a text for all offers would not reach it (it has its own)."""

    program: Program
    own_answer_stays: bool
    messages: dict[str, Rendered | None]


def previews(
    faq: FaqService,
    topic: str,
    offers: Sequence[Program],
    texts: Mapping[str, str] | None,
    today: date,
    *,
    all_offers: bool,
) -> list[Preview]:
    """Each language for each offer, exactly as people see it: the live answer (`texts` None), or
    the texts being edited (for all offers when `all_offers`)."""
    shown: list[Preview] = []
    for program in offers:
        own = faq.content.answers.get((topic, program.id))
        if texts and all_offers and own is not None and own.text_fr is not None:  # its own answer wins
            shown.append(Preview(program, True, {}))
            continue
        messages: dict[str, Rendered | None] = {}
        for lang in LANGS:
            template = texts[lang] if texts else faq.template(topic, program, lang)
            if template is None:
                messages[lang] = None
                continue
            answer = FaqAnswer(topic, None, (AnswerBlock(fill(template, program, lang, today)),))
            messages[lang] = render_output(answer, lang)
        shown.append(Preview(program, False, messages))
    return shown


async def last_changes(session: AsyncSession) -> dict[str, FaqRevision]:
    """The latest version of each topic's answers (any offer), by topic."""
    latest = select(func.max(FaqRevision.id)).group_by(FaqRevision.topic)
    rows = await session.execute(select(FaqRevision).where(FaqRevision.id.in_(latest)))
    return {revision.topic: revision for revision in rows.scalars()}
