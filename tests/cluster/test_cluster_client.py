"""shared/redis.py's cluster client on the real cluster: a crowd's queue, a cluster nobody
answers, and a master's outage seen by pipelines."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

import shared.redis
from shared.quota_gate import REDIS_DOWN
from shared.redis import make_redis
from tests.conftest import free_port


async def test_a_long_queue_that_keeps_moving_waits_its_turn(redis_cluster, monkeypatch):
    """2 commands at a time, 4000 at once: the last ones wait far longer than the limit, while
    the ones ahead keep finishing; none is refused. (The limit leaves room for a loaded machine's
    stalls: at 0.05 s a 50 ms pause with nothing finished failed it once in four.)"""
    monkeypatch.setattr(shared.redis, "WAIT_FOR_CONNECTION", 0.25)
    client = make_redis(redis_cluster.url, max_connections=2)
    try:
        await client.set("{queue}:n", 0)
        started = time.monotonic()
        replies = await asyncio.gather(*(client.incr("{queue}:n") for _ in range(4000)), return_exceptions=True)
        took = time.monotonic() - started
        assert took > 0.25, f"the queue took {took:.3f} s, not longer than the limit: the test shows nothing"
        assert [r for r in replies if isinstance(r, Exception)] == []
        assert sorted(replies) == list(range(1, 4001))
    finally:
        await client.aclose()


async def test_a_queue_that_does_not_move_gives_up(redis_cluster, monkeypatch):
    """The only connection held by a command that takes 1 s: the next one gives up after the limit."""
    monkeypatch.setattr(shared.redis, "WAIT_FOR_CONNECTION", 0.2)
    client = make_redis(redis_cluster.url, max_connections=1)
    try:
        await client.ping()
        blocked = asyncio.ensure_future(client.blpop(["{queue}:empty"], timeout=1))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="no redis command finished"):
            await client.get("{queue}:n")
        assert 0.15 < time.monotonic() - started < 0.9
        assert await blocked is None
        assert await client.get("{queue}:nothing") is None, "the turn given up is not lost"
    finally:
        await client.aclose()


async def test_a_cluster_nobody_answers_is_redis_down_for_commands_and_pipelines():
    client = make_redis(f"redis+cluster://127.0.0.1:{free_port()}")
    try:
        for _ in range(2):
            with pytest.raises(RedisConnectionError) as raised:
                await client.get("{sk:1}:stock")
            assert isinstance(raised.value, REDIS_DOWN)
        with pytest.raises(RedisConnectionError):
            async with client.pipeline(transaction=False) as pipe:
                pipe.exists("{sk:1}:warm")
                pipe.hgetall("{sk:1}:stock")
                await pipe.execute()
    finally:
        await client.aclose()


async def test_after_a_masters_outage_keyless_commands_work_again(redis_cluster):
    """Pipelines on a dead master's keys make redis-py close the client (default node dropped);
    once the master is back, PING (/readyz) and TIME answer again."""
    client = make_redis(redis_cluster.url)
    try:
        await client.ping()
        victim = 1
        key = next(f"{{sk:{i}}}:stock" for i in range(1000) if redis_cluster.owner(f"{{sk:{i}}}:stock") == victim)
        redis_cluster.kill(victim)
        try:
            for _ in range(2):
                with pytest.raises(RedisConnectionError):
                    async with client.pipeline(transaction=False) as pipe:
                        pipe.exists(key)
                        pipe.hgetall(key)
                        await pipe.execute()
        finally:
            redis_cluster.restart(victim)
        assert await client.ping() is True
        assert len(await client.time()) == 2
        assert await client.get(key) is None
    finally:
        await client.aclose()


async def test_readiness_holds_while_one_master_is_down_and_fails_when_none_answers(redis_cluster):
    """/readyz's Redis check: one master down fails only its slots' commands, so the service stays
    in its Service's endpoints; a cluster nobody answers is not ready."""
    client = make_redis(redis_cluster.url)
    try:
        await shared.redis.reachable(client)
        redis_cluster.kill(2)
        try:
            for _ in range(3):
                await shared.redis.reachable(client)  # the other masters answer
        finally:
            redis_cluster.restart(2)
    finally:
        await client.aclose()
    dead = make_redis(f"redis+cluster://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(REDIS_DOWN):
            await shared.redis.reachable(dead)
    finally:
        await dead.aclose()
