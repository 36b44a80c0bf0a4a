"""order.cancelled is recorded on the bargain order's hold whatever its state, as order.paid may be
handled before or after it (two topics): a payment handled after it never takes the record or a
unit again, and asks for a refund (promo.bargain.order-refused) only when the order was cancelled
unpaid. A hold that went back is never held again for its order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from services.bargain import domain, flows, jobs
from services.bargain.schemas import HoldIn
from tests.bargain.conftest import HOLDS, NOW, events, succeeded_record
from tests.bargain.test_holds import cancelled, deliver, hold_body, paid, state

LATE = timedelta(seconds=900)


async def refusals(app) -> list[tuple[int, str]]:
    return [(e.data["order_id"], e.data["reason"]) for e in await events(app, "promo.bargain.order-refused")]


@pytest.mark.parametrize("said_paid", [True, False], ids=["cancelled-after-payment", "cancelled-unpaid"])
@pytest.mark.parametrize("before", ["held", "expired", "checkout-released"])
async def test_a_payment_handled_after_the_cancellation_takes_nothing(client, tokens, members, bargain_app,
                                                                      said_paid, before):
    bg, service_token = bargain_app.state.bargain, tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(41, record["id"]))).status_code == 201
    if before == "expired":
        assert (await jobs.run_once(bg, NOW + LATE))["holds_released"] == 1
    elif before == "checkout-released":
        assert (await client.post(f"{HOLDS}/41/release", headers=service_token)).json()["released"]
    for _ in range(2):
        await deliver(bargain_app, "order.cancelled", cancelled(41, paid_before=said_paid))
    for _ in range(2):
        await deliver(bargain_app, "order.paid", paid(41))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 41)
    assert (order.status, stored.order_id, activity.stock) == (20, None, 5), "never taken again"
    assert order.end_reason == ("order_cancelled_after_payment" if said_paid else "order_cancelled_refund_asked")
    assert await refusals(bargain_app) == ([] if said_paid else [(41, "order_cancelled")])


async def test_a_cancellation_said_unpaid_after_the_payment_releases_and_asks_the_refund_once(
        client, tokens, members, bargain_app):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(42, record["id"]))).status_code == 201
    await deliver(bargain_app, "order.paid", paid(42))
    for _ in range(2):
        await deliver(bargain_app, "order.cancelled", cancelled(42))
        await deliver(bargain_app, "order.paid", paid(42))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 42)
    assert (order.status, order.end_reason, stored.order_id, activity.stock) == (
        20, "order_cancelled_refund_asked", None, 5)
    assert await refusals(bargain_app) == [(42, "order_cancelled")]


@pytest.mark.parametrize("said_paid", [True, False], ids=["cancelled-after-payment", "cancelled-unpaid"])
async def test_a_payment_and_a_cancellation_at_once_never_end_paid(client, tokens, members, bargain_app, said_paid):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(43, record["id"]))).status_code == 201
    await asyncio.gather(deliver(bargain_app, "order.paid", paid(43)),
                         deliver(bargain_app, "order.cancelled", cancelled(43, paid_before=said_paid)))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 43)
    assert (order.status, stored.order_id, activity.stock) == (20, None, 5)
    assert await refusals(bargain_app) == ([] if said_paid else [(43, "order_cancelled")])


@pytest.mark.parametrize("end", ["release", "cancel", "expire"])
async def test_an_order_whose_hold_went_back_is_not_held_again(client, tokens, members, bargain_app, end):
    bg, service_token = bargain_app.state.bargain, tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(44, record["id"]))).status_code == 201
    if end == "release":
        assert (await client.post(f"{HOLDS}/44/release", headers=service_token)).json()["released"]
    elif end == "cancel":
        await deliver(bargain_app, "order.cancelled", cancelled(44))
    else:
        assert (await jobs.run_once(bg, NOW + LATE))["holds_released"] == 1
    again = await client.post(HOLDS, headers=service_token, json=hold_body(44, record["id"]))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "BARGAIN_ORDER_HOLD_ENDED")
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 44)
    assert (order.status, stored.order_id, activity.stock) == (20, None, 5), "nothing taken"
    # the record itself may be ordered again by a new order while it is valid
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(45, record["id"]))).status_code == 201


async def test_an_order_cancelled_before_its_hold_is_not_held(client, tokens, members, bargain_app):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    for _ in range(2):
        await deliver(bargain_app, "order.cancelled", cancelled(46))
    refused = await client.post(HOLDS, headers=service_token, json=hold_body(46, record["id"]))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "BARGAIN_ORDER_CANCELLED")
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 46)
    assert (stored.order_id, activity.stock, order) == (None, 5, None), "nothing taken"
    await deliver(bargain_app, "order.paid", paid(46))  # no hold: nothing to take, nothing to refuse
    assert await events(bargain_app, "promo.bargain.order-refused") == []
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(47, record["id"]))).status_code == 201


async def test_a_cancellation_racing_the_first_hold_of_its_order_leaves_nothing_held(client, tokens, members,
                                                                                     bargain_app):
    bg = bargain_app.state.bargain
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]

    async def hold():
        try:
            await flows.hold(bg, HoldIn(**hold_body(48, record["id"])), NOW)
        except domain.OrderCancelled:
            pass

    async def cancel():
        for attempt in range(5):  # the runner redelivers an event whose handler lost a deadlock
            try:
                return await deliver(bargain_app, "order.cancelled", cancelled(48))
            except DBAPIError:
                if attempt == 4:
                    raise

    await asyncio.gather(hold(), cancel())
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 48)
    assert order is None or (order.status, order.end_reason) == (20, "order_cancelled")
    assert (stored.order_id, activity.stock) == (None, 5)
