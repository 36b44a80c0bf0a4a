"""order.cancelled is recorded on the order's hold whatever its state, as order.paid may be handled
before or after it (two topics): a payment handled after it never takes the units again, and
asks for a refund (promo.points.order-refused) only when the order was cancelled unpaid. A hold
that went back is never held again for its order; a late payment never takes from a closed
activity; a hold and a close of its activity take turns."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from services.points import activities, domain, flows, jobs, service
from services.points.schemas import HoldIn
from tests.points.conftest import ADMIN, HOLDS, NOW, cancelled, deliver, events, hold_body, make_activity, paid, stored

LATE = timedelta(seconds=900)


async def refusals(app) -> list[tuple[int, str]]:
    return [(e.data["order_id"], e.data["reason"]) for e in await events(app, "promo.points.order-refused")]


@pytest.mark.parametrize("said_paid", [True, False], ids=["cancelled-after-payment", "cancelled-unpaid"])
@pytest.mark.parametrize("expired", [False, True], ids=["held", "expired-first"])
async def test_a_payment_handled_after_the_cancellation_takes_nothing(client, tokens, points_app, said_paid, expired):
    pm, service_token = points_app.state.points, tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(91, body["id"], count=2))).status_code == 201
    if expired:
        assert await jobs.run_once(pm, NOW + LATE) == {"holds_released": 1}
    for _ in range(2):
        await deliver(points_app, "order.cancelled", cancelled(91, paid_before=said_paid))
    for _ in range(2):
        await deliver(points_app, "order.paid", paid(91))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=91)
    assert (product_row.stock, counts, hold.status) == (10, (0, 0), 20), "never taken again"
    assert hold.end_reason == ("cancelled_after_payment" if said_paid else "cancelled_refund_asked")
    # cancelled after payment: the order service refunds it itself; cancelled unpaid: we ask, once
    assert await refusals(points_app) == ([] if said_paid else [(91, "order_cancelled")])
    figures = (await client.get(f"{ADMIN}/activities/{body['id']}/stats", headers=tokens["admin"])).json()
    assert (figures["orders_paid"], figures["units_sold"]) == (0, 0)


async def test_a_cancellation_after_a_failed_checkout_is_recorded_too(client, tokens, points_app):
    """Released by pricing, then cancelled unpaid, then paid: refused as cancelled (not taken again
    although the units are free); the same without the cancellation is taken again."""
    service_token = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    for order_id in (92, 93):
        held = await client.post(HOLDS, headers=service_token, json=hold_body(order_id, body["id"], user_id=order_id))
        assert held.status_code == 201
        assert (await client.post(f"{HOLDS}/{order_id}/release", headers=service_token)).json()["released"]
    await deliver(points_app, "order.cancelled", cancelled(92, user_id=92))
    for order_id in (92, 93):
        await deliver(points_app, "order.paid", paid(order_id, user_id=order_id))
    assert await refusals(points_app) == [(92, "order_cancelled")]
    assert [(await stored(points_app, body["id"], order_id=o))[2].status for o in (92, 93)] == [20, 10]
    assert (await stored(points_app, body["id"]))[0].stock == 9


@pytest.mark.parametrize("deleted", [False, True], ids=["closed", "closed-and-deleted"])
async def test_a_late_payment_never_takes_from_a_closed_activity(client, tokens, points_app, deleted):
    pm, admin = points_app.state.points, tokens["admin"]
    body = await make_activity(client, admin)
    assert (await client.post(HOLDS, headers=tokens["service"], json=hold_body(94, body["id"], count=2))).status_code \
        == 201
    assert await jobs.run_once(pm, NOW + LATE) == {"holds_released": 1}
    assert (await client.post(f"{ADMIN}/activities/{body['id']}/close", headers=admin)).status_code == 204
    if deleted:
        assert (await client.delete(f"{ADMIN}/activities/{body['id']}", headers=admin)).status_code == 204
    for _ in range(2):
        await deliver(points_app, "order.paid", paid(94))
    product_row, counts, hold = await stored(points_app, body["id"], order_id=94)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "paid_after_release")
    assert await refusals(points_app) == [(94, "activity_closed")]


@pytest.mark.parametrize("end", ["release", "cancel", "expire"])
async def test_an_order_whose_hold_went_back_is_not_held_again(client, tokens, points_app, end):
    pm, service_token = points_app.state.points, tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(95, body["id"], count=2))).status_code == 201
    if end == "release":
        assert (await client.post(f"{HOLDS}/95/release", headers=service_token)).json()["released"]
    elif end == "cancel":
        await deliver(points_app, "order.cancelled", cancelled(95))
    else:
        assert await jobs.run_once(pm, NOW + LATE) == {"holds_released": 1}
    again = await client.post(HOLDS, headers=service_token, json=hold_body(95, body["id"], count=2))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "POINTS_ORDER_HOLD_ENDED")
    assert again.json()["error"]["message"]
    product_row, counts, hold = await stored(points_app, body["id"], order_id=95)
    assert (product_row.stock, counts, hold.status) == (10, (0, 0), 20), "nothing taken"
    with pytest.raises(domain.OrderHoldEnded):  # the flow's own retry path answers the same
        await flows.hold(pm, HoldIn(**hold_body(95, body["id"], count=2)), NOW)


async def test_a_paid_order_asking_again_gets_its_hold(client, tokens, points_app):
    service_token = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(96, body["id"]))).status_code == 201
    await deliver(points_app, "order.paid", paid(96))
    again = await client.post(HOLDS, headers=service_token, json=hold_body(96, body["id"]))
    assert (again.status_code, again.json()["status"]) == (201, 10)


async def test_a_close_waits_for_a_hold_in_flight(client, tokens, points_app):
    """The hold read the activity open: the close commits only after the hold did."""
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    async with pm.sessions() as session, session.begin():
        await service.hold(session, HoldIn(**hold_body(97, body["id"])), NOW, pm.hold_seconds)
        closing = asyncio.create_task(client.post(f"{ADMIN}/activities/{body['id']}/close", headers=tokens["admin"]))
        await asyncio.sleep(0.5)
        assert not closing.done(), "the close did not wait for the hold's transaction"
    assert (await closing).status_code == 204
    assert (await stored(points_app, body["id"], order_id=97))[2].status == 0


async def test_a_hold_waits_for_a_close_in_flight_and_is_refused(client, tokens, points_app):
    """The close is not committed yet when the hold starts: the hold waits, then sees it closed."""
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    async with pm.sessions() as session, session.begin():
        await activities.close_activity(session, body["id"], NOW, "admin:1")
        holding = asyncio.create_task(flows.hold(pm, HoldIn(**hold_body(98, body["id"])), NOW))
        await asyncio.sleep(0.5)
        assert not holding.done(), "the hold did not wait for the close's transaction"
    with pytest.raises(domain.ActivityClosed):
        await holding
    product_row, counts, hold = await stored(points_app, body["id"], order_id=98)
    assert (product_row.stock, counts, hold) == (10, (0, 0), None)


async def test_holds_racing_a_close_are_all_made_before_it_or_refused(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])

    async def close():
        await asyncio.sleep(0.01)
        return await client.post(f"{ADMIN}/activities/{body['id']}/close", headers=tokens["admin"])

    results = await asyncio.gather(close(), *(flows.hold(pm, HoldIn(**hold_body(99_000 + n, body["id"], user_id=n)),
                                                         NOW) for n in range(1, 9)), return_exceptions=True)
    assert results[0].status_code == 204
    made = [r for r in results[1:] if not isinstance(r, Exception)]
    assert all(isinstance(r, domain.ActivityClosed) for r in results[1:] if isinstance(r, Exception))
    assert (await stored(points_app, body["id"]))[0].stock == 10 - len(made)


async def test_an_order_cancelled_before_its_hold_is_not_held(client, tokens, points_app):
    """order.cancelled may be handled before the checkout's hold (twice: no change)."""
    service_token = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    for _ in range(2):
        await deliver(points_app, "order.cancelled", cancelled(101))
    refused = await client.post(HOLDS, headers=service_token, json=hold_body(101, body["id"]))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "POINTS_ORDER_CANCELLED")
    product_row, counts, hold = await stored(points_app, body["id"], order_id=101)
    assert (product_row.stock, counts, hold) == (10, (0, 0), None)
    await deliver(points_app, "order.paid", paid(101))  # no hold: nothing to take, nothing to refuse
    assert await events(points_app) == []
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(102, body["id"]))).status_code == 201


async def test_a_cancellation_racing_the_first_hold_of_its_order_leaves_nothing_held(client, tokens, points_app):
    pm = points_app.state.points
    body = await make_activity(client, tokens["admin"])
    order_ids = range(110, 118)

    async def hold(order_id):
        try:
            await flows.hold(pm, HoldIn(**hold_body(order_id, body["id"], user_id=order_id)), NOW)
        except domain.OrderCancelled:
            pass

    async def cancel(order_id):
        for attempt in range(5):  # the runner redelivers an event whose handler lost a deadlock
            try:
                return await deliver(points_app, "order.cancelled", cancelled(order_id, user_id=order_id))
            except DBAPIError:  # a deadlock's victim: delivered again
                if attempt == 4:
                    raise

    await asyncio.gather(*(call for order_id in order_ids for call in (hold(order_id), cancel(order_id))))
    for order_id in order_ids:
        _, _, found = await stored(points_app, body["id"], order_id=order_id)
        assert found is None or (found.status, found.end_reason) == (20, "cancelled"), order_id
    assert (await stored(points_app, body["id"]))[0].stock == 10
