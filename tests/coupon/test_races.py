"""Taking a coupon back (recall, revoke) or cancelling an order while a checkout holds the coupon
at the same moment: exactly one of them wins, whichever comes first. Against MariaDB: each race
is run with one side's transaction left open (its locks taken) while the other starts, then both
orders; and as a plain concurrent race, many times."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.coupon import lifecycle, payments
from shared.events import CancelReason, OrderCancelled
from tests.coupon.test_api import make_template
from tests.coupon.test_events import coupons_of, paid_with_rewards
from tests.coupon.test_holds import HOLDS, a_coupon, cancelled, coupon_row, hold_body, runner
from tests.coupon.test_late_payments import a_reward_held_by, events

WAIT = 0.5  # long enough for the other side to reach the lock on a loaded machine; the outcome holds either way


async def hold(client, tokens, order_id: int, coupon_id: int):
    return await client.post(HOLDS, json=hold_body(order_id, coupon_id), headers=tokens["service"])


async def recall(client, tokens, coupon_id: int):
    return await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", headers=tokens["admin"])


async def test_a_hold_waits_for_a_recall_in_progress_and_is_refused(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await lifecycle.recall(session, coupon_id, "1", "duplicate", datetime.now(UTC))  # row locked
        racing = asyncio.create_task(hold(client, tokens, 9701, coupon_id))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the hold waits for the recall's lock"
    answer = await racing
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "COUPON_NOT_USABLE"
    assert (await coupon_row(coupon_app, coupon_id)).status == 6


async def test_a_recall_after_a_hold_is_refused(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    assert (await hold(client, tokens, 9702, coupon_id)).status_code == 201
    refused = await recall(client, tokens, coupon_id)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "COUPON_IN_USE"
    assert (await coupon_row(coupon_app, coupon_id)).status == 4


async def test_recall_and_hold_racing_one_wins(client, tokens, coupon_app):
    for n in range(10):
        coupon_id = await a_coupon(client, tokens)
        held, recalled = await asyncio.gather(hold(client, tokens, 9710 + n, coupon_id),
                                              recall(client, tokens, coupon_id))
        assert sorted([held.status_code, recalled.status_code]) in ([201, 409], [204, 409]), (held.text, recalled.text)
        status = (await coupon_row(coupon_app, coupon_id)).status
        assert status == (4 if held.status_code == 201 else 6)


async def test_a_hold_waits_for_a_revoke_in_progress_and_is_refused(client, tokens, coupon_app):
    _, coupon_id = await a_reward_held_by(client, tokens, coupon_app, 9721, 9722)
    await runner(coupon_app).process(cancelled(9722))  # back in the buyer's hands
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.revoke_order_rewards(session, 9721, "member_cancel", datetime.now(UTC)) == 1
        racing = asyncio.create_task(hold(client, tokens, 9723, coupon_id))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the hold waits for the revoke's lock"
    assert (await racing).status_code == 409
    assert (await coupon_row(coupon_app, coupon_id)).status == 5
    assert [e["coupon_id"] for e in await events(coupon_app, "promo.coupon.revoked")] == [coupon_id]


async def test_revoke_and_hold_racing_the_reward_ends_revoked_once(client, tokens, coupon_app):
    for n in range(5):
        order = 9730 + 3 * n
        _, coupon_id = await a_reward_held_by(client, tokens, coupon_app, order, order + 1)
        await runner(coupon_app).process(cancelled(order + 1))
        held, _ = await asyncio.gather(hold(client, tokens, order + 2, coupon_id),
                                       runner(coupon_app).process(cancelled(order)))
        row = await coupon_row(coupon_app, coupon_id)
        assert row.status == 5 and row.use_order_id is None, "revoked, whether the hold came first or not"
        assert row.released_order_id == (order + 2 if held.status_code == 201 else None)
        assert [c.id for c in await coupons_of(coupon_app, 1001) if c.status != 5] == []
    assert len(await events(coupon_app, "promo.coupon.revoked")) == 5


async def test_a_hold_waits_for_a_cancel_in_progress_and_is_refused(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    event = OrderCancelled(order_id=9741, user_id=1001, cancelled_at=datetime.now(UTC), reason=CancelReason.PAY_TIMEOUT)
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await payments.order_cancelled(session, event)
        racing = asyncio.create_task(hold(client, tokens, 9741, coupon_id))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the hold waits for the cancel being written"
    answer = await racing
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "COUPON_ORDER_CANCELLED"
    assert (await coupon_row(coupon_app, coupon_id)).status == 1


async def test_a_cancel_waits_for_a_hold_in_progress_and_gives_it_back(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await lifecycle.hold(session, 9751, 1001, {coupon_id: None}, datetime.now(UTC), 1800)
        racing = asyncio.create_task(runner(coupon_app).process(cancelled(9751)))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the cancel waits for the hold being written"
    await racing
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id) == (1, None), "the cancel found the hold and gave it back"


async def test_a_payment_waits_for_a_cancel_in_progress_and_grants_nothing(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    event = OrderCancelled(order_id=9761, user_id=1001, cancelled_at=datetime.now(UTC))
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await payments.order_cancelled(session, event)
        racing = asyncio.create_task(runner(coupon_app).process(paid_with_rewards(9761, {reward["id"]: 1})))
        await asyncio.sleep(WAIT)
    await racing
    assert await coupons_of(coupon_app, 1001) == [], "no reward for an order cancelled first"
