"""Payments and cancels that come late or out of order (order.paid and order.cancelled travel on
two topics): a payment after its order's hold ended takes the coupon again or asks for a refund,
once; a payment after the cancel takes and grants nothing; a hold for a cancelled order is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.coupon import lifecycle
from services.coupon.models import CancelledOrder, outbox
from tests.coupon.test_api import make_template
from tests.coupon.test_events import coupons_of, paid_with_rewards, take_count
from tests.coupon.test_holds import HOLDS, a_coupon, cancelled, coupon_row, hold_body, paid, runner, use_count

REFUSED = "promo.coupon.payment-refused"


async def events(app, topic: str) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(outbox.c.payload).where(outbox.c.topic == topic)
                                      .order_by(outbox.c.id))).all()
    return [{k: v for k, v in json.loads(payload)["data"].items() if k not in ("paid_at", "template_id")}
            for payload in rows]


async def run_the_job(app, at: datetime) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await lifecycle.expire_due(session, at)


async def held_until_it_ran_out(client, tokens, app, order_id: int) -> int:
    """A coupon the order held (it was priced with it) and whose hold the job gave back."""
    coupon_id = await a_coupon(client, tokens)
    assert (await client.post(HOLDS, json=hold_body(order_id, coupon_id), headers=tokens["service"])).status_code == 201
    await run_the_job(app, datetime.now(UTC) + timedelta(hours=1))
    assert (await coupon_row(app, coupon_id)).status == 1
    return coupon_id


async def deliver_twice(app, raw: bytes, again: bytes) -> None:
    """The same event twice, then the same payment republished with a new event id."""
    for event in (raw, raw, again):
        await runner(app).process(event)


# --- a payment after the hold ran out -------------------------------------------------------------

async def test_a_payment_after_the_hold_ran_out_takes_the_coupon_once(client, tokens, coupon_app):
    coupon_id = await held_until_it_ran_out(client, tokens, coupon_app, 9301)
    await deliver_twice(coupon_app, paid(9301), paid(9301))
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id, row.released_order_id) == (2, 9301, None) and row.used_at is not None
    assert await use_count(coupon_app, coupon_id) == 1
    assert await events(coupon_app, "promo.coupon.used") == [
        {"coupon_id": coupon_id, "user_id": 1001, "order_id": 9301}]
    assert await events(coupon_app, REFUSED) == []


async def test_a_payment_after_another_order_took_the_coupon_asks_for_a_refund_once(client, tokens, coupon_app):
    coupon_id = await held_until_it_ran_out(client, tokens, coupon_app, 9311)
    assert (await client.post(HOLDS, json=hold_body(9312, coupon_id), headers=tokens["service"])).status_code == 201
    await deliver_twice(coupon_app, paid(9311), paid(9311))
    assert await events(coupon_app, REFUSED) == [
        {"order_id": 9311, "user_id": 1001, "coupon_id": coupon_id, "reason": "coupon_used_elsewhere"}]
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id) == (4, 9312), "the other order keeps its hold"
    await runner(coupon_app).process(paid(9312))
    assert (await coupon_row(coupon_app, coupon_id)).status == 2 and await use_count(coupon_app, coupon_id) == 1


@pytest.mark.parametrize("ended", ["expired", "recalled"])
async def test_a_payment_after_the_coupon_ended_asks_for_a_refund_once(client, tokens, coupon_app, ended):
    coupon_id = await held_until_it_ran_out(client, tokens, coupon_app, 9321)
    if ended == "expired":
        await run_the_job(coupon_app, datetime.now(UTC) + timedelta(days=8))
    else:
        recalled = await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", headers=tokens["admin"])
        assert recalled.status_code == 204
    status = (await coupon_row(coupon_app, coupon_id)).status
    await deliver_twice(coupon_app, paid(9321), paid(9321))
    assert await events(coupon_app, REFUSED) == [
        {"order_id": 9321, "user_id": 1001, "coupon_id": coupon_id, "reason": f"coupon_{ended}"}]
    assert (await coupon_row(coupon_app, coupon_id)).status == status and await use_count(coupon_app, coupon_id) == 0


async def test_a_payment_after_a_failed_checkout_gave_the_coupon_back_takes_nothing(client, tokens, coupon_app):
    """Pricing gives a hold back only when the order's checkout failed or chose no coupon: such an
    order was not priced with the coupon, so its payment neither takes it nor asks for a refund."""
    coupon_id = await held_until_it_ran_out(client, tokens, coupon_app, 9331)
    assert (await client.post(HOLDS, json=hold_body(9331, coupon_id), headers=tokens["service"])).status_code == 201
    assert (await client.post(f"{HOLDS}/9331/release", headers=tokens["service"])).json()["released"] == 1
    await deliver_twice(coupon_app, paid(9331), paid(9331))
    await runner(coupon_app).process(paid(9332))  # an order that never held a coupon
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id, row.released_order_id) == (1, None, None)
    assert await events(coupon_app, REFUSED) == [] and await events(coupon_app, "promo.coupon.used") == []


async def test_a_retried_checkout_s_new_coupon_is_the_one_a_late_payment_takes(client, tokens, coupon_app):
    first = await held_until_it_ran_out(client, tokens, coupon_app, 9341)
    second = await a_coupon(client, tokens)
    assert (await client.post(HOLDS, json=hold_body(9341, second), headers=tokens["service"])).status_code == 201
    await run_the_job(coupon_app, datetime.now(UTC) + timedelta(hours=1))
    await deliver_twice(coupon_app, paid(9341), paid(9341))
    assert [(await coupon_row(coupon_app, c)).status for c in (first, second)] == [1, 2]
    assert await events(coupon_app, REFUSED) == []


# --- a reward revoked while another order holds it (issue point 4) ----------------------------------

async def a_reward_held_by(client, tokens, app, rewarding: int, holding: int) -> tuple[int, int]:
    reward = await make_template(client, tokens, name="返券", take_type=2, total_count=10, take_limit_count=-1)
    await runner(app).process(paid_with_rewards(rewarding, {reward["id"]: 1}))
    [coupon] = [c for c in await coupons_of(app, 1001) if c.source_order_id == rewarding]
    assert (await client.post(HOLDS, json=hold_body(holding, coupon.id), headers=tokens["service"])).status_code == 201
    return reward["id"], coupon.id


async def test_paying_the_order_that_held_a_revoked_reward_asks_for_a_refund_once(client, tokens, coupon_app):
    _, coupon_id = await a_reward_held_by(client, tokens, coupon_app, 9401, 9402)
    await runner(coupon_app).process(cancelled(9401))
    assert (await coupon_row(coupon_app, coupon_id)).status == 5
    await deliver_twice(coupon_app, paid(9402), paid(9402))
    assert await events(coupon_app, REFUSED) == [
        {"order_id": 9402, "user_id": 1001, "coupon_id": coupon_id, "reason": "coupon_revoked"}]
    assert (await coupon_row(coupon_app, coupon_id)).status == 5 and await use_count(coupon_app, coupon_id) == 0


# --- a cancel before the payment (issue point 5) ------------------------------------------------------

async def test_a_payment_processed_after_the_cancel_uses_and_grants_nothing(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(9601, coupon_id), headers=tokens["service"])
    await runner(coupon_app).process(cancelled(9601))
    gifts = {reward["id"]: 1}
    await deliver_twice(coupon_app, paid_with_rewards(9601, gifts), paid_with_rewards(9601, gifts))
    assert [(c.id, c.status) for c in await coupons_of(coupon_app, 1001)] == [(coupon_id, 1)], \
        "no reward granted, the coupon stays with the buyer"
    assert await use_count(coupon_app, coupon_id) == 0 and await take_count(coupon_app, reward["id"]) == 0
    assert await events(coupon_app, "promo.coupon.used") == [] and await events(coupon_app, REFUSED) == []


async def test_a_hold_for_an_order_already_cancelled_is_refused(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await deliver_twice(coupon_app, cancelled(9611), cancelled(9611))
    async with coupon_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CancelledOrder)) == 1
    for locale, message in (("en", "Order 9611 was cancelled: no coupon can be held for it"),
                            ("zh-CN", "订单 9611 已取消，不能再占用优惠券")):
        refused = await client.post(HOLDS, json=hold_body(9611, coupon_id),
                                    headers={**tokens["service"], "Accept-Language": locale})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "COUPON_ORDER_CANCELLED"
        assert refused.json()["error"]["message"] == message
    assert (await coupon_row(coupon_app, coupon_id)).status == 1
