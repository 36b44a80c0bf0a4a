"""Redis client factory, Lua script loading and key naming.

Keys of one entity share a hash tag so multi-key scripts run on Redis Cluster:
`entity_key("sk", 42, "stock")` -> `{sk:42}:stock`.

`REDIS_URL` names one server (`redis://`, `rediss://`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, `rediss+cluster://` with TLS): the nodes listed are
seeds, the client learns the rest of the cluster from them.
"""

from __future__ import annotations

import asyncio
import collections
import time
from importlib import resources
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
WAIT_FOR_CONNECTION = 2.0  # seconds without a free connection after which a cluster command gives up


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
      it waits for one: at most `max_connections` commands are under way at once, the others
      wait their turn while commands keep finishing (see `_take_turn`). Pipelines (a few, in
      batches) use the headroom each node keeps above that;
    - after a command fails on a node it asks the cluster for its slots again, and recycles every
      node's connections each time: with a master down under a crowd, thousands of refreshes a
      second failed the other masters' commands too. Here the slots are asked for at most once
      every REFRESH_SECONDS (a MOVED reply still moves a slot at once), and a node that could not
      be reached is not tried again for as long: its commands fail at once (the callers' "Redis
      is down" answer) instead of each paying for a connection attempt, while the others' run."""

    REFRESH_SECONDS = 1.0

    def __init__(self, *args: Any, commands_at_once: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._free = commands_at_once  # commands that may start now
        self._waiting: collections.deque[asyncio.Future] = collections.deque()  # their turns, in order
        self._progress = time.monotonic()  # when a command last finished (or the queue began)
        self._watchdog: asyncio.TimerHandle | None = None
        self._refreshed: float | None = None  # monotonic time of the last refresh
        self._down: dict[str, float] = {}  # node name -> until when it is not tried (monotonic)
        self.wait_for_connection = WAIT_FOR_CONNECTION

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        """The first time: the nodes, their slots and the commands' table. After a failure: the
        slots again, at most every REFRESH_SECONDS (redis-py would also fetch the commands' table
        again, from the first master listed, which may be the one down: that failure closed every
        node's connections), and at once when redis-py's aclose() (after a failed pipeline,
        CLUSTERDOWN, every 5th MOVED) dropped the default node keyless commands (PING, TIME) need.
        No node reachable: a ConnectionError, the callers' "Redis is down" (redis-py raises
        RedisClusterException, which is no RedisError)."""
        if not self._initialize:
            return self
        try:
            if self._refreshed is None:
                await super().initialize(*args, **kwargs)
                self._refreshed = time.monotonic()
            elif (self.nodes_manager.default_node is None
                  or time.monotonic() - self._refreshed >= self.REFRESH_SECONDS):
                self._refreshed = time.monotonic()  # failures within the second do not postpone the next
                await self.nodes_manager.initialize(*args, **kwargs)
        except RedisClusterException as exc:
            raise RedisConnectionError(f"redis cluster unreachable: {exc}") from exc
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
            if exc.obj is not None:  # a bug, not the case below
                raise
            # redis-py: a refresh closed the connection under this command, its reader is None
            # (the node is fine; the command is sent again once, on another connection)
            raise RedisConnectionError(f"redis node {target_node.name}: connection closed ({exc})") from exc

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        await self._take_turn()
        try:
            return await super().execute_command(*args, **kwargs)
        finally:
            self._next_turn()

    async def _take_turn(self) -> None:
        """A command waits its turn (first come, first served) as long as the commands ahead
        keep finishing: a crowd's queue is long but moving (with a deadline on each command's
        wait, the last comers of a crowd were refused while Redis was fine). The waiting ones
        give up when no command finished for WAIT_FOR_CONNECTION seconds (every connection
        stuck on a slow node)."""
        if self._free:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        if not self._waiting:
            self._progress = time.monotonic()
        turn = loop.create_future()
        self._waiting.append(turn)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.wait_for_connection, self._check_progress)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self._next_turn()  # handed the turn as it was cancelled
            raise

    def _next_turn(self) -> None:
        self._progress = time.monotonic()
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    def _check_progress(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        idle = time.monotonic() - self._progress
        if idle < self.wait_for_connection:
            self._watchdog = asyncio.get_running_loop().call_later(self.wait_for_connection - idle,
                                                                   self._check_progress)
            return
        error = RedisConnectionError(f"no redis command finished in {self.wait_for_connection} s")
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_exception(error)


def make_cluster(url: str, max_connections: int = 100) -> RedisCluster:
    """A cluster client from a `redis+cluster://` URL, with `make_redis`'s timeouts; a command
    that meets a node down is sent again once, after the client asked the cluster who owns its
    slot (a failover's new master), then fails: the callers' "Redis is down" path."""
    scheme, _, rest = url.partition("://")
    rest, mark, query = rest.partition("?")  # options, for every node
    credentials, _, hosts = rest.rpartition("@")
    hosts, _, database = hosts.partition("/")  # a database, if any, must be 0 on a cluster
    seeds = [_seed(seed.strip()) for seed in hosts.split(",") if seed.strip()]
    if not seeds:
        raise ValueError(f"{scheme}:// needs at least one host:port")
    (host, port), others = seeds[0], [ClusterNode(host, port) for host, port in seeds[1:]]
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    first = (f"{scheme.lower().removesuffix('+cluster')}://{credentials + '@' if credentials else ''}{netloc}"
             f"/{database}{mark}{query}")
    return WaitingCluster.from_url(first, startup_nodes=others or None, commands_at_once=max_connections,
                                   max_connections=2 * max_connections, socket_timeout=2.0,
                                   socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1))


def _seed(seed: str) -> tuple[str, int]:
    """"host:port" or "[IPv6]:port" -> (host, port)."""
    host, colon, port = seed.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ValueError(f"a Redis Cluster seed is host:port, not {seed!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


async def reachable(redis: Redis | RedisCluster) -> None:
    """Readiness: the server answers; on a cluster, any master does. One master down fails only
    the commands of its slots, so it must not take every replica of a service out of service."""
    if not isinstance(redis, RedisCluster):
        await redis.ping()
        return
    if not redis.get_primaries():
        await redis.initialize()
    results = await asyncio.gather(*(redis.ping(target_nodes=node) for node in redis.get_primaries()),
                                   return_exceptions=True)
    if all(isinstance(result, BaseException) for result in results):
        raise RedisConnectionError(f"no master of the cluster answers: {results[0]!r}")


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
