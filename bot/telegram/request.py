"""python-telegram-bot's requests through aiohttp instead of httpx (its `BaseRequest` extension point).

Every Bot API call of the bot goes through here: `getUpdates`, each reply, each button's answer.
Measured on the dialog benchmark, httpx and httpcore took about a fifth of the bot's CPU (a
failed `import sniffio` on every request among it); aiohttp, already the bot's webhook server,
does the same work for less. Behaviour is python-telegram-bot's: the status codes and the
Bot API's errors are turned into its exceptions by `BaseRequest` itself; here a timeout becomes
`TimedOut` and any other transport failure `NetworkError`, as `HTTPXRequest` does.

Timeouts map as closely as aiohttp allows: `connect_timeout` bounds the TCP connect,
`read_timeout` each wait for the answer's bytes, `pool_timeout` plus `connect_timeout` getting a
connection; aiohttp has no write timeout of its own, so `write_timeout` bounds the whole request
together with the others.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_NONE: Any = BaseRequest.DEFAULT_NONE


def _seconds(value: Any, default: float | None) -> float | None:
    return default if value is DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    """A pool of keep-alive connections to the Bot API (`connection_pool_size` at most)."""

    def __init__(
        self,
        connection_pool_size: int = 32,
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> its proxy, if any

    def _proxy_for(self, url: str) -> str | None:
        """The environment's proxy for `url`'s host (None: direct), looked up once per host."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme) or urllib.request.getproxies().get("all")
            self._proxies[key] = None if not proxy or urllib.request.proxy_bypass(key[1]) else proxy
        return self._proxies[key]

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            # No cookies (the Bot API sets none). Proxies from the environment (HTTPS_PROXY,
            # NO_PROXY...) are followed as python-telegram-bot's httpx client follows them, but
            # read once per host (`_proxy_for`): aiohttp's `trust_env` reads them at every request,
            # which cost a third of the bot's throughput.
            self._proxies.clear()
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _seconds(read_timeout, self._read_timeout)
        write = _seconds(write_timeout, self._write_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        parts = [t for t in (read, write, connect, pool) if t is not None]
        timeout = aiohttp.ClientTimeout(
            total=sum(parts) if len(parts) == 4 else None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                data = request_data.url_encoded_parameters()
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            proxy = self._proxy_for(url)
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts derive from it
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
