"""order.cancelled and order.paid come on different topics, so the cancellation may be handled
before the payment. It is recorded on the reservation whatever its state: the payment handled
after it never takes the stock again for a closed order, and asks for a refund only when the order
service does not refund the order itself (an order closed after payment it refunds)."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import pytest

from services.seckill import consumers
from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders
from services.seckill.stock import keys
from shared.events import Envelope, decode
from tests.seckill.conftest import make_sale
from tests.seckill.test_events import cancelled, paid
from tests.seckill.test_late_payment import LATE, refusals, reservation
from tests.seckill.test_reservations import state

SHANGHAI = timezone(timedelta(hours=8))


async def deliver_twice(seckill, raw: bytes) -> None:
    """The handler itself, given the same event twice (a redelivery the inbox did not catch)."""
    envelope: Envelope = decode(raw)
    handle = consumers.handlers(lambda: seckill)[envelope.type]
    for _ in range(2):
        await handle(None, envelope)


async def redis_count(app, activity_id: int, user_id: int = 1001) -> int:
    return int(await app.state.redis.hget(keys(activity_id)[1], str(user_id)) or 0)


@pytest.mark.parametrize("was_paid", [True, False], ids=["closed-after-payment", "cancelled-unpaid"])
@pytest.mark.parametrize("expired", [False, True], ids=["held", "expired"])
async def test_a_payment_handled_after_the_cancellation_takes_nothing_and_asks_a_refund_only_if_unpaid(
        client, tokens, seckill_app, expired, was_paid):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=2)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7601, 1001, activity_id, 1001, 2, None, now)
    at = now + LATE if expired else now
    if expired:
        assert await orders.expire_due(seckill, at) == 1
    await deliver_twice(seckill, cancelled(7601, at.astimezone(SHANGHAI), was_paid=was_paid))  # any offset
    await deliver_twice(seckill, paid(7601, at))
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0}), "never taken again"
    assert await redis_count(seckill_app, activity_id) == 0
    # closed after payment: the order service refunds it itself; cancelled unpaid: the money must go back
    assert [r["data"]["reason"] for r in await refusals(seckill_app)] == ([] if was_paid else ["order_cancelled"])
    found = await reservation(seckill_app, held.id)
    assert found.status == (ReservationStatus.EXPIRED if expired else ReservationStatus.RELEASED)
    assert found.cancelled_at == at and found.paid_at is not None


async def test_a_cancellation_racing_a_late_payment_leaves_no_unit_with_a_closed_order(client, tokens, seckill_app):
    """Handled at the same moment, in either order: the units end up given back."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=10)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    for n in range(5):
        await orders.hold(seckill, 7610 + n, 1001, activity_id, 1001, 1, None, now)
    at = now + LATE
    assert await orders.expire_due(seckill, at) == 5

    async def both(order_id: int) -> None:
        await asyncio.gather(deliver_twice(seckill, cancelled(order_id, at, was_paid=True)),
                             deliver_twice(seckill, paid(order_id, at)))

    await asyncio.gather(*(both(7610 + n) for n in range(5)))
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0})
    assert await redis_count(seckill_app, activity_id) == 0
    assert await refusals(seckill_app) == [], "closed after payment: the order service refunds them"


async def test_a_cancellation_after_a_checkout_failed_is_recorded_too(client, tokens, seckill_app):
    """Released by pricing (checkout failed), then order.cancelled unpaid, then a payment: refused
    as cancelled; a payment with no cancellation is refused as released."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await orders.hold(seckill, 7621, 1001, activity_id, 1001, 1, None, now)
    await orders.hold(seckill, 7622, 1001, activity_id, 1001, 1, None, now)
    for order_id in (7621, 7622):
        assert await orders.release_order(seckill, order_id, now)
    await deliver_twice(seckill, cancelled(7621, now, was_paid=False))
    for order_id in (7621, 7622):
        await deliver_twice(seckill, paid(order_id, now))
    assert [(r["data"]["order_id"], r["data"]["reason"]) for r in await refusals(seckill_app)] == [
        (7621, "order_cancelled"), (7622, "reservation_released")]
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0})
