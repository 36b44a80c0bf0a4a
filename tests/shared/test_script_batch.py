"""ScriptBatch against the test Redis: concurrent calls share a pipeline, each gets its own
answer or error, and a Redis that forgot the script (restart, SCRIPT FLUSH) is handled."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from promo.embedded import free_port
from shared.redis import ScriptBatch, make_redis

DOUBLE = "if ARGV[1] == 'boom' then return redis.error_reply('boom') end return tonumber(ARGV[1]) * 2"


async def test_concurrent_calls_share_one_round_trip_and_get_their_own_answers(redis):
    batch = ScriptBatch(redis, redis.register_script(DOUBLE))
    sent: list[int] = []
    original = batch._execute

    async def counting(calls):
        sent.append(len(calls))
        return await original(calls)

    batch._execute = counting
    answers = await asyncio.gather(*[batch(["{t}:k"], [n]) for n in range(50)])
    assert answers == [2 * n for n in range(50)]
    assert sent == [50]  # one pipeline for the fifty
    assert await batch(["{t}:k"], [21]) == 42 and sent == [50, 1]


async def test_one_callers_error_is_that_callers_alone(redis):
    batch = ScriptBatch(redis, redis.register_script(DOUBLE))
    results = await asyncio.gather(batch(["{t}:k"], [1]), batch(["{t}:k"], ["boom"]), batch(["{t}:k"], [3]),
                                   return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ResponseError) and "boom" in str(results[1])


async def test_a_flushed_script_is_loaded_again(redis):
    batch = ScriptBatch(redis, redis.register_script(DOUBLE))
    assert await batch(["{t}:k"], [1]) == 2
    await redis.script_flush()
    assert await asyncio.gather(*[batch(["{t}:k"], [n]) for n in range(3)]) == [0, 2, 4]


async def test_redis_down_fails_every_caller_of_the_batch():
    down = make_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        batch = ScriptBatch(down, down.register_script(DOUBLE))
        results = await asyncio.gather(*[batch(["{t}:k"], [n]) for n in range(3)], return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
    finally:
        await down.aclose()


async def test_a_cancelled_caller_does_not_break_the_others(redis):
    batch = ScriptBatch(redis, redis.register_script(DOUBLE))
    first = asyncio.ensure_future(batch(["{t}:k"], [1]))
    second = asyncio.ensure_future(batch(["{t}:k"], [2]))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == 4
    with pytest.raises(asyncio.CancelledError):
        await first
