"""What the voucher tests share: stores and products made and approved over HTTP, order events
delivered through the real consumer runner, rows and events read back from MariaDB."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.voucher import consumers
from services.voucher.models import Verification, Voucher, inbox, outbox
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner
from shared.events import encode, new_event

M = "/merchant-api/voucher"
A = "/admin-api/voucher"
APP = "/app-api/voucher"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JINGAN = (31.224034, 121.445645)
LUJIAZUI = (31.236469, 121.503601)


def store_body(name: str = "静安寺店", at: tuple[float, float] = JINGAN, **overrides) -> dict:
    return {"name": name, "address": "上海市静安区南京西路1618号", "phone": "021-62880000",
            "opening_hours": "10:00-22:00", "lat": at[0], "lon": at[1], **overrides}


async def approve(client, people, review_id: int) -> dict:
    answer = await client.post(f"{A}/reviews/{review_id}/approve", headers=people["admin"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def make_store(client, people, merchant: str = "a", *, approved: bool = True, **body) -> dict:
    made = await client.post(f"{M}/stores", json=store_body(**body), headers=people[merchant])
    assert made.status_code == 201, made.text
    store = made.json()
    if approved:
        await approve(client, people, store["pending_review_id"])
        store = (await client.get(f"{M}/stores/{store['id']}", headers=people[merchant])).json()
    return store


def product_body(store_ids: list[int], sku_id: int = 537, **overrides) -> dict:
    return {"spu_id": sku_id, "sku_id": sku_id, "name": "100元代金券", "kind": 1, "value": 10000, "currency": "CNY",
            "max_using_times": 3, "cost": 8500, "bright_desc": "两店通用", "image_url": "https://cdn.example.com/v.png",
            "validity_type": 2, "valid_days": 90, "selling_store_id": store_ids[0], "store_ids": store_ids,
            **overrides}


def terms_body(store_ids: list[int], **overrides) -> dict:
    """What a change submits (the SKU is the product's for good)."""
    body = product_body(store_ids, **overrides)
    del body["spu_id"], body["sku_id"]
    return body


async def make_product(client, people, store_ids: list[int], merchant: str = "a", *, approved: bool = True,
                       **overrides) -> dict:
    made = await client.post(f"{M}/products", json=product_body(store_ids, **overrides), headers=people[merchant])
    assert made.status_code == 201, made.text
    product = made.json()
    if approved:
        await approve(client, people, product["pending_review_id"])
        product = (await client.get(f"{M}/products/{product['id']}", headers=people[merchant])).json()
    return product


def runner(app) -> ConsumerRunner:
    return ConsumerRunner(handlers=consumers.handlers(SHANGHAI), inbox=inbox, sessionmaker=app.state.sessionmaker,
                          clock=SystemClock())


def paid(order_id: int, items: list[tuple[int, int, int]], user_id: int = 1001,
         at: datetime | None = None) -> bytes:
    """`items`: (sku_id, count, pay_price)."""
    at = at or datetime.now(UTC)
    return encode(new_event("order.paid", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": user_id, "pay_price": sum(p for _, _, p in items), "paid_at": at.isoformat(),
        "items": [{"sku_id": sku, "spu_id": sku, "count": count, "pay_price": price} for sku, count, price in items]}))


def cancelled(order_id: int, *, paid_before: bool = True, user_id: int = 1001) -> bytes:
    at = datetime.now(UTC)
    return encode(new_event("order.cancelled", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": user_id, "cancelled_at": at.isoformat(), "reason": "after_sale_close",
        "paid": paid_before}))


async def buy(app, order_id: int, sku_id: int = 537, count: int = 1, pay_price: int = 8800,
              user_id: int = 1001) -> list[Voucher]:
    await runner(app).process(paid(order_id, [(sku_id, count, pay_price)], user_id=user_id))
    return await vouchers_of(app, order_id)


async def vouchers_of(app, order_id: int) -> list[Voucher]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Voucher).where(Voucher.order_id == order_id)
                                           .order_by(Voucher.id))).all())


async def voucher_row(app, voucher_id: int) -> Voucher:
    async with app.state.sessionmaker() as session:
        return await session.get(Voucher, voucher_id)


async def records_of(app, voucher_id: int) -> list[Verification]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Verification).where(Verification.voucher_id == voucher_id)
                                           .order_by(Verification.id))).all())


async def events(app, event_type: str) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.payload, outbox.c.key).where(outbox.c.topic == event_type)
                                      .order_by(outbox.c.id))).all()
    return [{**json.loads(payload)["data"], "_key": key} for payload, key in rows]


async def verify(client, people, code: str, store_id: int, merchant: str = "a", key: str | None = None, **body):
    return await client.post(f"{M}/verifications", json={"code": code, "store_id": store_id, **body},
                             headers={**people[merchant], "Idempotency-Key": key or uuid.uuid4().hex})


async def shop(client, people, app, order_id: int = 9001, **product) -> tuple[dict, dict, Voucher]:
    """Merchant A with two approved stores, an approved product on both, and one voucher of it bought."""
    store = await make_store(client, people)
    other = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    made = await make_product(client, people, [store["id"], other["id"]], **product)
    [voucher] = await buy(app, order_id, sku_id=made["sku_id"])
    return store, made, voucher


def later(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)
