"""A payment that arrives after its flash reservation gave the stock back: the stock is taken again
when it still can be, else the order service is told to refund the order; once, however often
order.paid is delivered (issue 12, point 5)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders, reservations
from services.seckill.flows.payments import PAYMENT_REFUSED
from services.seckill.models import Reservation, outbox
from services.seckill.stock import StockFilter, keys
from shared.kafka import make_producer
from shared.redis import make_redis
from tests.seckill.conftest import make_sale
from tests.seckill.test_events import paid
from tests.seckill.test_reservations import state

LATE = timedelta(seconds=301)  # past SECKILL_HOLD_SECONDS in the tests


async def refusals(app) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.key, outbox.c.payload).where(outbox.c.topic == PAYMENT_REFUSED)
                                      .order_by(outbox.c.id))).all()
    return [{"key": key, **json.loads(payload)} for key, payload in rows]


async def reservation(app, reservation_id: int) -> Reservation:
    async with app.state.sessionmaker() as session:
        return await session.get(Reservation, reservation_id)


async def expired_order(app, activity_id: int, order_id: int, count: int = 2) -> Reservation:
    """An order's reservation that was not paid in time: its stock went back."""
    seckill, now = app.state.seckill, app.state.test_clock.now()
    held = await orders.hold(seckill, order_id, 1001, activity_id, 1001, count, None, now)
    assert await orders.expire_due(seckill, now + LATE) == 1
    return held


async def deliver_paid_twice(app, order_id: int, reservation_id: int) -> None:
    at = app.state.test_clock.now() + LATE
    producer = make_producer(app.state.settings)
    await producer.start()
    try:
        for _ in range(2):  # the same event twice (a redelivery)
            await producer.send_and_wait("order.paid", paid(order_id, at), key=str(order_id).encode())
        for _ in range(300):
            if (await reservation(app, reservation_id)).paid_at is not None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # let the second delivery arrive too
    finally:
        await producer.stop()


async def test_a_late_payment_takes_the_stock_again_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    held = await expired_order(seckill_app, activity_id, 7401)
    assert (await state(seckill_app, activity_id))["mysql_stock"] == 10
    await deliver_paid_twice(seckill_app, 7401, held.id)
    assert (await reservation(seckill_app, held.id)).status == ReservationStatus.COMMITTED
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2}), "taken again, once"
    assert await refusals(seckill_app) == []
    assert not await orders.release_order(seckill_app.state.seckill, 7401, seckill_app.state.test_clock.now()), \
        "paid: an unpaid cancellation changes nothing"


async def test_a_late_payment_with_the_stock_gone_is_refused_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=3, user_limit=3)
    held = await expired_order(seckill_app, activity_id, 7402)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await reservations.reserve(seckill, 2002, activity_id, 1001, 2, now + LATE)  # 1 left: fewer than the order's 2
    await deliver_paid_twice(seckill_app, 7402, held.id)
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (1, 1, {1001: 0, 2002: 2})
    [refused] = await refusals(seckill_app)
    assert refused["key"] == "7402" and refused["type"] == "promo.seckill.payment-refused"
    assert {k: v for k, v in refused["data"].items() if k not in ("paid_at", "refused_at")} == {
        "order_id": 7402, "user_id": 1001, "activity_id": activity_id, "sku_id": 1001, "count": 2,
        "reservation_id": held.id, "reason": "sold_out"}
    assert (await reservation(seckill_app, held.id)).status == ReservationStatus.EXPIRED


async def test_a_late_payment_respects_the_user_limit(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    await expired_order(seckill_app, activity_id, 7403)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now() + LATE
    await reservations.reserve(seckill, 1001, activity_id, 1001, 1, now)  # the buyer bought one since: 1 + 2 > 2
    answers = await asyncio.gather(*(orders.commit_order(seckill, 7403, now) for _ in range(3)))
    assert answers.count(True) == 1, "handled once, concurrent deliveries included"
    assert [r["data"]["reason"] for r in await refusals(seckill_app)] == ["user_limit_reached"]
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (9, 9, {1001: 1}), "nothing taken"


async def test_a_payment_for_a_cancelled_order_is_refused_not_sold(client, tokens, seckill_app):
    """Released: the order was cancelled (or its checkout failed) before the payment came; its
    units are not tied to an order that will not ship, even with stock left."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7404, 1001, activity_id, 1001, 2, None, now)
    assert await orders.release_order(seckill, 7404, now)
    assert await orders.commit_order(seckill, 7404, now) and not await orders.commit_order(seckill, 7404, now)
    assert [r["data"]["reason"] for r in await refusals(seckill_app)] == ["reservation_released"]
    assert (await reservation(seckill_app, held.id)).status == ReservationStatus.RELEASED
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0})


async def test_a_redelivered_payment_of_a_paid_then_closed_order_asks_for_no_refund(client, tokens, seckill_app):
    """Paid, then closed after payment (released with its stock): the order service refunds that
    itself; a redelivered order.paid is not a late payment."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await orders.hold(seckill, 7405, 1001, activity_id, 1001, 2, None, now)
    assert await orders.commit_order(seckill, 7405, now)
    assert await orders.release_order(seckill, 7405, now, paid_too=True)
    assert not await orders.commit_order(seckill, 7405, now)
    assert await refusals(seckill_app) == []


async def test_a_late_payment_whose_expiry_never_reached_redis_is_counted_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7406, 1001, activity_id, 1001, 2, None, now)
    working, seckill.stock = seckill.stock, StockFilter(make_redis("redis://127.0.0.1:1/0"), 1.0)
    try:  # Redis unreachable: MySQL gives the stock back, Redis still counts the reservation
        assert await orders.expire_due(seckill, now + LATE) == 1
    finally:
        await seckill.stock.redis.aclose()
        seckill.stock = working
    assert (await state(seckill_app, activity_id))["redis_stock"] == 8
    assert await orders.commit_order(seckill, 7406, now + LATE)
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
    assert not await seckill_app.state.redis.hexists(keys(activity_id)[2], held.token), "final, not held"


async def test_a_late_payment_after_the_activity_was_closed_is_refused(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    held = await expired_order(seckill_app, activity_id, 7407)
    closed = await client.post(f"/admin-api/seckill/activities/{activity_id}/close", headers=tokens["admin"])
    assert closed.status_code == 204, closed.text
    seckill, later = seckill_app.state.seckill, seckill_app.state.test_clock.now() + LATE
    assert await orders.commit_order(seckill, 7407, later) and not await orders.commit_order(seckill, 7407, later)
    assert [r["data"]["reason"] for r in await refusals(seckill_app)] == ["activity_closed"]
    assert (await reservation(seckill_app, held.id)).status == ReservationStatus.EXPIRED
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["quotas"]) == (10, {1001: 0}), "nothing taken for a closed sale"
