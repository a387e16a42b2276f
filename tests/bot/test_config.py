"""config.yaml is validated at start; a wrong key or value stops with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import RemindersConfig, load_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_config_is_valid_and_secrets_come_from_the_environment() -> None:
    config = load_config(
        ROOT / "config.yaml", env={"TELEGRAM_BOT_TOKEN": "123:abc", "DATABASE_URL": "postgres://u@h/db"}
    )
    assert config.default_language in {"fr", "en"}
    assert config.bot_token is not None and config.bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(config) and "123:abc" not in str(config.model_dump())
    assert config.sqlalchemy_url() == "postgresql+asyncpg://u@h/db"
    assert load_config(ROOT / "config.yaml", env={}).sqlalchemy_url().startswith("sqlite+aiosqlite:///")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_language: de\n", "default_language: Input should be 'fr' or 'en'"),
        ("telegram:\n  mode: pull\n", "telegram.mode"),
        ("telegram:\n  webhook:\n    port: 99999\n", "telegram.webhook.port"),
        ("timezone: Mars/Olympus\n", "timezone: unknown time zone"),
        ("privacy:\n  retention_dayz: 3\n", "privacy.retention_dayz: unknown key"),
        ("token: 123:abc\n", "token: secrets are read from the environment"),
        ("reminders:\n  days_before: []\n", "reminders.days_before: Tuple should have at least 1 item"),
        ("reminders:\n  days_before: [7, 0]\n", "reminders.days_before.1: Input should be greater than or equal to 1"),
        ("reminders:\n  hour: 24\n", "reminders.hour: Input should be less than or equal to 23"),
        ("reminders:\n  days: [7]\n", "reminders.days: unknown key"),
        ("telegram: [1, 2\n", "not valid YAML"),
    ],
)
def test_a_wrong_key_or_value_names_it(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_a_files_reminders_section_is_read_and_the_shipped_one_states_the_defaults(tmp_path: Path) -> None:
    shipped = load_config(ROOT / "config.yaml", env={}).reminders
    assert (shipped.days_before, shipped.hour) == ((14, 7, 1), 10) and shipped == RemindersConfig()
    path = tmp_path / "config.yaml"
    path.write_text("reminders:\n  days_before: [30, 3]\n  hour: 8\n", encoding="utf-8")
    reminders = load_config(path, env={}).reminders
    assert (reminders.days_before, reminders.hour) == ((30, 3), 8)


def test_the_command_line_stops_with_that_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  mode: pull\n", encoding="utf-8")
    env = {"STAGEBOT_CONFIG": str(path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "programs"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and "telegram.mode" in out.stderr


def test_environment_overrides_the_bot_api_server() -> None:
    config = load_config(ROOT / "config.yaml", env={"TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot"})
    assert config.telegram.base_url == "http://127.0.0.1:8081/bot"
