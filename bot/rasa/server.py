"""`python -m bot rasa-actions`: rasa-sdk's own endpoint (`/webhook`, `/actions`, `/health`) and
`ActionExecutor`, served in this process's event loop by Sanic's low-level server API.

rasa-sdk's `run()` forks Sanic workers that would each need the offers, the FAQ matcher and a
database pool pickled across; one process in one loop keeps the live offers and staff answers
in memory once. For more throughput, run several behind the load balancer (they share nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ..config import Config
from ..storage.db import sessionmaker
from ..storage.migrate import open_migrated
from .actions import all_actions
from .context import ActionContext

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5055  # Rasa's `endpoints.yml` default for the action server


def executor_for(context: ActionContext, extra: Sequence[Action] = ()) -> ActionExecutor:
    """Our actions (and `extra` ones: the benchmark's trivial reference) in rasa-sdk's executor."""
    executor = ActionExecutor()
    for action in [*all_actions(context), *extra]:
        executor.register_action(action)
    return executor


def create_app(context: ActionContext, extra: Sequence[Action] = ()) -> Sanic[Any, Any]:
    """rasa-sdk's app, whose last-resort error handler logs only the error's type and answers
    without echoing the request (rasa-sdk's own returns the body: a person's answers)."""
    from rasa_sdk.endpoint import create_app as rasa_app

    app: Sanic[Any, Any] = rasa_app(executor_for(context, extra), cors_origins=None)

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)  # Sanic's own: 400 for a body that is not JSON
        status = status if isinstance(status, int) and 400 <= status < 600 else 500
        logger.log(
            logging.ERROR if status >= 500 else logging.WARNING,
            "action server: %s on %s (%d)",
            type(exception).__name__,
            request.path,
            status,
        )
        return response.json({"error": type(exception).__name__}, status=status)

    app.error_handler.cached_handlers[(Exception, None)] = failed  # in place of rasa-sdk's handler
    app.config.TOUCHUP = False  # Sanic rewrites its own functions at start-up, which works once per process only
    return app


async def serve_actions(
    context: ActionContext,
    host: str,
    port: int,
    stop: asyncio.Event,
    ready: Callable[[int], None] | None = None,
    extra: Sequence[Action] = (),
) -> None:
    """Serve until `stop` is set; `ready(port)` once listening (port 0: a free one is chosen)."""
    app = create_app(context, extra)
    try:
        server = await app.create_server(
            host=host, port=port, return_asyncio_server=True, access_log=False, noisy_exceptions=False
        )
        if server is None:
            raise OSError(f"could not listen on {host}:{port}")
        await server.startup()
        await server.before_start()
        await server.after_start()
        sockets: list[Any] = list(server.server.sockets) if server.server is not None else []
        bound = sockets[0].getsockname()[1] if sockets else port
        logger.info("Rasa action server ready on %s:%s (%d actions)", host, bound, len(all_actions(context)))
        if ready is not None:
            ready(bound)
        await stop.wait()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
    finally:
        Sanic.unregister_app(app)  # another app of the same name may be served in this process later


async def run_server(config: Config, host: str, port: int, today: date | None, stop: asyncio.Event) -> None:
    engine = await open_migrated(config.sqlalchemy_url(), config.database.busy_timeout_ms)
    try:
        from rules import load_programs

        context = ActionContext.create(
            load_programs(config.offers_path()),
            sessions=sessionmaker(engine),
            zone=config.zone,
            default_language=config.default_language,
            pinned_today=today,
        )
        await context.refresh()
        await serve_actions(context, host, port, stop)
    finally:
        await engine.dispose()


def main(config: Config, host: str, port: int, today: date | None) -> int:
    """The command: until SIGTERM or Ctrl-C."""
    from ..telegram.logs import configure_logging

    configure_logging(None)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await run_server(config, host, port, today, stop)

    asyncio.run(serve())
    return 0
