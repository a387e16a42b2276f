"""/faq_gaps: the questions the bot could not answer confidently, grouped, most frequent first, each
one tap away from becoming an example of a topic (matching learns it at once) or being dismissed.

Staff see the text and its language, and how many times it was asked: never who asked it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_

from ..faq import store
from ..faq.normalize import fold, split_words
from ..render import Rendered
from .desk import Desk, Step

SHOWN = 10
SIMILAR = 85  # rapidfuzz token-set ratio from which two questions count as the same


@dataclass
class Group:
    text: str  # the most recent wording
    lang: str
    ids: list[int]
    normal: str
    askers: set[int] = field(default_factory=set)  # how many people asked: one person asking 50 times is one

    def rank(self) -> tuple[int, int]:
        return (-len(self.askers), -len(self.ids))


def group(asked: list[store.Asked]) -> list[Group]:
    """Questions grouped by similarity of their normalised text (accents, case, SMS spellings
    aside), those asked by the most people first. Identical texts share a group at once; the fuzzy comparison
    runs between distinct texts only (at most `store.unanswered`'s limit of them)."""
    groups: list[Group] = []
    by_text: dict[tuple[str, str], Group] = {}
    for question in asked:
        normal = " ".join(split_words(fold(question.text)))
        same = by_text.get((question.lang, normal))
        if same is None:
            same = next(
                (g for g in groups if g.lang == question.lang and fuzz.token_set_ratio(normal, g.normal) >= SIMILAR),
                None,
            )
        if same is None:
            same = Group(question.text, question.lang, [], normal)
            groups.append(same)
        same.ids.append(question.id)
        same.askers.add(question.person_id if question.person_id is not None else -question.id)
        by_text[(question.lang, normal)] = same
    return sorted(groups, key=Group.rank)


async def add_to_topic(
    session: AsyncSession, still: Sequence[store.Asked], topic: str, author: store.Author, at: datetime
) -> None:
    """The newest of these waiting questions becomes an example of `topic`, tied to who asked it
    (their erasure removes it); all of them are handled. `still`: from `store.asked`, newest first.
    The one path for Telegram's /faq_gaps and the website's unanswered questions."""
    newest = still[0]
    await store.add_example(
        session, topic, newest.lang, newest.text[: store.MAX_EXAMPLE], author, at, asker=newest.person_id
    )
    await store.mark_handled(session, [q.id for q in still], at)


async def dismiss(session: AsyncSession, still: Sequence[store.Asked], author: store.Author, at: datetime) -> None:
    """These waiting questions need no answer: handled, and the audit log counts them (never their text)."""
    await store.mark_handled(session, [q.id for q in still], at)
    await store.record(session, author, "faq.dismiss", {"count": len(still)}, at)


async def start(desk: Desk, arg: str) -> None:
    groups = group(await store.unanswered(desk.session))[:SHOWN]
    if not groups:
        desk.end()
        desk.show(Rendered(desk.text(N_("staff.gaps.none"))))
        return
    # Only ids are kept in the staff member's state: never other people's words, which their
    # erasure must reach. The text is read again when it is used.
    desk.begin("gaps", Step.LIST, groups=[g.ids for g in groups])
    lines = "\n".join(
        desk.text(N_("staff.gaps.line"), number=str(i + 1), text=g.text, count=str(len(g.askers)), lang=g.lang)
        for i, g in enumerate(groups)
    )
    buttons = [(f"add:{i}", desk.text(N_("staff.gaps.add"), number=str(i + 1))) for i in range(len(groups))]
    buttons += [(f"dismiss:{i}", desk.text(N_("staff.gaps.dismiss"), number=str(i + 1))) for i in range(len(groups))]
    desk.say(N_("staff.gaps.list"), *buttons, questions=lines)


async def press(desk: Desk, action: str, arg: str) -> None:
    step, groups = desk.step, desk.state.get("groups", [])
    index = int(arg) if arg.isascii() and arg.isdigit() and int(arg) < len(groups) else None
    if step == Step.LIST and action in ("add", "dismiss") and index is not None:
        if action == "dismiss":
            await store.serialize(desk.session)  # two staff members, or a double tap: the second finds it handled
        still = await store.asked(desk.session, groups[index])
        if not still:  # handled by someone else meanwhile, or its askers erased
            desk.stale()
            await start(desk, "")
        elif action == "add":
            desk.goto(Step.GAP_TOPIC, chosen=index)
            buttons = [(f"to:{t}", desk.faq.title(t, desk.lang) or t) for t in desk.faq.topics()]
            desk.say(N_("staff.gaps.pick_topic"), *buttons, text=still[0].text)
        else:
            await dismiss(desk.session, still, desk.author, desk.at)
            await start(desk, "")
    elif step == Step.GAP_TOPIC and action == "to" and arg in desk.faq.topics():
        await store.serialize(desk.session)
        still = await store.asked(desk.session, groups[int(desk.state["chosen"])])
        if not still:
            desk.stale()
        else:
            await add_to_topic(desk.session, still, arg, desk.author, desk.at)
            desk.show(Rendered(desk.text(N_("staff.gaps.added"), topic=desk.faq.title(arg, desk.lang) or arg)))
        await start(desk, "")
    else:
        desk.stale()
