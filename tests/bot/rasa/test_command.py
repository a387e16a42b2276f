"""`python -m bot rasa-actions`: the server as an integrator starts it, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from ...e2e.processes import free_port
from ...support.processes import ready, started
from ...support.rasa import RasaCore

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
async def test_the_command_serves_the_actions_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "actions.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    env |= {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot", "rasa-actions", "--port", str(port), "--today", "2021-09-15"]
    with started(command, log, ROOT, env) as process:
        await ready(process, log, "Rasa action server ready", "the server")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
            rasa = RasaCore(http, f"http://127.0.0.1:{port}", language="en", birth_date="1998-05-20")
            await rasa.check()
            assert set(rasa.slots["eligibility_results"]) == {"iom-internship-rabat", "quebec-psoig-2021-023"}
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    assert "1998-05-20" not in log.read_text(encoding="utf-8")


def test_without_rasa_sdk_the_command_says_what_to_install() -> None:
    blocked = "import sys; sys.modules['rasa_sdk'] = None\nfrom bot.cli import main\nsys.exit(main(['rasa-actions']))\n"
    out = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == "the Rasa action server needs rasa-sdk: pip install '.[rasa]'"
