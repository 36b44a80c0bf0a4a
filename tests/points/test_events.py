"""Order events and the hold job: order.paid commits a hold, order.cancelled releases it (a paid
one too when cancelled after payment), each delivered twice changing nothing the second time; an
unpaid hold expires once (rounds run twice, and on two pools at once) with promo.points.hold-expired;
a late payment takes the units back when free, else promo.points.order-refused asks for a refund."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.points import jobs
from services.points.flows import Points
from shared.db import create_engine, make_sessionmaker
from tests.points.conftest import (
    ADMIN,
    HOLDS,
    NOW,
    cancelled,
    deliver,
    events,
    hold_body,
    make_activity,
    paid,
    product,
    stored,
)


async def test_order_paid_twice_commits_the_hold_once(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(31, body["id"], count=2))).status_code == 201
    await deliver(points_app, "order.paid", paid(31))
    await deliver(points_app, "order.paid", paid(31))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=31)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (8, (0, 2), 10, "paid")
    assert hold.paid_at == NOW
    assert not (await client.post(f"{HOLDS}/31/release", headers=service)).json()["released"]
    await deliver(points_app, "order.paid", paid(999))  # not a points-mall order: nothing happens
    assert await events(points_app) == []


async def test_a_cancellation_said_unpaid_after_the_payment_releases_and_asks_the_refund_once(
        client, tokens, points_app):
    """The payment was handled first (the topics are not ordered together): the order is cancelled
    all the same, so its units go back, and as the order service thinks it unpaid, we ask the refund."""
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(33, body["id"], count=2))).status_code == 201
    await deliver(points_app, "order.paid", paid(33))
    for _ in range(2):
        await deliver(points_app, "order.cancelled", cancelled(33))
        await deliver(points_app, "order.paid", paid(33))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=33)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "cancelled_refund_asked")
    refused = await events(points_app, "promo.points.order-refused")
    assert [(e.data["order_id"], e.data["count"], e.data["reason"]) for e in refused] == [(33, 2, "order_cancelled")]


async def test_order_cancelled_twice_releases_once(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(41, body["id"], count=2))).status_code == 201
    await deliver(points_app, "order.cancelled", cancelled(41))
    await deliver(points_app, "order.cancelled", cancelled(41))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=41)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "cancelled")


async def test_an_order_cancelled_after_payment_gives_units_and_count_back_once(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(51, body["id"], count=2))).status_code == 201
    await deliver(points_app, "order.paid", paid(51))
    await deliver(points_app, "order.cancelled", cancelled(51, paid_before=True))
    await deliver(points_app, "order.cancelled", cancelled(51, paid_before=True))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=51)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "cancelled_after_payment")
    assert await events(points_app) == [], "cancelled after payment: the order service refunds it"
    figures = (await client.get(f"{ADMIN}/activities/{body['id']}/stats", headers=tokens["admin"])).json()
    assert (figures["orders_paid"], figures["units_sold"], figures["sales"]) == (0, 0, 0)
    assert (await client.post(HOLDS, headers=service, json=hold_body(52, body["id"], count=2))).status_code == 201


async def test_an_unpaid_hold_expires_once_and_a_late_payment_takes_it_back_when_free(client, tokens, points_app):
    pm, service = points_app.state.points, tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(61, body["id"], count=2))).status_code == 201
    assert await jobs.run_once(pm, NOW + timedelta(seconds=899)) == {"holds_released": 0}
    assert await jobs.run_once(pm, NOW + timedelta(seconds=900)) == {"holds_released": 1}
    assert await jobs.run_once(pm, NOW + timedelta(seconds=901)) == {"holds_released": 0}
    product_row, counts, hold = await stored(points_app, body["id"], order_id=61)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "expired")
    expired = await events(points_app, "promo.points.hold-expired")
    assert [(e.data["order_id"], e.data["count"], e.data["reason"]) for e in expired] == [(61, 2, "expired")]
    await deliver(points_app, "order.paid", paid(61))  # units and count still free: taken again
    product_row, counts, hold = await stored(points_app, body["id"], order_id=61)
    assert (product_row.stock, counts, hold.status) == (8, (0, 2), 10)
    assert await events(points_app, "promo.points.order-refused") == []


async def test_a_late_payment_after_the_stock_went_to_others_asks_for_a_refund_once(client, tokens, points_app):
    pm, service = points_app.state.points, tokens["service"]
    body = await make_activity(client, tokens["admin"], products=[product(stock=1, limit=1)])
    assert (await client.post(HOLDS, headers=service, json=hold_body(71, body["id"]))).status_code == 201
    assert await jobs.run_once(pm, NOW + timedelta(seconds=900)) == {"holds_released": 1}
    other = await client.post(HOLDS, headers=service, json=hold_body(72, body["id"], user_id=1002))
    assert other.status_code == 201
    await deliver(points_app, "order.paid", paid(71))
    await deliver(points_app, "order.paid", paid(71))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=71)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (0, (0, 0), 20, "paid_after_release")
    refused = await events(points_app, "promo.points.order-refused")
    assert [(e.data["order_id"], e.data["reason"]) for e in refused] == [(71, "paid_after_hold_released")]


async def test_the_job_on_two_pools_at_once_releases_each_hold_once(client, tokens, points_app):
    pm, service = points_app.state.points, tokens["service"]
    engine = create_engine(points_app.state.settings.db_url, pool_size=5)  # a second replica's own pool
    other_replica = Points(sessions=make_sessionmaker(engine), hold_seconds=pm.hold_seconds)
    try:
        body = await make_activity(client, tokens["admin"], products=[product(stock=20, limit=2)])
        for user in range(1001, 1009):
            held = await client.post(HOLDS, headers=service, json=hold_body(user, body["id"], count=2, user_id=user))
            assert held.status_code == 201
        at = NOW + timedelta(seconds=900)
        rounds = await asyncio.gather(jobs.run_once(pm, at), jobs.run_once(other_replica, at),
                                      jobs.run_once(pm, at), jobs.run_once(other_replica, at))
        assert sum(r["holds_released"] for r in rounds) == 8
        product_row, _, _ = await stored(points_app, body["id"])
        assert product_row.stock == 20
        assert len(await events(points_app, "promo.points.hold-expired")) == 8
        for user in range(1001, 1009):
            assert (await stored(points_app, body["id"], user_id=user))[1] == (0, 0)
    finally:
        await engine.dispose()


async def test_a_hold_read_before_another_ended_it_is_not_ended_twice(client, tokens, points_app):
    """The compare-and-set behind every end of a hold: a stale read (SQLite's reads lock nothing)
    changes nothing once another transaction moved the hold on."""
    from services.points import repository as repo
    from services.points.domain import HoldStatus

    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=tokens["service"], json=hold_body(81, body["id"]))).status_code == 201
    async with points_app.state.sessionmaker() as session:
        stale = await repo.hold_by_order(session, 81)
    async with points_app.state.sessionmaker() as session, session.begin():
        assert await repo.change_hold(session, stale, NOW, status=HoldStatus.RELEASED, end_reason="cancelled")
    async with points_app.state.sessionmaker() as session, session.begin():
        assert not await repo.change_hold(session, stale, NOW, status=HoldStatus.RELEASED, end_reason="expired")
        assert not await repo.change_hold(session, stale, NOW, status=HoldStatus.PAID)
    assert (await stored(points_app, body["id"], order_id=81))[2].end_reason == "cancelled"
