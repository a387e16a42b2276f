"""/faq_history: the versions of a topic's answers, newest first, ten at a time; any of them can be
made live again (a restore is a new version, checked against today's offers like a new text)."""

from __future__ import annotations

from typing import Any

from rules import N_

from ..faq import editing, store
from ..i18n import format_day, render
from ..render import Rendered
from .desk import Desk, Step
from .faq_editor import as_number, ask_topic

AUTHOR_ROLES = {
    "admin": N_("staff.role.admin"),
    "staff": N_("staff.role.staff"),
    "organizer": N_("staff.role.organizer"),
    "import": N_("staff.role.import"),
}


async def start(desk: Desk, arg: str) -> None:
    topic = arg.strip().lower()
    if topic in desk.faq.topics():
        desk.begin("history", Step.LIST)
        await _list(desk, topic)
        return
    desk.begin("history", Step.TOPIC)
    ask_topic(desk, "pick", N_("staff.history.pick_topic"), new=False)


async def press(desk: Desk, action: str, arg: str) -> None:
    step = desk.step
    if step == Step.TOPIC and action == "pick" and arg in desk.faq.topics():
        await _list(desk, arg)
    elif step == Step.LIST and action == "more" and as_number(arg) is not None:
        await _list(desk, desk.state["topic"], as_number(arg) or 0)
    elif step == Step.LIST and action == "restore" and as_number(arg) in desk.state.get("shown", []):
        await _restore(desk, int(arg))
    else:
        desk.stale()


def _version_line(desk: Desk, revision: Any) -> str:
    scope = desk.text(N_("staff.faq.all_offers"))
    if revision.program_id is not None:
        program = desk.faq.programs.get(revision.program_id)
        scope = program.short_title.localized().in_language(desk.lang) if program else revision.program_id
    text = revision.text_fr if desk.lang == "fr" else revision.text_en
    excerpt = desk.text(N_("staff.history.builtin")) if text is None else " ".join(text.split())[:120]
    return desk.text(
        N_("staff.history.line"),
        number=str(revision.id),
        day=format_day(revision.created_at.date(), desk.lang),
        role=desk.text(AUTHOR_ROLES.get(revision.author_role, N_("staff.role.staff"))),
        offer=scope,
        excerpt=excerpt,
    )


PAGE = 10  # versions shown at a time


async def _list(desk: Desk, topic: str, offset: int = 0) -> None:
    """A page of versions. Older pages keep the list's nonce: every page shown stays usable."""
    versions = await store.history(desk.session, topic, PAGE, offset)
    title = desk.faq.title(topic, desk.lang) or topic
    if not versions and offset:  # a forged offset past the end
        desk.stale()
        return
    if offset:
        desk.state["shown"] = [*desk.state.get("shown", []), *(v.id for v in versions)]
    else:
        desk.goto(Step.LIST, topic=topic, shown=[v.id for v in versions])
    if not versions:
        desk.end()
        desk.show(Rendered(desk.text(N_("staff.history.none"), topic=title)))
        return
    lines = "\n".join(_version_line(desk, v) for v in versions)
    buttons = [(f"restore:{v.id}", desk.text(N_("staff.button.restore"), number=str(v.id))) for v in versions]
    if len(versions) == PAGE:
        buttons.append((f"more:{offset + PAGE}", desk.text(N_("staff.button.older"))))
    desk.say(N_("staff.history.list"), *buttons, topic=title, versions=lines or "—")


async def _restore(desk: Desk, number: int) -> None:
    restored = await editing.restore(
        desk.session, str(desk.state.get("topic")), number, desk.faq.programs, desk.author, desk.at
    )
    if isinstance(restored, editing.Unknown):
        desk.stale()
        return
    if isinstance(restored, editing.Refused):  # the offers changed since: it no longer fills well
        desk.show(Rendered(desk.text(N_("staff.faq.refused"), reason=render(restored.problem, desk.lang))))
        return
    desk.end()
    desk.show(Rendered(desk.text(N_("staff.history.restored"), number=str(number), new=str(restored.id))))
