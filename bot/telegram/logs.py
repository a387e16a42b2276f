"""Logging that never carries a token or a person's answers."""

from __future__ import annotations

import logging
import re
from typing import TextIO

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


class RedactTokens(logging.Filter):
    """Masks anything shaped like a bot token (and the configured token) in every record."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _TOKEN.sub("<token>", message)
        if self.token:
            clean = clean.replace(self.token, "<token>")
        if clean != message:
            record.msg, record.args = clean, None
        return True


# Loggers that would write request bodies, URLs with the token, or SQL parameters at DEBUG/INFO.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "telegram": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
}


def configure_logging(token: str | None, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Root logging with token redaction; libraries that log bodies or parameters kept above DEBUG.

    The bot's own log lines carry ids, counts and error types, never a person's answers.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(floor, level))
