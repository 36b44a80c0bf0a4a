"""Late payments racing each other, buyers, a release and the writer, driven directly (no broker):
each reservation is taken again or refused once, Redis follows the state MySQL changed, and the
rows are locked in one order everywhere (no deadlock)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from services.seckill import repository as repo
from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders, payments, reservations
from services.seckill.models import Reservation
from services.seckill.stock import keys
from tests.seckill.conftest import make_sale
from tests.seckill.test_late_payment import LATE, refusals
from tests.seckill.test_reservations import state


async def statuses(app, activity_id: int) -> dict[int, ReservationStatus]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(Reservation.order_id, Reservation.status)
                                     .where(Reservation.activity_id == activity_id, Reservation.order_id.is_not(None)))
    return {order_id: ReservationStatus(status) for order_id, status in rows}


async def expired_orders(app, activity_id: int, first_order: int, n: int) -> None:
    seckill, now = app.state.seckill, app.state.test_clock.now()
    for i in range(n):
        await orders.hold(seckill, first_order + i, 1001, activity_id, 1001, 1, None, now)
    assert await orders.expire_due(seckill, now + LATE) == n


async def test_concurrent_late_payments_take_each_reservation_again_once(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=5)
    await expired_orders(seckill_app, activity_id, 7700, 5)
    seckill, later = seckill_app.state.seckill, seckill_app.state.test_clock.now() + LATE
    answers = await asyncio.gather(*(orders.commit_order(seckill, 7700 + i, later) for i in range(5) for _ in range(4)))
    assert answers.count(True) == 5, "each payment handled once"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (5, 5, {1001: 5}), "taken again once each"
    assert set((await statuses(seckill_app, activity_id)).values()) == {ReservationStatus.COMMITTED}
    assert await refusals(seckill_app) == []


async def test_concurrent_late_payments_competing_with_buyers_are_each_taken_or_refused_once(
        client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=5, user_limit=5)
    await expired_orders(seckill_app, activity_id, 7800, 5)
    seckill, later = seckill_app.state.seckill, seckill_app.state.test_clock.now() + LATE

    async def buyer(user_id: int) -> str:
        try:
            await reservations.reserve(seckill, user_id, activity_id, 1001, 1, later)
            return "ok"
        except Exception as exc:  # sold out: the late payments took the units first
            return type(exc).__name__

    await asyncio.gather(*(orders.commit_order(seckill, 7800 + i, later) for i in range(5) for _ in range(4)),
                         *(buyer(3000 + u) for u in range(4)))
    after = await state(seckill_app, activity_id)
    refused = [r["data"]["order_id"] for r in await refusals(seckill_app)]
    committed = [o for o, s in (await statuses(seckill_app, activity_id)).items() if s == ReservationStatus.COMMITTED]
    assert sorted(refused + committed) == [7800 + i for i in range(5)], "each taken again or refused, once"
    assert after["mysql_stock"] == after["redis_stock"] == 5 - len(committed) - after["reserved"]
    assert after["quotas"][1001] == len(committed)


async def test_a_release_gives_back_in_redis_what_its_own_update_changed(client, tokens, seckill_app, monkeypatch):
    """A late payment takes an expired reservation again while an order.cancelled releases it:
    Redis restocks the paid units (it no longer holds their token), not a give-back by token."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await orders.hold(seckill, 7901, 1001, activity_id, 1001, 2, None, now)
    later = now + LATE
    assert await orders.expire_due(seckill, later) == 1
    real, paid_meanwhile = repo.set_status, []

    async def set_status_after_a_payment(*args, **kwargs):
        if not paid_meanwhile:  # the payment lands once the release has started
            paid_meanwhile.append(await orders.commit_order(seckill, 7901, later))
        return await real(*args, **kwargs)

    monkeypatch.setattr(repo, "set_status", set_status_after_a_payment)
    assert await orders.release_order(seckill, 7901, later, paid_too=True)
    assert paid_meanwhile == [True]
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (10, 10, {1001: 0})
    assert int(await seckill_app.state.redis.hget(keys(activity_id)[1], "1001")) == 0


async def waiting_for_a_lock(app) -> bool:
    async with app.state.sessionmaker() as session:
        return bool(await session.scalar(text(
            "SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
            "ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()")))


async def test_a_late_payment_and_a_reservation_lock_quota_and_product_in_one_order(
        client, tokens, seckill_app, monkeypatch):
    """The late payment stops after its first quota or product lock while the same buyer's new
    reservation is written: with the rows locked in the writer's order (quota, then product) one
    waits for the other; in opposite orders MySQL finds a deadlock and kills one of them."""
    activity_id = await make_sale(client, tokens["admin"], stock=10, user_limit=4)
    await expired_orders(seckill_app, activity_id, 7950, 1)
    seckill, later = seckill_app.state.seckill, seckill_app.state.test_clock.now() + LATE
    locked, go = asyncio.Event(), asyncio.Event()

    def pausing(real):
        async def first_lock_then_wait(*args, **kwargs):
            done = await real(*args, **kwargs)
            if not locked.is_set():
                locked.set()
                await go.wait()
            return done
        return first_lock_then_wait

    for name in ("add_to_quotas", "take_stock"):  # the late payment's lock-taking updates, whichever comes first
        monkeypatch.setattr(payments.repo, name, pausing(getattr(repo, name)))
    late = asyncio.create_task(orders.commit_order(seckill, 7950, later))
    await asyncio.wait_for(locked.wait(), 10)
    buyer = asyncio.create_task(reservations.reserve(seckill, 1001, activity_id, 1001, 1, later))
    for _ in range(100):  # until the writer waits for a row the late payment holds
        if await waiting_for_a_lock(seckill_app):
            break
        await asyncio.sleep(0.05)
    go.set()
    answers = await asyncio.gather(late, buyer, return_exceptions=True)
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (8, 8, {1001: 2})
