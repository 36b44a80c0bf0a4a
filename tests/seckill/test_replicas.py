"""MySQL is the final guard, across replicas: two service processes sell to one crowd while Redis
is wrong from the start, and no more than MySQL's stock is sold, no buyer past the limit.

In one process the crowd's attempts all get Redis's answer within moments of each other, so a
"Redis lies" or "Redis flushed" hook that fires halfway reaches almost nobody: those tests passed
with MySQL's `stock >= n` removed. Here Redis says from the start that there are 1,000 more units
than MySQL holds and has forgotten every buyer, and it is flushed again before the crowd's first
half is answered (each replica then reloads it from MySQL, racing the other's writes). Every
attempt Redis lets through is decided by MySQL's conditional updates, written by two processes'
writers at once (the in-process writer's one-batch-at-a-time is not what keeps the row safe)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.seckill.domain import SoldOut, UserLimitReached
from services.seckill.stock import Loaded, keys
from shared.auth import Role
from tests.conftest import bearer, replica_processes
from tests.seckill.conftest import activity, slot
from tests.seckill.test_reservations import grab, state

ROOT = Path(__file__).resolve().parents[2]
STOCK, LIMIT = 100, 2
EARLY_BUYERS = 20  # reserve their whole limit before Redis goes wrong
USERS, ATTEMPTS_EACH = 400, 3  # the crowd: 1,200 attempts, the early buyers among them


@pytest.fixture(scope="module")
def replicas(seckill_app):
    """Two seckill processes on the test app's database and Redis, on the system clock."""
    with replica_processes(seckill_app.state.settings, "tests.seckill.replica:create_replica") as urls:
        yield urls


async def whole_day_sale(client, admin: dict, timezone: str) -> int:
    """On now by the replicas' clock (the system's): a whole-day slot, yesterday to tomorrow."""
    made = await client.post("/admin-api/seckill/slots", json=slot("全天", "00:00:00", "00:00:00"), headers=admin)
    assert made.status_code == 201, made.text
    today = datetime.now(ZoneInfo(timezone)).date()
    body = activity([made.json()["id"]], skus=((1001, 9900, STOCK),), start=today - timedelta(days=1),
                    end=today + timedelta(days=1), user_limit=LIMIT)
    created = await client.post("/admin-api/seckill/activities", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_two_replicas_sell_exactly_the_stock_while_redis_says_more_and_is_flushed(
        client, tokens, dev_settings, seckill_app, replicas):
    activity_id = await whole_day_sale(client, tokens["admin"], seckill_app.state.settings.business_timezone)
    users = [5_000 + n for n in range(USERS)]
    early = users[:EARLY_BUYERS]
    headers = {user: bearer(dev_settings, Role.MEMBER, user) for user in users}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for url in replicas]
    try:
        for n, user in enumerate(early):  # the early buyers reach their limit while Redis is right
            taken = await clients[n % 2].post("/app-api/seckill/reservations", json=grab(activity_id, LIMIT),
                                              headers=headers[user])
            assert taken.status_code == 201, taken.text
        left = STOCK - EARLY_BUYERS * LIMIT
        # Redis is wrong from the start: 1,000 more units than MySQL holds, and no buyer counted
        await seckill_app.state.seckill.stock.load(activity_id, Loaded({1001: left + 1_000}, {}, {}))

        attempts = [user for user in users for _ in range(ATTEMPTS_EACH)]
        random.Random(13).shuffle(attempts)
        outcomes: dict[str, int] = {}
        by_user: dict[int, list[str]] = {}
        answered = 0

        async def one(n: int, user: int) -> None:
            nonlocal answered
            answer = await clients[n % 2].post("/app-api/seckill/reservations", json=grab(activity_id),
                                               headers=headers[user])
            code = "reserved" if answer.status_code == 201 else answer.json().get("error", {}).get(
                "code", str(answer.status_code))
            outcomes[code] = outcomes.get(code, 0) + 1
            by_user.setdefault(user, []).append(code)
            answered += 1
            if answered == len(attempts) // 4:  # before the crowd's first half: Redis flushed
                await seckill_app.state.redis.delete(*keys(activity_id))

        await asyncio.gather(*(one(n, user) for n, user in enumerate(attempts)))
    finally:
        for http in clients:
            await http.aclose()

    after = await state(seckill_app, activity_id)
    assert set(outcomes) <= {"reserved", SoldOut.code, UserLimitReached.code}, outcomes
    assert outcomes["reserved"] == left, outcomes
    assert after["reserved"] == STOCK and after["mysql_stock"] == 0, (after, outcomes)
    assert max(after["per_user"].values()) <= LIMIT, "no buyer past the limit"
    assert {user: after["per_user"][user] for user in early} == dict.fromkeys(early, LIMIT)
    assert not any(code == "reserved" for user in early for code in by_user[user]), "Redis let them through: MySQL"
    assert after["quotas"] == {user: n for user, n in after["per_user"].items()}, "quotas match the reservations"
    fixed = await client.post(f"/admin-api/seckill/activities/{activity_id}/reconcile", headers=tokens["admin"])
    assert fixed.status_code == 200, fixed.text
    assert (await state(seckill_app, activity_id))["redis_stock"] == 0, fixed.json()
