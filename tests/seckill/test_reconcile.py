"""Reconciliation: Redis's stock per SKU against MySQL's. The periodic rounds reload a drift only
when the same one is seen twice in a row (once may be reservations between Redis and MySQL at that
moment); the admin endpoint reloads at once."""

from __future__ import annotations

from services.seckill.flows.reconcile import Reconciler
from services.seckill.stock import keys
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import state


async def test_a_drift_seen_once_is_left_and_seen_twice_is_reloaded(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    redis, now = seckill_app.state.redis, seckill_app.state.test_clock.now()
    reconciler = Reconciler(seckill_app.state.seckill)
    assert await reconciler.round(now) == [], "no drift"
    await redis.hincrby(keys(activity_id)[0], "1001", 3)
    assert await reconciler.round(now) == [], "seen once: maybe reservations on their way"
    assert (await state(seckill_app, activity_id))["redis_stock"] == 13
    assert await reconciler.round(now) == [activity_id], "the same drift seen twice"
    assert (await state(seckill_app, activity_id))["redis_stock"] == 10
    assert await reconciler.round(now) == [], "fixed: nothing left to see"

    await redis.hincrby(keys(activity_id)[0], "1001", 3)
    assert await reconciler.round(now) == []
    await redis.hincrby(keys(activity_id)[0], "1001", 2)  # moving: not the drift seen before
    assert await reconciler.round(now) == []
    assert (await state(seckill_app, activity_id))["redis_stock"] == 15
    assert await reconciler.round(now) == [activity_id]
    assert (await state(seckill_app, activity_id))["redis_stock"] == 10


async def test_an_activity_missing_from_redis_is_loaded_by_the_first_round(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    await seckill_app.state.redis.delete(*keys(activity_id))
    assert await Reconciler(seckill_app.state.seckill).round(seckill_app.state.test_clock.now()) == [activity_id]
    assert (await state(seckill_app, activity_id))["redis_stock"] == 10


async def test_the_admin_endpoint_reloads_a_drift_at_once(client, tokens, seckill_app):
    admin, redis = tokens["admin"], seckill_app.state.redis
    activity_id = await make_sale(client, admin, stock=10)
    path = f"/admin-api/seckill/activities/{activity_id}/reconcile"
    same = await client.post(path, headers=admin)
    assert same.status_code == 200 and same.json() == {"activity_id": activity_id, "loaded": True, "drift": {},
                                                       "fixed": False}
    await redis.hincrby(keys(activity_id)[0], "1001", -4)  # Redis counts 4 more sold than MySQL
    fixed = await client.post(path, headers=admin)
    assert fixed.json() == {"activity_id": activity_id, "loaded": True, "drift": {"1001": -4}, "fixed": True}
    assert (await state(seckill_app, activity_id))["redis_stock"] == 10
    await redis.delete(*keys(activity_id))
    loaded = await client.post(path, headers=admin)
    assert loaded.json() == {"activity_id": activity_id, "loaded": False, "drift": {}, "fixed": False}
    assert (await state(seckill_app, activity_id))["redis_stock"] == 10, "loaded again"
    assert (await client.post(path, headers=tokens["member"])).status_code == 403
