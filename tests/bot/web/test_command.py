"""`python -m bot web`: the website alone, as an operator starts it, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from ...e2e.processes import free_port
from ...support.processes import ready, started
from .conftest import TOKEN

ROOT = Path(__file__).resolve().parents[3]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    return env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.slow
async def test_the_command_serves_the_site_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "web.log"
    # Telegram is unreachable here (a closed port): the site starts anyway, sign-in by /web link only
    env = environment(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
    command = [sys.executable, "-m", "bot", "web", "--port", str(port)]
    with started(command, log, ROOT, env) as process:
        await ready(process, log, "staff website on", "the site")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/login", headers={"Accept-Language": "en"}) as response:
                assert response.status == 200
                assert "Sign in" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/faq", allow_redirects=False) as response:
                assert response.status == 303
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    assert TOKEN not in log.read_text(encoding="utf-8")


def test_without_a_token_the_command_says_why(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "web"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=environment(tmp_path),
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "the staff website needs TELEGRAM_BOT_TOKEN: sign-in is signed with the bot's token"


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
        out = subprocess.run(
            [sys.executable, "-m", "bot", "web", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            env=env,
        )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith(f"web: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in out.stderr
