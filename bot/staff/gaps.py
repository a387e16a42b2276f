"""/faq_gaps: the questions the bot could not answer confidently, grouped, most frequent first, each
one tap away from becoming an example of a topic (matching learns it at once) or being dismissed.

Staff see the text and its language, and how many times it was asked: never who asked it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from rules import N_

from ..faq import store
from ..faq.normalize import fold, split_words
from ..render import Rendered
from .desk import Desk

SHOWN = 10
SIMILAR = 85  # rapidfuzz token-set ratio from which two questions count as the same


@dataclass
class Group:
    text: str  # the most recent wording
    lang: str
    ids: list[int]
    normal: str
    asker: int | None  # who asked that wording (never shown): an example made of it goes with them


def group(asked: list[store.Asked]) -> list[Group]:
    """Questions grouped by similarity of their normalised text (accents, case, SMS spellings
    aside), the most asked first."""
    groups: list[Group] = []
    for question in asked:
        normal = " ".join(split_words(fold(question.text)))
        for existing in groups:
            if existing.lang == question.lang and fuzz.token_set_ratio(normal, existing.normal) >= SIMILAR:
                existing.ids.append(question.id)
                break
        else:
            groups.append(Group(question.text, question.lang, [question.id], normal, question.person_id))
    return sorted(groups, key=lambda g: -len(g.ids))


async def start(desk: Desk, arg: str) -> None:
    groups = group(await store.unanswered(desk.session))[:SHOWN]
    if not groups:
        desk.end()
        desk.show(Rendered(desk.text(N_("staff.gaps.none"))))
        return
    listed = [{"text": g.text, "lang": g.lang, "ids": g.ids, "asker": g.asker} for g in groups]
    desk.begin("gaps", "list", groups=listed)
    lines = "\n".join(
        desk.text(N_("staff.gaps.line"), number=str(i + 1), text=g.text, count=str(len(g.ids)), lang=g.lang)
        for i, g in enumerate(groups)
    )
    buttons = [(f"add:{i}", desk.text(N_("staff.gaps.add"), number=str(i + 1))) for i in range(len(groups))]
    buttons += [(f"dismiss:{i}", desk.text(N_("staff.gaps.dismiss"), number=str(i + 1))) for i in range(len(groups))]
    desk.say(N_("staff.gaps.list"), *buttons, questions=lines)


async def press(desk: Desk, action: str, arg: str) -> None:
    phase, groups = desk.state.get("phase"), desk.state.get("groups", [])
    index = int(arg) if arg.isascii() and arg.isdigit() and int(arg) < len(groups) else None
    if phase == "list" and action == "add" and index is not None:
        desk.goto("topic", chosen=index)
        buttons = [(f"to:{t}", desk.faq.title(t, desk.lang) or t) for t in desk.faq.topics()]
        desk.say(N_("staff.gaps.pick_topic"), *buttons, text=groups[index]["text"])
    elif phase == "list" and action == "dismiss" and index is not None:
        await store.mark_handled(desk.session, groups[index]["ids"], desk.at)
        await store.record(desk.session, desk.author, "faq.dismiss", {"count": len(groups[index]["ids"])}, desk.at)
        await start(desk, "")
    elif phase == "topic" and action == "to" and arg in desk.faq.topics():
        chosen = groups[int(desk.state["chosen"])]
        text, asker = chosen["text"][:300], chosen.get("asker")
        await store.add_example(desk.session, arg, chosen["lang"], text, desk.author, desk.at, asker=asker)
        await store.mark_handled(desk.session, chosen["ids"], desk.at)
        desk.show(Rendered(desk.text(N_("staff.gaps.added"), topic=desk.faq.title(arg, desk.lang) or arg)))
        await start(desk, "")
    else:
        desk.show(Rendered(desk.text(N_("staff.stale"))))
