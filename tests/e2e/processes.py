"""The bot as a separate process (`python -m bot run`), as it is deployed: started, killed, restarted."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

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


class RoundRobin:
    """A load balancer: each webhook call goes to the next process, headers and body untouched."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = itertools.cycle(backends)
        self.served: Counter[int] = Counter()
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def forward(self, request: web.Request) -> web.Response:
        port = next(self.backends)
        self.served[port] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("x-telegram", "content-type"))}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}{request.path}", data=await request.read(), headers=headers) as response,
        ):
            return web.Response(status=response.status, body=await response.read())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()


@asynccontextmanager
async def two_webhook_processes(
    tmp_path: Path,
    database_url: str,
    emulator: TelegramEmulator,
    *,
    secret: str,
    settings: dict[str, Any] | None = None,
    telegram: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[RoundRobin, list[BotProcess]]]:
    """Two bot processes in webhook mode behind a round-robin balancer, sharing the database;
    both stopped cleanly (exit status 0) at the end. `telegram`: more of the file's `telegram` section."""
    ports = [free_port(), free_port()]
    balancer = RoundRobin(ports)
    await balancer.start()
    public = f"http://127.0.0.1:{balancer.port}/telegram"
    processes = [
        BotProcess(
            tmp_path,
            f"bot{i}",
            database_url,
            emulator,
            secret=secret,
            telegram={
                "mode": "webhook",
                "webhook": {"listen": "127.0.0.1", "port": port, "url_path": "telegram", "public_url": public},
                **(telegram or {}),
            },
            settings=settings,
        )
        for i, port in enumerate(ports)
    ]
    for process in processes:
        await process.start()
    try:
        yield balancer, processes
    finally:
        for process in processes:
            assert await process.stop() == 0, process.log()
        assert balancer.runner is not None
        await balancer.runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
