"""order.paid: the member's bought lines leave the cart once per order, whether the event is
redelivered (same id: the inbox) or republished with a new id (the order's record)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from services.cart.models import PaidOrder
from shared.consumer import Outcome
from tests.cart.helpers import DEVICE, cart_lines, device, fill, item, paid, runner


async def paid_order(app, order_id: int) -> PaidOrder | None:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(PaidOrder).where(PaidOrder.order_id == order_id))


async def test_order_paid_twice_and_republished_removes_the_bought_lines_once(client, tokens, cart_app):
    await fill(client, tokens["member"], item(1001, 5), item(1002, 1), item(1003, 2))
    event = paid(9001, 1001, [(1001, 2), (1002, 1), (1001, 1), (4242, 1)])
    outcomes = [await runner(cart_app).process(raw) for raw in (event, event, paid(9001, 1001, [(1001, 2)]))]
    assert outcomes == [Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.PROCESSED]
    lines = await cart_lines(cart_app, user_id=1001)
    assert {sku: line.quantity for sku, line in lines.items()} == {1001: 2, 1003: 2}
    assert (await paid_order(cart_app, 9001)).lines_changed == 2


async def test_the_same_order_delivered_at_once_by_two_replicas_removes_once(client, tokens, cart_app):
    await fill(client, tokens["member"], item(1001, 5))
    await asyncio.gather(*(runner(cart_app).process(paid(9002, 1001, [(1001, 2)])) for _ in range(5)))
    assert (await cart_lines(cart_app, user_id=1001))[1001].quantity == 3


async def test_another_order_of_the_same_skus_removes_again(client, tokens, cart_app):
    await fill(client, tokens["member"], item(1001, 5))
    for order_id in (9003, 9004):
        await runner(cart_app).process(paid(order_id, 1001, [(1001, 2)]))
    assert (await cart_lines(cart_app, user_id=1001))[1001].quantity == 1


async def test_order_paid_leaves_device_carts_and_other_members_alone(client, tokens, cart_app):
    await fill(client, device(), item(1001, 5))
    await fill(client, tokens["other_member"], item(1001, 5))
    assert await runner(cart_app).process(paid(9005, 1001, [(1001, 2)])) == Outcome.PROCESSED  # 1001 has no cart
    assert (await cart_lines(cart_app, device_id=DEVICE))[1001].quantity == 5
    assert (await cart_lines(cart_app, user_id=1002))[1001].quantity == 5
    assert (await paid_order(cart_app, 9005)).lines_changed == 0
