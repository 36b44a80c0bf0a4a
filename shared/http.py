"""Calls from one service to another's `/internal/**` API: a pool of kept-alive HTTP/1.1
connections with the caller's service token, a timeout, and the owner's error body kept for the
caller to act on. Each call writes its request in one piece and reads the answer with httptools
(llhttp, uvicorn's parser) on an asyncio Protocol: less than half the CPU aiohttp's client took per
call (a member quote makes one or more). Bodies are encoded and decoded by pydantic-core."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httptools
from pydantic_core import from_json, to_json

from shared.auth import Role, issue_token
from shared.errors import DomainError
from shared.settings import CommonSettings

log = logging.getLogger("shared.http")


class DependencyUnavailable(DomainError):
    status = 503
    code = "DEPENDENCY_UNAVAILABLE"
    messages = {"en": "Service {service} is unavailable, try again later",
                "zh-CN": "服务 {service} 暂不可用，请稍后再试"}


class Refused(Exception):
    """The other service answered with a 4xx error body: its code, message and details."""

    def __init__(self, service: str, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{service} refused: {status} {code} {message}")
        self.service, self.status, self.code, self.message, self.details = service, status, code, message, details


def outbound_service_token(settings: CommonSettings, caller: str, configured: str) -> str:
    """The token this service presents to the others: SERVICE_TOKEN from settings, or in dev/test
    one signed with the dev secret (production tokens come from the mall's identity provider)."""
    if configured:
        return configured
    if not settings.is_dev or settings.jwt_algorithm.upper() != "HS256":
        raise RuntimeError(f"SERVICE_TOKEN is required for {caller} to call other services outside dev/test")
    return issue_token(settings, f"promo-{caller}", Role.SERVICE, ttl_seconds=365 * 86400)


# A kept-alive connection idle this long is closed rather than reused: servers close theirs after
# a few seconds (uvicorn: 5), and a request written as the server closes would be lost.
IDLE_SECONDS = 2.0


class _Answer(asyncio.Protocol):
    """One connection: one exchange at a time, the answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.chunks: list[bytes] = []
        self.reusable = False
        self.idle_since = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.chunks)))

    def _fail(self, exc: BaseException) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter, self.chunks, self.reusable = asyncio.get_running_loop().create_future(), [], False
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class ServiceClient:
    def __init__(self, service: str, base_url: str, token: str, *, timeout_seconds: float = 3.0,
                 pool_size: int = 100) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(pool_size)  # connections open (or opening) at once
        self._idle: dict[str, list[_Answer]] = {}  # by base URL, the most recently used last
        self._heads: dict[tuple[str, str, str], bytes] = {}  # (base URL, path, locale) -> request head

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def post(self, path: str, body: dict[str, Any] | None = None, *, locale: str = "en") -> Any:
        base_url, content = self.base_url, to_json(body or {})
        try:
            async with asyncio.timeout(self._timeout):
                status, raw = await self._call(base_url, path, locale, content)
            payload = from_json(raw) if raw else None
        except (OSError, TimeoutError, ValueError, httptools.HttpParserError) as exc:
            log.warning("call to %s %s failed: %r", self.service, path, exc)
            raise DependencyUnavailable(service=self.service) from exc
        if status < 400:
            return payload
        error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        if 400 <= status < 500 and status not in (401, 403, 429):
            raise Refused(self.service, status, error.get("code", "UNKNOWN"), error.get("message", ""),
                          error.get("details") or {})
        log.warning("call to %s %s answered %s %s", self.service, path, status, error.get("code"))
        raise DependencyUnavailable(service=self.service)

    async def _call(self, base_url: str, path: str, locale: str, content: bytes) -> tuple[int, bytes]:
        request = self._head(base_url, path, locale) + str(len(content)).encode() + b"\r\n\r\n" + content
        async with self._slots:
            connection = self._reuse(base_url) or await self._connect(base_url)
            try:
                answer = await connection.exchange(request)
            except BaseException:  # cancelled (the timeout) or failed: its state is unknown
                connection.close()
                raise
            if connection.reusable:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(base_url, []).append(connection)
            else:
                connection.close()
            return answer

    def _reuse(self, base_url: str) -> _Answer | None:
        idle, now = self._idle.get(base_url), time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable and now - connection.idle_since < IDLE_SECONDS and \
                    connection.transport is not None and not connection.transport.is_closing():
                return connection
            connection.close()
        return None

    async def _connect(self, base_url: str) -> _Answer:
        url = urlsplit(base_url)
        secure = url.scheme == "https"
        _, connection = await asyncio.get_running_loop().create_connection(
            _Answer, url.hostname, url.port or (443 if secure else 80),
            ssl=ssl.create_default_context() if secure else None)
        return connection

    def _head(self, base_url: str, path: str, locale: str) -> bytes:
        key = (base_url, path, locale)
        head = self._heads.get(key)
        if head is None:
            url = urlsplit(base_url)
            if len(self._heads) > 1000:  # paths with ids in them: keep the cache bounded
                self._heads.clear()
            authorization = f"Authorization: Bearer {self._token}\r\n" if self._token else ""  # "": a public API
            head = self._heads[key] = (
                f"POST {url.path}{path} HTTP/1.1\r\nHost: {url.netloc}\r\n{authorization}"
                f"Content-Type: application/json\r\nAccept-Language: {locale}\r\nContent-Length: ").encode("latin-1")
        return head
