"""/audit (admins): every change made by staff, organizers and admins, whichever door it came
through (Telegram, the command line, this site): who, when, what. Never a person's answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from rules import N_

from ...staff.roles import Role
from ...storage.models import AuditEntry, Person
from ..app import Site, context, page, t

PAGE = 50
ACTIONS = {
    "faq.publish": N_("web.audit.action.faq_publish"),
    "faq.restore": N_("web.audit.action.faq_restore"),
    "faq.example": N_("web.audit.action.faq_example"),
    "faq.topic": N_("web.audit.action.faq_topic"),
    "faq.dismiss": N_("web.audit.action.faq_dismiss"),
    "role.grant": N_("web.audit.action.role_grant"),
    "role.revoke": N_("web.audit.action.role_revoke"),
    "broadcast.create": N_("web.audit.action.broadcast_create"),
    "broadcast.schedule": N_("web.audit.action.broadcast_schedule"),
    "broadcast.start": N_("web.audit.action.broadcast_start"),
    "broadcast.pause": N_("web.audit.action.broadcast_pause"),
    "broadcast.resume": N_("web.audit.action.broadcast_resume"),
    "broadcast.cancel": N_("web.audit.action.broadcast_cancel"),
    "offer.import": N_("web.audit.action.offer_import"),
}
ROLES = {
    "admin": N_("staff.role.admin"),
    "staff": N_("staff.role.staff"),
    "organizer": N_("staff.role.organizer"),
}


def _detail(detail: dict[str, Any]) -> str:
    """The entry's detail as `key: value` pairs (ids, topics, counts: nothing personal is stored there)."""
    return " · ".join(f"{key}: {value}" for key, value in detail.items() if value is not None and key != "audience")


async def audit_log(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    try:
        number = max(1, min(10_000, int(request.query.get("page", "1"))))
    except ValueError:
        number = 1
    query = (
        select(AuditEntry, Person.channel, Person.external_id)
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(PAGE + 1)
        .offset((number - 1) * PAGE)
    )
    async with ctx.sessions() as session:
        rows = (await session.execute(query)).all()
        total = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    entries = [
        {
            "at": entry.at,
            "who": t(request, ROLES[entry.actor_role]) if entry.actor_role in ROLES else entry.actor_role,
            "user": external if channel == "telegram" else None,
            "what": t(request, ACTIONS[entry.action]) if entry.action in ACTIONS else entry.action,
            "subject": entry.subject_user_id,
            "detail": _detail(entry.detail or {}),
        }
        for entry, channel, external in rows[:PAGE]
    ]
    return page(
        request,
        "audit.html",
        title=t(request, N_("web.audit.title")),
        entries=entries,
        total=total,
        page_number=number,
        more=len(rows) > PAGE,
    )


def setup(site: Site) -> None:
    site.get("/audit", audit_log, Role.ADMIN)
