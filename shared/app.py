"""The app factory every service uses: error handling, request ids, JSON logs, metrics,
health/readiness, and a lifespan owning the engine, Redis, the outbox relay, the consumer
runner and periodic jobs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import Table, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import validation
from shared.auth import TokenVerifier
from shared.clock import Clock, SystemClock
from shared.consumer import ConsumerRunner, Handler
from shared.db import create_engine, make_sessionmaker, read_committed
from shared.deps import request_locale
from shared.errors import (
    Conflict,
    DomainError,
    InternalError,
    ServiceUnavailable,
    ValidationFailed,
    http_error_body,
    negotiate_locale,
)
from shared.fast_path import read_body, replay
from shared.kafka import make_consumer, make_producer
from shared.logs import configure_logging, request_id_from, request_id_var
from shared.outbox import OutboxRelay
from shared.redis import make_redis, reachable
from shared.settings import ServiceSettings

log = logging.getLogger("shared.app")

Job = Callable[[FastAPI], Awaitable[None]]
# Something a service holds for its lifetime (a client of another service): entered at startup,
# left at shutdown.
Resource = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


@dataclass
class Messaging:
    """What a service publishes and consumes. Every service has an outbox and an inbox table."""

    outbox: Table
    inbox: Table
    handlers: dict[str, Handler] = field(default_factory=dict)


def create_service_app(settings: ServiceSettings, *, title: str, routers: Sequence[APIRouter],
                       messaging: Messaging, jobs: Sequence[Job] = (), resources: Sequence[Resource] = (),
                       clock: Clock | None = None, description: str = "",
                       fast_paths: Sequence[type] = ()) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    app = FastAPI(title=title, description=description, lifespan=_lifespan, version="0.1.0")
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.token_verifier = TokenVerifier(settings)
    app.state.messaging = messaging
    app.state.jobs = list(jobs)
    app.state.resources = list(resources)
    app.state.background = True  # relay, consumers and jobs; `promo replay` turns them off
    app.state.registry = CollectorRegistry()
    _install_error_handlers(app)
    for fast_path in fast_paths:  # pure ASGI handlers of hot routes, inside the request id and metrics
        app.add_middleware(fast_path)
    app.add_middleware(BodyRules, max_bytes=settings.max_body_bytes, default_locale=settings.default_locale)
    app.add_middleware(ObservabilityMiddleware, registry=app.state.registry,
                       default_locale=settings.default_locale)
    if settings.cors_origins:  # outermost: preflights are answered before anything else
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "DELETE"], max_age=600,
                           allow_headers=["Authorization", "Content-Type", "Accept-Language", "Idempotency-Key"],
                           expose_headers=["Content-Disposition", "X-Request-Id", "Retry-After"])
    for router in routers:
        app.include_router(router)
    app.include_router(_ops_router())
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    settings: ServiceSettings = app.state.settings
    messaging: Messaging = app.state.messaging
    app.state.engine = create_engine(settings.db_url, pool_size=settings.database_pool_size,
                                     echo=settings.database_echo)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.redis = make_redis(settings.redis_url)
    relay = OutboxRelay(messaging.outbox, make_sessionmaker(read_committed(app.state.engine)),
                        lambda: make_producer(settings),
                        app.state.clock, poll_seconds=settings.outbox_poll_seconds,
                        batch_size=settings.outbox_batch_size, retention_hours=settings.outbox_retention_hours)
    background = app.state.background
    tasks = [asyncio.create_task(relay.run_forever(), name="outbox-relay")] if background else []
    try:
        async with contextlib.AsyncExitStack() as stack:
            for resource in app.state.resources:
                await stack.enter_async_context(resource(app))
            # consumers and jobs may use what the resources set up: they start after, stop before
            if messaging.handlers and background:
                runner = ConsumerRunner(
                    handlers=messaging.handlers, inbox=messaging.inbox, sessionmaker=app.state.sessionmaker,
                    clock=app.state.clock, max_attempts=settings.consumer_max_attempts,
                    consumer_factory=lambda topics: make_consumer(settings, topics, settings.kafka_group_id))
                tasks.append(asyncio.create_task(runner.run_forever(), name="consumer"))
            tasks += [asyncio.create_task(job(app), name=getattr(job, "__name__", "job"))
                      for job in (app.state.jobs if background else [])]
            # What exists now lives as long as the app; frozen, full collections stop walking it
            # (measured: a 50-line quote spent ~1 ms of its CPU in GC without this).
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()
                await _stop(tasks)
    finally:
        await _stop(tasks)
        await relay.close()
        await app.state.redis.aclose()
        await app.state.engine.dispose()


async def _stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- errors -----------------------------------------------------------------------------------

def _install_error_handlers(app: FastAPI) -> None:
    def render(request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error.body(request_locale(request)), status_code=error.status, headers=error.headers())

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = request_locale(request)
        errors = [{"loc": [str(p) for p in e["loc"]], "msg": validation.message(e, locale), "type": e["type"]}
                  for e in exc.errors()]
        return render(request, ValidationFailed(errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(http_error_body(exc.status_code, request_locale(request)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error reached the handler: %s", exc.orig)
        return render(request, Conflict())

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> JSONResponse:
        log.warning("the database refused a value: %s", exc.orig)
        return render(request, ValidationFailed(errors=[{"msg": "a value is out of range for its column"}]))

    @app.exception_handler(OperationalError)
    async def db_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc.orig)
        return render(request, ServiceUnavailable())
    # Anything else is caught by ObservabilityMiddleware, inside the request id's context.


# --- request id + metrics (pure ASGI: no per-request task or body copy) ------------------------

class ObservabilityMiddleware:
    """Request id (echoed, logged), metrics, and the last-resort 500 for unhandled errors."""

    def __init__(self, app, registry: CollectorRegistry, default_locale: str) -> None:
        self.app = app
        self.default_locale = default_locale
        self.requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=registry)
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                                 registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error")
            if status:  # the response had started: nothing more can be said to the client
                raise
            locale = negotiate_locale(_header(scope, b"accept-language"), self.default_locale)
            await JSONResponse(InternalError().body(locale), status_code=500)(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], route, str(status or 500)).inc()
            self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
            request_id_var.reset(token)


class BodyRules:
    """A request body must be JSON (`application/json` or `application/*+json`), else 415
    UNSUPPORTED_MEDIA_TYPE, and at most `max_bytes` long, else 413 PAYLOAD_TOO_LARGE (the
    gateway's cap, for callers that come directly): both before a route reads it."""

    def __init__(self, app, max_bytes: int, default_locale: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.default_locale = default_locale

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        if not _is_json(_header(scope, b"content-type")):
            await self._refuse(415, scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit() or int(length) > self.max_bytes:
                await self._refuse(413, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)  # chunked: no length to check up front
        if body is None:
            await self._refuse(413, scope, receive, send)
            return
        await self.app(scope, replay(body), send)

    async def _refuse(self, status: int, scope, receive, send) -> None:
        locale = negotiate_locale(_header(scope, b"accept-language"), self.default_locale)
        await JSONResponse(http_error_body(status, locale), status_code=status)(scope, receive, send)


def _has_body(scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


# --- health -----------------------------------------------------------------------------------

def _ops_router() -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks = await readiness_checks(request.app)
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                            status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)

    return router


async def readiness_checks(app: FastAPI) -> dict[str, str]:
    async def database() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await reachable(app.state.redis)

    async def broker() -> None:
        await tcp_reachable(app.state.settings.kafka_bootstrap_servers)

    names = ("database", "redis", "broker")
    results = await asyncio.gather(*(asyncio.wait_for(check(), 2.0) for check in (database, redis, broker)),
                                   return_exceptions=True)
    return {name: "ok" if not isinstance(result, BaseException) else f"error: {type(result).__name__}"
            for name, result in zip(names, results, strict=True)}


async def tcp_reachable(bootstrap_servers: str) -> None:
    """Succeeds when any of the comma-separated host:port servers accepts a connection."""
    last_error: Exception = ConnectionError("no bootstrap servers")
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.open_connection(host.strip("[]") or "127.0.0.1", int(port))
            writer.close()
            await writer.wait_closed()
            return
        except (OSError, ValueError) as exc:
            last_error = exc
    raise last_error
