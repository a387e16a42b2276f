"""`config.yaml`, validated at start; secrets (bot token, database URL) come from the environment."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictInt, ValidationError, field_validator

from .errors import ConfigError
from .resources import default_config, offers_dir

DEFAULT_CONFIG = default_config()  # the shipped config.yaml (package data; a source tree's own file)
# Settings that name a file or a directory. A relative one written in a settings file is taken from
# that file's directory; in the shipped default settings, from the current directory.
PATH_SETTINGS: tuple[tuple[str, ...], ...] = (("offers_dir",), ("database", "sqlite_path"))
SECRET_KEYS = {"token", "bot_token", "database_url", "secret_token", "password"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookConfig(_Section):
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    url_path: str = "telegram"
    public_url: str | None = None  # e.g. https://bot.example.org/telegram


class FloodConfig(_Section):
    """Telegram's flood limits, kept on our side; slightly under Telegram's own by default."""

    overall_per_second: float = Field(default=25.0, gt=0)
    per_chat_per_second: float = Field(default=1.0, gt=0)
    per_chat_burst: int = Field(default=3, ge=1)
    per_group_per_minute: float = Field(default=18.0, gt=0)


class TelegramConfig(_Section):
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str | None = None  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot
    webhook: WebhookConfig = WebhookConfig()
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    # The HTTP client of Bot API calls: aiohttp (`bot.telegram.request`), or python-telegram-bot's
    # default httpx one (`HTTPXRequest`)
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    poll_timeout: int = Field(default=30, ge=0, le=50)
    retry_interval: float = Field(default=10.0, gt=0)  # how often queued replies are retried
    # getUpdates answering 409 Conflict (another process polls with this token): retried this
    # long, then the bot exits non-zero; a rolling deploy's overlap is shorter.
    conflict_timeout: float = Field(default=120.0, gt=0)
    lease_seconds: float = Field(default=30.0, gt=0)  # a sender that died mid-send frees its message after this
    # This process's name among the deployment's processes (default: the host, and the webhook
    # port); a restarted process with the same name takes back its predecessor's unfinished sends.
    instance: str | None = Field(default=None, min_length=1, max_length=60)
    flood: FloodConfig = FloodConfig()
    # Bulk messages (reminders, broadcasts): rows claimed at once, sends in flight at once, tries
    # before a message is given up (network errors, 5xx), and the shared overall bucket's burst
    # in seconds of the overall rate (small: no one-second window goes over the limit).
    bulk_batch: int = Field(default=50, ge=1, le=1000)
    bulk_concurrency: int = Field(default=16, ge=1, le=256)
    bulk_attempts: int = Field(default=5, ge=1, le=50)
    bulk_burst_seconds: float = Field(default=0.1, gt=0, le=1)

    def instance_name(self) -> str:
        if self.instance:
            return self.instance
        host = socket.gethostname() or "localhost"
        return f"{host}:{self.webhook.port}" if self.mode == "webhook" else host


class DatabaseConfig(_Section):
    sqlite_path: str = "data/stagebot.sqlite3"  # used when DATABASE_URL is not set
    busy_timeout_ms: int = Field(default=5000, ge=0)


class PrivacyConfig(_Section):
    retention_days: int = Field(default=180, ge=1)
    consent_version: int = Field(default=1, ge=1)


class RemindersConfig(_Section):
    """Deadline reminders for offers whose file sets none: days before the deadline, local hour."""

    days_before: tuple[Annotated[int, Field(ge=1, le=365)], ...] = Field(default=(14, 7, 1), min_length=1)
    hour: int = Field(default=10, ge=0, le=23)


class WebConfig(_Section):
    """The staff website (`bot/web/`): in the bot's process when `enabled`, or `python -m bot web`."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Where staff reach it (the one-time links of /web point there), e.g. https://staff.example.org
    public_url: str | None = None
    login_max_age: int = Field(default=3600, ge=30, le=86400)  # seconds a Login Widget's `auth_date` stays good
    link_minutes: int = Field(default=10, ge=1, le=60)  # lifetime of a /web link (single use)
    session_hours: int = Field(default=12, ge=1, le=720)  # a signed-in browser stays signed in this long
    login_attempts_per_minute: float = Field(default=10.0, gt=0)  # per client address

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("expected an https:// address, e.g. https://staff.example.org")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            # browsers keep the site's Secure session cookie over plain HTTP only for this machine
            raise ValueError("expected https:// (plain http:// only for localhost or 127.0.0.1)")
        return value.rstrip("/")


# Telegram user ids are positive (negative ids are groups and channels); a bool is not an id.
TelegramUserId = Annotated[StrictInt, Field(gt=0, lt=2**53)]


