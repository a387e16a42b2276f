"""`python -m bot rasa-actions`: rasa-sdk's own endpoint (`/webhook`, `/actions`, `/health`) and
`ActionExecutor`, served in this process's event loop by Sanic's low-level server API.

rasa-sdk's `run()` forks Sanic workers that would each need the offers, the FAQ matcher and a
database pool pickled across; one process in one loop keeps the live offers and staff answers
in memory once. For more throughput, run several behind the load balancer (they share nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import re
import signal
import socket
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ..config import Config
from ..errors import ConfigError
from ..storage.db import sessionmaker
from ..storage.migrate import open_migrated
from .actions import all_actions
from .context import ActionContext

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5055  # Rasa's `endpoints.yml` default for the action server
MAX_BODY = 8 * 1024 * 1024  # bytes of a request, once inflated (a long conversation's tracker fits)
VERSION = re.compile(r"[0-9A-Za-z.+-]{1,32}")  # a Rasa version as rasa-sdk may write it in a warning
RASA_SDK_VERSION = importlib.metadata.version("rasa-sdk")


def well_formed(event: Any) -> bool:
    """An event rasa-sdk can read: an object with a type, and a slot event with a slot's name."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return False
    return event["event"] != "slot" or isinstance(event.get("name"), str)


def inflate(body: bytes) -> bytes | None:
    """A deflated body, inflated to at most `MAX_BODY` bytes; None when larger or not deflate."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, MAX_BODY + 1)
    except zlib.error:
        return None
    if len(inflated) > MAX_BODY or inflater.unconsumed_tail:
        return None
    return inflated


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

    executor = executor_for(context, extra)
    app: Sanic[Any, Any] = rasa_app(executor, cors_origins=None)

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
    app.config.REQUEST_MAX_SIZE = MAX_BODY
    names = frozenset(executor.actions)

    @app.on_request
    async def screened(request: Request) -> HTTPResponse | None:
        """What rasa-sdk would take unchecked: a deflated body inflated without a bound, a tracker
        of the wrong shape (slots, events or `latest_message` that are not what its `Tracker`
        reads), an unknown action's name written to the log as sent, a `version` written into a
        warning as sent."""
        if request.method != "POST" or request.route is None or not request.route.name.endswith(".webhook"):
            return None  # `/webhook/` is the same route: the route decides, not the path's spelling
        if request.headers.get("Content-Encoding") == "deflate":
            inflated = inflate(request.body)
            if inflated is None:
                return response.json({"error": "body too large or not deflate"}, status=413)
            request.body = inflated
            del request.headers["Content-Encoding"]
        call = request.json  # a body that is not JSON: 400 from Sanic
        if not isinstance(call, dict):
            return response.json({"error": "expected a JSON object"}, status=400)
        if not isinstance(call.get("next_action"), str) or call["next_action"] not in names:
            logger.warning("action server: a call to an unknown action")
            return response.json({"error": "unknown action"}, status=404)
        tracker = call.get("tracker")
        if isinstance(tracker, dict):  # rasa-sdk's Tracker reads these without a check
            for name, empty in (("slots", {}), ("latest_message", {}), ("events", [])):
                if not isinstance(tracker.get(name), type(empty)):
                    tracker[name] = empty
            tracker["events"] = [event for event in tracker["events"] if well_formed(event)]
        if not isinstance(call.get("version"), str) or not VERSION.fullmatch(call["version"]):
            call["version"] = RASA_SDK_VERSION  # rasa-sdk writes it in a warning: no line of the caller's
        return None

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
    listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    bound = listener.getsockname()[1]  # Sanic reads port 0 as 8000: the socket is ours, on the port asked
    try:
        server = await app.create_server(
            sock=listener, return_asyncio_server=True, access_log=False, noisy_exceptions=False
        )
        if server is None:
            raise OSError(f"could not listen on {host}:{port}")
        await server.startup()
        await server.before_start()
        await server.after_start()
        logger.info("Rasa action server ready on %s:%s (%d actions)", host, bound, len(all_actions(context)))
        if ready is not None:
            ready(bound)
        await stop.wait()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
    finally:
        listener.close()
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

    try:
        asyncio.run(serve())
    except OSError as error:  # the port taken, a host that is not ours: one line, no traceback
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return 0
