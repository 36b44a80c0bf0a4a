"""One of the three masters killed in the middle of a seckill crowd, then restarted empty (same
port and cluster config file: it rejoins with its slots and no keys, nothing was persisted).

Meanwhile: the activity whose keys it owned answers SECKILL_BUSY (the service's stable "try again"
answer, 409 with Retry-After: never a 500, never a hang), nothing is oversold, and the activity on
another master sells exactly. After: the reconciliation rebuilds the keys from MySQL and a second
crowd sells exactly what is left."""

from __future__ import annotations

import asyncio
import time

from services.seckill.domain import SoldOut, Unavailable, UserLimitReached
from services.seckill.flows.reconcile import Reconciler
from services.seckill.stock import keys
from tests.seckill.conftest import activity, client, slot  # noqa: F401 - its `client`, on the cluster
from tests.seckill.test_reservations import crowd, state

STOCK = 300
ATTEMPTS, USERS = 3000, 600


async def test_a_master_killed_mid_crowd_costs_busy_answers_for_its_keys_only_and_never_an_oversell(
        client, tokens, seckill_app, redis, redis_cluster):  # noqa: F811
    slot_id = (await client.post("/admin-api/seckill/slots", json=slot(), headers=tokens["admin"])).json()["id"]

    async def sale() -> int:
        body = activity([slot_id], spu_id=100 + len(ids), skus=((1001, 9900, STOCK),), user_limit=1)
        made = await client.post("/admin-api/seckill/activities", json=body, headers=tokens["admin"])
        assert made.status_code == 201, made.text
        return made.json()["id"]

    ids: list[int] = []
    while len(ids) < 2 or len({redis_cluster.owner(keys(i)[0]) for i in ids}) < 2:  # the victim's and another's
        ids.append(await sale())
    victim_id = ids[0]
    victim = redis_cluster.owner(keys(victim_id)[0])
    other_id = next(i for i in ids if redis_cluster.owner(keys(i)[0]) != victim)

    async def kill_when_10_sold() -> None:
        while int(await redis.hget(keys(victim_id)[0], "1001") or STOCK) > STOCK - 10:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        redis_cluster.kill(victim)

    started = time.monotonic()
    try:
        async with asyncio.timeout(120):  # a hang fails here
            hit, spared, _ = await asyncio.gather(crowd(seckill_app, victim_id, ATTEMPTS, USERS),
                                                          crowd(seckill_app, other_id, ATTEMPTS, USERS),
                                                          kill_when_10_sold())
        took = time.monotonic() - started
        during = await state(seckill_app, other_id)
        async with seckill_app.state.sessionmaker() as session:
            hit_mysql = await mysql_sold(session, victim_id)
    finally:
        redis_cluster.restart(victim)

    assert set(hit) <= {"reserved", SoldOut.code, UserLimitReached.code, Unavailable.code}, hit
    assert hit.get(Unavailable.code, 0) > 0 and hit["reserved"] >= 10, hit
    assert hit_mysql == (hit["reserved"], STOCK - hit["reserved"]), "MySQL sold what was answered, no more"
    assert spared["reserved"] == STOCK and Unavailable.code not in spared, spared
    assert (during["mysql_stock"], during["redis_stock"], during["reserved"]) == (0, 0, STOCK)

    assert not await redis.exists(*keys(victim_id)), "restarted empty"
    await Reconciler(seckill_app.state.seckill).round(seckill_app.state.test_clock.now())
    rebuilt = await state(seckill_app, victim_id)
    assert rebuilt["redis_stock"] == rebuilt["mysql_stock"] == STOCK - hit["reserved"]
    again = await crowd(seckill_app, victim_id, ATTEMPTS, USERS)
    after = await state(seckill_app, victim_id)
    assert again.get("reserved", 0) == STOCK - hit["reserved"] and Unavailable.code not in again, again
    assert (after["mysql_stock"], after["redis_stock"], after["reserved"]) == (0, 0, STOCK)
    assert max(after["per_user"].values()) == 1
    print(f"\nkilled master mid-crowd: {ATTEMPTS} attempts on its activity (stock {STOCK}) in {took:.1f} s: "
          f"{hit['reserved']} reserved, {hit.get(Unavailable.code, 0)} {Unavailable.code}, "
          f"{hit.get(SoldOut.code, 0)} sold out, {hit.get(UserLimitReached.code, 0)} at the user limit; "
          f"{ATTEMPTS} on another master's: {spared}; after the restart and one reconciliation round: "
          f"{again.get('reserved', 0)} more reserved, {after['reserved']} in all, MySQL and Redis stock "
          f"{after['mysql_stock']}/{after['redis_stock']}")


async def mysql_sold(session, activity_id: int) -> tuple[int, int]:
    """(reservations held, the product's stock left) in MySQL."""
    from sqlalchemy import func, select

    from services.seckill.models import Product, Reservation

    held = await session.scalar(select(func.coalesce(func.sum(Reservation.count), 0))
                                .where(Reservation.activity_id == activity_id))
    left = await session.scalar(select(Product.stock).where(Product.activity_id == activity_id))
    return int(held), left
