"""order.paid and order.cancelled reach the seckill service through Kafka; each changes state once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders
from services.seckill.models import Reservation
from shared.events import encode, new_event
from shared.kafka import make_producer
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import state


def paid(order_id: int, at: datetime) -> bytes:
    return encode(new_event("order.paid", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": 1001, "pay_price": 19800, "paid_at": at.isoformat(),
        "items": [{"sku_id": 1001, "spu_id": 101, "count": 2, "pay_price": 19800}]}))


def cancelled(order_id: int, at: datetime, *, was_paid: bool) -> bytes:
    return encode(new_event("order.cancelled", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": 1001, "cancelled_at": at.isoformat(), "paid": was_paid,
        "reason": "after_sale_close" if was_paid else "member_cancel"}))


async def status_of(app, reservation_id: int) -> int:
    async with app.state.sessionmaker() as session:
        return (await session.get(Reservation, reservation_id)).status


async def wait_for(app, reservation_id: int, wanted: ReservationStatus) -> None:
    for _ in range(300):
        if await status_of(app, reservation_id) == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"reservation {reservation_id} never became {wanted.name}")


async def test_paid_then_closed_after_payment_each_once_even_when_delivered_twice(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7101, 1001, activity_id, 1001, 2, None, now)
    producer = make_producer(seckill_app.state.settings)
    await producer.start()
    try:
        event = paid(7101, now)
        for _ in range(2):  # the same event twice (a redelivery)
            await producer.send_and_wait("order.paid", event, key=b"7101")
        await wait_for(seckill_app, held.id, ReservationStatus.COMMITTED)
        after = await state(seckill_app, activity_id)
        assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
        closed = cancelled(7101, now, was_paid=True)
        for _ in range(2):
            await producer.send_and_wait("order.cancelled", closed, key=b"7101")
        await wait_for(seckill_app, held.id, ReservationStatus.RELEASED)
        await asyncio.sleep(0.5)  # let the second delivery arrive too
    finally:
        await producer.stop()
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0}), "back once"


async def test_a_cancellation_said_unpaid_after_the_payment_was_handled_still_gives_the_stock_back(
        client, tokens, seckill_app):
    """order.paid and order.cancelled are different topics: the payment may be handled first."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7201, 1001, activity_id, 1001, 2, None, now)
    producer = make_producer(seckill_app.state.settings)
    await producer.start()
    try:
        await producer.send_and_wait("order.paid", paid(7201, now), key=b"7201")
        await wait_for(seckill_app, held.id, ReservationStatus.COMMITTED)
        for _ in range(2):
            await producer.send_and_wait("order.cancelled", cancelled(7201, now, was_paid=False), key=b"7201")
        await wait_for(seckill_app, held.id, ReservationStatus.RELEASED)
        await asyncio.sleep(0.5)
    finally:
        await producer.stop()
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0}), "back once"
