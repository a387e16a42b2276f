"""getMe, getUpdates, webhook methods, bot commands and getChat."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .clock import RESOLUTION
from .errors import OTHER_GET_UPDATES, WEBHOOK_ACTIVE, bad_request, conflict
from .params import Params
from .registry import Described, api_method
from .webhook import WebhookConfig

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

MAX_POLL_TIMEOUT = 50
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^(?:[a-z]{2})?$")
PLAIN_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


def _clamp(value: int | float, low: int, high: int) -> int | float:
    return max(low, min(high, value))


@api_method("getMe")
async def get_me(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    return {
        **emu.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("getUpdates")
async def get_updates(emu: TelegramEmulator, p: Params) -> list[dict[str, Any]]:
    if emu.webhook.active:
        raise conflict(WEBHOOK_ACTIVE)
    limit = int(_clamp(p.get_int("limit", 100) or 0, 1, 100))
    timeout = float(_clamp(p.get_float("timeout", 0.0) or 0.0, 0, MAX_POLL_TIMEOUT))
    emu.state.set_allowed_updates(p.get_json("allowed_updates", "can't parse allowed_updates"))
    emu.state.confirm(p.get_int("offset", 0) or 0)
    emu.poll_generation += 1
    generation = emu.poll_generation
    # Wakes an older long poll so that it answers 409, as Telegram does.
    emu.state.update_signal.notify()
    deadline = emu.clock.emulated() + timeout
    while not emu.state.updates and not emu.closing:
        remaining = deadline - emu.clock.emulated()
        if remaining <= RESOLUTION:
            break
        await emu.clock.wait(emu.state.update_signal, remaining)
        if generation != emu.poll_generation:
            raise conflict(OTHER_GET_UPDATES)
        if emu.webhook.active:
            raise conflict(WEBHOOK_ACTIVE)
    batch = emu.state.updates[:limit]
    for update in batch:
        update.handed_out = True
    return [copy.deepcopy(u.payload) for u in batch]


def _validated_webhook(emu: TelegramEmulator, p: Params, url: str) -> WebhookConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get_str("secret_token") or None
    if secret is not None and len(secret) > 256:
        raise bad_request("secret token is too long")
    if secret is not None and not SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = p.get_json("allowed_updates", "can't parse allowed_updates")
    return WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=int(_clamp(p.get_int("max_connections", 40) or 0, 1, 100)),
        ip_address=p.get_str("ip_address") or None,
        allowed_updates=allowed if isinstance(allowed, list) else None,
    )


async def _delete_webhook(emu: TelegramEmulator, p: Params) -> Described:
    if p.get_bool("drop_pending_updates"):
        emu.state.drop_pending()
    was_set = emu.webhook.active
    await emu.webhook.remove()
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@api_method("setWebhook")
async def set_webhook(emu: TelegramEmulator, p: Params) -> Described:
    url = (p.get_str("url") or "").strip()
    if not url:
        return await _delete_webhook(emu, p)
    config = _validated_webhook(emu, p, url)
    emu.state.set_allowed_updates(config.allowed_updates)
    if p.get_bool("drop_pending_updates"):
        emu.state.drop_pending()
    same = emu.webhook.config == config
    await emu.webhook.configure(config)
    # A waiting getUpdates now answers 409.
    emu.state.update_signal.notify()
    return Described(True, "Webhook is already set" if same else "Webhook was set")


@api_method("deleteWebhook")
async def delete_webhook(emu: TelegramEmulator, p: Params) -> Described:
    return await _delete_webhook(emu, p)


@api_method("getWebhookInfo")
async def get_webhook_info(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    return emu.webhook.info(len(emu.state.updates), emu.state.allowed_updates)


def _scope_key(emu: TelegramEmulator, p: Params) -> str:
    scope = p.get_json("scope", "can't parse BotCommandScope JSON object")
    if scope is None:
        return "default"
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind in PLAIN_SCOPES:
        return str(kind)
    if kind not in CHAT_SCOPES or not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object: unsupported type")
    chat_id = Params(scope).chat_id()
    record = emu.state.require_chat(chat_id, check_blocked=False)
    if kind == "chat_member":
        user_id = Params(scope).get_int("user_id")
        if not user_id:
            raise bad_request("user_id is empty")
        return f"chat_member:{record.chat_id}:{user_id}"
    return f"{kind}:{record.chat_id}"


def _language(p: Params) -> str:
    language = (p.get_str("language_code") or "").strip()
    if not LANGUAGE_RE.match(language):
        raise bad_request("LANG_CODE_INVALID")
    return language


def _commands(p: Params) -> list[dict[str, str]]:
    raw = p.get_json("commands", "can't parse commands JSON object")
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    commands = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


@api_method("setMyCommands")
async def set_my_commands(emu: TelegramEmulator, p: Params) -> bool:
    commands = _commands(p)
    key = (_scope_key(emu, p), _language(p))
    if commands:
        emu.state.commands[key] = commands
    else:
        emu.state.commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(emu: TelegramEmulator, p: Params) -> list[dict[str, str]]:
    scope, language = _scope_key(emu, p), _language(p)
    for key in ((scope, language), (scope, "")):
        if key in emu.state.commands:
            return copy.deepcopy(emu.state.commands[key])
    return []


@api_method("deleteMyCommands")
async def delete_my_commands(emu: TelegramEmulator, p: Params) -> bool:
    emu.state.commands.pop((_scope_key(emu, p), _language(p)), None)
    return True


@api_method("getChat")
async def get_chat(emu: TelegramEmulator, p: Params) -> dict[str, Any]:
    record = emu.state.require_chat(p.chat_id(), check_blocked=False)
    return {
        **record.chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
        },
    }
