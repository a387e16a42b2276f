"""/broadcast: an organizer writes the French text, then the English, chooses the audience with
buttons (who, which offer, which language), sees how many people it reaches and each language
exactly as people will see it, then confirms or cancels. /broadcasts: the recent broadcasts with
their counts, and buttons to pause, resume or cancel a running one.

A text Telegram would refuse is refused with the reason, in the organizer's language; the draft
stays where it was. The desk checks the role and the button's nonce before anything here runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from rules import N_, Program

from ..broadcasts import store
from ..broadcasts.audience import Audience, Kind, count
from ..broadcasts.message import MAX_TEXT, broadcast_message
from ..broadcasts.progress import outcomes
from ..broadcasts.wording import counted
from ..faq.store import Author
from ..i18n import LANGUAGES, format_moment, render
from ..render import Rendered
from .desk import ButtonHandler, Desk, Step
from .roles import Role, telegram_user

ALL = "all"
BOTH = "both"
LIST_LENGTH = 8  # broadcasts shown by /broadcasts
KIND_LABELS = {
    Kind.SUBSCRIBERS: N_("broadcast.kind.subscribers"),
    Kind.ELIGIBLE: N_("broadcast.kind.eligible"),
    Kind.NOT_ELIGIBLE: N_("broadcast.kind.not_eligible"),
    Kind.INCOMPLETE: N_("broadcast.kind.incomplete"),
}
LANG_LABELS = {"fr": N_("broadcast.lang.fr"), "en": N_("broadcast.lang.en"), BOTH: N_("broadcast.lang.both")}
STATUS_LABELS = {
    "scheduled": N_("broadcast.status.scheduled"),
    "sending": N_("broadcast.status.sending"),
    "paused": N_("broadcast.status.paused"),
    "cancelled": N_("broadcast.status.cancelled"),
    "done": N_("broadcast.status.done"),
}


def _author(desk: Desk) -> Author:
    role = Role.ADMIN if Role.ADMIN in desk.roles else Role.ORGANIZER
    return Author(desk.person_id, role.value)


def _cancel_button(desk: Desk) -> tuple[str, str]:
    return ("cancel", desk.text(N_("staff.button.cancel")))


def _programs(desk: Desk) -> list[Program]:
    return list(desk.faq.programs.values())


def offer_name(program_id: str | None, lang: str, programs: Mapping[str, Program]) -> str:
    """An audience's offer as people call it in `lang` (all offers when none is named)."""
    if program_id is None:
        return render(N_("broadcast.offer.all"), lang)
    program = programs.get(program_id)
    return program.short_title.localized().in_language(lang) if program else program_id


def audience_words(audience: Audience, lang: str, programs: Mapping[str, Program]) -> str:
    """`Eligible — IOM Geneva… — in English`, in `lang` (Telegram's /broadcasts and the website)."""
    parts = [render(KIND_LABELS[audience.kind], lang), offer_name(audience.program, lang, programs)]
    parts.append(render(LANG_LABELS[audience.lang or BOTH], lang))
    return " — ".join(parts)


def _audience(desk: Desk) -> Audience:
    lang = desk.state.get("lang")
    return Audience(Kind(desk.state["kind"]), desk.state.get("program"), None if lang == BOTH else lang)


def describe(desk: Desk, audience: Audience) -> str:
    """`Eligible — IOM Geneva… — in English`, in the organizer's language."""
    return audience_words(audience, desk.lang, desk.faq.programs)


# --- /broadcast --------------------------------------------------------------------------------


async def start(desk: Desk, arg: str) -> None:
    desk.begin("broadcast", Step.BC_FR)
    desk.say(N_("broadcast.send_fr"), _cancel_button(desk), limit=MAX_TEXT)


async def typed(desk: Desk, text: str) -> None:
    """The French or the English text, checked; a refused one leaves the draft as it was."""
    if desk.step not in (Step.BC_FR, Step.BC_EN):
        return
    problem = store.text_problem(text)
    if problem is not None:
        desk.show(Rendered(desk.text(N_("broadcast.refused"), reason=render(problem, desk.lang))))
        return
    if desk.step == Step.BC_FR:
        desk.goto(Step.BC_EN, fr=text)
        desk.say(N_("broadcast.send_en"), _cancel_button(desk), limit=MAX_TEXT)
        return
    desk.goto(Step.BC_KIND, en=text)
    _ask_kind(desk)


