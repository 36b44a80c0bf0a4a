"""Keys a script or a multi-key command gets together share one slot (Redis Cluster runs neither
across slots); tests/conftest.py checks every script call of the session besides."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from services.coupon.flows.rush_gate import ENTITY as COUPON_ENTITY
from services.seckill.stock import keys as seckill_keys
from shared.quota_gate import QuotaGate, gate_keys
from shared.redis import make_redis


def slots(keys: list[str]) -> set[int]:
    return {key_slot(key.encode()) for key in keys}


@pytest.mark.parametrize("entity_id", [1, 42, 10_000_019])
def test_an_entitys_gate_keys_share_one_slot(entity_id):
    for entity in ("sk", COUPON_ENTITY):
        assert len(slots(gate_keys(entity, entity_id))) == 1
    assert slots(seckill_keys(entity_id)) == slots(gate_keys("sk", entity_id))
    assert len(slots([*gate_keys("sk", 1), *gate_keys("sk", 2)])) == 2, "entities spread over the slots"


async def test_a_script_called_with_keys_of_two_slots_fails_the_test():
    """The session's check (tests/conftest.py) bites, before Redis is asked."""
    gate = QuotaGate(make_redis("redis://127.0.0.1:1/0"), "sk", 1.0)  # never reached
    try:
        with pytest.raises(AssertionError, match="2 slots"):
            await gate._release(keys=[gate_keys("sk", 1)[0], gate_keys("sk", 2)[1]], args=["token", "1"])
    finally:
        await gate.redis.aclose()
