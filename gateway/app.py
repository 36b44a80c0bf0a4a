"""The gateway: routing, token and role checks, rate limits, forwarding, its own endpoints.

One `Gateway` per process (`python -m gateway` runs one per core): asyncio Protocols on uvloop,
httptools on both sides (gateway/server.py, gateway/upstream.py), the limiter's Redis calls
batched per loop turn (gateway/redis_pipe.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from email.utils import formatdate
from urllib.parse import unquote

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from gateway.ratelimit import RateLimiter, make_limiter_redis
from gateway.routes import Route, RouteTable, Upstream
from gateway.server import ClientConnection, PayloadTooLarge, Request
from gateway.settings import GatewaySettings
from gateway.tokens import TokenCache
from gateway.upstream import HOP_BY_HOP, REASONS, Exchange, UpstreamFailed, UpstreamPool, listed_in_connection, probe
from shared.auth import Principal, TokenVerifier
from shared.errors import (
    DomainError,
    Forbidden,
    InternalError,
    NotFound,
    TooManyRequests,
    Unauthorized,
    UpstreamTimeout,
    UpstreamUnavailable,
    negotiate_locale,
)
from shared.logs import request_id_from, request_id_var

log = logging.getLogger("gateway")

__all__ = ["Gateway", "PayloadTooLarge"]

OWN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TICK_SECONDS = 0.05  # how late an upstream timeout may fire
ROUTES_KEPT = 10_000  # matched routes by path
RETRYABLE_METHODS = frozenset({b"GET", b"HEAD"})
# Request headers not passed on: the connection's own, and the ones the gateway sets itself.
NOT_FORWARDED = HOP_BY_HOP | {b"host", b"content-length", b"expect", b"x-forwarded-for", b"x-request-id"}


class RouteNotFound(NotFound):
    code = "ROUTE_NOT_FOUND"
    messages = {"en": "No such route", "zh-CN": "路由不存在"}


class BadRequestTarget(DomainError):
    code = "BAD_REQUEST_TARGET"
    messages = {"en": "The request target must be a path (origin-form), not a full URL",
                "zh-CN": "请求目标必须是路径，不能是完整网址"}


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.routes = RouteTable(settings)
        self.tokens = TokenCache(TokenVerifier(settings))
        self.upstreams = {name: Upstream.from_url(url) for name, url in self.routes.services.items()}
        self.pools = {name: UpstreamPool(u.host, u.port, settings.gateway_pool_size,
                                         settings.gateway_upstream_idle_seconds)
                      for name, u in self.upstreams.items()}
        self.host_headers = {name: f"{u.host}:{u.port}".encode() for name, u in self.upstreams.items()}
        self.registry = CollectorRegistry()
        self.requests = Counter("gateway_requests_total", "Requests by service and status",
                                ["service", "status"], registry=self.registry)
        self.upstream_latency = Histogram("gateway_upstream_seconds", "Upstream time by service", ["service"],
                                          registry=self.registry,
                                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.scraped = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several workers: /metrics adds them up
            from prometheus_client import multiprocess

            self.scraped = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.scraped)
        self._counters: dict[tuple[str, int], Counter] = {}
        self._latencies: dict[str, Histogram] = {}
        self.redis = make_limiter_redis(settings)
        self.limiter = RateLimiter(self.redis, settings) if settings.rate_limit_enabled else None
        self.connections: set[ClientConnection] = set()
        self.server: asyncio.Server | None = None
        self.date = b""
        self.loop: asyncio.AbstractEventLoop | None = None  # set by start()
        self._routes: dict[str, Route | None] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self.in_flight: set[Exchange] = set()  # exchanges with a deadline, checked by _tick
        self._ticker: asyncio.TimerHandle | None = None
        self._warming: asyncio.Task | None = None

    # -- life cycle ------------------------------------------------------------------------

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> int:
        """Listen; returns the port (useful with port 0)."""
        self.loop = loop = asyncio.get_running_loop()
        self._sweep()
        self._tick()
        if self.limiter is not None:  # connected and the script loaded before the first request needs them
            self._warming = loop.create_task(self.limiter.warm_up())
        self.server = await loop.create_server(lambda: ClientConnection(self), host, port,
                                               reuse_port=reuse_port or None, backlog=1024)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for handle in (self._sweeper, self._ticker, self._warming):
            if handle is not None:
                handle.cancel()
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.transport.close()
        for pool in self.pools.values():
            pool.close()
        await self.redis.close()
        if self.server is not None:
            await self.server.wait_closed()

    def _sweep(self) -> None:
        """Once a second: the Date header, and slow or idle client connections."""
        now = time.monotonic()
        self.date = b"Date: " + formatdate(usegmt=True).encode() + b"\r\n"
        s = self.settings
        for connection in list(self.connections):
            connection.check(now, s.gateway_client_timeout_seconds, s.gateway_keepalive_seconds)
        self._sweeper = self.loop.call_later(1.0, self._sweep)

    def _tick(self) -> None:
        """Every TICK_SECONDS: exchanges past their deadline time out (504, or the client's
        connection is cut if the answer had begun)."""
        now = self.loop.time()
        for exchange in [e for e in self.in_flight if e.deadline <= now]:
            exchange.time_out()
        self._ticker = self.loop.call_later(TICK_SECONDS, self._tick)

    # -- one request -----------------------------------------------------------------------

    async def handle(self, client: ClientConnection, request: Request) -> None:
        """Answers `request` on `client` (the whole response is written, or the connection
        aborted when a response breaks half-way)."""
        named = request.named
        request_id = request_id_from(_text(named.get(b"x-request-id")))
        token = request_id_var.set(request_id)
        service = "-"
        status = 0
        try:
            if request.error is not None:
                raise request.error
            if not request.url.startswith(b"/"):  # absolute-form: the upstream URL is ours to build
                raise BadRequestTarget()
            path = request.url.decode("latin-1").partition("?")[0]
            if "%" in path:
                path = unquote(path)  # the services route on the decoded path: so do the route and limits
            if "/." in path and _has_dot_segment(path):
                raise BadRequestTarget()
            if path in OWN_PATHS and request.method in RETRYABLE_METHODS:
                await self._own(client, request, request_id, path)  # not counted: not traffic
                return
            route = self._match(path)
            if route is None:
                raise RouteNotFound(path=path)
            service = route.service
            status = await self._forward(client, request, route, request_id, path)
        except DomainError as error:
            status = self.respond_error(client, request, error, request_id)
        except Exception:
            log.exception("gateway error")
            if client.exchange is None or not client.exchange.answered:
                status = self.respond_error(client, request, InternalError(), request_id)
            else:
                client.abort()
        finally:
            client.exchange = None
            request_id_var.reset(token)
            if status:
                self._count(service, status)

    def _match(self, path: str) -> Route | None:
        try:
            return self._routes[path]
        except KeyError:
            if len(self._routes) >= ROUTES_KEPT:
                self._routes.clear()
            route = self._routes[path] = self.routes.match(path)
            return route

    def _count(self, service: str, status: int) -> None:
        counter = self._counters.get((service, status))
        if counter is None:  # labels() takes a lock and builds a key: do it once per pair
            counter = self._counters[service, status] = self.requests.labels(service, str(status))
        counter.inc()

    async def _forward(self, client: ClientConnection, request: Request, route: Route, request_id: str,
                       path: str) -> int:
        named = request.named
        client_ip = self._client_ip(client, named)
        try:
            principal = self._authenticate(_text(named.get(b"authorization")), route)
        except DomainError:
            await self._limit(path, request.method, None, client_ip)  # floods of bad or missing tokens count per IP
            raise
        await self._limit(path, request.method, principal, client_ip)
        message = self._upstream_request(request, route, request_id, client_ip)
        pool = self.pools[route.service]
        idempotent = request.method in RETRYABLE_METHODS
        retries = self.settings.gateway_get_retries if idempotent else 0
        stale_retry = idempotent  # one more try when a kept-alive connection turned out dead
        loop = self.loop
        while True:
            try:
                connection = pool.take() or await pool.acquire(route.timeout)
            except TimeoutError as exc:
                raise UpstreamTimeout(service=route.service) from exc
            except OSError as exc:
                if retries > 0:
                    retries -= 1
                    continue
                raise UpstreamUnavailable(service=route.service) from exc
            reused = connection.used > 0
            exchange = Exchange(loop, client, head_only=request.method == b"HEAD", client_http11=request.http11,
                                client_keep_alive=request.keep_alive and not client.last_answer,
                                extra_head=b"X-Request-Id: " + request_id.encode() + b"\r\n")
            client.exchange = exchange
            started = time.perf_counter()
            exchange.watch(self.in_flight, loop.time(), route.timeout)
            connection.start(exchange, message)
            try:
                status = await exchange.done
            except UpstreamFailed as failure:
                if failure.answered:  # the client has part of a response: it must see it broken
                    client.abort()
                    return exchange.status
                if failure.timed_out:
                    raise UpstreamTimeout(service=route.service) from failure
                if reused and stale_retry:
                    stale_retry = False
                    continue
                if retries > 0:
                    retries -= 1
                    continue
                raise UpstreamUnavailable(service=route.service) from failure
            finally:
                client.exchange = None
            if exchange.close_client:
                request.keep_alive = False
            latency = self._latencies.get(route.service)
            if latency is None:
                latency = self._latencies[route.service] = self.upstream_latency.labels(route.service)
            latency.observe(time.perf_counter() - started)
            return status

    def _upstream_request(self, request: Request, route: Route, request_id: str, client_ip: str) -> bytes:
        named = request.named
        dropped = NOT_FORWARDED
        connection = named.get(b"connection")
        if connection is not None:
            dropped = dropped | listed_in_connection(connection)
        out = [request.method, b" ", request.url, b" HTTP/1.1\r\nhost: ", self.host_headers[route.service], b"\r\n"]
        for name, value in request.headers:
            if name not in dropped:
                out += (name, b": ", value, b"\r\n")
        ip = client_ip.encode()
        previous = named.get(b"x-forwarded-for")
        out += (b"x-forwarded-for: ", previous + b", " + ip if previous else ip, b"\r\n")
        if b"x-forwarded-proto" not in named:
            out.append(b"x-forwarded-proto: http\r\n")
        host = named.get(b"host")
        if host is not None and b"x-forwarded-host" not in named:
            out += (b"x-forwarded-host: ", host, b"\r\n")
        out += (b"x-request-id: ", request_id.encode(), b"\r\n")
        if request.has_body:
            out.append(b"content-length: %d\r\n" % request.body_size)
        out.append(b"\r\n")
        out += request.body
        return b"".join(out)

    async def _limit(self, path: str, method: bytes, principal: Principal | None, client_ip: str) -> None:
        if self.limiter is None:
            return
        user = f"{principal.role}:{principal.subject}" if principal else None
        wait_ms = await self.limiter.wait_ms(self.limiter.commands(path, method, user, client_ip))
        if wait_ms:
            raise TooManyRequests(retry_after=max(1, -(-wait_ms // 1000)))

    def _authenticate(self, authorization: str | None, route: Route) -> Principal | None:
        """A valid token is always required to be valid; its role must fit the route family,
        except on public routes, where the service decides (as it does when called directly)."""
        principal = self.tokens.principal(authorization)
        if route.public:
            return principal
        if principal is None:
            raise Unauthorized()
        if principal.role is not route.role:
            raise Forbidden(required=[route.role])
        return principal

    def _client_ip(self, client: ClientConnection, named: dict[bytes, bytes]) -> str:
        hops = self.settings.trusted_proxy_hops
        if hops:
            entries = [e.strip() for e in _text(named.get(b"x-forwarded-for")).split(",") if e.strip()]
            if len(entries) >= hops:
                return entries[-hops]
        return client.peer

    # -- answers of the gateway's own --------------------------------------------------------

    def respond(self, client: ClientConnection, request: Request, status: int, body: bytes, content_type: bytes,
                request_id: str, extra: dict[str, str] | None = None) -> int:
        close = not request.keep_alive or request.error is not None or client.last_answer
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown")), self.date,
                b"Content-Type: ", content_type, b"\r\nContent-Length: %d\r\n" % len(body),
                b"X-Request-Id: ", request_id.encode(), b"\r\n"]
        for name, value in (extra or {}).items():
            head.append(f"{name}: {value}\r\n".encode())
        if close:
            request.keep_alive = False
            head.append(b"Connection: close\r\n")
        elif not request.http11:
            head.append(b"Connection: keep-alive\r\n")
        head.append(b"\r\n")
        if request.method != b"HEAD":
            head.append(body)
        client.write(b"".join(head))
        return status

    def respond_error(self, client: ClientConnection, request: Request, error: DomainError, request_id: str) -> int:
        locale = negotiate_locale(_text(request.named.get(b"accept-language")) or None, self.settings.default_locale)
        body = json.dumps(error.body(locale), ensure_ascii=False).encode()
        return self.respond(client, request, error.status, body, b"application/json; charset=utf-8", request_id,
                            error.headers())

    async def _own(self, client: ClientConnection, request: Request, request_id: str, path: str) -> int:
        if path == "/healthz":
            status, body = 200, {"status": "ok"}
        elif path == "/readyz":
            status, body = await self.readiness()
        else:
            return self.respond(client, request, 200, generate_latest(self.scraped), CONTENT_TYPE_LATEST.encode(),
                                request_id)
        return self.respond(client, request, status, json.dumps(body).encode(), b"application/json", request_id)

    async def readiness(self) -> tuple[int, dict]:
        names = list(self.upstreams)
        results = await asyncio.gather(*(probe(u.host, u.port) for u in self.upstreams.values()))
        checks = {f"upstream:{name}": result for name, result in zip(names, results, strict=True)}
        try:
            async with asyncio.timeout(1.0):
                await self.redis.call(b"PING")
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "checks": checks}


def _text(value: bytes | None) -> str:
    return value.decode("latin-1") if value is not None else ""


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))
