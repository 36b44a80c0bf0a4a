"""The gateway app (aiohttp): `python -m gateway`."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from gateway import proxy
from gateway.ratelimit import RateLimiter
from gateway.routes import Route, RouteTable
from gateway.settings import GatewaySettings
from shared.auth import Principal, TokenVerifier
from shared.errors import (
    DomainError,
    Forbidden,
    InternalError,
    NotFound,
    TooManyRequests,
    Unauthorized,
    negotiate_locale,
)
from shared.logs import configure_logging, request_id_from, request_id_var
from shared.redis import make_redis

log = logging.getLogger("gateway")

SETTINGS = web.AppKey("settings", GatewaySettings)
OWN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RouteNotFound(NotFound):
    code = "ROUTE_NOT_FOUND"
    messages = {"en": "No such route", "zh-CN": "路由不存在"}


class BadRequestTarget(DomainError):
    code = "BAD_REQUEST_TARGET"
    messages = {"en": "The request target must be a path (origin-form), not a full URL",
                "zh-CN": "请求目标必须是路径，不能是完整网址"}


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    messages = {"en": "Request body larger than {limit} bytes", "zh-CN": "请求体超过 {limit} 字节"}


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.routes = RouteTable(settings)
        self.verifier = TokenVerifier(settings)
        self.registry = CollectorRegistry()
        self.requests = Counter("gateway_requests_total", "Requests by service and status",
                                ["service", "status"], registry=self.registry)
        self.upstream_latency = Histogram("gateway_upstream_seconds", "Upstream time by service", ["service"],
                                          registry=self.registry,
                                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self._counters: dict[tuple[str, int], Counter] = {}
        self._latencies: dict[str, Histogram] = {}
        self.client = None
        self.redis = None
        self.limiter: RateLimiter | None = None

    async def start(self, _app: web.Application) -> None:
        self.client = proxy.make_client(self.settings.gateway_pool_size)
        self.redis = make_redis(self.settings.redis_url)
        if self.settings.rate_limit_enabled:
            self.limiter = RateLimiter(self.redis, self.settings)

    async def stop(self, _app: web.Application) -> None:
        await self.client.close()
        await self.redis.aclose()

    # --- the forwarding path ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        request_id = request_id_from(request.headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        service = "-"
        try:
            if not request.raw_path.startswith("/"):  # absolute-form: the upstream URL is ours to build
                raise BadRequestTarget()
            route = self.routes.match(request.path)
            if route is None:
                raise RouteNotFound(path=request.path)
            service = route.service
            response = await self._forward(request, route, request_id)
        except DomainError as error:
            response = self.error_response(request, error)
        except Exception:
            log.exception("gateway error")
            response = self.error_response(request, InternalError())
        finally:
            request_id_var.reset(token)
        response.headers["X-Request-Id"] = request_id
        self._count(service, response.status)
        return response

    def _count(self, service: str, status: int) -> None:
        counter = self._counters.get((service, status))
        if counter is None:  # labels() takes a lock and builds a key: do it once per pair
            counter = self._counters[service, status] = self.requests.labels(service, str(status))
        counter.inc()

    async def _forward(self, request: web.Request, route: Route, request_id: str) -> web.Response:
        client_ip = self._client_ip(request)
        try:
            principal = self._authenticate(request, route)
        except DomainError:
            await self._limit(request, None, client_ip)  # floods of bad or missing tokens count per IP
            raise
        await self._limit(request, principal, client_ip)
        body = b""
        if request.body_exists:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge as exc:
                raise PayloadTooLarge(limit=self.settings.gateway_max_body_bytes) from exc
        started = time.perf_counter()
        status, headers, payload = await proxy.forward(
            self.client, request, route, body=body, headers=proxy.upstream_headers(request, request_id, client_ip),
            retries=self.settings.gateway_get_retries)
        latency = self._latencies.get(route.service)
        if latency is None:
            latency = self._latencies[route.service] = self.upstream_latency.labels(route.service)
        latency.observe(time.perf_counter() - started)
        return web.Response(status=status, headers=headers, body=payload)

    async def _limit(self, request: web.Request, principal: Principal | None, client_ip: str) -> None:
        if self.limiter is None:
            return
        user = f"{principal.role}:{principal.subject}" if principal else None
        wait_ms = await self.limiter.wait_ms(self.limiter.checks(request.path, request.method, user, client_ip))
        if wait_ms:
            raise TooManyRequests(retry_after=max(1, -(-wait_ms // 1000)))

    def _authenticate(self, request: web.Request, route: Route) -> Principal | None:
        """A valid token is always required to be valid; its role must fit the route family,
        except on public routes, where the service decides (as it does when called directly)."""
        principal = self.verifier.verify_header(request.headers.get("authorization"))
        if route.public:
            return principal
        if principal is None:
            raise Unauthorized()
        if principal.role is not route.role:
            raise Forbidden(required=[route.role])
        return principal

    def _client_ip(self, request: web.Request) -> str:
        hops = self.settings.trusted_proxy_hops
        if hops:
            entries = [e.strip() for e in request.headers.get("x-forwarded-for", "").split(",") if e.strip()]
            if len(entries) >= hops:
                return entries[-hops]
        return request.remote or "unknown"

    def error_response(self, request: web.Request, error: DomainError) -> web.Response:
        locale = negotiate_locale(request.headers.get("accept-language"), self.settings.default_locale)
        return web.json_response(error.body(locale), status=error.status, headers=error.headers(),
                                 dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    # --- own endpoints -----------------------------------------------------------------------

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        names = list(self.routes.services)
        results = await asyncio.gather(*(proxy.probe(self.client, url) for url in self.routes.services.values()))
        checks = {f"upstream:{name}": result for name, result in zip(names, results, strict=True)}
        try:
            await asyncio.wait_for(self.redis.ping(), 1.0)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return web.json_response({"status": "ready" if ready else "not_ready", "checks": checks},
                                 status=200 if ready else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: GatewaySettings | None = None) -> web.Application:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    gateway = Gateway(settings)
    app = web.Application(client_max_size=settings.gateway_max_body_bytes, handler_args={"max_field_size": 16384})
    app[SETTINGS] = settings
    app.on_startup.append(gateway.start)
    app.on_cleanup.append(gateway.stop)
    app.router.add_get("/healthz", gateway.healthz)
    app.router.add_get("/readyz", gateway.readyz)
    app.router.add_get("/metrics", gateway.metrics)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app
