"""The gateway's rate limiter on the Redis Cluster: the gateway folder's limiter tests (their
gateways get the cluster's URL), its cluster-safe mode on by itself, and a master restarted
under it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.crc import key_slot

from gateway.ratelimit import RateLimiter
from gateway.redis_pipe import ClusterRedis
from gateway.settings import Bucket, RouteLimit
from tests.conftest import free_port
from tests.gateway import test_gateway
from tests.gateway.test_gateway import (  # noqa: F401 - the gateway folder's fixtures and tests, on the cluster
    call,
    fresh_buckets,
    gateway,
    gateway_settings,
    test_a_request_the_ip_limit_refuses_spends_none_of_the_users_tokens,
    test_bad_and_missing_tokens_are_rate_limited_too,
    test_health_ready_and_metrics,
    test_rate_limit_is_per_user,
    test_rate_limit_per_ip_for_anonymous_callers_with_retry_after,
    upstream,
)


@pytest.fixture(autouse=True)
def gateways_on_the_cluster(monkeypatch, redis_cluster):
    monkeypatch.setattr(test_gateway, "REDIS_URL", redis_cluster.url)


def test_a_cluster_url_turns_the_cluster_safe_mode_on(redis_cluster):
    assert gateway_settings(1).rate_limit_cluster_safe
    assert not gateway_settings(1, redis_url="redis://127.0.0.1:6379/0").rate_limit_cluster_safe


async def test_each_limiter_call_keeps_its_keys_on_one_slot(redis_cluster):
    rules = [RouteLimit(prefix="/app-api/seckill/reservations", per_user=Bucket(rate=1, burst=3),
                        per_ip=Bucket(rate=20, burst=40))]
    limiter = RateLimiter(ClusterRedis(redis_cluster.url), gateway_settings(1, rate_limit_routes=rules))
    try:
        commands = limiter.commands("/app-api/seckill/reservations", b"POST", "member:1001", "10.0.0.1")
        assert len(commands) == 2, "the IP's buckets, then the user's"
        for command in commands:
            count = command[2]
            keys = command[3:3 + count]
            assert len({key_slot(key.encode()) for key in keys}) == 1, keys
    finally:
        await limiter.redis.close()


async def test_a_master_restarted_empty_limits_again_at_once(gateway, redis_cluster):  # noqa: F811
    """The node with the caller's bucket is killed: requests pass (the limiter fails open), then it
    comes back without the script or the bucket, and the limit holds again from its first request."""
    start, session = gateway
    prefix = f"/app-api/content/restart-{uuid.uuid4().hex[:6]}"
    base = await start(rate_limit_routes=[RouteLimit(prefix=prefix, per_ip=Bucket(rate=0.001, burst=2))],
                       rate_limit_retry_seconds=0.2)
    assert [(await call(session, "GET", base + prefix))[0] for _ in range(3)] == [200, 200, 429]
    node = redis_cluster.owner("{rl:ip:127.0.0.1}")
    redis_cluster.kill(node)
    try:
        assert [(await call(session, "GET", base + prefix))[0] for _ in range(3)] == [200, 200, 200]
    finally:
        redis_cluster.restart(node)
    await asyncio.sleep(0.3)  # past the limiter's retry pause
    assert [(await call(session, "GET", base + prefix))[0] for _ in range(3)] == [200, 200, 429]


async def test_a_cluster_nobody_answers_lets_requests_through(gateway):  # noqa: F811
    """The limiter fails open on a cluster as on one server (redis-py's RedisClusterException is
    no RedisError: it escaped as a 500)."""
    start, session = gateway
    base = await start(redis_url=f"redis+cluster://127.0.0.1:{free_port()}", rate_limit_retry_seconds=0.2)
    statuses = []
    for _ in range(3):
        statuses.append((await call(session, "GET", base + "/app-api/content/x"))[0])
        await asyncio.sleep(0.25)  # past the retry pause: Redis is asked again
    assert statuses == [200, 200, 200]


async def test_warm_up_learns_the_cluster_without_the_reply_timeout(redis_cluster):
    """Learning the nodes and slots takes tens of milliseconds, more than a reply may take: done
    within the reply timeout by the first call, it timed out and that request went unchecked."""
    redis_client = ClusterRedis(redis_cluster.url, reply_timeout=0.005)
    limiter = RateLimiter(redis_client, gateway_settings(1))
    try:
        await limiter.warm_up()
        assert redis_client.client.get_default_node() is not None, "the cluster's nodes are known"
        redis_client.reply_timeout = 1.0
        commands = limiter.commands("/app-api/content/x", b"GET", None, f"10.9.{uuid.uuid4().int % 250}.1")
        assert await limiter.wait_ms(commands) == 0 and limiter.failures == 0
    finally:
        await redis_client.close()
