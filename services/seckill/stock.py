"""The crowd filter in Redis: the shared quota gate (shared/quota_gate.py) over seckill
activities. One Lua script checks stock, the user's total and the order limit and reserves
atomically, so most of a flash crowd is turned away without reaching MySQL.

Keys of one activity share the hash tag `{sk:<id>}`; its items are the activity's SKUs.
MySQL stays the final guard (flows/writer.py); Redis is derived from it by `load` (warm-up and
reconciliation, flows/reconcile.py), and one user's count is repaired on the spot by `repair_user`
(flows/reservations.py decides when, flows/repair.py how).
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.quota_gate import REDIS_DOWN, Answer, Held, Loaded, QuotaGate, Verdict, gate_keys

__all__ = ["REDIS_DOWN", "Answer", "Held", "Loaded", "StockFilter", "Verdict", "keys"]

ENTITY = "sk"


def keys(activity_id: int) -> list[str]:
    return gate_keys(ENTITY, activity_id)


class StockFilter(QuotaGate):
    def __init__(self, redis: Redis, sold_out_seconds: float) -> None:
        super().__init__(redis, ENTITY, sold_out_seconds)
