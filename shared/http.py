"""Calls from one service to another's `/internal/**` API: a pooled aiohttp client with the
caller's service token, a timeout, and the owner's error body kept for the caller to act on.
Bodies are encoded and decoded by pydantic-core (several times faster than the json module)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
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


class ServiceClient:
    def __init__(self, service: str, base_url: str, token: str, *, timeout_seconds: float = 3.0,
                 pool_size: int = 100) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, path: str, body: dict[str, Any] | None = None, *, locale: str = "en") -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size),
                                                  timeout=self._timeout)
        headers = {**self._headers, "Accept-Language": locale}
        try:
            async with self._session.post(self.base_url + path, data=to_json(body or {}), headers=headers) as response:
                raw = await response.read()
                status = response.status
            payload = from_json(raw) if raw else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
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
