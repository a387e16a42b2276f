"""The HTTP side: aiohttp app on 127.0.0.1, /bot<token>/<method>, body decoding, outages."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .models import UploadedFile

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

PATH_RE = re.compile(r"^/bot([^/]*)/([^/]+)/?$")
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Bodies up to this size are read (so that a file just over Telegram's 50 MB limit gets the
# same 413 as a larger one, through handle_call); larger ones are refused unread.
MAX_BODY_SIZE = 64 * 1024 * 1024


class BodyError(Exception):
    pass


class BodyTooLarge(Exception):
    """The body is larger than the server reads at all (see MAX_BODY_SIZE)."""


def _form_value(value: Any) -> Any:
    """A file part (one with a filename) becomes an UploadedFile; other parts are text."""
    if isinstance(value, web.FileField):
        try:
            content = value.file.read()
        finally:
            value.file.close()
        return UploadedFile(value.filename, value.content_type or None, bytes(content))
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return value


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus body: JSON, urlencoded or multipart (file parts become UploadedFile)."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    try:
        return await _read_body(request, params)
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge from None


async def _read_body(request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise BodyError(f"can't parse JSON encoded request: {exc}") from None
            if not isinstance(data, dict):
                raise BodyError("JSON object expected in request body")
            params.update(data)
    elif request.content_type in FORM_TYPES:
        form = await request.post()
        for key, value in form.items():
            params[key] = _form_value(value)
    return params


class ApiServer:
    def __init__(self, emulator: TelegramEmulator, host: str) -> None:
        self._emu = emulator
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    async def start(self) -> int:
        app = web.Application(client_max_size=MAX_BODY_SIZE)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Short shutdown: waiting long polls are woken by the emulator before this runs.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, 0)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    @property
    def listening(self) -> bool:
        return self._site is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def refuse_connections(self, seconds: float) -> None:
        """Stops listening (new connections are refused), then listens again on the same port."""
        if self._site is None or self._runner is None:
            return
        await self._site.stop()
        self._site = None
        self._emu.transcript_log.add("outage", note=f"not listening for {seconds}s")
        try:
            await self._emu.clock.sleep(seconds)
        finally:
            if self._runner is not None and not self._emu.closing:
                site = web.TCPSite(self._runner, self.host, self.port)
                await site.start()
                self._site = site
                self._emu.transcript_log.add("outage", note="listening again")

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        emu = self._emu
        match = PATH_RE.match(request.path)
        if emu.outage_remaining() > 0:
            emu.transcript_log.add(
                "outage", method=match.group(2) if match else request.path, note=f"request failed ({emu.outage_mode})"
            )
            if emu.outage_mode == "502":
                return web.json_response({"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502)
            return self._drop(request)
        if match is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            params = await read_params(request)
        except BodyTooLarge:
            outcome = emu.reject_too_large(match.group(2), "body not read")
            return web.json_response(outcome.body, status=outcome.status)
        except BodyError as exc:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            return web.json_response(body, status=400)
        outcome = await emu.handle_call(match.group(1), match.group(2), params)
        if outcome.drop:
            return self._drop(request)
        return web.json_response(outcome.body, status=outcome.status)
