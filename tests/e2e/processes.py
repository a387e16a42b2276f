"""The bot as a separate process (`python -m bot run`), as it is deployed: started, killed, restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from ..telegram_emulator import TelegramEmulator
from .conftest import ROOT, TOKEN

LOG_POLL = 0.1  # how often the log is read for "bot ready" while the process starts (a poll, not a wait)
FLOOD = {"overall_per_second": 250, "per_chat_per_second": 7, "per_chat_burst": 3, "per_group_per_minute": 180}


class BotProcess:
    def __init__(
        self,
        workdir: Path,
        name: str,
        database_url: str,
        emulator: TelegramEmulator,
        telegram: dict[str, Any] | None = None,
        secret: str | None = None,
        env: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """`telegram`: the file's `telegram` section; `settings`: its other top-level keys (roles...)."""
        self.log_path = workdir / f"{name}.log"
        self.config_path = workdir / f"{name}.yaml"
        base = {"poll_timeout": 1, "read_timeout": 5, "connect_timeout": 2, "retry_interval": 0.3, "flood": FLOOD}
        content = {**(settings or {}), "telegram": {**base, **(telegram or {})}}
        self.config_path.write_text(yaml.safe_dump(content), encoding="utf-8")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "STAGEBOT_CONFIG": str(self.config_path),
            "PYTHONUNBUFFERED": "1",
        }
        if secret:
            self.env["TELEGRAM_WEBHOOK_SECRET"] = secret
        self.env.update(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, wait: float = 30) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 (started once, not awaited)
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if "bot ready" in self.log_path.read_text(encoding="utf-8", errors="replace")[offset:]:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()}")
            await asyncio.sleep(LOG_POLL)
        raise AssertionError(f"the bot did not start in {wait}s:\n{self.log()}")

    async def exited(self, wait: float = 30) -> int:
        """The exit status once the process ends by itself (a crash point, a fatal error)."""
        assert self.process is not None
        try:
            return await asyncio.to_thread(self.process.wait, wait)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the bot did not exit in {wait}s:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, 15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
