"""Redis counting a reservation MySQL never recorded (Redis frozen, or the process killed between
the two) does not lock the buyer out until reconciliation: the user is repaired on the refusal
path and served at once; a buyer at the limit indeed is still refused; a retry of the request
that died is not "in progress" for ever (issue 12, point 6)."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders, reservations
from services.seckill.stock import StockFilter, keys
from shared.auth import Role
from shared.redis import make_redis
from tests.conftest import bearer
from tests.seckill.conftest import make_sale
from tests.seckill.test_late_payment import LATE
from tests.seckill.test_reservations import grab, state


async def crash_leftover(redis, activity_id: int, user_id: int, token: str = "r:killed", count: int = 1,
                         age: int | None = 15) -> None:
    """What quota_gate_reserve.lua leaves behind when the process dies before MySQL records the reservation,
    `age` seconds ago by Redis's clock (no stamp at all with None: as loaded from MySQL)."""
    stock, users, held, _ = keys(activity_id)
    await redis.hincrby(stock, "1001", -count)
    await redis.hincrby(users, str(user_id), count)
    since = "" if age is None else f":{(await redis.time())[0] - age}"
    await redis.hset(held, token, f"1001:{user_id}:{count}{since}")


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
    await reservations.reserve(seckill, 1001, activity_id, 1001, 1, now)
    await redis.hincrby(keys(activity_id)[1], "1001", 5)  # e.g. a paid release whose Redis restock failed
    assert (await reservations.reserve(seckill, 1001, activity_id, 1001, 1, now))[1]
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
    await redis.hset(keys(activity_id)[2], "u:1001:tap-9", f"1001:1001:1:{(await redis.time())[0] - 15}")
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


async def test_ages_are_measured_by_redis_clock_not_this_hosts(client, tokens, seckill_app, dev_settings):
    """Another replica's reservations, taken a moment ago by Redis's clock and still being written:
    this host's clock running 15 s ahead does not make them leftovers."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=1)
    redis = seckill_app.state.redis
    await crash_leftover(redis, activity_id, 1002, token="r:other-replica", age=0)
    await crash_leftover(redis, activity_id, 1001, token="u:1001:tap-7", age=0)
    real = time.time
    with mock.patch.object(time, "time", lambda: real() + 15):
        limit = await client.post("/app-api/seckill/reservations", json=grab(activity_id),
                                  headers=bearer(dev_settings, Role.MEMBER, 1002))
        retry = await client.post("/app-api/seckill/reservations", json=grab(activity_id),
                                  headers={**tokens["member"], "Idempotency-Key": "tap-7"})
    assert limit.status_code == 409 and limit.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED", limit.text
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "SECKILL_RESERVATION_IN_PROGRESS", retry.text
    held = keys(activity_id)[2]
    assert await redis.hexists(held, "r:other-replica") and await redis.hexists(held, "u:1001:tap-7"), "left alone"
    assert (await state(seckill_app, activity_id))["redis_stock"] == 8


async def test_a_token_loaded_from_mysql_is_never_a_leftover(client, tokens, seckill_app):
    """A token without a stamp was put there by a load from MySQL's held reservations (which may
    have run after this repair read MySQL): never given back as a crash's leftover."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=1)
    await crash_leftover(seckill_app.state.redis, activity_id, 1001, token="r:loaded", age=None)
    refused = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"
    assert await seckill_app.state.redis.hexists(keys(activity_id)[2], "r:loaded")
    assert (await state(seckill_app, activity_id))["redis_stock"] == 9


async def test_a_write_landing_while_redis_is_scanned_is_not_given_back(client, tokens, seckill_app, monkeypatch):
    """MySQL is read after Redis, in a fresh transaction: a slow write (its token 15 s old) that
    lands meanwhile is seen, so only the real leftover is given back."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    seckill, now, redis = seckill_app.state.seckill, seckill_app.state.test_clock.now(), seckill_app.state.redis
    await crash_leftover(redis, activity_id, 1001, token="r:slow")
    await crash_leftover(redis, activity_id, 1001, token="r:dead")
    scan = seckill.stock.held_by

    async def scan_while_the_slow_write_lands(activity: int, user_id: int):
        await seckill.writer.write({"token": "r:slow", "activity_id": activity_id, "activity_name": "秒杀",
                                    "sku_id": 1001, "user_id": 1001, "count": 1, "price": 9900,
                                    "status": ReservationStatus.HELD, "order_id": None,
                                    "expires_at": now + timedelta(minutes=5), "created_at": now, "updated_at": now}, 2)
        return await scan(activity, user_id)

    monkeypatch.setattr(seckill.stock, "held_by", scan_while_the_slow_write_lands)
    assert (await reservations.reserve(seckill, 1001, activity_id, 1001, 1, now))[1]
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
    assert await redis.hexists(keys(activity_id)[2], "r:slow") and not await redis.hexists(keys(activity_id)[2],
                                                                                           "r:dead")
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 2


async def test_tokens_mysql_released_or_paid_are_given_back_or_dropped(client, tokens, seckill_app):
    """Redis missed a release, an expiry and a commit (unreachable then): the released and expired
    tokens give their stock and count back, the paid one stops being held and stays counted."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=3)
    seckill, now, redis = seckill_app.state.seckill, seckill_app.state.test_clock.now(), seckill_app.state.redis
    for order_id in (7501, 7502, 7503):
        await orders.hold(seckill, order_id, 1001, activity_id, 1001, 1, None, now)
    working, seckill.stock = seckill.stock, StockFilter(make_redis("redis://127.0.0.1:1/0"), 1.0)
    try:
        assert await orders.release_order(seckill, 7501, now)
        assert await orders.commit_order(seckill, 7503, now)
        assert await orders.expire_due(seckill, now + LATE) == 1  # 7502
    finally:
        await seckill.stock.redis.aclose()
        seckill.stock = working
    assert (await state(seckill_app, activity_id))["redis_stock"] == 7, "Redis still counts all three"
    reserved, _ = await reservations.reserve(seckill, 1001, activity_id, 1001, 1, now + LATE)
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
    assert int(await redis.hget(keys(activity_id)[1], "1001")) == 2
    assert set(await redis.hkeys(keys(activity_id)[2])) == {reserved.token.encode()}, "only the new one held"
