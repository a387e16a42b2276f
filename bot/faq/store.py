"""The FAQ's tables: published answers (every version kept), staff topics and examples, questions
the bot could not answer, and the audit log. Each function runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..storage import repo
from ..storage.models import AuditEntry, FaqExample, FaqRevision, FaqTopic, RoleGrant, UnansweredQuestion

MAX_TITLE = 80  # a staff topic's title: one line, on a button
MAX_EXAMPLE = 300  # an example question


def title_problem(title: str) -> bool:
    """Whether a topic title cannot be used: empty, too long, several lines, or characters that
    look like markup or placeholders (titles are plain text on buttons)."""
    return not title or len(title) > MAX_TITLE or "\n" in title or any(c in title for c in "<>&{}")


ALL_OFFERS = None  # `program_id` of an answer given for every offer without one of its own


@dataclass(frozen=True)
class Author:
    """Who makes a change: their row while they exist, and the role they acted in (kept after)."""

    person_id: int | None
    role: str


@dataclass(frozen=True)
class Published:
    """The live answer of one (topic, offer); both texts None: the built-in answer is live."""

    revision: int
    text_fr: str | None
    text_en: str | None

    def text(self, lang: str) -> str | None:
        return self.text_en if lang == "en" else self.text_fr


@dataclass(frozen=True)
class StaffExample:
    topic: str
    lang: str
    text: str
    from_question: bool = False  # someone's own question (from /faq_gaps): never copied out (export)


@dataclass(frozen=True)
class FaqContent:
    """Everything staff and admins changed, as one snapshot: what every process answers with.

    `generation` is the content version it was read at (`repo.content_version`).
    """

    generation: int
    answers: dict[tuple[str, str | None], Published]
    topics: dict[str, tuple[str, str]]  # staff topic id -> (French title, English title)
    examples: tuple[StaffExample, ...]
    grants: dict[int, frozenset[str]]  # Telegram user id -> roles granted from Telegram


EMPTY = FaqContent(-1, {}, {}, (), {})


async def generation(session: AsyncSession) -> int:
    """A number that grows, in commit order, with every change staff or admins make."""
    return await repo.content_version(session)


async def serialize(session: AsyncSession) -> None:
    """Before a change that depends on what is live: wait for any other change to commit, and
    count this one. What the transaction reads afterwards is up to date."""
    await repo.bump_content_version(session)


async def load(session: AsyncSession) -> FaqContent:
    """The live content: the latest revision of each (topic, offer), staff topics and examples."""
    stamp = await generation(session)
    answers: dict[tuple[str, str | None], Published] = {}
    for revision in (await session.execute(select(FaqRevision).order_by(FaqRevision.id))).scalars():
        answers[(revision.topic, revision.program_id)] = Published(revision.id, revision.text_fr, revision.text_en)
    topics = {
        topic.id: (topic.title_fr, topic.title_en)
        for topic in (await session.execute(select(FaqTopic).order_by(FaqTopic.id))).scalars()
    }
    examples = tuple(
        StaffExample(e.topic, e.lang, e.text, e.asker_id is not None)
        for e in (await session.execute(select(FaqExample).order_by(FaqExample.id))).scalars()
    )
    grants: dict[int, set[str]] = {}
    for grant in (await session.execute(select(RoleGrant))).scalars():
        grants.setdefault(grant.user_id, set()).add(grant.role)
    return FaqContent(stamp, answers, topics, examples, {uid: frozenset(roles) for uid, roles in grants.items()})


async def record(
    session: AsyncSession,
    author: Author,
    action: str,
    detail: dict[str, Any],
    at: datetime,
    *,
    subject: int | None = None,
) -> None:
    """One line of the audit log: who (their row and role), when, what (never a person's answers);
    `subject` is the Telegram user whose role changed."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=author.person_id,
            actor_role=author.role,
            action=action,
            subject_user_id=subject,
            detail=detail,
        )
    )
    await repo.bump_content_version(session)  # every process reloads once this commits


