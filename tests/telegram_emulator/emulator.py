"""TelegramEmulator: the public object tests create, start and drive."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from . import methods_bot, methods_messages  # noqa: F401  (registers the API methods)
from .clock import Clock, EmulatorClock
from .errors import ApiError, not_found, request_entity_too_large, unauthorized
from .faults import Fault, FaultRegistry, Injection
from .models import CallbackQueryRecord, RateLimitViolation, TranscriptEntry
from .params import Params, target_chat_id
from .ratelimit import RateLimitConfig, RateLimiter
from .registry import Described, lookup
from .server import ApiServer
from .state import EmulatorState
from .transcript import Transcript
from .user import SimulatedUser
from .webhook import WebhookDeliverer

# Telegram's limit for files a bot uploads (api.telegram.org answers 413 above it).
MAX_UPLOAD_SIZE = 50 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    drop: bool = False


class TelegramEmulator:
    """A local Bot API server for one bot token.

    time_scale speeds up Telegram's own clocks (rate-limit windows and retry_after, the 15 s
    callback query lifetime, long-poll timeouts, webhook backoff): time_scale=10 makes them
    ten times shorter. Durations a test passes explicitly (Fault.slow, outage, next_reply
    timeouts, Fault.too_many_requests' retry_after) are real seconds, never scaled.

    clock replaces the wall clock: with a ManualClock, Telegram's clocks, Fault.slow and outage
    move only when the test advances it (give either time_scale or clock, not both).
    next_reply/replies_until_idle/wait_until timeouts stay wall-clock seconds.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        time_scale: float | None = None,
        clock: EmulatorClock | None = None,
        rate_limits: bool | RateLimitConfig = True,
        bot_username: str = "emulator_bot",
        bot_first_name: str = "Emulator Bot",
        strict_html_ampersand: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        if clock is not None and time_scale is not None:
            raise ValueError("give time_scale or clock, not both (a ManualClock takes its own time_scale)")
        self.token = token
        self.clock: EmulatorClock = clock if clock is not None else Clock(1.0 if time_scale is None else time_scale)
        self.strict_html_ampersand = strict_html_ampersand
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.transcript_log = Transcript(self.clock)
        self.state = EmulatorState(self.bot_user, self.clock, self.transcript_log)
        config = rate_limits if isinstance(rate_limits, RateLimitConfig) else None
        if rate_limits is True:
            config = RateLimitConfig()
        self.rate_limiter = RateLimiter(self.clock, config)
        self.faults = FaultRegistry()
        self.webhook = WebhookDeliverer(self)
        self.users: dict[int, SimulatedUser] = {}
        self.poll_generation = 0
        self.closing = False
        self.outage_mode: Literal["refuse", "502"] = "refuse"
        self._outage_until = 0.0
        self._background: set[asyncio.Task[None]] = set()
        self._server = ApiServer(self, host)

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.closing = False
        await self._server.start()
        self.clock.restart()

    async def stop(self) -> None:
        self.closing = True
        # Long polls return at once instead of holding the shutdown.
        self.state.update_signal.notify()
        for task in list(self._background):
            task.cancel()
        await self.webhook.close()
        await self._server.stop()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as base_url (it appends the token and the method)."""
        return f"http://{self._server.host}:{self.port}/bot"

    def api_url(self, method: str) -> str:
        return f"{self.base_url}{self.token}/{method}"

    # test-side helpers -------------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> SimulatedUser:
        """A person with a private chat (chat id == user id); the same id gives the same user."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id not in self.users:
            self.users[user_id] = SimulatedUser(
                self,
                user_id,
                first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        return self.users[user_id]

    def add_group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        kind: str = "supergroup",
        username: str | None = None,
    ) -> dict[str, Any]:
        """A group the bot is a member of (negative id), so the bot can write to it."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return dict(self.state.group_chat(chat_id, title, kind, username).chat)

    def inject(
        self,
        method: str | None = None,
        chat_id: int | None = None,
        *,
        fault: Fault,
        times: int | None = None,
        nth: int | None = None,
    ) -> Injection:
        """Faults matching calls; see Injection for how times and nth count."""
        return self.faults.add(Injection(fault, method, chat_id, times, nth))

    def clear_faults(self) -> None:
        self.faults.clear()

    def outage(self, seconds: float, *, mode: Literal["refuse", "502"] = "refuse") -> None:
        """For `seconds` real seconds (of the clock) every request fails: connections are refused
        or reset ("refuse") or answered 502 Bad Gateway ("502"); webhook deliveries pause too.
        With "refuse", the server stops listening shortly after (see accepting_connections)."""
        self.outage_mode = mode
        self._outage_until = self.clock.real() + seconds
        if mode == "refuse":
            self._spawn(self._server.refuse_connections(seconds))

    def outage_remaining(self) -> float:
        return max(0.0, self._outage_until - self.clock.real())

    @property
    def accepting_connections(self) -> bool:
        """False while an outage ("refuse") keeps the server from listening."""
        return self._server.listening

    async def wait_until(self, condition: Callable[[], object], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Returns once condition() is true, checking it again whenever something crosses the
        emulator (a call, an update, a webhook delivery, an outage starting or ending).
        AssertionError with the transcript tail after `timeout` wall-clock seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = self.transcript_text(last=25)
                raise AssertionError(f"condition not reached within {timeout}s\n--- transcript tail ---\n{tail}")
            await self.transcript_log.changed.wait(remaining)

    @property
    def transcript(self) -> list[TranscriptEntry]:
        return list(self.transcript_log.entries)

    def transcript_text(self, last: int | None = None, chat_id: int | None = None) -> str:
        return self.transcript_log.text(last=last, chat_id=chat_id)

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat as it is now: every message not deleted, after edits, oldest first."""
        record = self.state.chats.get(chat_id)
        if record is None:
            return []
        return [self.state.message_dict(record, m) for _, m in sorted(record.messages.items()) if not m.deleted]

    def chat_actions(self, chat_id: int) -> list[str]:
        record = self.state.chats.get(chat_id)
        return list(record.actions) if record else []

    @property
    def rate_limit_violations(self) -> list[RateLimitViolation]:
        return list(self.rate_limiter.violations)

    def pending_updates(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(u.payload) for u in self.state.updates]

    def webhook_info(self) -> dict[str, Any]:
        return self.webhook.info(len(self.state.updates), self.state.allowed_updates)

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        return [q for q in self.state.callback_queries.values() if not q.answered]

    # calls -------------------------------------------------------------------------------
    async def handle_call(self, token: str, method: str, raw: dict[str, Any]) -> Outcome:
        """One HTTP call: authentication, method lookup, faults, then the method itself."""
        params = Params(raw)
        if any(upload.size > MAX_UPLOAD_SIZE for upload in params.files()):
            # Refused before the call is looked at: no method, token or fault applies.
            return self.reject_too_large(method, params=params)
        if token != self.token:
            return self._record(method, params, Outcome(401, unauthorized().envelope()))
        spec = lookup(method)
        if spec is None:
            return self._record(method, params, Outcome(404, not_found().envelope()))
        chat_id = self._fault_chat(params)
        fault = self.faults.take(spec.name, chat_id)
        if fault is None:
            return self._record(spec.name, params, await self._run(spec.name, params))
        if fault.kind == "drop_connection":
            return self._record(spec.name, params, Outcome(0, {}, drop=True), fault.kind)
        if fault.kind != "slow":
            return self._record(spec.name, params, Outcome(fault.status, fault.envelope()), fault.kind)
        # Slow: the call takes effect now, even if the client gives up before the answer.
        outcome = await asyncio.shield(self._run(spec.name, params))
        self._record(spec.name, params, outcome, f"slow {fault.delay}s")
        await self.clock.sleep(fault.delay)
        return outcome

    async def call_internal(self, method: str, raw: dict[str, Any], *, source: str = "internal") -> dict[str, Any]:
        """Runs a method without HTTP (used for methods in webhook replies)."""
        params = Params(raw)
        spec = lookup(method)
        outcome = Outcome(404, not_found().envelope()) if spec is None else await self._run(spec.name, params)
        return self._record(spec.name if spec else method, params, outcome, source).body

    def reject_too_large(self, method: str, note: str = "", *, params: Params | None = None) -> Outcome:
        """413 for an upload over Telegram's limit (or a body too large to read at all)."""
        spec = lookup(method)
        error = request_entity_too_large()
        return self._record(spec.name if spec else method, params or Params({}), Outcome(413, error.envelope()), note)

    def _fault_chat(self, params: Params) -> int | None:
        chat_id = target_chat_id(params)
        if chat_id is None and params.has("callback_query_id"):
            query = self.state.callback_queries.get(params.get_str("callback_query_id") or "")
            chat_id = query.chat_id if query else None
        return chat_id

    async def _run(self, name: str, params: Params) -> Outcome:
        spec = lookup(name)
        assert spec is not None
        try:
            result = await spec.handler(self, params)
        except ApiError as exc:
            return Outcome(exc.error_code, exc.envelope())
        if isinstance(result, Described):
            return Outcome(200, {"ok": True, "result": result.result, "description": result.description})
        return Outcome(200, {"ok": True, "result": result})

    def _record(self, method: str, params: Params, outcome: Outcome, note: str = "") -> Outcome:
        self.transcript_log.add(
            "call",
            method=method,
            params=params.readable(),
            status=outcome.status or None,
            response=None if outcome.drop else outcome.body,
            chat_id=self._fault_chat(params),
            note=note,
        )
        return outcome

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
