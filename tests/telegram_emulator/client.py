"""A raw HTTP client for the emulator, for tests that check the wire protocol itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

Encoding = Literal["json", "form", "multipart"]


@dataclass(frozen=True)
class Upload:
    """A file part for a multipart call (any Upload param makes the call multipart)."""

    content: bytes = field(repr=False)
    filename: str = "file"
    content_type: str = "application/octet-stream"


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


class RawApi:
    """Posts Bot API calls as JSON, urlencoded or multipart bodies, and returns what came back."""

    def __init__(self, base_url: str, token: str, encoding: Encoding = "json") -> None:
        self.base_url = base_url
        self.token = token
        self.encoding: Encoding = encoding
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RawApi:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        *,
        encoding: Encoding | None = None,
        token: str | None = None,
        client_timeout: float | None = None,
        **params: Any,
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, decoded JSON body) of one call; None-valued params are left out.
        client_timeout is this client's own limit; `timeout` would be getUpdates' parameter."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"{self.base_url}{token or self.token}/{method}"
        params = {k: v for k, v in params.items() if v is not None}
        has_files = any(isinstance(v, Upload) for v in params.values())
        kind = "multipart" if has_files else encoding or self.encoding
        kwargs: dict[str, Any] = {}
        if kind == "json":
            kwargs["json"] = params
        elif kind == "form":
            kwargs["data"] = {k: _form_value(v) for k, v in params.items()}
        else:
            form = aiohttp.FormData(default_to_multipart=True)
            for key, value in params.items():
                if isinstance(value, Upload):
                    form.add_field(key, value.content, filename=value.filename, content_type=value.content_type)
                else:
                    form.add_field(key, _form_value(value))
            kwargs["data"] = form
        limit = aiohttp.ClientTimeout(total=client_timeout)
        async with self._session.post(url, timeout=limit, **kwargs) as response:
            return response.status, await response.json(content_type=None)

    async def ok(self, method: str, **params: Any) -> Any:
        """The result of a call that must succeed."""
        status, body = await self.call(method, **params)
        assert status == 200 and body.get("ok") is True, f"{method} failed: {status} {body}"
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        """(error_code, description) of a call that must fail; checks the envelope's shape."""
        status, body = await self.call(method, **params)
        assert body.get("ok") is False, f"{method} unexpectedly succeeded: {body}"
        assert body["error_code"] == status, f"HTTP status {status} != error_code in {body}"
        return status, body["description"]
