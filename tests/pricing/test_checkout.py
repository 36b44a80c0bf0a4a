"""Checkout: re-price, hold, snapshot; idempotent by order id; all holds or none."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.coupon.models import Coupon
from services.pricing import consumers, flows, snapshots
from services.pricing import quote as quotes
from services.pricing.domain import OrderAlreadyCancelled
from services.pricing.holds import Hold, HoldRequest
from services.pricing.models import Checkout, inbox
from services.pricing.schemas import CheckoutIn
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner
from shared.events import encode, new_event
from shared.http import Refused
from shared.kafka import make_producer
from tests.pricing.conftest import gift_template, give_coupon
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_quote import CART

CHECKOUT = "/internal/pricing/checkout"


def order(order_id: int, coupon_id: int | None = None, **extra) -> dict:
    return {"order_id": order_id, "user_id": 1001, "lines": CART[:2], "coupon_id": coupon_id, **extra}


async def coupon_row(coupon_app, coupon_id: int) -> Coupon:
    async with coupon_app.state.sessionmaker() as session:
        return await session.scalar(select(Coupon).where(Coupon.id == coupon_id))


async def checkout_row(pricing_app, order_id: int) -> Checkout | None:
    async with pricing_app.state.sessionmaker() as session:
        return await session.scalar(select(Checkout).where(Checkout.order_id == order_id))


@dataclass
class RecordingOwner:
    """A further hold owner (as seckill or group buy will be), refusing when told to."""

    name: str
    refuse: bool = False
    held: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    before_returning: Callable[[], Awaitable[None]] | None = None

    def needed(self, request: HoldRequest) -> bool:
        return True

    async def hold(self, request: HoldRequest) -> Hold:
        if self.refuse:
            raise Refused(self.name, 409, "SOLD_OUT", "sold out", {})
        self.held.append(request.order_id)
        if self.before_returning:
            await self.before_returning()
        return Hold(self.name, request.order_id)

    async def release(self, order_id: int) -> None:
        self.released.append(order_id)


async def test_checkout_holds_the_coupon_and_a_retry_takes_nothing_twice(client, coupons, coupon_app, pricing_app,
                                                                         tokens):
    await client.post("/admin-api/pricing/discounts", json=discount(skus=((101, 1001),)), headers=tokens["admin"])
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)
    first = await client.post(CHECKOUT, json=order(8001, coupon_id), headers=tokens["service"])
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["order_id"] == 8001 and body["totals"]["coupon"] == 700 and body["totals"]["discount"] == 1500
    assert [h["owner"] for h in body["holds"]] == ["coupon"] and body["holds"][0]["reference"] == coupon_id
    held = await coupon_row(coupon_app, coupon_id)
    assert held.use_order_id == 8001 and held.hold_expires_at is not None

    again = await client.post(CHECKOUT, json=order(8001, coupon_id), headers=tokens["service"])
    assert again.status_code == 200 and again.json() == body, "a retry returns the first answer"
    other = await client.post(CHECKOUT, json=order(8002, coupon_id), headers=tokens["service"])
    assert other.status_code == 422 and other.json()["error"]["code"] == "PRICING_COUPON_CANNOT_BE_USED"
    assert await checkout_row(pricing_app, 8002) is None, "a failed checkout leaves nothing behind"
    changed = await client.post(CHECKOUT, json=order(8001, None), headers=tokens["service"])
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "PRICING_CHECKOUT_MISMATCH"

    snapshot = await client.get("/internal/pricing/snapshots/8001", headers=tokens["service"])
    assert snapshot.status_code == 200
    snap = snapshot.json()
    assert snap["snapshot_id"] == body["snapshot_id"] and snap["status"] == "held"
    assert snap["offers"]["coupon"]["coupon_id"] == coupon_id and snap["offers"]["discounts"][0]["pay_bp"] == 8500
    rederived = snapshots.rederive(await checkout_row(pricing_app, 8001))
    assert rederived.totals.pay == body["totals"]["pay"]
    assert [p.pay for p in rederived.lines[:2]] == [line["pay_amount"] for line in body["lines"]]
    missing = await client.get("/internal/pricing/snapshots/8999", headers=tokens["service"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PRICING_SNAPSHOT_NOT_FOUND"


async def test_concurrent_checkouts_of_one_order_hold_once(client, coupons, coupon_app, pricing_app, tokens):
    """Six attempts while the first one is still placing its holds: exactly one runs, five are
    told to retry; a retry after it finished gets its stored answer."""
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)

    async def slowly() -> None:
        await asyncio.sleep(1.0)  # every other attempt arrives while this one holds

    extra = RecordingOwner("seat", before_returning=slowly)
    pricing_app.state.pricing.holds.append(extra)
    try:
        results = await asyncio.gather(*(client.post(CHECKOUT, json=order(8101, coupon_id),
                                                     headers=tokens["service"]) for _ in range(6)))
        later = await client.post(CHECKOUT, json=order(8101, coupon_id), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(extra)
    assert sorted(r.status_code for r in results) == [200] + [409] * 5
    assert all(r.json()["error"]["code"] == "PRICING_CHECKOUT_IN_PROGRESS" and r.headers["retry-after"] == "1"
               for r in results if r.status_code == 409)
    assert extra.held == [8101], "exactly one attempt placed the holds"
    [done] = [r for r in results if r.status_code == 200]
    assert later.status_code == 200 and later.json() == done.json(), "the stored answer"


async def test_a_failing_hold_releases_the_ones_taken(client, coupons, coupon_app, pricing_app, tokens):
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)
    sold_out = RecordingOwner("seckill", refuse=True)
    pricing_app.state.pricing.holds.append(sold_out)
    try:
        failed = await client.post(CHECKOUT, json=order(8201, coupon_id), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(sold_out)
    assert failed.status_code == 409
    error = failed.json()["error"]
    assert error["code"] == "PRICING_HOLD_FAILED" and error["details"]["owner"] == "seckill"
    assert error["details"]["owner_code"] == "SOLD_OUT"
    released = await coupon_row(coupon_app, coupon_id)
    assert released.status == 1 and released.use_order_id is None, "the coupon went back"
    assert await checkout_row(pricing_app, 8201) is None

    # The other way round: a seat is taken, then the coupon hold fails (another order took the
    # coupon between pricing and holding) -> the seat is released.
    async def take_coupon_for_another_order() -> None:
        await coupons.post("/internal/coupon/holds", json={"order_id": 9999, "user_id": 1001,
                                                           "coupon_id": coupon_id}, headers=tokens["service"])
    seat = RecordingOwner("seat", before_returning=take_coupon_for_another_order)
    pricing_app.state.pricing.holds.insert(0, seat)
    try:
        lost = await client.post(CHECKOUT, json=order(8202, coupon_id), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(seat)
    assert lost.status_code == 409 and lost.json()["error"]["details"]["owner"] == "coupon"
    assert lost.json()["error"]["details"]["owner_code"] == "COUPON_NOT_USABLE"
    assert seat.held == [8202] and seat.released == [8202]
    assert (await coupon_row(coupon_app, coupon_id)).use_order_id == 9999, "the other order keeps it"


async def stale_claim(pricing_app, order_id: int) -> None:
    """What a checkout killed half-way leaves: its claim, long ago, never finished."""
    body = CheckoutIn.model_validate(order(order_id))
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with pricing_app.state.sessionmaker() as session, session.begin():
        session.add(Checkout(order_id=order_id, user_id=1001, snapshot_id="dead", status=1,
                             fingerprint=flows.fingerprint(body), request=body.model_dump(mode="json"), holds=[],
                             claimed_at=long_ago, created_at=long_ago, updated_at=long_ago))


async def test_a_takeover_gives_back_what_the_dead_attempt_held_and_this_one_does_not_use(client, pricing_app,
                                                                                          tokens):
    unneeded = RecordingOwner("seat")
    unneeded.needed = lambda request: False
    pricing_app.state.pricing.holds.append(unneeded)
    try:
        await stale_claim(pricing_app, 8601)
        done = await client.post(CHECKOUT, json=order(8601), headers=tokens["service"])
        assert done.status_code == 200, done.text
        assert unneeded.released == [8601], "the dead attempt may have held it"
        assert (await client.post(CHECKOUT, json=order(8602), headers=tokens["service"])).status_code == 200
        assert unneeded.released == [8601], "an ordinary checkout asks nothing of owners it does not need"
    finally:
        pricing_app.state.pricing.holds.remove(unneeded)


async def test_a_takeover_that_fails_gives_back_every_owners_hold(client, pricing_app, tokens):
    earlier, refusing = RecordingOwner("seat"), RecordingOwner("stock", refuse=True)
    pricing_app.state.pricing.holds[:0] = [earlier, refusing]
    try:
        await stale_claim(pricing_app, 8701)
        failed = await client.post(CHECKOUT, json=order(8701), headers=tokens["service"])
        assert failed.status_code == 409 and failed.json()["error"]["details"]["owner"] == "stock"
        assert 8701 in earlier.released and 8701 in refusing.released
        assert await checkout_row(pricing_app, 8701) is None, "the order service may try again"
    finally:
        for owner in (earlier, refusing):
            pricing_app.state.pricing.holds.remove(owner)


def paid(order_id: int) -> bytes:
    now = datetime.now(UTC)
    return encode(new_event("order.paid", source="test", subject=order_id, time=now, data={
        "order_id": order_id, "user_id": 1001, "pay_price": 9000, "paid_at": now.isoformat(),
        "items": [{"sku_id": 1001, "spu_id": 101, "count": 1, "pay_price": 9000}]}))


def cancelled(order_id: int) -> bytes:
    now = datetime.now(UTC)
    return encode(new_event("order.cancelled", source="test", subject=order_id, time=now, data={
        "order_id": order_id, "user_id": 1001, "cancelled_at": now.isoformat(), "reason": "member_cancel"}))


def runner(app) -> ConsumerRunner:
    return ConsumerRunner(handlers=consumers.HANDLERS, inbox=inbox, sessionmaker=app.state.sessionmaker,
                          clock=SystemClock())


async def test_snapshot_follows_the_order_and_a_cancelled_order_cannot_check_out(client, pricing_app, tokens):
    assert (await client.post(CHECKOUT, json=order(8301), headers=tokens["service"])).status_code == 200
    for raw in (paid(8301), paid(8301)):
        await runner(pricing_app).process(raw)
    assert (await checkout_row(pricing_app, 8301)).status == 3
    await runner(pricing_app).process(cancelled(8302))  # cancelled before its checkout ever ran
    late = await client.post(CHECKOUT, json=order(8302), headers=tokens["service"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "PRICING_ORDER_CANCELLED"


async def test_order_events_reach_pricing_and_coupon_through_kafka(client, coupons, coupon_app, pricing_app, tokens,
                                                                  infra):
    gift = await gift_template(coupons, tokens)
    created = await client.post("/admin-api/pricing/rewards", json=reward(levels=[
        {"threshold": 10000, "amount_off": 1000, "coupons": {str(gift): 1}}]), headers=tokens["admin"])
    assert created.status_code == 201, created.text
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)
    response = await client.post(CHECKOUT, json=order(8401, coupon_id), headers=tokens["service"])
    assert response.status_code == 200 and response.json()["grants"]["coupons"] == {str(gift): 1}
    producer = make_producer(pricing_app.state.settings)
    await producer.start()
    try:
        await producer.send_and_wait("order.paid", paid(8401), key=b"8401")
    finally:
        await producer.stop()
    for _ in range(300):
        row, coupon = await checkout_row(pricing_app, 8401), await coupon_row(coupon_app, coupon_id)
        if row.status == 3 and coupon.hold_expires_at is None:
            break
        await asyncio.sleep(0.1)
    assert row.status == 3, "pricing marked the snapshot paid"
    assert coupon.status == 2 and coupon.hold_expires_at is None, "the coupon service committed its hold"


async def test_a_slow_attempt_finishing_after_another_keeps_the_holds(client, pricing_app, tokens):
    """An attempt that took over a stale claim finished first; the slow one must not release the
    holds its answer relies on (they are the same holds, by order id)."""
    seat = RecordingOwner("seat")
    pricing_app.state.pricing.holds.append(seat)
    try:
        done = await client.post(CHECKOUT, json=order(8501), headers=tokens["service"])
        assert done.status_code == 200
        body = CheckoutIn.model_validate(order(8501))
        async with pricing_app.state.sessionmaker() as session:
            priced = await quotes.price(session, pricing_app.state.pricing, 1001, body, datetime.now(UTC), "en")
        late = await flows._finish(pricing_app.state.sessionmaker, pricing_app.state.pricing, body, priced,
                                     [Hold("seat", 8501)], "en", datetime.now(UTC))
    finally:
        pricing_app.state.pricing.holds.remove(seat)
    assert late.snapshot_id == done.json()["snapshot_id"] and seat.released == []
    await runner(pricing_app).process(cancelled(8501))
    async with pricing_app.state.sessionmaker() as session:
        priced = await quotes.price(session, pricing_app.state.pricing, 1001, body, datetime.now(UTC), "en")
    pricing_app.state.pricing.holds.append(seat)
    try:
        with pytest.raises(OrderAlreadyCancelled):
            await flows._finish(pricing_app.state.sessionmaker, pricing_app.state.pricing, body, priced,
                                  [Hold("seat", 8501)], "en", datetime.now(UTC))
    finally:
        pricing_app.state.pricing.holds.remove(seat)
    assert seat.released == [8501], "a cancelled order's holds go back"
