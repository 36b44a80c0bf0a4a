"""Holds that run out, checkouts given up and retried: only a coupon still HELD, and due, goes
back; a paid (USED) one never does except through order.cancelled. Against MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.coupon import lifecycle
from services.coupon import repository_orders as orders
from services.coupon.models import Coupon
from tests.coupon.test_holds import HOLDS, a_coupon, coupon_row, hold_body, paid, runner, use_count


async def test_the_expiry_job_never_gives_back_a_coupon_paid_meanwhile(client, tokens, coupon_app):
    """The reviewer's interleaving, step by step: the job lists the due holds (a plain read), the
    order's payment is committed by the consumer meanwhile, then the job releases what it listed."""
    coupon_id = await a_coupon(client, tokens)
    other_id = await a_coupon(client, tokens)
    for order_id, held in ((9101, coupon_id), (9102, other_id)):
        assert (await client.post(HOLDS, json=hold_body(order_id, held), headers=tokens["service"])).status_code == 201
    later = datetime.now(UTC) + timedelta(hours=1)
    async with coupon_app.state.sessionmaker() as job, job.begin():
        due = list(await orders.expired_holds(job, later))
        assert sorted(due) == [(coupon_id, 9101), (other_id, 9102)]
        await runner(coupon_app).process(paid(9101))  # the consumer, in its own transaction
        assert (await coupon_row(coupon_app, coupon_id)).status == 2
        assert await lifecycle.release_expired(job, due, later) == 1
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id, row.released_order_id) == (2, 9101, None), "the paid coupon stays used"
    assert await use_count(coupon_app, coupon_id) == 1
    other = await coupon_row(coupon_app, other_id)
    assert (other.status, other.use_order_id, other.released_order_id) == (1, None, 9102), \
        "the unpaid one goes back, remembering its order"


async def test_the_expiry_job_leaves_a_hold_extended_meanwhile(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(9111, coupon_id), headers=tokens["service"])
    await set_hold_expiry(coupon_app, coupon_id, datetime.now(UTC) - timedelta(seconds=5))
    now = datetime.now(UTC)
    async with coupon_app.state.sessionmaker() as job, job.begin():
        due = list(await orders.expired_holds(job, now))
        assert due == [(coupon_id, 9111)]
        retried = await client.post(HOLDS, json=hold_body(9111, coupon_id), headers=tokens["service"])
        assert retried.status_code == 201
        assert await lifecycle.release_expired(job, due, now) == 0
    assert (await coupon_row(coupon_app, coupon_id)).status == 4


async def test_the_release_endpoint_never_gives_back_a_paid_coupon(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(9121, coupon_id), headers=tokens["service"])
    await runner(coupon_app).process(paid(9121))
    response = await client.post(f"{HOLDS}/9121/release", headers=tokens["service"])
    assert response.json() == {"order_id": 9121, "released": 0}
    row = await coupon_row(coupon_app, coupon_id)
    assert (row.status, row.use_order_id) == (2, 9121) and await use_count(coupon_app, coupon_id) == 1


async def set_hold_expiry(app, coupon_id: int, at: datetime) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Coupon).where(Coupon.id == coupon_id).values(hold_expires_at=at))


async def test_asking_again_for_a_hold_already_due_extends_it(client, tokens, coupon_app):
    """The hold ran out and the job has not run yet: the order's retried checkout holds it again
    from now, and is never answered (or stored) a hold already due."""
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(9201, coupon_id), headers=tokens["service"])
    await set_hold_expiry(coupon_app, coupon_id, datetime.now(UTC) - timedelta(seconds=5))
    before = datetime.now(UTC)
    again = await client.post(HOLDS, json=hold_body(9201, coupon_id), headers=tokens["service"])
    assert again.status_code == 201
    answered = datetime.fromisoformat(again.json()["hold_expires_at"])
    assert answered >= before + timedelta(seconds=1799)
    row = await coupon_row(coupon_app, coupon_id)
    assert row.status == 4 and row.hold_expires_at == answered
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, datetime.now(UTC)) == (0, 0)
    other = await client.post(HOLDS, json=hold_body(9202, coupon_id), headers=tokens["service"])
    assert other.status_code == 409, "another order still cannot take it"
