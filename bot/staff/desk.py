"""The staff desk: staff commands and buttons, checked against the person's roles every time.

A staff member's flow (editing an answer, going through unanswered questions) has its own dialog
state row (`staff`), so it never disturbs their own eligibility dialog. Buttons carry the flow's
one-time nonce (`staff:<nonce>:<action>:<arg>`): an old, replayed or forged button changes nothing.
Someone without the role gets a polite refusal, whatever they send.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message

from ..faq import store
from ..faq.service import FaqService
from ..i18n import render
from ..render import Rendered, RenderedButton
from ..services.effects import Effect, Reply
from ..services.inputs import Input, InputKind, PersonKey
from ..storage import repo
from .roles import ROLE_NAMES, Role, Roles, grant, granted, revoke, telegram_user

DIALOG = "staff"
PREFIX = "staff"
# Commands of the desk and the role each needs (None: anyone).
COMMANDS: dict[str, Role | None] = {
    "faq": Role.STAFF,
    "faq_history": Role.STAFF,
    "faq_gaps": Role.STAFF,
    "broadcast": Role.ORGANIZER,
    "broadcasts": Role.ORGANIZER,
    "cancel": None,  # the desk's only for people with a role (`claims`)
    "grant": Role.ADMIN,
    "revoke": Role.ADMIN,
    "roles": Role.ADMIN,
    "myid": None,
    "web": None,  # any role: a one-time link to the staff website
}
HELP_KEYS = {
    Role.STAFF: N_("staff.help.staff"),
    Role.ORGANIZER: N_("staff.help.organizer"),
    Role.ADMIN: N_("staff.help.admin"),
}
ROLE_LABELS = {
    Role.ADMIN: N_("staff.role.admin"),
    Role.STAFF: N_("staff.role.staff"),
    Role.ORGANIZER: N_("staff.role.organizer"),
}
# The role each flow's buttons and typed text need (the FAQ's flows: staff).
FLOW_ROLES: dict[str, Role] = {"broadcast": Role.ORGANIZER, "broadcasts": Role.ORGANIZER}
DRAFT_LIFETIME = timedelta(hours=1)  # a staff step left waiting longer no longer takes typed text


class Step(StrEnum):
    """Where a staff flow stands (saved as its value in the flow's state)."""

    TOPIC = "topic"  # /faq, /faq_history: which topic
    OFFER = "offer"  # which offer, or all offers
    MENU = "menu"  # edit, add an example, back to the general answer
    NEW_FR = "new_fr"  # a new topic's French title, typed
    NEW_EN = "new_en"  # its English title, typed
    FR = "fr"  # the French text, typed
    EN = "en"  # the English text, typed
    PREVIEW = "preview"  # both texts as people will see them: publish or edit
    PUBLISHED = "published"  # undo, or add an example
    EXAMPLE = "example"  # an example question, typed
    LIST = "list"  # /faq_history's versions, /faq_gaps' questions
    GAP_TOPIC = "gap_topic"  # /faq_gaps: which topic the chosen question is an example of
    BC_FR = "bc_fr"  # /broadcast: the French text, typed
    BC_EN = "bc_en"  # the English text, typed
    BC_KIND = "bc_kind"  # who: subscribers, eligible, not eligible, incomplete
    BC_OFFER = "bc_offer"  # which offer (or every offer, for subscribers)
    BC_LANG = "bc_lang"  # which language, or both
    BC_CONFIRM = "bc_confirm"  # the count and the preview: send, change the audience
    BC_LIST = "bc_list"  # /broadcasts: pause, resume, cancel


# waiting for typed text
TEXT_STEPS = frozenset({Step.NEW_FR, Step.NEW_EN, Step.FR, Step.EN, Step.EXAMPLE, Step.BC_FR, Step.BC_EN})


@dataclass
class Desk:
    """One staff action inside the person's turn (their row is locked, one transaction)."""

    session: AsyncSession
    person_id: int
    key: PersonKey
    lang: str
    roles: frozenset[Role]
    registry: Roles
    faq: FaqService
    at: datetime
    today: date
    state: dict[str, Any] = field(default_factory=dict)
    replies: list[Rendered] = field(default_factory=list)
    default_language: str = "fr"  # of people who chose none (a broadcast's audience), from `StaffDesk`
    web_link: WebLink | None = None  # from `StaffDesk`
    zone: tzinfo = UTC  # the bot's time zone, for the moments shown (a broadcast's start)

    # --- small helpers shared by the flows ----------------------------------------------------

    def text(self, key: str, **params: Any) -> str:
        return render(Message(key, params) if params else Message(key), self.lang)

    def say(self, key: str, *buttons: tuple[str, str], **params: Any) -> None:
        """A message; buttons as (action[:arg], label), bound to the flow's current nonce."""
        rendered = tuple(RenderedButton(f"{PREFIX}:{self.state['nonce']}:{a}", label) for a, label in buttons)
        self.replies.append(Rendered(self.text(key, **params), buttons=rendered))

    def show(self, rendered: Rendered) -> None:
        self.replies.append(rendered)

    @property
    def step(self) -> str | None:
        return self.state.get("phase")

    def begin(self, flow: str, phase: Step, **values: Any) -> None:
        """A new flow (any earlier one is dropped), with a fresh nonce for its buttons."""
        self.state = {
            "flow": flow,
            "phase": phase.value,
            "nonce": secrets.token_hex(3),
            "at": self.at.isoformat(),
            **values,
        }

    def goto(self, phase: Step, **values: Any) -> None:
        """The next step: a new nonce, so that the previous step's buttons are stale."""
        self.state.update(values, phase=phase.value, nonce=secrets.token_hex(3), at=self.at.isoformat())

    def stale(self) -> None:
        """A button that belongs to no step any more (old, replayed, forged): nothing changes."""
        self.replies.append(Rendered(self.text(N_("staff.stale"))))

    def end(self) -> None:
        self.state = {}

    async def press(self, buttons: Mapping[tuple[str, str], ButtonHandler], action: str, arg: str) -> None:
        """A button of a step-by-step flow (nonce and role already checked): `cancel` ends the flow
        at any step; otherwise the flow's (step, action) table says what to do, and a pair it does
        not have is a stale button (nothing changes)."""
        if action == "cancel":
            self.end()
            self.show(Rendered(self.text(N_("staff.cancelled"))))
            return
        handler = buttons.get((self.step or "", action))
        if handler is None:
            return self.stale()
        await handler(self, arg)

    @property
    def author(self) -> store.Author:
        role = Role.ADMIN if Role.ADMIN in self.roles else Role.STAFF
        return store.Author(self.person_id, role.value)


Handler = Callable[[Desk, str], Awaitable[None]]
# A one-time sign-in link to the staff website for a Telegram user, made now (None: no website)
WebLink = Callable[[int, datetime], str]
ButtonHandler = Handler  # a flow's button: (desk, the button's argument)


@dataclass(frozen=True)
class StaffDesk:
    """Routes staff commands, buttons and awaited text to their flows."""

    roles: Roles
    default_language: str = "fr"
    web_link: WebLink | None = None  # None: `web.public_url` is not set

    def roles_of(self, key: PersonKey, faq: FaqService) -> frozenset[Role]:
        return self.roles.of(key, faq.content)

    def claims(self, input: Input, roles: frozenset[Role]) -> bool:
        """Whether an input is for the desk whatever the sender's roles (commands and buttons).
        `/cancel` is the desk's only for staff: for anyone else it is the dialog's unknown command."""
        if input.kind is InputKind.COMMAND:
            return input.value in COMMANDS and (input.value != "cancel" or bool(roles))
        return input.kind is InputKind.BUTTON and input.value.startswith(f"{PREFIX}:")

    async def waiting_for_text(self, session: AsyncSession, person_id: int, now: datetime) -> bool:
        """Whether a staff step waits for typed text (a draft older than DRAFT_LIFETIME does not)."""
        state = await repo.load_state(session, person_id, DIALOG)
        if state is None or state.get("phase") not in TEXT_STEPS:
            return False
        try:
            since = datetime.fromisoformat(str(state.get("at")))
        except ValueError:
            return False
        return now - since < DRAFT_LIFETIME

    async def abandon(self, session: AsyncSession, person_id: int, now: datetime) -> None:
        """The person went back to their own dialog: the staff step waiting for text is dropped."""
        await _save(session, person_id, {}, now)

    def help_keys(self, roles: frozenset[Role]) -> list[str]:
        """The help of each role a person holds, for /help."""
        keys = [HELP_KEYS[role] for role in (Role.STAFF, Role.ORGANIZER, Role.ADMIN) if role in roles]
        return [*keys, N_("staff.help.web")] if keys and self.web_link is not None else keys

    async def handle(self, desk: Desk, input: Input) -> list[Effect]:
        """Carry out one staff input; the flow's state is saved with the turn."""
        stored = await repo.load_state(desk.session, desk.person_id, DIALOG)
        desk.state = dict(stored or {})
        desk.default_language = self.default_language
        desk.web_link = self.web_link
        await self._dispatch(desk, input)
        await _save(desk.session, desk.person_id, desk.state, desk.at)
        return [Reply(r) for r in desk.replies]

    async def _dispatch(self, desk: Desk, input: Input) -> None:
        from . import broadcast_editor, faq_editor, gaps, history  # the flows import this module's Desk

        if input.kind is InputKind.COMMAND:
            needed = COMMANDS[input.value]
            if needed is not None and needed not in desk.roles:
                desk.replies.append(Rendered(desk.text(N_("staff.refused"))))
                return
            commands: dict[str, Handler] = {
                "faq": faq_editor.start,
                "faq_history": history.start,
                "faq_gaps": gaps.start,
                "broadcast": broadcast_editor.start,
                "broadcasts": broadcast_editor.start_list,
                "cancel": _cancel,
                "grant": _grant,
                "revoke": _revoke,
                "roles": _list_roles,
                "myid": _my_id,
                "web": _web,
            }
            await commands[input.value](desk, input.arg)
            return
        needed_by_flow = FLOW_ROLES.get(str(desk.state.get("flow")), Role.STAFF) if desk.state else None
        if not desk.roles or (needed_by_flow is not None and needed_by_flow not in desk.roles):  # forged, revoked
            desk.replies.append(Rendered(desk.text(N_("staff.refused"))))
            return
        if input.kind is InputKind.BUTTON:
            _, nonce, rest = [*input.value.split(":", 2), "", ""][:3]
            action, _, arg = rest.partition(":")
            if not desk.state or nonce != desk.state.get("nonce"):
                desk.stale()
                return
            flows: dict[str, Callable[[Desk, str, str], Awaitable[None]]] = {
                "faq": faq_editor.press,
                "history": history.press,
                "gaps": gaps.press,
                "broadcast": broadcast_editor.press,
                "broadcasts": broadcast_editor.press_list,
            }
            await flows[desk.state["flow"]](desk, action, arg)
            return
        if desk.state.get("flow") == "broadcast":
            await broadcast_editor.typed(desk, input.value.strip())
            return
        await faq_editor.typed(desk, input.value)


async def _save(session: AsyncSession, person_id: int, state: dict[str, Any], at: datetime) -> None:
    if state:
        await repo.put_state(session, person_id, DIALOG, state, at)
    else:
        await repo.drop_state(session, person_id, DIALOG)


async def _cancel(desk: Desk, arg: str) -> None:
    had = bool(desk.state)
    desk.end()
    desk.replies.append(Rendered(desk.text(N_("staff.cancelled") if had else N_("staff.nothing_to_cancel"))))


async def _my_id(desk: Desk, arg: str) -> None:
    user = telegram_user(desk.key)
    key = N_("staff.myid") if user is not None else N_("staff.myid.none")
    desk.replies.append(Rendered(desk.text(key, id=str(user or ""))))


async def _web(desk: Desk, arg: str) -> None:
    """A link that signs this staff member in to the website once, within `web.link_minutes`."""
    user = telegram_user(desk.key)
    if not desk.roles or user is None:
        desk.replies.append(Rendered(desk.text(N_("staff.refused"))))
        return
    if desk.web_link is None:
        desk.replies.append(Rendered(desk.text(N_("staff.web.off"))))
        return
    desk.replies.append(Rendered(desk.text(N_("staff.web.link"), url=desk.web_link(user, desk.at))))


def _role_args(desk: Desk, arg: str) -> tuple[int, Role] | None:
    words = arg.replace(",", " ").split()
    if (
        len(words) == 2
        and words[0].isascii()
        and words[0].isdigit()
        and 0 < int(words[0]) < 2**53
        and words[1].lower() in ROLE_NAMES
    ):
        return int(words[0]), ROLE_NAMES[words[1].lower()]
    desk.replies.append(Rendered(desk.text(N_("staff.roles.usage"))))
    return None


async def _grant(desk: Desk, arg: str) -> None:
    parsed = _role_args(desk, arg)
    if parsed is None:
        return
    user, role = parsed
    await store.serialize(desk.session)  # two admins at once: one after the other
    if role in desk.registry.configured_for(user):  # config.yaml already gives it: nothing to store
        key = N_("staff.roles.already_in_config")
    else:
        done = await grant(desk.session, user, role, desk.author, desk.at)
        key = N_("staff.roles.granted") if done else N_("staff.roles.already")
    desk.replies.append(Rendered(desk.text(key, id=str(user), role=desk.text(ROLE_LABELS[role]))))


async def _revoke(desk: Desk, arg: str) -> None:
    parsed = _role_args(desk, arg)
    if parsed is None:
        return
    user, role = parsed
    await store.serialize(desk.session)
    done = await revoke(desk.session, user, role, desk.author, desk.at)
    if done and not desk.registry.configured_for(user) and not await granted(desk.session, user):
        await _drop_staff_step(desk, user)  # no role left: no staff draft waits to be resumed one day
    if role in desk.registry.configured_for(user):  # still held through config.yaml
        key = N_("staff.roles.in_config")
    elif done:
        key = N_("staff.roles.revoked")
    else:
        key = N_("staff.roles.not_granted")
    desk.replies.append(Rendered(desk.text(key, id=str(user), role=desk.text(ROLE_LABELS[role]))))


async def _drop_staff_step(desk: Desk, user: int) -> None:
    person = await repo.find_person(desk.session, "telegram", str(user))
    if person is None:
        return
    if person.id == desk.person_id:
        desk.end()  # the admin revoked their own last role: this turn saves the empty state
    else:
        await _save(desk.session, person.id, {}, desk.at)


async def _list_roles(desk: Desk, arg: str) -> None:
    """Everyone with a role: from config.yaml (changed there) and granted from Telegram."""
    held: dict[int, set[tuple[Role, bool]]] = {}
    for role, users in desk.registry.configured.items():
        for user in users:
            held.setdefault(user, set()).add((role, True))
    for user, names in desk.faq.content.grants.items():
        for name in names:
            held.setdefault(user, set()).add((Role(name), False))
    configured = desk.text(N_("staff.roles.configured"))
    lines = [
        f"• {user}: "
        + ", ".join(
            desk.text(ROLE_LABELS[role]) + (f" ({configured})" if from_config else "")
            for role, from_config in sorted(roles)
        )
        for user, roles in sorted(held.items())
    ]
    desk.replies.append(Rendered(desk.text(N_("staff.roles.list"), grants="\n".join(lines) or "—")))
