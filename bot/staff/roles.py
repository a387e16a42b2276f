"""Roles by numeric Telegram user id: listed in `config.yaml`, or granted from Telegram by an admin.

Usernames are never trusted (they change hands). Admins hold every role. Other channels (the
terminal, Rasa) have no roles: nobody there can change what the bot says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Config
from ..faq import store
from ..services.inputs import PersonKey
from ..storage.models import RoleGrant
from ..storage.repo import telegram_user_id


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    ORGANIZER = "organizer"


# What admins may type after /grant and /revoke, in either language (compared in lower case).
ROLE_NAMES: Mapping[str, Role] = {
    **dict.fromkeys(("admin", "admins", "administrateur", "administrateurs", "administratrice"), Role.ADMIN),
    **dict.fromkeys(("staff", "personnel", "equipe", "équipe"), Role.STAFF),
    **dict.fromkeys(("organizer", "organizers", "organisateur", "organisateurs", "organisatrice"), Role.ORGANIZER),
}


def telegram_user(key: PersonKey) -> int | None:
    """The Telegram user id of a person key, if it is one."""
    return telegram_user_id(key.channel, key.external_id)


@dataclass(frozen=True)
class Roles:
    """Who holds which role: the configuration, and the grants of the latest snapshot."""

    configured: Mapping[Role, frozenset[int]]

    @classmethod
    def from_config(cls, config: Config) -> Roles:
        return cls(
            {
                Role.ADMIN: frozenset(config.admins),
                Role.STAFF: frozenset(config.staff),
                Role.ORGANIZER: frozenset(config.organizers),
            }
        )

    def of(self, key: PersonKey, content: store.FaqContent) -> frozenset[Role]:
        """A person's roles (no database round trip: grants come with the FAQ snapshot)."""
        user = telegram_user(key)
        if user is None:
            return frozenset()
        held = {role for role, users in self.configured.items() if user in users}
        held |= {Role(name) for name in content.grants.get(user, ()) if name in Role.__members__.values()}
        return frozenset(Role) if Role.ADMIN in held else frozenset(held)

    def configured_for(self, user: int) -> frozenset[Role]:
        return frozenset(role for role, users in self.configured.items() if user in users)


async def grant(session: AsyncSession, user: int, role: Role, by: store.Author, at: datetime) -> bool:
    """Give `user` a role; False if the database already held it."""
    if await session.get(RoleGrant, (user, role.value)) is not None:
        return False
    session.add(RoleGrant(user_id=user, role=role.value, granted_by=by.person_id, granted_at=at))
    await store.record(session, by, "role.grant", {"role": role.value}, at, subject=user)
    return True


async def revoke(session: AsyncSession, user: int, role: Role, by: store.Author, at: datetime) -> bool:
    """Take a granted role back; False if it was not granted from Telegram."""
    result = await session.execute(delete(RoleGrant).where(RoleGrant.user_id == user, RoleGrant.role == role.value))
    if not getattr(result, "rowcount", 0):
        return False
    await store.record(session, by, "role.revoke", {"role": role.value}, at, subject=user)
    return True


async def granted(session: AsyncSession, user: int) -> list[str]:
    """The roles granted to a user from Telegram, as stored now."""
    return list((await session.execute(select(RoleGrant.role).where(RoleGrant.user_id == user))).scalars())
