"""Forwarding one request to its service with a pooled, keep-alive aiohttp client."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway.routes import Route
from shared.errors import UpstreamTimeout, UpstreamUnavailable

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
NOT_RETURNED = HOP_BY_HOP | {"content-length", "date", "server"}
RETRYABLE_METHODS = frozenset({"GET", "HEAD"})
CONNECT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)

def make_client(pool_size: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size, keepalive_timeout=30,
                                     ttl_dns_cache=60)
    # auto_decompress off: bodies pass through byte for byte, Content-Encoding included.
    client = aiohttp.ClientSession(connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                                   skip_auto_headers=("User-Agent", "Accept-Encoding"))
    # aiohttp silently retries PUT/DELETE too when a connection drops; our policy is GET/HEAD
    # only (GATEWAY_GET_RETRIES). No public switch exists; aiohttp's own test_utils sets this.
    client._retry_connection = False
    return client

def _without(headers, names: frozenset[str]) -> CIMultiDict[str]:
    """A copy without `names` and without whatever the Connection header lists."""
    copy = CIMultiDict(headers)
    listed = [token.strip() for value in copy.getall("connection", ()) for token in value.split(",")]
    for name in (*names, *listed):
        copy.popall(name, None)
    return copy


def upstream_headers(request: web.Request, request_id: str, client_ip: str) -> CIMultiDict[str]:
    headers = _without(request.headers, NOT_FORWARDED)
    previous = headers.get("x-forwarded-for")
    headers["X-Forwarded-For"] = f"{previous}, {client_ip}" if previous else client_ip
    headers.setdefault("X-Forwarded-Proto", request.scheme)
    headers.setdefault("X-Forwarded-Host", request.host)
    headers["X-Request-Id"] = request_id
    return headers


def response_headers(upstream: aiohttp.ClientResponse) -> CIMultiDict[str]:
    return _without(upstream.headers, NOT_RETURNED)


async def forward(client: aiohttp.ClientSession, request: web.Request, route: Route, *, body: bytes,
                  headers: CIMultiDict[str], retries: int) -> tuple[int, CIMultiDict[str], bytes]:
    url = URL(route.upstream + request.raw_path, encoded=True)
    attempts = 1 + (retries if request.method in RETRYABLE_METHODS else 0)
    for attempt in range(attempts):
        try:
            async with client.request(request.method, url, headers=headers, data=body or None,
                                      timeout=route.timeout, allow_redirects=False) as upstream:
                return upstream.status, response_headers(upstream), await upstream.read()
        except CONNECT_ERRORS as exc:
            if attempt + 1 == attempts:
                raise UpstreamUnavailable(service=route.service) from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(service=route.service) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable(service=route.service) from exc
    raise AssertionError("unreachable")

async def probe(client: aiohttp.ClientSession, base_url: str) -> str:
    try:
        async with client.get(f"{base_url}/healthz", timeout=aiohttp.ClientTimeout(total=1.0)) as resp:
            return "ok" if resp.status == 200 else f"error: HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"error: {type(exc).__name__}"
