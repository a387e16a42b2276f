"""/faq: pick a topic and an offer (or all offers), see both languages as people see them, send the
French text, then the English, preview both exactly as people will see them, publish (live in
every process at their next message), undo. /faq_history: every version, each restorable.

Text that Telegram's HTML would refuse, or that names an unknown placeholder, is refused with the
reason before anything is published; a topic is always published in both languages at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rules import N_, Program

from ..faq import editing, store
from ..faq.answers import PLACEHOLDERS, check_template
from ..i18n import render
from ..render import Rendered
from .desk import ButtonHandler, Desk, Step

ALL = "all"


def _offer_ref(desk: Desk, ref: str) -> list[Program] | None:
    """The offers an answer applies to: `all`, or the index of one offer."""
    programs = list(desk.faq.programs.values())
    if ref == ALL:
        return programs
    index = as_number(ref)
    if index is not None and index < len(programs):
        return [programs[index]]
    return None


def _program_id(desk: Desk, ref: str) -> str | None:
    offers = _offer_ref(desk, ref)
    return None if ref == ALL or not offers else offers[0].id


def _scope_name(desk: Desk, ref: str) -> str:
    offers = _offer_ref(desk, ref) or []
    if ref == ALL:
        return desk.text(N_("staff.faq.all_offers"))
    return offers[0].short_title.localized().in_language(desk.lang) if offers else ref


def _topic_title(desk: Desk, topic: str) -> str:
    titles = desk.state.get("titles")
    if titles and desk.state.get("new"):
        return str(titles[0] if desk.lang == "fr" else titles[1])
    return desk.faq.title(topic, desk.lang) or topic


def _preview(desk: Desk, topic: str, ref: str, texts: dict[str, str] | None) -> None:
    """Each language for each offer of the scope, exactly as a person sees it."""
    offers = _offer_ref(desk, ref) or []
    for preview in editing.previews(desk.faq, topic, offers, texts, desk.today, all_offers=ref == ALL):
        offer = preview.program.short_title.localized().in_language(desk.lang)
        if preview.own_answer_stays:
            desk.show(Rendered(desk.text(N_("staff.faq.own_answer_stays"), offer=offer)))
            continue
        for lang in ("fr", "en"):
            rendered = preview.messages[lang]
            if rendered is None:
                desk.show(Rendered(desk.text(N_("staff.faq.no_answer"))))
                continue
            language = desk.text(N_("staff.faq.lang.fr") if lang == "fr" else N_("staff.faq.lang.en"))
            desk.show(Rendered(desk.text(N_("staff.faq.as_seen"), language=language, offer=offer)))
            desk.show(rendered)


# --- /faq ------------------------------------------------------------------------------------


async def start(desk: Desk, arg: str) -> None:
    desk.begin("faq", Step.TOPIC)
    ask_topic(desk, "pick", N_("staff.faq.pick_topic"), new=True)


def ask_topic(desk: Desk, action: str, key: str, *, new: bool) -> None:
    buttons = [(f"{action}:{t}", desk.faq.title(t, desk.lang) or t) for t in desk.faq.topics()]
    if new:
        buttons.append(("new", desk.text(N_("staff.faq.new_topic"))))
    desk.say(key, *buttons)


def _ask_offer(desk: Desk) -> None:
    buttons = [
        (f"offer:{i}", p.short_title.localized().in_language(desk.lang))
        for i, p in enumerate(desk.faq.programs.values())
    ]
    buttons.append((f"offer:{ALL}", desk.text(N_("staff.faq.all_offers"))))
    desk.say(N_("staff.faq.pick_offer"), *buttons, topic=_topic_title(desk, desk.state["topic"]))


def _ask_text(desk: Desk, lang: str) -> None:
    names = " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    key = N_("staff.faq.send_fr") if lang == "fr" else N_("staff.faq.send_en")
    desk.say(key, ("cancel", desk.text(N_("staff.button.cancel"))), placeholders=names)


async def _pick_topic(desk: Desk, arg: str) -> None:
    if arg not in desk.faq.topics():
        return desk.stale()
    desk.goto(Step.OFFER, topic=arg)
    _ask_offer(desk)


async def _new_topic(desk: Desk, arg: str) -> None:
    desk.goto(Step.NEW_FR, new=True)
    desk.say(N_("staff.faq.new_title_fr"), ("cancel", desk.text(N_("staff.button.cancel"))))


async def _pick_offer(desk: Desk, arg: str) -> None:
    if _offer_ref(desk, arg) is None:
        return desk.stale()
    _show_menu(desk, arg)


async def _edit(desk: Desk, arg: str) -> None:
    desk.goto(Step.FR)
    _ask_text(desk, "fr")


async def _ask_example(desk: Desk, arg: str) -> None:
    desk.goto(Step.EXAMPLE)
    desk.say(N_("staff.faq.send_example"), ("cancel", desk.text(N_("staff.button.cancel"))))


async def _withdraw(desk: Desk, arg: str) -> None:
    await _publish(desk, None)


async def _publish_draft(desk: Desk, arg: str) -> None:
    await _publish(desk, {"fr": desk.state["fr"], "en": desk.state["en"]})


async def _undo_button(desk: Desk, arg: str) -> None:
    await _undo(desk)


# The /faq flow's buttons: (step, action) -> handler; any other pair is a stale button.
BUTTONS: dict[tuple[str, str], ButtonHandler] = {
    (Step.TOPIC, "pick"): _pick_topic,
    (Step.TOPIC, "new"): _new_topic,
    (Step.OFFER, "offer"): _pick_offer,
    (Step.MENU, "edit"): _edit,
    (Step.MENU, "example"): _ask_example,
    (Step.MENU, "builtin"): _withdraw,
    (Step.PREVIEW, "publish"): _publish_draft,
    (Step.PREVIEW, "edit"): _edit,
    (Step.PUBLISHED, "undo"): _undo_button,
    (Step.PUBLISHED, "example"): _ask_example,
}


async def press(desk: Desk, action: str, arg: str) -> None:
    """A button of the /faq flow (its nonce already checked): `Desk.press`."""
    await desk.press(BUTTONS, action, arg)


def _show_menu(desk: Desk, ref: str) -> None:
    topic = desk.state["topic"]
    live = desk.faq.content.answers.get((topic, _program_id(desk, ref)))
    desk.goto(Step.MENU, offer=ref, base=live.revision if live else 0)
    if not desk.state.get("new"):
        desk.show(
            Rendered(desk.text(N_("staff.faq.current"), topic=_topic_title(desk, topic), offer=_scope_name(desk, ref)))
        )
        _preview(desk, topic, ref, None)
    buttons = [("edit", desk.text(N_("staff.button.edit")))]
    if not desk.state.get("new"):
        buttons.append(("example", desk.text(N_("staff.button.example"))))
        if editing.can_go_back(desk.faq, topic, _program_id(desk, ref)):
            buttons.append(("builtin", desk.text(N_("staff.button.builtin"))))
    buttons.append(("cancel", desk.text(N_("staff.button.cancel"))))
    desk.say(N_("staff.faq.menu"), *buttons)


async def typed(desk: Desk, text: str) -> None:
    """Text a staff member typed while a step waits for it (`desk.TEXT_STEPS`)."""
    readers: dict[str, Callable[[Desk, str], Awaitable[None]]] = {
        Step.NEW_FR: _take_title,
        Step.NEW_EN: _take_title,
        Step.FR: _take_text,
        Step.EN: _take_text,
        Step.EXAMPLE: _take_example,
    }
    reader = readers.get(desk.step or "")
    if reader is not None:
        await reader(desk, text.strip())


async def _take_title(desk: Desk, title: str) -> None:
    if editing.title_problem(title):  # the site's checks too: one rule whichever door
        desk.show(Rendered(desk.text(N_("staff.faq.bad_title"), limit=store.MAX_TITLE)))
        return
    titles = list(desk.state.get("titles") or ["", ""])
    french = desk.step == Step.NEW_FR
    titles[0 if french else 1] = title
    taken = editing.titled(desk.faq, (title, "") if french else ("", title))
    if taken is not None:  # two topics with one title could not be told apart on the buttons
        desk.show(Rendered(desk.text(N_("staff.faq.title_taken"), topic=_topic_title(desk, taken))))
        return
    if french:
        desk.goto(Step.NEW_EN, titles=titles)
        desk.say(N_("staff.faq.new_title_en"), ("cancel", desk.text(N_("staff.button.cancel"))))
        return
    topic = _new_topic_id(desk, titles[1])
    desk.goto(Step.FR, titles=titles, topic=topic, offer=ALL)
    _ask_text(desk, "fr")


def _new_topic_id(desk: Desk, title: str) -> str:
    return editing.new_topic_id(title, desk.faq.topics())


async def _take_text(desk: Desk, text: str) -> None:
    problem = check_template(text, _offer_ref(desk, desk.state.get("offer", ALL)))  # filled, for each offer
    if problem is not None:
        desk.show(Rendered(desk.text(N_("staff.faq.refused"), reason=render(problem, desk.lang))))
        return
    if desk.step == Step.FR:
        desk.goto(Step.EN, fr=text)
        _ask_text(desk, "en")
        return
    desk.goto(Step.PREVIEW, en=text)
    topic, ref = desk.state["topic"], desk.state.get("offer", ALL)
    desk.show(
        Rendered(desk.text(N_("staff.faq.preview"), topic=_topic_title(desk, topic), offer=_scope_name(desk, ref)))
    )
    _preview(desk, topic, ref, {"fr": desk.state["fr"], "en": text})
    desk.say(
        N_("staff.faq.confirm"),
        ("publish", desk.text(N_("staff.button.publish"))),
        ("edit", desk.text(N_("staff.button.edit"))),
        ("cancel", desk.text(N_("staff.button.cancel"))),
    )


async def _publish(desk: Desk, texts: dict[str, str] | None) -> None:
    topic, ref = desk.state["topic"], desk.state.get("offer", ALL)
    title = _topic_title(desk, topic)
    titles = desk.state["titles"] if desk.state.get("new") else None
    pair = (texts["fr"], texts["en"]) if texts else None
    revision = await editing.publish(
        desk.session,
        topic,
        _program_id(desk, ref),
        pair,
        desk.state.get("base", 0),
        desk.author,
        desk.at,
        new_titles=(titles[0], titles[1]) if titles else None,
    )
    if isinstance(revision, editing.ChangedMeanwhile):  # another staff member published since this editor opened
        desk.end()
        desk.show(Rendered(desk.text(N_("staff.faq.changed_meanwhile"), number=str(revision.live), topic=title)))
        return
    if isinstance(revision, editing.TopicTaken):
        desk.end()
        desk.stale()
        return
    desk.goto(Step.PUBLISHED, revision=revision.id, new=False)
    key = N_("staff.faq.published") if texts else N_("staff.faq.back_to_builtin")
    buttons = [("undo", desk.text(N_("staff.button.undo"))), ("example", desk.text(N_("staff.button.example")))]
    desk.say(key, *buttons, number=str(revision.id), topic=title)


async def _undo(desk: Desk) -> None:
    current = await store.revision(desk.session, int(desk.state["revision"]))
    if current is None:
        desk.end()
        desk.stale()
        return
    await store.serialize(desk.session)
    live = await store.live_revision(desk.session, current.topic, current.program_id)
    if live != current.id:  # published over since: undoing would throw away someone else's text
        desk.end()
        desk.show(Rendered(desk.text(N_("staff.faq.undo_outdated"), number=str(live))))
        return
    before = await store.previous(desk.session, current)
    texts = (before.text_fr, before.text_en) if before is not None else (None, None)
    restored = await store.publish(
        desk.session,
        current.topic,
        current.program_id,
        texts,
        desk.author,
        desk.at,
        restored_from=before.id if before else None,
    )
    desk.end()
    desk.show(Rendered(desk.text(N_("staff.faq.undone"), number=str(restored.id))))


async def _take_example(desk: Desk, text: str) -> None:
    if editing.example_problem(text):
        desk.show(Rendered(desk.text(N_("staff.faq.bad_example"), limit=store.MAX_EXAMPLE)))
        return
    topic = desk.state["topic"]
    await store.add_example(desk.session, topic, desk.lang, text, desk.author, desk.at)
    desk.end()
    desk.show(Rendered(desk.text(N_("staff.faq.example_added"), topic=_topic_title(desk, topic))))


def as_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
