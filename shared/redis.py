"""Redis client factory, Lua script loading and key naming.

Keys of one entity share a hash tag so multi-key scripts run on Redis Cluster:
`entity_key("sk", 42, "stock")` -> `{sk:42}:stock`.
"""

from __future__ import annotations

from importlib import resources

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError


def make_redis(url: str, max_connections: int = 100) -> Redis:
    """A burst larger than the pool waits for a connection (up to 2 s) instead of failing: a flash
    crowd is exactly such a burst. A pooled connection that Redis closed (a restart) is replaced
    and the command sent again once, so the first request after a restart does not fail (the
    suite's scripts are safe to repeat: seckill's remember their token, a rate-limit token taken
    twice is harmless)."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=2.0, socket_timeout=2.0,
                                           socket_connect_timeout=2.0, health_check_interval=30,
                                           retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
    return Redis.from_pool(pool)  # closing the client closes the pool too


def load_lua(redis: Redis, package: str, filename: str) -> AsyncScript:
    """Register a `.lua` file shipped in `package`; calls use EVALSHA, reloading on NOSCRIPT."""
    source = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return redis.register_script(source)


def entity_key(entity: str, entity_id: object, *parts: object) -> str:
    return ":".join([f"{{{entity}:{entity_id}}}", *map(str, parts)])
