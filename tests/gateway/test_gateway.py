"""The gateway in-process against a stub upstream of our own (real Redis for rate limits)."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.app import Gateway
from gateway.routes import RouteTable
from gateway.settings import Bucket, GatewaySettings, RouteLimit
from promo.embedded import free_port
from tests.conftest import REDIS_URL

DROPPED: list[str] = []


async def echo(request: web.Request) -> web.Response:
    if request.path.endswith("/slow"):
        await asyncio.sleep(2)
    if request.path.endswith("/drop-once") and request.method + request.path_qs not in DROPPED:
        DROPPED.append(request.method + request.path_qs)
        request.transport.close()  # the connection dies before any response
        return web.Response()
    body = await request.read()
    return web.json_response(
        {"method": request.method, "path_qs": request.path_qs, "headers": dict(request.headers),
         "body": body.decode()},
        status=201 if request.method == "POST" else 200,
        headers={"Connection": "keep-alive, X-Secret-Hop", "X-Secret-Hop": "1", "X-Upstream": "yes"})


@pytest.fixture(autouse=True)
async def fresh_buckets(redis):
    """Every test here comes from 127.0.0.1: start each with no rate-limit state."""
    keys = [key async for key in redis.scan_iter(match="{rl:*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def upstream():
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def gateway_settings(upstream_port: int, **overrides) -> GatewaySettings:
    values = dict(env="test", redis_url=REDIS_URL, gateway_services=["content", "coupon"],
                  gateway_upstreams={"content": f"http://127.0.0.1:{upstream_port}",
                                     "coupon": f"http://127.0.0.1:{free_port()}"},  # nobody listens there
                  gateway_route_timeouts={"/app-api/content/slow": 0.3}, log_json=False)
    values.update(overrides)
    return GatewaySettings(_env_file=None, **values)


@pytest.fixture
async def gateway(upstream):
    servers = []

    async def start(**overrides):
        server = Gateway(gateway_settings(upstream.port, **overrides))
        port = await server.start("127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    async with aiohttp.ClientSession() as session:
        yield start, session
    for server in servers:
        await server.stop()


async def call(session, method, url, **kwargs):
    async with session.request(method, url, **kwargs) as response:
        text = await response.text()
        return response.status, response.headers, (json.loads(text) if text else None)


def test_route_table():
    settings = gateway_settings(1)
    table = RouteTable(settings)
    route = table.match("/app-api/content/banners")
    assert route and route.service == "content" and route.public and route.role == "member"
    assert table.match("/merchant-api/content/x").role == "merchant"
    assert not table.match("/app-api/coupon/x").public
    assert table.match("/app-api/content").service == "content", "a service's own root (GET /app-api/cart)"
    for path in ("/internal/content/x", "/admin-api/content/x", "/app-api/unknown/x", "/app-api/unknown", "/app-api/",
                 "/app-api", "/", "/other/content/x"):
        assert table.match(path) is None, path
    assert RouteTable(gateway_settings(1, gateway_forward_admin=True)).match("/admin-api/content/x").role == "admin"
    assert table.match("/app-api/content/slow/x").timeout == 0.3


async def test_forwards_method_path_query_and_body(gateway, tokens):
    start, session = gateway
    base = await start()
    headers = {**tokens["member"], "Content-Type": "application/json"}
    status, headers, body = await call(session, "POST", f"{base}/app-api/content/items?a=1&b=%20x",
                                       data=b'{"n": 1}', headers=headers)
    assert status == 201
    assert body["method"] == "POST" and body["path_qs"] == "/app-api/content/items?a=1&b=%20x"
    assert body["body"] == '{"n": 1}'
    assert headers["X-Upstream"] == "yes"


async def test_hop_by_hop_headers_stripped_and_forwarding_headers_set(gateway):
    start, session = gateway
    base = await start()
    status, headers, body = await call(session, "GET", f"{base}/app-api/content/h", headers={
        "Connection": "X-Drop-Me", "X-Drop-Me": "1", "Proxy-Authorization": "x", "TE": "trailers",
        "X-Forwarded-For": "10.1.1.1", "X-Request-Id": "rid-1", "X-Device-Id": "device-12345"})
    sent = {k.lower(): v for k, v in body["headers"].items()}
    assert status == 200
    assert "x-drop-me" not in sent and "proxy-authorization" not in sent and "te" not in sent
    assert sent["x-forwarded-for"] == "10.1.1.1, 127.0.0.1"
    assert sent["x-request-id"] == "rid-1" and headers["X-Request-Id"] == "rid-1"
    assert sent["x-device-id"] == "device-12345"
    assert "X-Secret-Hop" not in headers
    _, headers, body = await call(session, "GET", f"{base}/app-api/content/h", headers={"X-Request-Id": "x" * 500})
    sent = {k.lower(): v for k, v in body["headers"].items()}
    assert len(headers["X-Request-Id"]) == 32 and sent["x-request-id"] == headers["X-Request-Id"]


async def test_internal_and_admin_paths_are_not_forwarded(gateway, tokens):
    start, session = gateway
    base = await start()
    for path in ("/internal/content/x", "/internal/coupon/match"):
        status, _, body = await call(session, "GET", base + path, headers=tokens["service"])
        assert status == 404 and body["error"]["code"] == "ROUTE_NOT_FOUND"
    status, _, _ = await call(session, "GET", f"{base}/admin-api/content/banners", headers=tokens["admin"])
    assert status == 404
    base_with_admin = await start(gateway_forward_admin=True)
    status, _, _ = await call(session, "GET", f"{base_with_admin}/admin-api/content/banners", headers=tokens["admin"])
    assert status == 200


async def test_tokens_are_checked_before_forwarding(gateway, tokens):
    start, session = gateway
    base = await start()
    status, _, body = await call(session, "GET", f"{base}/app-api/content/x", headers={"Authorization": "Bearer bad"})
    assert status == 401 and body["error"]["code"] == "AUTH_INVALID_TOKEN"
    status, _, body = await call(session, "GET", f"{base}/merchant-api/content/x")
    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"
    status, _, body = await call(session, "GET", f"{base}/merchant-api/content/x", headers=tokens["member"])
    assert status == 403
    status, _, _ = await call(session, "GET", f"{base}/merchant-api/content/x", headers=tokens["merchant"])
    assert status == 200


async def test_upstream_down_is_502_and_timeout_is_504(gateway, tokens):
    start, session = gateway
    base = await start()
    status, _, body = await call(session, "GET", f"{base}/app-api/coupon/templates", headers=tokens["member"])
    assert status == 502 and body["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    status, _, body = await call(session, "GET", f"{base}/app-api/content/slow", headers={"Accept-Language": "en"})
    assert status == 504 and body["error"] == {"code": "UPSTREAM_TIMEOUT", "details": {"service": "content"},
                                               "message": "Service content did not answer in time"}


async def test_rate_limit_per_ip_for_anonymous_callers_with_retry_after(gateway):
    start, session = gateway
    prefix = f"/app-api/content/limited-{uuid.uuid4().hex[:6]}"
    base = await start(rate_limit_routes=[RouteLimit(prefix=prefix, per_ip=Bucket(rate=0.2, burst=3))])
    statuses = [(await call(session, "GET", base + prefix))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    status, headers, body = await call(session, "GET", base + prefix)
    assert status == 429 and body["error"]["code"] == "TOO_MANY_REQUESTS" and int(headers["Retry-After"]) >= 1
    other = await call(session, "GET", f"{base}/app-api/content/elsewhere")
    assert other[0] == 200  # the strict rule is only for its prefix


async def test_rate_limit_is_per_user(gateway, tokens, dev_settings):
    from shared.auth import Role
    from tests.conftest import bearer

    start, session = gateway
    users = [bearer(dev_settings, Role.MEMBER, 900000 + i + uuid.uuid4().int % 1000 * 10) for i in range(2)]
    base = await start(rate_limit_user=Bucket(rate=0.1, burst=2))
    first = [(await call(session, "GET", f"{base}/app-api/content/u", headers=users[0]))[0] for _ in range(3)]
    second = [(await call(session, "GET", f"{base}/app-api/content/u", headers=users[1]))[0] for _ in range(2)]
    assert first == [200, 200, 429] and second == [200, 200]


async def test_rate_limiter_fails_open_when_redis_is_down(gateway):
    start, session = gateway
    base = await start(redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_ip=Bucket(rate=0.1, burst=1))
    statuses = [(await call(session, "GET", f"{base}/app-api/content/x"))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]


async def test_a_frozen_redis_costs_a_request_at_most_the_limiters_timeout_and_is_logged_once(gateway):
    """SIGSTOP: Redis accepts connections but never answers (the socket timeout was 2 s a request)."""
    import logging
    import signal
    import time

    from promo.embedded import start_redis

    start, session = gateway
    server = start_redis()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("gateway.ratelimit").addHandler(handler)
    try:
        base = await start(redis_url=server.url, rate_limit_ip=Bucket(rate=0.1, burst=1), rate_limit_timeout_ms=100,
                           rate_limit_retry_seconds=0.5)
        assert [(await call(session, "GET", f"{base}/app-api/content/x"))[0] for _ in range(2)] == [200, 429]
        server.process.send_signal(signal.SIGSTOP)
        took = []
        for _ in range(20):
            started = time.perf_counter()
            status, _, _ = await call(session, "GET", f"{base}/app-api/content/x")
            took.append(time.perf_counter() - started)
            assert status == 200  # fails open
        assert max(took) < 1.0 and sorted(took)[10] < 0.09  # most pass without asking the frozen Redis
        server.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.6)
        statuses = [(await call(session, "GET", f"{base}/app-api/content/x"))[0] for _ in range(3)]
        assert 429 in statuses  # limited again
        messages = [r.getMessage() for r in records]
        assert len([m for m in messages if "unavailable" in m]) == 1, messages
        assert len([m for m in messages if "is back" in m]) == 1, messages
    finally:
        logging.getLogger("gateway.ratelimit").removeHandler(handler)
        server.process.send_signal(signal.SIGCONT)
        server.stop()


async def test_an_absolute_form_request_target_is_400_and_never_forwarded(gateway):
    start, _ = gateway
    base = await start()
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET http://evil.example/app-api/content/x HTTP/1.1\r\nHost: evil.example\r\n"
                 b"Connection: close\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer
    assert json.loads(body)["error"]["code"] == "BAD_REQUEST_TARGET"


async def test_body_too_large_is_413(gateway, tokens):
    start, session = gateway
    base = await start(gateway_max_body_bytes=1024)
    status, _, body = await call(session, "POST", f"{base}/app-api/content/x", data=b"x" * 4096,
                                 headers=tokens["member"])
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_health_ready_and_metrics(gateway):
    start, session = gateway
    base = await start(gateway_services=["content"])
    assert (await call(session, "GET", f"{base}/healthz"))[0] == 200
    status, _, body = await call(session, "GET", f"{base}/readyz")
    assert status == 200 and body["checks"] == {"upstream:content": "ok", "redis": "ok"}
    not_ready = await start()  # coupon's upstream is down
    status, _, body = await call(session, "GET", f"{not_ready}/readyz")
    assert status == 503 and body["checks"]["upstream:coupon"].startswith("error")
    await call(session, "GET", f"{base}/app-api/content/m")
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    assert 'gateway_requests_total{service="content",status="200"}' in text


async def test_get_is_retried_on_a_dropped_connection_but_post_and_put_are_not(gateway, tokens):
    start, session = gateway
    base = await start()
    tag = uuid.uuid4().hex[:6]
    status, _, body = await call(session, "GET", f"{base}/app-api/content/drop-once?t={tag}")
    assert status == 200 and DROPPED.count(f"GET/app-api/content/drop-once?t={tag}") == 1
    status, _, body = await call(session, "POST", f"{base}/app-api/content/drop-once?t={tag}",
                                 headers=tokens["member"])
    assert status == 502 and body["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    status, _, _ = await call(session, "PUT", f"{base}/app-api/content/drop-once?t={tag}", headers=tokens["member"])
    assert status == 502
    no_retries = await start(gateway_get_retries=0)
    status, _, _ = await call(session, "GET", f"{no_retries}/app-api/content/drop-once?t={tag}-2")
    assert status == 502


def test_route_buckets_are_named_by_their_rule_not_their_position():
    from gateway.ratelimit import RateLimiter

    rules = [RouteLimit(prefix="/app-api/a/", per_ip=Bucket(rate=1, burst=1)),
             RouteLimit(prefix="/app-api/b/", methods=["POST"], per_ip=Bucket(rate=1, burst=1))]
    limiter = RateLimiter(None, gateway_settings(1, rate_limit_routes=rules))
    keys_a = [c.key for c in limiter.checks("/app-api/a/x", "GET", None, "1.2.3.4")]
    limiter.settings = gateway_settings(1, rate_limit_routes=list(reversed(rules)))
    assert [c.key for c in limiter.checks("/app-api/a/x", "GET", None, "1.2.3.4")] == keys_a
    assert keys_a == ["{rl:ip:1.2.3.4}:all", "{rl:ip:1.2.3.4}:route::/app-api/a/"]
    assert len(limiter.checks("/app-api/b/x", "GET", None, "1.2.3.4")) == 1  # POST-only rule


async def test_client_ip_is_counted_from_the_right_behind_trusted_proxies(gateway):
    start, session = gateway
    prefix = f"/app-api/content/xff-{uuid.uuid4().hex[:6]}"
    strict = [RouteLimit(prefix=prefix, per_ip=Bucket(rate=0.1, burst=1))]
    base = await start(trusted_proxy_hops=1, rate_limit_routes=strict)
    # A client forging a different left-most entry each time is still the same right-most address.
    forged = [{"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.9"} for i in range(2)]
    statuses = [(await call(session, "GET", base + prefix, headers=headers))[0] for headers in forged]
    assert statuses == [200, 429]
    other = await call(session, "GET", base + prefix, headers={"X-Forwarded-For": "6.6.6.1, 198.51.100.4"})
    assert other[0] == 200


async def test_bad_and_missing_tokens_are_rate_limited_too(gateway):
    start, session = gateway
    base = await start(rate_limit_ip=Bucket(rate=0.1, burst=2))
    bad = {"Authorization": "Bearer bad"}
    statuses = [(await call(session, "GET", f"{base}/merchant-api/content/x", headers=bad))[0] for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_public_routes_accept_any_valid_token(gateway, tokens):
    start, session = gateway
    base = await start()
    for role in ("member", "merchant", "admin"):
        assert (await call(session, "GET", f"{base}/app-api/content/x", headers=tokens[role]))[0] == 200
    assert (await call(session, "GET", f"{base}/app-api/coupon/x", headers=tokens["merchant"]))[0] == 403


def test_member_and_merchant_with_the_same_id_do_not_share_a_bucket():
    from gateway.ratelimit import RateLimiter

    limiter = RateLimiter(None, gateway_settings(1))
    member = limiter.checks("/app-api/x", "GET", "member:7", "1.2.3.4")[0].key
    merchant = limiter.checks("/app-api/x", "GET", "merchant:7", "1.2.3.4")[0].key
    assert member != merchant


@pytest.mark.parametrize("cluster_safe", [False, True])
async def test_a_request_the_ip_limit_refuses_spends_none_of_the_users_tokens(gateway, dev_settings, redis,
                                                                               cluster_safe):
    """One script call takes a token from every bucket or from none; on Redis Cluster the IP's
    call goes first. Either way the user's bucket keeps its tokens when the IP is refused."""
    from shared.auth import Role
    from tests.conftest import bearer

    start, session = gateway
    prefix = f"/app-api/content/both-{uuid.uuid4().hex[:6]}"
    rules = [RouteLimit(prefix=prefix, per_user=Bucket(rate=0.001, burst=5), per_ip=Bucket(rate=0.001, burst=1))]
    base = await start(rate_limit_routes=rules, rate_limit_cluster_safe=cluster_safe)
    user = bearer(dev_settings, Role.MEMBER, 880000 + uuid.uuid4().int % 10000)
    statuses = [(await call(session, "GET", base + prefix, headers=user))[0] for _ in range(3)]
    assert statuses == [200, 429, 429]
    [user_bucket] = [key async for key in redis.scan_iter(match="{rl:u:member:*}:route:*" + prefix)]
    assert 3.99 < float(await redis.hget(user_bucket, "tokens")) < 4.01  # only the first request's token
