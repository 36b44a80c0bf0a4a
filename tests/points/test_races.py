"""Races on MariaDB, over real connections at once: 200 holds of an SKU with 20 units make exactly
20 holds and never a negative stock; one buyer's 10 orders against a limit of 2 make exactly 2;
the same order sent 5 times at once holds once; a payment and a cancellation of one order at once
end it one way, with the counts consistent."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.points import flows
from services.points.models import Hold
from services.points.schemas import HoldIn
from shared.errors import DomainError
from tests.points.conftest import NOW, cancelled, deliver, events, hold_body, make_activity, paid, product, stored


def codes(results) -> list[str]:
    assert all(isinstance(r, DomainError) or not isinstance(r, Exception) for r in results), results
    return sorted(r.code if isinstance(r, DomainError) else "ok" for r in results)


async def holds_of(app, activity_id: int) -> list[Hold]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Hold).where(Hold.activity_id == activity_id))).all())


async def test_200_buyers_at_once_for_20_units_make_exactly_20_holds(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"], products=[product(stock=20, limit=1)])
    requests = [HoldIn(**hold_body(10_000 + n, body["id"], user_id=50_000 + n)) for n in range(200)]
    results = await asyncio.gather(*(flows.hold(pm, r, NOW) for r in requests), return_exceptions=True)
    assert codes(results) == ["POINTS_SOLD_OUT"] * 180 + ["ok"] * 20
    product_row, _, _ = await stored(points_app, body["id"])
    assert product_row.stock == 0
    held = await holds_of(points_app, body["id"])
    assert len(held) == 20 and sum(h.count for h in held) == 20
    async with points_app.state.sessionmaker() as session:
        from services.points.models import UserCount

        assert await session.scalar(select(func.sum(UserCount.held))) == 20


async def test_one_buyers_10_orders_at_once_against_a_limit_of_2_make_exactly_2(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"], products=[product(stock=100, limit=2)])
    requests = [HoldIn(**hold_body(20_000 + n, body["id"])) for n in range(10)]
    results = await asyncio.gather(*(flows.hold(pm, r, NOW) for r in requests), return_exceptions=True)
    assert codes(results) == ["POINTS_LIMIT_EXCEEDED"] * 8 + ["ok"] * 2
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts, len(await holds_of(points_app, body["id"]))) == (98, (2, 0), 2)


async def test_one_buyers_orders_of_several_units_at_once_never_pass_the_limit(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"], products=[product(stock=100, limit=5)])
    requests = [HoldIn(**hold_body(30_000 + n, body["id"], count=2)) for n in range(6)]
    results = await asyncio.gather(*(flows.hold(pm, r, NOW) for r in requests), return_exceptions=True)
    assert codes(results) == ["POINTS_LIMIT_EXCEEDED"] * 4 + ["ok"] * 2
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts) == (96, (4, 0))


async def test_the_same_order_five_times_at_once_holds_once(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    request = HoldIn(**hold_body(40_000, body["id"], count=2))
    results = await asyncio.gather(*(flows.hold(pm, request, NOW) for _ in range(5)), return_exceptions=True)
    assert codes(results) == ["ok"] * 5 and len({r.id for r in results}) == 1
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts) == (8, (2, 0))


async def test_a_payment_and_a_cancellation_at_once_end_the_hold_one_way(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    for order_id in range(50_000, 50_006):
        await flows.hold(pm, HoldIn(**hold_body(order_id, body["id"], user_id=order_id)), NOW)
    await asyncio.gather(*(call for order_id in range(50_000, 50_006) for call in (
        deliver(points_app, "order.paid", paid(order_id, user_id=order_id)),
        deliver(points_app, "order.cancelled", cancelled(order_id, user_id=order_id)))))
    product_row, _, _ = await stored(points_app, body["id"])
    held = await holds_of(points_app, body["id"])
    # in either order the order ends cancelled: released, and its payment refused once (it was said unpaid)
    assert [(h.status, h.end_reason) for h in held] == [(20, "cancelled_refund_asked")] * 6
    assert product_row.stock == 10
    for hold in held:
        assert (await stored(points_app, body["id"], user_id=hold.user_id))[1] == (0, 0)
    refused = await events(points_app, "promo.points.order-refused")
    assert sorted(e.data["order_id"] for e in refused) == list(range(50_000, 50_006))
    assert {e.data["reason"] for e in refused} == {"order_cancelled"}


async def test_a_payment_and_a_cancellation_after_payment_at_once_give_everything_back_silently(
        client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    for order_id in range(51_000, 51_006):
        await flows.hold(pm, HoldIn(**hold_body(order_id, body["id"], user_id=order_id)), NOW)
    await asyncio.gather(*(call for order_id in range(51_000, 51_006) for call in (
        deliver(points_app, "order.paid", paid(order_id, user_id=order_id)),
        deliver(points_app, "order.cancelled", cancelled(order_id, paid_before=True, user_id=order_id)))))
    held = await holds_of(points_app, body["id"])
    assert [(h.status, h.end_reason) for h in held] == [(20, "cancelled_after_payment")] * 6, "never ends PAID"
    assert (await stored(points_app, body["id"]))[0].stock == 10
    assert await events(points_app) == []
