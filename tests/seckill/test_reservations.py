"""The reservation path against real Redis and MariaDB: rules, idempotency, races, releases."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from sqlalchemy import func, select

from services.seckill import repository as repo
from services.seckill.domain import ReservationStatus, SoldOut, UserLimitReached
from services.seckill.flows import orders, reservations
from services.seckill.models import Product, Reservation, UserQuota
from services.seckill.schemas import ReservationOut
from services.seckill.stock import StockFilter, keys
from shared.auth import Role
from shared.errors import DomainError
from shared.redis import make_redis
from tests.conftest import bearer
from tests.seckill.conftest import make_sale


def grab(activity_id: int, count: int = 1, sku_id: int = 1001) -> dict:
    return {"activity_id": activity_id, "sku_id": sku_id, "count": count}


async def test_a_reservation_follows_the_rules_and_a_repeated_key_gets_the_first_answer(client, tokens, dev_settings):
    activity_id = await make_sale(client, tokens["admin"], stock=5, user_limit=3, order_limit=2)
    member = tokens["member"]
    keyed = {**member, "Idempotency-Key": "tap-1"}
    first = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=keyed)
    assert first.status_code == 201, first.text
    assert (first.json()["price"], first.json()["status"]) == (9900, ReservationStatus.HELD)
    assert ReservationOut.model_validate(first.json()).model_dump(mode="json") == first.json(), "keeps its schema"
    bad_key = await client.post("/app-api/seckill/reservations", json=grab(activity_id),
                                headers={**member, "Idempotency-Key": "no spaces"})
    assert bad_key.status_code == 422 and bad_key.json()["error"]["code"] == "VALIDATION_FAILED"
    bad_body = await client.post("/app-api/seckill/reservations", json={"activity_id": 0, "sku_id": 1001},
                                 headers=member)
    assert bad_body.status_code == 422 and bad_body.json()["error"]["details"]["errors"][0]["loc"] == [
        "body", "activity_id"]
    merchant = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["admin"])
    assert merchant.status_code == 403 and first.headers["x-request-id"]
    again = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=keyed)
    assert again.status_code == 200 and again.json() == first.json(), "a retry takes nothing twice"
    too_many = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 3), headers=member)
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "SECKILL_ORDER_LIMIT_EXCEEDED"
    over_user = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=member)
    assert over_user.status_code == 409 and over_user.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"
    other = bearer(dev_settings, Role.MEMBER, 2002)
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2),
                              headers=other)).status_code == 201
    third = bearer(dev_settings, Role.MEMBER, 2003)
    short = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=third)
    assert short.status_code == 409 and short.json()["error"]["code"] == "SECKILL_STOCK_NOT_ENOUGH"
    assert short.json()["error"]["details"] == {"left": 1}
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1),
                              headers=third)).status_code == 201, "the last unit was not flagged sold out"
    sold_out = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1),
                                 headers=bearer(dev_settings, Role.MEMBER, 2004))
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "SECKILL_SOLD_OUT"
    late_retry = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=keyed)
    assert late_retry.status_code == 200 and late_retry.json() == first.json(), "sold out since, same answer"
    wrong_sku = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1, 999), headers=member)
    assert wrong_sku.status_code == 422 and wrong_sku.json()["error"]["code"] == "SECKILL_SKU_NOT_IN_ACTIVITY"
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id))).status_code == 401
    mine = await client.get("/app-api/seckill/reservations", headers=member)
    assert mine.json()["total"] == 1


async def test_outside_its_slot_nothing_is_reserved(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"])
    seckill_app.state.test_clock.at += timedelta(hours=2)  # 12:30 local: the 10:00-12:00 slot is over
    late = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "SECKILL_NOT_ON_NOW"


async def state(app, activity_id: int) -> dict:
    """MySQL's and Redis's view of the sale after it."""
    async with app.state.sessionmaker() as session:
        stock = await session.scalar(select(Product.stock).where(Product.activity_id == activity_id))
        held = (await session.execute(select(Reservation.user_id, func.sum(Reservation.count))
                                      .where(Reservation.activity_id == activity_id,
                                             Reservation.status == ReservationStatus.HELD)
                                      .group_by(Reservation.user_id))).all()
        quotas = dict((await session.execute(select(UserQuota.user_id, UserQuota.bought)
                                             .where(UserQuota.activity_id == activity_id))).all())
    redis_stock = await app.state.redis.hget(keys(activity_id)[0], "1001")
    return {"mysql_stock": stock, "reserved": sum(n for _, n in held), "per_user": dict(held), "quotas": quotas,
            "redis_stock": None if redis_stock is None else int(redis_stock)}


async def crowd(app, activity_id: int, attempts: int, users: int) -> dict[str, int]:
    """`attempts` concurrent reservations by `users` users in this process; outcomes by error code.
    (MySQL as the final guard, with Redis wrong, across two processes: test_replicas.py.)"""
    seckill, now = app.state.seckill, app.state.test_clock.now()
    user_ids = [5_000 + n % users for n in range(attempts)]
    random.Random(7).shuffle(user_ids)
    outcomes: dict[str, int] = {}

    async def one(user_id: int) -> None:
        try:
            await reservations.reserve(seckill, user_id, activity_id, 1001, 1, now)
            code = "reserved"
        except DomainError as error:
            code = error.code
        outcomes[code] = outcomes.get(code, 0) + 1

    await asyncio.gather(*(one(user_id) for user_id in user_ids))
    return outcomes


async def test_2000_attempts_by_500_users_on_stock_100_sell_exactly_100(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=100, user_limit=1)
    outcomes = await crowd(seckill_app, activity_id, attempts=2000, users=500)
    after = await state(seckill_app, activity_id)
    assert outcomes["reserved"] == 100, outcomes
    assert set(outcomes) <= {"reserved", SoldOut.code, UserLimitReached.code}, outcomes
    assert after["reserved"] == 100 and max(after["per_user"].values()) == 1, "no user over the limit"
    assert after["mysql_stock"] == 0 and after["redis_stock"] == 0
    assert sorted(after["quotas"].values()) == [1] * 100


async def test_cancel_and_expiry_give_stock_back_exactly_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=5)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await orders.hold(seckill, 7001, 1001, activity_id, 1001, 2, None, now)
    again = await orders.hold(seckill, 7001, 1001, activity_id, 1001, 2, None, now)
    assert again.order_id == 7001 and (await state(seckill_app, activity_id))["mysql_stock"] == 8, "held once"
    cancels = await asyncio.gather(*(orders.release_order(seckill, 7001, now) for _ in range(5)))
    assert cancels.count(True) == 1, "one of the replayed cancellations gives the stock back"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0})

    await orders.hold(seckill, 7002, 1001, activity_id, 1001, 3, None, now)
    later = now + timedelta(seconds=301)
    expired = await asyncio.gather(*(orders.expire_due(seckill, later) for _ in range(3)))
    assert sum(expired) == 1, "several job runs, one expiry"
    assert not await orders.release_order(seckill, 7002, later), "a late cancel changes nothing"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["reserved"]) == (10, 10, 0)


async def test_paid_orders_keep_their_stock(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    reserved, _ = await reservations.reserve(seckill, 1001, activity_id, 1001, 2, now, key="k1")
    held = await orders.hold(seckill, 7003, 1001, activity_id, 1001, 2, reserved.id, now)
    assert held.id == reserved.id and held.order_id == 7003, "checkout uses the buyer's reservation"
    assert await orders.commit_order(seckill, 7003, now) and not await orders.commit_order(seckill, 7003, now)
    assert await orders.expire_due(seckill, now + timedelta(days=1)) == 0
    assert not await orders.release_order(seckill, 7003, now), "a paid reservation is not given back"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
    limit = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert limit.status_code == 409 and limit.json()["error"]["code"] == "SECKILL_USER_LIMIT_REACHED"


async def test_redis_down_is_a_busy_answer_not_a_500(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=5)
    seckill = seckill_app.state.seckill
    working, seckill.stock = seckill.stock, StockFilter(make_redis("redis://127.0.0.1:1/0"), 1.0)
    try:
        busy = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    finally:
        await seckill.stock.redis.aclose()
        seckill.stock = working
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "SECKILL_BUSY"
    assert busy.headers["retry-after"] == "1"
    assert (await state(seckill_app, activity_id))["mysql_stock"] == 5, "nothing taken"


async def test_a_repeated_key_while_its_first_request_is_being_written_is_told_to_retry(
        client, tokens, seckill_app, monkeypatch):
    """The first request with a key passed Redis and is in MySQL's hands: the same key again gets
    409 SECKILL_RESERVATION_IN_PROGRESS with Retry-After 1 at once (it neither waits for nor takes
    stock twice), and once the first is written, its answer."""
    activity_id = await make_sale(client, tokens["admin"], stock=5)
    keyed = {**tokens["member"], "Idempotency-Key": "tap-slow"}
    writing, finish = asyncio.Event(), asyncio.Event()
    ensure = repo.ensure_quotas

    async def slow_first_write(session, activity: int, user_ids):
        if not writing.is_set():
            writing.set()
            await finish.wait()
        return await ensure(session, activity, user_ids)

    monkeypatch.setattr(repo, "ensure_quotas", slow_first_write)
    first = asyncio.create_task(client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=keyed))
    try:
        await asyncio.wait_for(writing.wait(), 10)
        again = await asyncio.wait_for(client.post("/app-api/seckill/reservations", json=grab(activity_id),
                                                   headers=keyed), 10)
    finally:
        finish.set()
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "SECKILL_RESERVATION_IN_PROGRESS" and again.headers["retry-after"] == "1"
    assert (await first).status_code == 201
    later = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=keyed)
    assert later.status_code == 200 and later.json() == (await first).json()
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["reserved"]) == (4, 4, 1), "taken once"