async def publish(
    session: AsyncSession,
    topic: str,
    program_id: str | None,
    texts: tuple[str | None, str | None],
    author: Author,
    at: datetime,
    *,
    restored_from: int | None = None,
) -> FaqRevision:
    """A new live version of an answer, in both languages at once (both None: the built-in one)."""
    text_fr, text_en = texts
    if (text_fr is None) != (text_en is None):
        raise ValueError("an answer is published in both languages or in neither")
    revision = FaqRevision(
        topic=topic,
        program_id=program_id,
        text_fr=text_fr,
        text_en=text_en,
        restored_from=restored_from,
        author_id=author.person_id,
        author_role=author.role,
        created_at=at,
    )
    session.add(revision)
    await session.flush()
    action = "faq.restore" if restored_from is not None else "faq.publish"
    detail = {"topic": topic, "program": program_id, "revision": revision.id, "restored_from": restored_from}
    await record(session, author, action, detail, at)
    return revision


async def history(session: AsyncSession, topic: str, limit: int = 10, offset: int = 0) -> list[FaqRevision]:
    """A page of the versions of a topic's answers (every offer), newest first."""
    query = (
        select(FaqRevision)
        .where(FaqRevision.topic == topic)
        .order_by(FaqRevision.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(query)).scalars())


async def revision(session: AsyncSession, revision_id: int) -> FaqRevision | None:
    return await session.get(FaqRevision, revision_id)


def _same_answer(topic: str, program_id: str | None) -> list[Any]:
    scope = FaqRevision.program_id.is_(None) if program_id is None else FaqRevision.program_id == program_id
    return [FaqRevision.topic == topic, scope]


async def live_revision(session: AsyncSession, topic: str, program_id: str | None) -> int:
    """The id of the live version of an answer (0: the built-in answer, never edited)."""
    latest = await session.scalar(select(func.max(FaqRevision.id)).where(*_same_answer(topic, program_id)))
    return int(latest or 0)


async def previous(session: AsyncSession, current: FaqRevision) -> FaqRevision | None:
    """The version of the same answer before `current` (None: the built-in answer was live)."""
    query = (
        select(FaqRevision)
        .where(*_same_answer(current.topic, current.program_id), FaqRevision.id < current.id)
        .order_by(FaqRevision.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_example(
    session: AsyncSession,
    topic: str,
    lang: str,
    text: str,
    author: Author,
    at: datetime,
    *,
    asker: int | None = None,
) -> None:
    """A new example question; `asker`: the person who asked it (their erasure removes it)."""
    session.add(
        FaqExample(
            topic=topic,
            lang=lang,
            text=text,
            asker_id=asker,
            author_id=author.person_id,
            author_role=author.role,
            created_at=at,
        )
    )
    await record(session, author, "faq.example", {"topic": topic, "lang": lang}, at)


async def topic_exists(session: AsyncSession, topic: str) -> bool:
    return await session.get(FaqTopic, topic) is not None


async def create_topic(
    session: AsyncSession, topic: str, titles: tuple[str, str], author: Author, at: datetime
) -> None:
    session.add(
        FaqTopic(
            id=topic,
            title_fr=titles[0],
            title_en=titles[1],
            created_by=author.person_id,
            created_role=author.role,
            created_at=at,
        )
    )
    await record(session, author, "faq.topic", {"topic": topic}, at)


@dataclass(frozen=True)
class Asked:
    id: int
    text: str
    lang: str
    person_id: int | None  # never shown to staff: it lets the person's erasure reach an example


async def unanswered(session: AsyncSession, limit: int = 500) -> list[Asked]:
    """The questions not handled yet, newest first (text and language only: never who asked)."""
    query = (
        select(UnansweredQuestion.id, UnansweredQuestion.text, UnansweredQuestion.lang, UnansweredQuestion.person_id)
        .where(UnansweredQuestion.handled_at.is_(None))
        .order_by(UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return [Asked(row.id, row.text, row.lang, row.person_id) for row in (await session.execute(query)).all()]


async def asked(session: AsyncSession, ids: Sequence[int]) -> list[Asked]:
    """Those of these questions still waiting for staff (an erased person's are gone), newest first."""
    query = (
        select(UnansweredQuestion.id, UnansweredQuestion.text, UnansweredQuestion.lang, UnansweredQuestion.person_id)
        .where(UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.handled_at.is_(None))
        .order_by(UnansweredQuestion.id.desc())
    )
    return [Asked(row.id, row.text, row.lang, row.person_id) for row in (await session.execute(query)).all()]


async def mark_handled(session: AsyncSession, ids: Sequence[int], at: datetime) -> None:
    if ids:
        await session.execute(
            update(UnansweredQuestion).where(UnansweredQuestion.id.in_(list(ids))).values(handled_at=at)
        )