def _ask_kind(desk: Desk) -> None:
    buttons = [(f"kind:{kind.value}", desk.text(label)) for kind, label in KIND_LABELS.items()]
    desk.say(N_("broadcast.pick_kind"), *buttons, _cancel_button(desk))


async def _pick_kind(desk: Desk, arg: str) -> None:
    if arg not in Kind.__members__.values():
        return desk.stale()
    programs = _programs(desk)
    desk.goto(Step.BC_OFFER, kind=arg, program=None, offers=[p.id for p in programs])  # what the buttons' indexes mean
    buttons = [(f"offer:{i}", p.short_title.localized().in_language(desk.lang)) for i, p in enumerate(programs)]
    if arg == Kind.SUBSCRIBERS:
        buttons.append((f"offer:{ALL}", desk.text(N_("broadcast.offer.all"))))
    desk.say(N_("broadcast.pick_offer"), *buttons, _cancel_button(desk))


async def _pick_offer(desk: Desk, arg: str) -> None:
    """An offer button: its index in the list shown with the buttons (kept in the flow's state), so
    that an offer imported or withdrawn meanwhile never makes a button pick another offer."""
    shown = [str(offer) for offer in desk.state.get("offers") or []]
    if arg == ALL and desk.state.get("kind") == Kind.SUBSCRIBERS:
        program = None
    elif arg.isascii() and arg.isdigit() and int(arg) < len(shown) and shown[int(arg)] in desk.faq.programs:
        program = shown[int(arg)]
    else:
        return desk.stale()
    desk.goto(Step.BC_LANG, program=program, offers=None)
    buttons = [(f"lang:{lang}", desk.text(LANG_LABELS[lang])) for lang in (BOTH, *LANGUAGES)]
    desk.say(N_("broadcast.pick_lang"), *buttons, _cancel_button(desk))


async def _pick_lang(desk: Desk, arg: str) -> None:
    if arg not in (BOTH, *LANGUAGES):
        return desk.stale()
    desk.goto(Step.BC_CONFIRM, lang=arg)
    await _show_preview(desk)


async def _show_preview(desk: Desk) -> None:
    """How many people, then each language they will receive exactly as they will see it."""
    audience = _audience(desk)
    reached = await count(desk.session, audience, desk.default_language)
    total = sum(reached.values())
    desk.show(
        Rendered(
            desk.text(
                N_("broadcast.summary"),
                audience=describe(desk, audience),
                people=counted("people", total, desk.lang),
                fr=reached["fr"],
                en=reached["en"],
            )
        )
    )
    for lang in LANGUAGES:
        if reached[lang] or total == 0:
            desk.show(Rendered(desk.text(N_("broadcast.as_seen"), language=desk.text(LANG_LABELS[lang]))))
            desk.show(broadcast_message(desk.state[lang], lang))
    buttons = [("audience", desk.text(N_("broadcast.button.audience"))), _cancel_button(desk)]
    if total:
        send = ("send", desk.text(N_("broadcast.button.send")))
        desk.say(N_("broadcast.confirm"), send, *buttons, people=counted("people", total, desk.lang))
    else:
        desk.say(N_("broadcast.nobody"), *buttons)


async def _change_audience(desk: Desk, arg: str) -> None:
    desk.goto(Step.BC_KIND)
    _ask_kind(desk)


