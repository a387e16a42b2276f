"""The bot as a package: its data found through `importlib.resources`, and the wheel run from anywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from bot import resources
from bot.config import load_config
from bot.i18n import render

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if os.name == "nt" else "bin"
ANSWERS = {"birth_date": "1995-03-15", "education": "master_in_progress", "iom_interest": True}


def test_the_shipped_data_is_found() -> None:
    assert (resources.locales_dir() / "fr" / "LC_MESSAGES" / "messages.po").is_file()
    assert (resources.migrations_dir() / "env.py").is_file()
    assert any((resources.migrations_dir() / "versions").glob("*.py"))
    assert resources.default_config().is_file()
    assert {path.stem for path in resources.offers_dir().glob("*.yaml")} >= {"quebec-psoig-2021-023"}


def test_relative_paths_in_a_settings_file_are_taken_from_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "settings.yaml").write_text("offers_dir: offers\ndatabase:\n  sqlite_path: db/bot.sqlite3\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    for config in (
        load_config(Path("site/settings.yaml"), env={}),
        load_config(env={"STAGEBOT_CONFIG": "site/settings.yaml"}),
    ):
        assert config.offers_path() == site / "offers"
        assert config.sqlalchemy_url() == f"sqlite+aiosqlite:///{site / 'db' / 'bot.sqlite3'}"


def test_the_shipped_settings_take_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.offers_path() == resources.offers_dir()
    assert config.sqlalchemy_url() == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'stagebot.sqlite3'}"


def test_the_command_line_and_the_telegram_bot_run_without_rasa_sdk() -> None:
    blocked = (
        "import sys; sys.modules['rasa_sdk'] = None\n"  # `import rasa_sdk` now raises ImportError
        "import bot.console, bot.telegram.app\n"
        "from bot.cli import main\n"
        "sys.exit(main(['programs', '--json', '--today', '2021-09-15']))\n"
    )
    out = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["programs"]) >= 2


def _wheel(tmp_path: Path) -> Path:
    """The wheel of the checkout, built with the build backend of this environment (no network)."""
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--wheel-dir", str(dist), str(ROOT)], check=True, timeout=120)
    (wheel,) = dist.glob("stagebot-*.whl")
    return wheel


def _venv_with(wheel: Path, venv: Path) -> Path:
    """A new venv holding the wheel; its dependencies are this environment's, added to sys.path by a .pth.

    Only the directories are added: the .pth files there (the editable install's among them) are
    not run, so neither the checkout nor the editable install can stand in for the wheel.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / BIN / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(wheel)], check=True, timeout=120)  # before the .pth: pip sees no other stagebot
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(site) / "stagebot-dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return python


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_any_directory(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "bot/config.yaml",
        "bot/locales/fr/LC_MESSAGES/messages.po",
        "bot/locales/en/LC_MESSAGES/messages.po",
        "bot/migrations/env.py",
        "bot/migrations/script.py.mako",
        "bot/migrations/versions/0001_initial_schema.py",
        "rules/offers/quebec-psoig-2021-023.yaml",
    ):
        assert shipped in names
    assert not {name for name in names if name.split("/")[0] in {"locales", "migrations", "tests", "config.yaml"}}

    venv = tmp_path / "venv"
    python = _venv_with(wheel, venv)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{venv / BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(*command: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, cwd=elsewhere, env={**env, **extra}, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return out

    probe = (
        "import json, bot, bot.resources as r, bot.i18n as i, bot.storage.migrate as m, bot.config as c\n"
        "print(json.dumps([bot.__file__, str(i.LOCALES_DIR), str(m.MIGRATIONS), str(c.DEFAULT_CONFIG),"
        " str(r.offers_dir())]))\n"
    )
    for found in json.loads(run(str(python), "-c", probe).stdout):
        assert Path(found).is_relative_to(venv), found  # the wheel's files, not the checkout's

    answers = elsewhere / "answers.json"
    answers.write_text(json.dumps(ANSWERS), encoding="utf-8")
    data = json.loads(run("stagebot", "eligibility", "--answers", str(answers), "--today", "2021-09-15").stdout)
    assert data["today"] == "2021-09-15"
    assert {p["id"] for p in data["programs"]} == {"iom-internship-rabat", "quebec-psoig-2021-023"}
    for program in data["programs"]:
        assert program["status"] in {"eligible", "not_eligible", "incomplete"}
        assert isinstance(program["offer_open"], bool) and isinstance(program["missing_facts"], list)
        assert program["criteria"] and all(set(c) >= {"id", "result", "explanation"} for c in program["criteria"])

    chat = run("stagebot", "chat", "--lang", "fr", stdin="1\n/quit\n")
    assert render("programs.prompt", "fr") in chat.stdout

    listed = json.loads(run(str(python), "-m", "bot", "programs", "--json", "--today", "2021-09-15").stdout)
    assert len(listed["programs"]) == len(data["programs"])

    run("stagebot", "db", "upgrade")  # the packaged migrations, into the SQLite file of the current directory
    assert (elsewhere / "data" / "stagebot.sqlite3").is_file()

    own = tmp_path / "own"  # STAGEBOT_CONFIG, and an offers_dir relative to that file
    (own / "offers").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "offers" / "quebec-psoig-2021-023.yaml", own / "offers")
    (own / "settings.yaml").write_text("offers_dir: offers\n", encoding="utf-8")
    mine = run("stagebot", "programs", "--json", STAGEBOT_CONFIG=str(own / "settings.yaml"))
    assert [p["id"] for p in json.loads(mine.stdout)["programs"]] == ["quebec-psoig-2021-023"]
