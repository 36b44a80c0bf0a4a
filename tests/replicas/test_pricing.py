"""Two pricing processes on one database, calling the same coupon and points services: each order's
checkout sent to both processes twice at once runs once (the others told to retry, or given its
stored answer), orders for a points-mall SKU make exactly its stock's checkouts and holds, and one
coupon asked for by many orders at once is held by exactly one of them; a promotion written or
closed on one process prices the other's next quote (each keeps its catalog in memory)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.points.models import Base as PointsBase
from services.points.models import Hold
from services.pricing.domain import CheckoutStatus
from services.pricing.models import Base, Checkout, Mutex
from tests.conftest import asgi_client, clear_tables, client_on_clean_tables, replica_processes
from tests.points.conftest import make_activity, product
from tests.pricing.conftest import give_coupon
from tests.pricing.test_admin import discount
from tests.pricing.test_checkout import coupon_row, order
from tests.pricing.test_points_orders import LINE, points_order
from tests.pricing.test_quote import CART
from tests.replicas.support import FACTORY, error_code, on_system_time, spread, system_now

CHECKOUT, QUOTE = "/internal/pricing/checkout", "/app-api/pricing/quote"
STOCK, ORDERS = 10, 30


@pytest.fixture(scope="module")
def replicas(pricing_app):
    """Two pricing processes with the test app's settings: the same coupon, seckill, group-buy,
    bargain and points services."""
    settings = pricing_app.state.settings
    extra = {"COUPON_URL": settings.coupon_url, "SECKILL_URL": settings.seckill_url,
             "GROUPBUY_URL": settings.groupbuy_url, "BARGAIN_URL": settings.bargain_url,
             "POINTS_URL": settings.points_url, "POINTS_FEN_PER_POINT": str(settings.points_fen_per_point),
             "POINTS_GRANT_PER_YUAN": str(settings.points_grant_per_yuan)}
    with replica_processes(settings, FACTORY.format(service="pricing"), extra_env=extra) as urls:
        yield urls


@pytest.fixture
async def client(pricing_app, coupons):
    """As tests/pricing's: clean tables, and the catalog's versions moved as the deletes would."""
    async with client_on_clean_tables(pricing_app, Base.metadata) as client:
        async with pricing_app.state.engine.begin() as conn:
            await conn.execute(update(Mutex).values(version=Mutex.version + 1))
        yield client


@pytest.fixture
async def points(points_app):
    """The points service's API on clean tables, on the replicas' clock."""
    await clear_tables(points_app.state.engine, PointsBase.metadata)
    with on_system_time(points_app):
        async with asgi_client(points_app) as client:
            yield client


async def checkouts(pricing_app) -> list[Checkout]:
    async with pricing_app.state.sessionmaker() as session:
        return list((await session.scalars(select(Checkout))).all())


async def test_points_orders_checked_out_twice_on_each_process_at_once_make_exactly_the_stock(
        client, tokens, points, points_app, pricing_app, replicas):
    now = system_now()
    activity = await make_activity(points, tokens["admin"], products=[product(stock=STOCK, limit=1)],
                                   start=now - timedelta(hours=2), end=now + timedelta(days=1))
    bodies = [points_order(70_000 + n, activity, user_id=80_000 + n) for n in range(ORDERS)]
    async with spread(replicas) as pick:
        answers = await asyncio.gather(*(pick(attempt).post(CHECKOUT, json=body, headers=tokens["service"])
                                         for body in bodies for attempt in range(4)))
    checked_out, refused = 0, Counter()
    for attempts in (answers[i:i + 4] for i in range(0, len(answers), 4)):
        assert {a.status_code for a in attempts} <= {200, 409}, [a.text for a in attempts]
        done = [a.json() for a in attempts if a.status_code == 200]
        others = Counter(error_code(a) for a in attempts if a.status_code != 200)
        if done:
            checked_out += 1
            assert all(answer == done[0] for answer in done), "a retry gets the stored answer"
            assert set(others) <= {"PRICING_CHECKOUT_IN_PROGRESS"}, others
        else:
            assert set(others) <= {"PRICING_ACTIVITY_REFUSED", "PRICING_HOLD_FAILED",
                                   "PRICING_CHECKOUT_IN_PROGRESS"}, [a.text for a in attempts]
            refused.update(others)
    assert checked_out == STOCK, refused
    held = [c for c in await checkouts(pricing_app) if c.status == CheckoutStatus.HELD]
    assert len(held) == STOCK and all(len(c.holds) == 1 for c in held)
    async with points_app.state.sessionmaker() as session:
        holds = (await session.scalars(select(Hold).where(Hold.activity_id == activity["id"]))).all()
    assert sorted(h.order_id for h in holds) == sorted(c.order_id for c in held), "one hold per checkout"
    assert sum(h.count for h in holds) == STOCK and LINE["count"] == 1


async def test_one_coupon_asked_for_by_twenty_orders_on_both_processes_is_held_once(
        client, coupons, coupon_app, pricing_app, tokens, replicas):
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)
    async with spread(replicas) as pick:
        answers = await asyncio.gather(*(pick(n).post(CHECKOUT, json=order(71_000 + n, coupon_id),
                                                      headers=tokens["service"]) for n in range(20)))
    done = [a.json() for a in answers if a.status_code == 200]
    assert len(done) == 1, Counter((a.status_code, error_code(a)) for a in answers if a.status_code != 200)
    assert all(400 <= a.status_code < 500 for a in answers if a.status_code != 200)
    [winner] = done
    assert winner["coupons"]["applied_coupon_id"] == coupon_id
    assert (await coupon_row(coupon_app, coupon_id)).use_order_id == winner["order_id"]
    assert [c.order_id for c in await checkouts(pricing_app) if c.status == CheckoutStatus.HELD] == [
        winner["order_id"]]


async def test_a_discount_written_and_closed_on_one_process_prices_the_next_quote_on_the_other(
        client, tokens, replicas):
    async with spread(replicas) as pick:
        async def discount_on_the_other() -> int:
            quote = await pick(1).post(QUOTE, json={"lines": CART[:1]}, headers=tokens["member"])
            assert quote.status_code == 200, quote.text
            return quote.json()["totals"]["discount"]

        assert await discount_on_the_other() == 0  # its catalog loaded, with no discount
        made = await pick(0).post("/admin-api/pricing/discounts", json=discount(), headers=tokens["admin"])
        assert made.status_code == 201, made.text
        assert await discount_on_the_other() == 1500  # 85% of 100.00
        closed = await pick(0).post(f"/admin-api/pricing/discounts/{made.json()['id']}/close",
                                    headers=tokens["admin"])
        assert closed.status_code == 204, closed.text
        assert await discount_on_the_other() == 0
