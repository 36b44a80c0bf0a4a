"""A seckill order through pricing: the flash price from the seckill service, its stock as a hold."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.seckill.domain import ReservationStatus
from services.seckill.models import Base as SeckillBase
from services.seckill.models import Product, Reservation
from tests.conftest import asgi_client, clear_tables
from tests.seckill.conftest import make_sale

CHECKOUT = "/internal/pricing/checkout"


@pytest.fixture
async def sale(seckill_app, tokens, redis) -> int:
    """A running flash sale of SKU 1001 (flash price 9900, stock 5, 2 per user)."""
    await clear_tables(seckill_app.state.engine, SeckillBase.metadata)
    stale = [key async for key in redis.scan_iter("{sk:*")]
    if stale:
        await redis.delete(*stale)
    seckill_app.state.seckill.catalog.forget()
    async with asgi_client(seckill_app) as seckill:
        return await make_sale(seckill, tokens["admin"], stock=5, user_limit=2)


def seckill_order(order_id: int, activity_id: int, count: int = 1, **activity) -> dict:
    return {"order_id": order_id, "user_id": 1001, "activity": {"type": "seckill", "activity_id": activity_id,
                                                                **activity},
            "lines": [{"sku_id": 1001, "spu_id": 101, "category_id": 5, "unit_price": 19900, "count": count}]}


async def reservations(seckill_app) -> list[Reservation]:
    async with seckill_app.state.sessionmaker() as session:
        return list((await session.scalars(select(Reservation).order_by(Reservation.id))).all())


async def stock(seckill_app) -> int:
    async with seckill_app.state.sessionmaker() as session:
        return await session.scalar(select(Product.stock))


async def test_a_seckill_order_is_priced_at_the_flash_price_and_holds_its_stock_once(
        client, tokens, seckill_app, sale):
    quote = await client.post("/app-api/pricing/quote", json={k: v for k, v in seckill_order(0, sale, 2).items()
                                                              if k in ("activity", "lines")},
                              headers=tokens["member"])
    assert quote.status_code == 200, quote.text
    assert quote.json()["totals"]["pay"] == 2 * 9900 and quote.json()["totals"]["special"] == 2 * 10000
    first = await client.post(CHECKOUT, json=seckill_order(8301, sale, 2), headers=tokens["service"])
    assert first.status_code == 200, first.text
    again = await client.post(CHECKOUT, json=seckill_order(8301, sale, 2), headers=tokens["service"])
    assert again.json() == first.json()
    [held] = await reservations(seckill_app)
    assert (held.order_id, held.count, held.status) == (8301, 2, ReservationStatus.HELD)
    assert await stock(seckill_app) == 3, "taken once"
    over = await client.post(CHECKOUT, json=seckill_order(8302, sale, 1), headers=tokens["service"])
    assert over.status_code == 409 and over.json()["error"]["details"]["owner_code"] == "SECKILL_USER_LIMIT_REACHED"


async def test_checkout_uses_the_buyers_reservation(client, tokens, seckill_app, sale):
    async with asgi_client(seckill_app) as seckill:
        reserved = await seckill.post("/app-api/seckill/reservations", json={"activity_id": sale, "sku_id": 1001},
                                      headers=tokens["member"])
    assert reserved.status_code == 201, reserved.text
    done = await client.post(CHECKOUT, json=seckill_order(8401, sale, reservation_id=reserved.json()["id"]),
                             headers=tokens["service"])
    assert done.status_code == 200, done.text
    [bound] = await reservations(seckill_app)
    assert (bound.id, bound.order_id) == (reserved.json()["id"], 8401) and await stock(seckill_app) == 4
    reused = await client.post(CHECKOUT, json=seckill_order(8402, sale, reservation_id=bound.id),
                               headers=tokens["service"])
    assert reused.status_code == 409
    assert reused.json()["error"]["details"]["owner_code"] == "SECKILL_RESERVATION_NOT_USABLE"
    assert await stock(seckill_app) == 4, "a refused checkout takes nothing"


async def test_a_later_failing_hold_gives_the_flash_stock_back(client, tokens, seckill_app, pricing_app, sale):
    from tests.pricing.test_checkout import RecordingOwner

    refusing = RecordingOwner("seat", refuse=True)
    pricing_app.state.pricing.holds.append(refusing)
    try:
        failed = await client.post(CHECKOUT, json=seckill_order(8501, sale, 2), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(refusing)
    assert failed.status_code == 409 and failed.json()["error"]["details"]["owner"] == "seat"
    [released] = await reservations(seckill_app)
    assert released.status == ReservationStatus.RELEASED and await stock(seckill_app) == 5
    live = await seckill_app.state.seckill.stock.stock_left(sale)
    assert live == {1001: 5}, "Redis has it back too"
