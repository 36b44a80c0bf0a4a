"""The quota gate seckill and the coupon rush share (shared/quota_gate.py), on a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from shared.quota_gate import Loaded, QuotaGate, Verdict, gate_keys
from tests.conftest import REDIS_URL


@pytest.fixture
async def gate():
    redis = Redis.from_url(REDIS_URL)
    entity = f"t{uuid.uuid4().hex[:8]}"  # keys of this test only
    yield QuotaGate(redis, entity, sold_out_seconds=60)
    for entity_id in (1, 2):
        await redis.delete(*gate_keys(entity, entity_id))
    await redis.aclose()


def test_keys_of_an_entity_share_one_hash_tag():
    assert gate_keys("tpl", 42) == ["{tpl:42}:stock", "{tpl:42}:users", "{tpl:42}:held", "{tpl:42}:warm"]


async def test_nothing_is_reserved_before_the_entity_is_loaded(gate):
    answer = await gate.reserve(1, "a", 0, 7, 1, 0, 0)
    assert answer.verdict == Verdict.NOT_LOADED
    assert await gate.stock_left(1) is None


async def test_a_crowd_gets_exactly_the_stock_and_each_user_the_limit(gate):
    await gate.load(1, Loaded({0: 10}, {}, {}))
    answers = await asyncio.gather(*(gate.reserve(1, f"t{n}", 0, n % 8, 1, 2, 0) for n in range(40)))
    verdicts = [a.verdict for a in answers]
    assert verdicts.count(Verdict.RESERVED) == 10
    assert set(verdicts) <= {Verdict.RESERVED, Verdict.SOLD_OUT, Verdict.USER_LIMIT}
    assert await gate.stock_left(1) == {0: 0}
    assert gate.known_sold_out(1, 0) and not gate.known_sold_out(2, 0)


async def test_a_release_counts_once_and_a_commit_keeps_the_take(gate):
    await gate.load(1, Loaded({0: 3}, {}, {}))
    for token in ("a", "b"):
        assert (await gate.reserve(1, token, 0, 7, 1, 0, 0)).verdict == Verdict.RESERVED
    assert (await gate.reserve(1, "a", 0, 7, 1, 0, 0)).verdict == Verdict.REPLAY
    assert await gate.release(1, "a") and not await gate.release(1, "a")
    await gate.commit(1, "b")
    assert not await gate.release(1, "b"), "final: no longer held"
    _, users, held, _ = gate.keys(1)
    assert await gate.stock_left(1) == {0: 2}
    assert int(await gate.redis.hget(users, "7")) == 1 and await gate.redis.hlen(held) == 0


async def test_settle_keeps_some_and_gives_back_others_in_one_round_trip(gate):
    await gate.load(2, Loaded({0: 5}, {}, {}))
    for n in range(4):
        assert (await gate.reserve(2, f"s{n}", 0, n, 1, 1, 0)).verdict == Verdict.RESERVED
    gate.remember_sold_out(2, 0)
    await gate.settle(2, kept=["s0", "s1"], given_back=["s2", "s3", "never-held"])
    _, users, held, _ = gate.keys(2)
    assert await gate.stock_left(2) == {0: 3}
    assert {int(k): int(v) for k, v in (await gate.redis.hgetall(users)).items()} == {0: 1, 1: 1, 2: 0, 3: 0}
    assert await gate.redis.hlen(held) == 0
    assert not gate.known_sold_out(2, 0), "stock came back: the local flag is forgotten"


async def test_a_load_replaces_everything_and_an_unload_removes_it(gate):
    await gate.load(1, Loaded({0: 5, 1: 2}, {9: 1}, {"h": "0:9:1"}))
    assert (await gate.reserve(1, "x", 1, 9, 1, 1, 0)).verdict == Verdict.USER_LIMIT
    assert (await gate.reserve(1, "y", 3, 8, 1, 0, 0)).verdict == Verdict.NOT_IN_ENTITY
    assert (await gate.reserve(1, "z", 1, 8, 3, 0, 0)).verdict == Verdict.NOT_ENOUGH
    assert (await gate.reserve(1, "w", 1, 8, 3, 0, 2)).verdict == Verdict.ORDER_LIMIT
    assert await gate.release(1, "h") and await gate.stock_left(1) == {0: 6, 1: 2}
    await gate.load(1, Loaded({0: 1}, {}, {}))
    assert await gate.stock_left(1) == {0: 1}
    await gate.unload(1)
    assert await gate.stock_left(1) is None
    assert not await gate.redis.exists(*gate.keys(1))
