"""Redis counting a reservation MySQL never recorded (Redis frozen, or the process killed between
the two) does not lock the buyer out until reconciliation: the user is repaired on the refusal
path and served at once; a buyer at the limit indeed is still refused; a retry of the request
that died is not "in progress" for ever (issue 12, point 6)."""

from __future__ import annotations

import time

from services.seckill import service
from services.seckill.stock import keys
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import grab, state


async def crash_leftover(redis, activity_id: int, user_id: int, token: str = "r:killed", count: int = 1,
                         age: float = 15) -> None:
    """What reserve.lua leaves behind when the process dies before MySQL records the reservation,
    `age` seconds ago."""
    stock, users, held, _ = keys(activity_id)
    await redis.hincrby(stock, "1001", -count)
    await redis.hincrby(users, str(user_id), count)
    await redis.hset(held, token, f"1001:{user_id}:{count}:{int(time.time() - age)}")


async def test_a_buyer_locked_out_by_a_crash_leftover_is_served_at_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=1)
    redis = seckill_app.state.redis
    await crash_leftover(redis, activity_id, 1001)
    first = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert first.status_code == 201, first.text
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (9, 9, {1001: 1}), "leftover given back"
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 1
    assert not await redis.hexists(keys(activity_id)[2], "r:killed")
    again = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED", "at the limit"
    assert seckill_app.state.seckill.stock.known_at_limit(activity_id, 1001), "MySQL's word remembered a moment"
    assert (await state(seckill_app, activity_id))["redis_stock"] == 9


async def test_a_count_without_a_token_is_lowered_to_mysqls_and_a_real_limit_still_refuses(
        client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    seckill, now, redis = seckill_app.state.seckill, seckill_app.state.test_clock.now(), seckill_app.state.redis
    await service.reserve(seckill, 1001, activity_id, 1001, 1, now)
    await redis.hincrby(keys(activity_id)[1], "1001", 5)  # e.g. a paid release whose Redis restock failed
    assert (await service.reserve(seckill, 1001, activity_id, 1001, 1, now))[1]
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 2
    refused = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["reserved"], after["quotas"]) == (8, 2, {1001: 2})


async def test_a_reservation_still_on_its_way_to_mysql_is_not_taken_for_a_leftover(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=1)
    seckill, redis = seckill_app.state.seckill, seckill_app.state.redis
    await crash_leftover(redis, activity_id, 1001, token="r:writing")
    with seckill.stock.flying("r:writing"):  # this process is writing it to MySQL
        busy = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"
    assert await redis.hexists(keys(activity_id)[2], "r:writing"), "left alone"
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 1


async def test_a_leftover_younger_than_a_write_can_take_is_left_alone(client, tokens, seckill_app):
    """Another replica may still be writing it: the buyer is told the truth of that moment."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=1)
    await crash_leftover(seckill_app.state.redis, activity_id, 1001, age=1)
    young = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert young.status_code == 409 and young.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"
    assert (await state(seckill_app, activity_id))["redis_stock"] == 9


async def test_a_retry_of_a_request_that_died_before_mysql_runs_again(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    redis = seckill_app.state.redis
    keyed = {**tokens["member"], "Idempotency-Key": "tap-9"}
    await crash_leftover(redis, activity_id, 1001, token="u:1001:tap-9", age=1)
    busy = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=keyed)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "SECKILL_RESERVATION_IN_PROGRESS"
    await redis.hset(keys(activity_id)[2], "u:1001:tap-9", f"1001:1001:1:{int(time.time() - 15)}")
    retried = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=keyed)
    assert retried.status_code == 201, retried.text
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id),
                              headers=keyed)).json() == retried.json(), "and then it is the first answer"
    await crash_leftover(redis, activity_id, 1001, token="o:9201")
    hold = {"order_id": 9201, "user_id": 1001, "activity_id": activity_id, "sku_id": 1001, "count": 1}
    held = await client.post("/internal/seckill/holds", json=hold, headers=tokens["service"])
    assert held.status_code == 201 and held.json()["order_id"] == 9201, held.text
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 2
