"""`python -m bot <command> ...` run in-process on a temporary configuration, as the CLI tests use it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.splitlines()]


@dataclass(frozen=True)
class Command:
    """One command of the bot's command line (`faq`, `offers`...), run with `self(*args)`; its
    SQLite database, files written next to it, and rows read from it."""

    name: str
    home: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> Run:
        code = main([self.name, *args])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    @property
    def database(self) -> Path:
        return self.home / "data" / "bot.sqlite3"

    def file(self, name: str, text: str) -> str:
        path = self.home / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def rows(self, query: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(query).fetchall()
