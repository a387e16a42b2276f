"""A round-robin load balancer in front of webhook processes, for `bench/dialog.py`.

The end-to-end tests' balancer (`tests/e2e/processes.py`), with one HTTP client whose connections
are kept alive, as a real load balancer keeps them: a new connection per update would cost the
bot processes (measured) the accepts and the client (this process) the handshakes.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from tests.e2e.processes import RoundRobin, free_port

__all__ = ["KeptAliveRoundRobin", "free_port"]

FORWARDED = ("x-telegram", "content-type")  # the headers passed on: the secret and the body's type


class KeptAliveRoundRobin(RoundRobin):
    """Each webhook call to the next process, headers and body untouched; `stop()` at the end."""

    http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        await super().start()

    async def forward(self, request: web.Request) -> web.Response:
        assert self.http is not None
        port = next(self.backends)
        self.served[port] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(FORWARDED)}
        target = f"http://127.0.0.1:{port}{request.path}"
        async with self.http.post(target, data=await request.read(), headers=headers) as response:
            return web.Response(status=response.status, body=await response.read())

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.http is not None:
            await self.http.close()
