"""Redis client factory, Lua script loading and key naming.

Keys of one entity share a hash tag so multi-key scripts run on Redis Cluster:
`entity_key("sk", 42, "stock")` -> `{sk:42}:stock`.

`REDIS_URL` names one server (`redis://`, `rediss://`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, `rediss+cluster://` with TLS): the nodes listed are
seeds, the client learns the rest of the cluster from them.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
    """redis-py's cluster client, with two changes for a crowd:
    - it refuses a command when its node's connections are all busy (MaxConnectionsError); here
      it waits for one, as `make_redis`'s single-server pool does: at most `max_connections`
      commands are under way at once. Pipelines (a few, in batches) use the headroom each node
      keeps above that;
    - after a command fails on a node it asks the cluster for its slots again, and recycles every
      node's connections each time: with a master down under a crowd, thousands of refreshes a
      second failed the other masters' commands too. Here the slots are asked for at most once
      every REFRESH_SECONDS (a MOVED reply still moves a slot at once), and a node that could not
      be reached is not tried again for as long: its commands fail at once (the callers' "Redis
      is down" answer) instead of each paying for a connection attempt, while the others' run."""

    REFRESH_SECONDS = 1.0

    def __init__(self, *args: Any, commands_at_once: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._at_once = asyncio.Semaphore(commands_at_once)
        self._refreshed: float | None = None  # monotonic time of the last refresh
        self._down: dict[str, float] = {}  # node name -> until when it is not tried (monotonic)

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        """The first time: the nodes, their slots and the commands' table. After a failure: the
        slots again, at most every REFRESH_SECONDS (redis-py would also fetch the commands' table
        again, from the first master listed, which may be the one down: that failure closed every
        node's connections)."""
        if not self._initialize:
            return self
        if self._refreshed is None:
            await super().initialize(*args, **kwargs)
        elif time.monotonic() - self._refreshed >= self.REFRESH_SECONDS:
            self._refreshed = time.monotonic()
            await self.nodes_manager.initialize(*args, **kwargs)
        self._refreshed = time.monotonic()
        self._initialize = False
        return self

    async def _execute_command(self, target_node: ClusterNode, *args: Any, **kwargs: Any) -> Any:
        until = self._down.get(target_node.name)
        if until is not None:
            if time.monotonic() < until:
                raise RedisConnectionError(f"redis node {target_node.name} is down")
            del self._down[target_node.name]
        try:
            return await super()._execute_command(target_node, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            self._down[target_node.name] = time.monotonic() + self.REFRESH_SECONDS
            raise
        except AttributeError as exc:
            # redis-py: a refresh closed the connection under this command (the node is fine;
            # the command is sent again once, on another connection)
            raise RedisConnectionError(f"redis node {target_node.name}: connection closed ({exc})") from exc

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
    """On a cluster a script missing on a node (NOSCRIPT: the node restarted) is sent whole to
    that node (EVAL, which also loads it there), not loaded on every master as redis-py does (a
    master down would fail the call). In a cluster pipeline it is always sent whole: redis-py loads
    scripts before a single server's pipeline runs, not before a cluster's. (Queued, not
    awaited: awaiting a cluster pipeline empties it.)"""

    async def __call__(self, keys=None, args=None, client=None):
        client = client or self.registered_client
        keys, args = list(keys or []), list(args or [])
        if isinstance(client, ClusterPipeline):
            return client.eval(self.script, len(keys), *keys, *args)
        if isinstance(client, RedisCluster):
            try:
                return await client.evalsha(self.sha, len(keys), *keys, *args)
            except NoScriptError:
                return await client.eval(self.script, len(keys), *keys, *args)
        return await super().__call__(keys=keys, args=args, client=client)


def load_lua(redis: Redis | RedisCluster, package: str, filename: str) -> LuaScript:
    """Register a `.lua` file shipped in `package`; calls use EVALSHA, reloading on NOSCRIPT."""
    source = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return LuaScript(redis, source)


def entity_key(entity: str, entity_id: object, *parts: object) -> str:
    return ":".join([f"{{{entity}:{entity_id}}}", *map(str, parts)])
