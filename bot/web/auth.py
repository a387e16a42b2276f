"""Sign-in: the Telegram Login Widget's signed data, one-time /web links, browser sessions, CSRF.

- Login Widget: Telegram signs the fields it sends with HMAC-SHA256, keyed by the SHA-256 of the
  bot's token (https://core.telegram.org/widgets/login#checking-authorization); `auth_date` must
  be no older than `web.login_max_age`.
- /web link: `<payload>.<signature>`, the payload naming the Telegram user, a random nonce and an
  expiry; signed with a key derived from the bot's token. Its nonce is stored when it is used, so
  a link signs in once.
- A session is a random token in an HttpOnly, Secure, SameSite cookie; the database keeps only
  its SHA-256, with the session's CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Config
from ..storage.models import WebLinkUse, WebSession

WIDGET_FIELDS = frozenset({"id", "first_name", "last_name", "username", "photo_url", "auth_date"})
MAX_FIELD = 512  # longer widget fields are refused before any hashing
CLOCK_SKEW = timedelta(seconds=60)  # an `auth_date` this far in the future is still accepted


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _link_key(bot_token: str) -> bytes:
    return hmac.new(b"stagebot web link v1", bot_token.encode(), hashlib.sha256).digest()


def widget_user(fields: Mapping[str, str], bot_token: str, now: datetime, max_age: timedelta) -> int | None:
    """The Telegram user id the Login Widget's data proves, or None (forged, altered, too old)."""
    received = fields.get("hash", "")
    if len(received) != 64 or any(len(v) > MAX_FIELD for v in fields.values()):
        return None
    data = {k: v for k, v in fields.items() if k in WIDGET_FIELDS}
    if set(fields) - WIDGET_FIELDS - {"hash"}:
        return None  # Telegram signs every field it sends: an extra one was added by someone else
    check = "\n".join(f"{key}={data[key]}" for key in sorted(data))
    secret = hashlib.sha256(bot_token.encode()).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), received.lower().encode()):  # bytes: any text compares
        return None
    try:
        signed_at = int(data["auth_date"])
        user = int(data["id"])
    except (KeyError, ValueError):
        return None
    age = now.timestamp() - signed_at
    if age > max_age.total_seconds() or age < -CLOCK_SKEW.total_seconds() or not 0 < user < 2**53:
        return None
    return user


def widget_hash(fields: Mapping[str, str], bot_token: str) -> str:
    """What Telegram would sign (tests and the emulator play Telegram's side with it)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
    return hmac.new(hashlib.sha256(bot_token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Link:
    user: int
    nonce: str
    expires_at: datetime


def make_link_token(user: int, bot_token: str, now: datetime, lifetime: timedelta) -> str:
    payload = {"u": user, "n": secrets.token_urlsafe(18), "e": int((now + lifetime).timestamp())}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_link_key(bot_token), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_link_token(token: str, bot_token: str, now: datetime) -> Link | None:
    """The link's content if its signature holds and it has not expired (use it with `use_link`)."""
    if len(token) > 400 or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    expected = _b64(hmac.new(_link_key(bot_token), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), signature.encode()):  # bytes: any text compares
        return None
    try:
        payload = json.loads(_unb64(body))
        user, nonce, expires = int(payload["u"]), str(payload["n"]), int(payload["e"])
    except (ValueError, KeyError, TypeError):
        return None
    expires_at = datetime.fromtimestamp(expires, now.tzinfo)
    if expires_at <= now or not 0 < user < 2**53 or not 0 < len(nonce) <= 64:
        return None
    return Link(user, nonce, expires_at)


async def use_link(session: AsyncSession, link: Link, now: datetime) -> bool:
    """Record the link as used; False if it already was (a replay). Commits in the caller's
    transaction: two browsers racing with the same link, one wins."""
    return await use_once(session, link.nonce, now, link.expires_at)


async def use_once(session: AsyncSession, nonce: str, now: datetime, expires_at: datetime) -> bool:
    """Record a one-time nonce (a link's, a form's) as used until `expires_at`; False if it already was."""
    await session.execute(delete(WebLinkUse).where(WebLinkUse.expires_at < now))
    try:
        async with session.begin_nested():
            session.add(WebLinkUse(nonce=nonce, used_at=now, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def form_nonce() -> str:
    """A form's one-time value: sending the same form twice (a double click, Back then send) acts once."""
    return secrets.token_urlsafe(18)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, user: int, now: datetime, lifetime: timedelta) -> tuple[str, WebSession]:
    """A new signed-in browser: (the cookie's token, the row)."""
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=token_hash(token),
        user_id=user,
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    return token, row


async def find_session(session: AsyncSession, token: str, now: datetime) -> WebSession | None:
    if not token or len(token) > 100:
        return None
    row = (await session.execute(select(WebSession).where(WebSession.token_hash == token_hash(token)))).scalar()
    return row if row is not None and row.expires_at > now else None


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def csrf_ok(expected: str, received: str | None) -> bool:
    return bool(received) and hmac.compare_digest(expected.encode(), (received or "").encode())


def link_maker(config: Config) -> Callable[[int, datetime], str] | None:
    """What /web sends: `<web.public_url>/login/link?token=…`; None without a public address or a token."""
    public, token = config.web.public_url, config.bot_token
    if not public or token is None:
        return None
    secret, lifetime = token.get_secret_value(), timedelta(minutes=config.web.link_minutes)

    def link(user: int, now: datetime) -> str:
        return f"{public}/login/link?token={make_link_token(user, secret, now, lifetime)}"

    return link
