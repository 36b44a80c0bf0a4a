"""Helpers of the cart tests: real apps on real ports (the cart calls pricing over HTTP, pricing
calls the coupon service), carts filled through the API, rows read back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.cart import consumers
from services.cart.models import Cart, Line, inbox
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner
from shared.events import encode, new_event

DEVICE = "device-0000-aaaa"
OTHER_DEVICE = "device-0000-bbbb"
LINES = "/app-api/cart/lines"
DEMO_SPUS = {1001: 101, 1002: 102, 1003: 103}  # the pricing demo's SKUs (category 11)


def device(device_id: str = DEVICE, **headers: str) -> dict[str, str]:
    return {"X-Device-Id": device_id, **headers}


def item(sku_id: int = 1001, quantity: int = 1, unit_price: int = 19900, **more) -> dict:
    """A line as the app adds it; SPU and category follow the SKU (the pricing demo: 1001 -> 101, 11)."""
    return {"sku_id": sku_id, "spu_id": DEMO_SPUS.get(sku_id, sku_id), "category_id": 11,
            "quantity": quantity, "unit_price": unit_price, **more}


async def add(client, headers: dict[str, str], **line):
    return await client.post(LINES, json=item(**line), headers=headers)


async def fill(client, headers: dict[str, str], *lines: dict) -> None:
    for line in lines:
        answer = await client.post(LINES, json=line, headers=headers)
        assert answer.status_code == 200, answer.text


async def cart_lines(app, *, user_id: int | None = None, device_id: str | None = None) -> dict[int, Line]:
    """{sku_id: line} of one cart, read from the database."""
    owner = Cart.user_id == user_id if user_id is not None else Cart.device_id == device_id
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(Line).join(Cart, Cart.id == Line.cart_id).where(owner))).all()
    return {line.sku_id: line for line in rows}


def paid(order_id: int, user_id: int, items: list[tuple[int, int]]) -> bytes:
    """An order.paid event (a new event id each call)."""
    now = datetime.now(UTC)
    return encode(new_event("order.paid", source="test", subject=order_id, time=now, data={
        "order_id": order_id, "user_id": user_id, "pay_price": 100, "paid_at": now.isoformat(),
        "items": [{"sku_id": sku, "spu_id": sku, "count": count, "pay_price": 100} for sku, count in items]}))


def runner(app) -> ConsumerRunner:
    """The cart's consumer runner, fed by hand."""
    return ConsumerRunner(handlers=consumers.HANDLERS, inbox=inbox, sessionmaker=app.state.sessionmaker,
                          clock=SystemClock())
