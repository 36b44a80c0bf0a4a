"""Redis client factory, Lua script loading (and batching) and key naming.

Keys of one entity share a hash tag so multi-key scripts run on Redis Cluster:
`entity_key("sk", 42, "stock")` -> `{sk:42}:stock`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError


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


class ScriptBatch:
    """Calls of one Lua script made in the same event-loop turn go to Redis together, as one
    pipeline: one connection and one round trip for the lot instead of one each (most of what a
    lone EVALSHA costs the client is its own Python, not Redis). Each caller gets its own result,
    or its own error. Scripts stay atomic one by one; nothing is atomic across the batch."""

    def __init__(self, redis: Redis, script: AsyncScript, timeout: float | None = None) -> None:
        """`timeout`: a caller waits at most this many seconds (TimeoutError), one timer per batch."""
        self.redis = redis
        self.script = script
        self.timeout = timeout
        self._pending: list[tuple[Sequence[Any], Sequence[Any], asyncio.Future]] = []
        self._running: set[asyncio.Task] = set()

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append((keys, args, future))
        return await future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._send(batch))
        self._running.add(task)  # a task nobody holds may be collected before it ends
        task.add_done_callback(self._running.discard)
        if self.timeout is not None:
            timer = asyncio.get_running_loop().call_later(self.timeout, _time_out, batch)
            task.add_done_callback(lambda _: timer.cancel())

    async def _send(self, batch: list[tuple[Sequence[Any], Sequence[Any], asyncio.Future]]) -> None:
        try:
            results = await self._execute(batch)
        except BaseException as exc:  # the connection failed: every caller gets the error
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if not future.done():  # its caller may have given up (cancelled)
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _execute(self, batch: list[tuple[Sequence[Any], Sequence[Any], asyncio.Future]]) -> list[Any]:
        for attempt in range(2):
            async with self.redis.pipeline(transaction=False) as pipe:
                for keys, args, _ in batch:
                    pipe.evalsha(self.script.sha, len(keys), *keys, *args)
                results = await pipe.execute(raise_on_error=False)
            if attempt or not any(isinstance(r, NoScriptError) for r in results):
                return results
            await self.redis.script_load(self.script.script)  # Redis restarted or flushed its scripts
        raise AssertionError("unreachable")


def _time_out(batch: list[tuple[Sequence[Any], Sequence[Any], asyncio.Future]]) -> None:
    """Callers still waiting give up; the pipeline may still finish, unread."""
    for _, _, future in batch:
        if not future.done():
            future.set_exception(TimeoutError("redis did not answer in time"))