class Config(_Section):
    default_language: Literal["fr", "en"] = "fr"
    timezone: str = "America/Toronto"
    offers_dir: str | None = None  # None: the offers shipped with the bot (rules/offers)
    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    reminders: RemindersConfig = RemindersConfig()
    web: WebConfig = WebConfig()
    # Roles by numeric Telegram user id (usernames can change hands: never trusted). Admins have
    # every role and grant or revoke roles from Telegram; those grants are kept in the database.
    admins: tuple[TelegramUserId, ...] = ()
    staff: tuple[TelegramUserId, ...] = ()
    organizers: tuple[TelegramUserId, ...] = ()

    # Secrets, from the environment only (never from the file).
    bot_token: SecretStr | None = Field(default=None, exclude=True)
    database_url: SecretStr | None = Field(default=None, exclude=True)
    webhook_secret: SecretStr | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; expected an IANA name such as America/Toronto") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def offers_path(self) -> Path:
        """`offers_dir`, or the offers shipped with the bot when it is not set."""
        return offers_dir() if self.offers_dir is None else _absolute(self.offers_dir)

    def sqlalchemy_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file of the config."""
        if self.database_url is not None:
            return normalise_database_url(self.database_url.get_secret_value())
        return f"sqlite+aiosqlite:///{_absolute(self.database.sqlite_path)}"


def _absolute(setting: str) -> Path:
    """A path setting: `~` expanded; a relative one (not anchored by `load_config`) from the current directory."""
    return Path(setting).expanduser().absolute()


def _anchored(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """The settings of a file with each relative `PATH_SETTINGS` value taken from `base`, its directory."""
    anchored = dict(raw)
    for *sections, key in PATH_SETTINGS:
        table = anchored
        for section in sections:
            inner = table.get(section)
            if not isinstance(inner, dict):
                break  # absent, or wrong and refused by the validation
            table[section] = dict(inner)
            table = table[section]
        else:
            value = table.get(key)
            if isinstance(value, str) and not Path(value).expanduser().is_absolute():
                table[key] = str(base / value)
    return anchored


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `sqlite:///` spellings and pick the async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top)"
    if first["type"] == "extra_forbidden":
        if str(first["loc"][-1]) in SECRET_KEYS:
            return f"{source}: {where}: secrets are read from the environment, not from this file"
        return f"{source}: {where}: unknown key"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{source}: {where}: {message}"


def _environment(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, name in (
        ("bot_token", "TELEGRAM_BOT_TOKEN"),
        ("database_url", "DATABASE_URL"),
        ("webhook_secret", "TELEGRAM_WEBHOOK_SECRET"),
    ):
        if env.get(name):
            values[key] = env[name]
    return values


def yaml_problem(source: str, error: yaml.YAMLError | RecursionError) -> str:
    """The first YAML error of `source` as one line, with its line number when the reader knows
    it: `offer.yaml: line 3: not valid YAML: 'hour' given twice`. A structure nested too deeply
    for the reader (PyYAML recurses: RecursionError) is one line too."""
    if isinstance(error, RecursionError):
        return f"{source}: not valid YAML: nested too deeply"
    mark = getattr(error, "problem_mark", None)
    line = f" line {mark.line + 1}:" if mark is not None else ""
    return f"{source}:{line} not valid YAML: {getattr(error, 'problem', None) or 'cannot parse'}"


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """The validated configuration; a wrong key or value raises `ConfigError` with one line.

    The file is `path`, else `STAGEBOT_CONFIG`, else the shipped `config.yaml` (`DEFAULT_CONFIG`).
    """
    env = os.environ if env is None else env
    if path is None and env.get("STAGEBOT_CONFIG"):
        path = Path(env["STAGEBOT_CONFIG"])
    shipped = path is None
    path = path or DEFAULT_CONFIG
    raw: Any = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, RecursionError) as error:
            raise ConfigError(yaml_problem(path.name, error)) from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path.name}: expected a mapping of settings at the top")
    elif not shipped:
        raise ConfigError(f"{path}: no such configuration file")
    if not shipped:
        raw = _anchored(raw, path.absolute().parent)
    for secret in SECRET_KEYS & set(raw):
        raise ConfigError(f"{path.name}: {secret}: secrets are read from the environment, not from this file")
    if env.get("TELEGRAM_BASE_URL"):
        raw = {**raw, "telegram": {**(raw.get("telegram") or {}), "base_url": env["TELEGRAM_BASE_URL"]}}
    try:
        return Config.model_validate({**raw, **_environment(env)})
    except ValidationError as error:
        raise ConfigError(_describe(error, path.name)) from None
