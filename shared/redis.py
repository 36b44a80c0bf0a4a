"""Redis client factory, Lua script loading and key naming.

Keys of one entity share a hash tag so multi-key scripts run on Redis Cluster:
`entity_key("sk", 42, "stock")` -> `{sk:42}:stock`.

`REDIS_URL` names one server (`redis://`, `rediss://`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, `rediss+cluster://` with TLS): the nodes listed are
seeds, the client learns the rest of the cluster from them.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
WAIT_FOR_CONNECTION = 2.0  # seconds a command waits for a free connection when a burst uses them all


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def make_redis(url: str, max_connections: int = 100) -> Redis | RedisCluster:
    """A burst larger than the pool waits for a connection (up to 2 s) instead of failing: a flash
    crowd is exactly such a burst. A pooled connection that Redis closed (a restart) is replaced
    and the command sent again once, so the first request after a restart does not fail (the
    suite's scripts are safe to repeat: seckill's remember their token, a rate-limit token taken
    twice is harmless)."""
    if is_cluster_url(url):
        return make_cluster(url, max_connections)
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=2.0, socket_timeout=2.0,
                                           socket_connect_timeout=2.0, health_check_interval=30,
                                           retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
    return Redis.from_pool(pool)  # closing the client closes the pool too


class WaitingCluster(RedisCluster):
    """redis-py's cluster client refuses a command when its node's connections are all busy
    (MaxConnectionsError); here it waits for one, as `make_redis`'s single-server pool does:
    at most `max_connections` commands are under way at once. Pipelines (a few, in batches) use
    the headroom each node keeps above that."""

    def __init__(self, *args: Any, commands_at_once: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._at_once = asyncio.Semaphore(commands_at_once)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(WAIT_FOR_CONNECTION):
                await self._at_once.acquire()
        except TimeoutError:
            raise RedisConnectionError(f"no free redis connection within {WAIT_FOR_CONNECTION} s") from None
        try:
            return await super().execute_command(*args, **kwargs)
        finally:
            self._at_once.release()


def make_cluster(url: str, max_connections: int = 100) -> RedisCluster:
    """A cluster client from a `redis+cluster://` URL, with `make_redis`'s timeouts; a command
    that meets a node down is sent again once, after the client asked the cluster who owns its
    slot (a failover's new master), then fails: the callers' "Redis is down" path."""
    scheme, _, rest = url.partition("://")
    credentials, _, hosts = rest.rpartition("@")
    hosts, _, tail = hosts.partition("/")  # a database, if any, must be 0 on a cluster
    seeds = [seed.strip() for seed in hosts.split(",") if seed.strip()]
    if not seeds:
        raise ValueError(f"{scheme}:// needs at least one host:port")
    first = f"{scheme.lower().removesuffix('+cluster')}://{credentials + '@' if credentials else ''}{seeds[0]}/{tail}"
    others = [ClusterNode(host, int(port)) for host, _, port in (seed.rpartition(":") for seed in seeds[1:])]
    return WaitingCluster.from_url(first, startup_nodes=others or None, commands_at_once=max_connections,
                                   max_connections=2 * max_connections, socket_timeout=2.0,
                                   socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1))


class LuaScript(AsyncScript):
    """In a cluster pipeline, a script is sent whole (EVAL): redis-py loads scripts before a
    single server's pipeline runs, not before a cluster's, and a node that restarted has none.
    (Queued, not awaited: awaiting a cluster pipeline empties it.)"""

    async def __call__(self, keys=None, args=None, client=None):
        if isinstance(client, ClusterPipeline):
            keys = list(keys or [])
            return client.eval(self.script, len(keys), *keys, *(args or []))
        return await super().__call__(keys=keys, args=args, client=client)


def load_lua(redis: Redis | RedisCluster, package: str, filename: str) -> LuaScript:
    """Register a `.lua` file shipped in `package`; calls use EVALSHA, reloading on NOSCRIPT."""
    source = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return LuaScript(redis, source)


def entity_key(entity: str, entity_id: object, *parts: object) -> str:
    return ":".join([f"{{{entity}:{entity_id}}}", *map(str, parts)])