async def _send(desk: Desk, arg: str) -> None:
    """Create the broadcast and its outbox rows (this turn's transaction); progress goes to this chat."""
    audience = _audience(desk)
    try:
        broadcast = await store.create(
            desk.session,
            desk.state["fr"],
            desk.state["en"],
            audience,
            "telegram",
            _author(desk),
            desk.at,
            default_language=desk.default_language,
            progress_chat_id=telegram_user(desk.key),
            progress_lang=desk.lang,
        )
    except store.TextProblem as problem:  # cannot happen with checked texts, unless the limits changed
        desk.show(Rendered(desk.text(N_("broadcast.refused"), reason=render(problem.message, desk.lang))))
        return
    desk.end()
    if not broadcast.total:
        desk.show(Rendered(desk.text(N_("broadcast.nobody"))))
        return
    people = counted("people", broadcast.total, desk.lang)
    desk.show(Rendered(desk.text(N_("broadcast.created"), id=str(broadcast.id), people=people)))


# The /broadcast flow's buttons: (step, action) -> handler; any other pair is a stale button.
BUTTONS: dict[tuple[str, str], ButtonHandler] = {
    (Step.BC_KIND, "kind"): _pick_kind,
    (Step.BC_OFFER, "offer"): _pick_offer,
    (Step.BC_LANG, "lang"): _pick_lang,
    (Step.BC_CONFIRM, "send"): _send,
    (Step.BC_CONFIRM, "audience"): _change_audience,
}


async def press(desk: Desk, action: str, arg: str) -> None:
    """A button of the /broadcast flow (nonce and role already checked): `Desk.press`."""
    await desk.press(BUTTONS, action, arg)


# --- /broadcasts -------------------------------------------------------------------------------


async def start_list(desk: Desk, arg: str) -> None:
    desk.begin("broadcasts", Step.BC_LIST)
    await _show_list(desk)


async def _show_list(desk: Desk) -> None:
    broadcasts = await store.recent(desk.session, LIST_LENGTH)
    if not broadcasts:
        desk.end()
        desk.show(Rendered(desk.text(N_("broadcast.list.empty"))))
        return
    lines: list[str] = []
    buttons: list[tuple[str, str]] = []
    for broadcast in broadcasts:
        audience = Audience.from_json(broadcast.audience)
        described = {"id": str(broadcast.id), "audience": describe(desk, audience)}
        if broadcast.status == store.SCHEDULED and broadcast.scheduled_at is not None:  # nobody queued yet
            when = format_moment(broadcast.scheduled_at, desk.lang, desk.zone)
            lines.append(desk.text(N_("broadcast.list.line_scheduled"), at=when, **described))
        else:
            counts = await store.counts(desk.session, broadcast)
            status = desk.text(STATUS_LABELS.get(broadcast.status, broadcast.status))
            sent = outcomes(counts, desk.lang, of_total=True)
            lines.append(desk.text(N_("broadcast.list.line"), status=status, **described, **sent))
        if broadcast.status == "sending":
            buttons.append((f"pause:{broadcast.id}", desk.text(N_("broadcast.button.pause"), id=str(broadcast.id))))
        if broadcast.status == "paused":
            buttons.append((f"resume:{broadcast.id}", desk.text(N_("broadcast.button.resume"), id=str(broadcast.id))))
        if broadcast.status in store.CANCELLABLE:  # a scheduled one can be cancelled before it starts
            buttons.append((f"stop:{broadcast.id}", desk.text(N_("broadcast.button.cancel"), id=str(broadcast.id))))
    desk.goto(Step.BC_LIST)
    desk.say(N_("broadcast.list"), *buttons, lines="\n".join(lines))


Change = Callable[..., Awaitable[object]]
CHANGES: dict[str, tuple[Change, str]] = {
    "pause": (store.pause, N_("broadcast.paused")),
    "resume": (store.resume, N_("broadcast.resumed")),
    "stop": (store.cancel, N_("broadcast.cancelled")),
}


async def press_list(desk: Desk, action: str, arg: str) -> None:
    """Pause, resume or cancel one broadcast; a change no longer possible changes nothing."""
    change = CHANGES.get(action)
    if desk.step != Step.BC_LIST or change is None or not (arg.isascii() and arg.isdigit() and len(arg) < 10):
        return desk.stale()
    apply, done = change
    changed = await apply(desk.session, int(arg), _author(desk), desk.at)
    key = done if changed is not None else N_("broadcast.unchanged")
    desk.show(Rendered(desk.text(key, id=arg)))
    await _show_list(desk)
