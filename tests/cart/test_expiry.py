"""The job: device carts unchanged for CART_DEVICE_TTL_DAYS go with their lines; recent device
carts and member carts stay; two replicas running it at once remove each cart once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from services.cart import domain, jobs, repository
from services.cart.models import Cart, Line
from tests.cart.helpers import DEVICE, OTHER_DEVICE, add, cart_lines, device, fill, item


async def age(app, days: int, **owner) -> None:
    """The cart of `owner` last changed `days` ago."""
    column = Cart.user_id if "user_id" in owner else Cart.device_id
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Cart).where(column == next(iter(owner.values())))
                              .values(updated_at=datetime.now(UTC) - timedelta(days=days)))


async def rows(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_old_device_carts_go_recent_ones_and_member_carts_stay(client, tokens, cart_app):
    await fill(client, device(), item(1001), item(1002))
    await fill(client, device(OTHER_DEVICE), item(1001))
    await fill(client, tokens["member"], item(1001))
    await age(cart_app, 31, device_id=DEVICE)
    await age(cart_app, 29, device_id=OTHER_DEVICE)
    await age(cart_app, 400, user_id=1001)
    assert await jobs.expire_once(cart_app) == 1
    assert await cart_lines(cart_app, device_id=DEVICE) == {}
    assert list(await cart_lines(cart_app, device_id=OTHER_DEVICE)) == [1001]
    assert list(await cart_lines(cart_app, user_id=1001)) == [1001]
    assert await rows(cart_app, Cart) == 2 and await rows(cart_app, Line) == 2
    assert (await add(client, device(), sku_id=1003)).json()["count"]["lines"] == 1, "a new cart for the device"


async def test_a_change_keeps_a_device_cart_alive(client, cart_app):
    await fill(client, device(), item(1001))
    await age(cart_app, 31, device_id=DEVICE)
    await client.put("/app-api/cart/lines/1001/selected", json={"selected": False}, headers=device())
    assert await jobs.expire_once(cart_app) == 0


async def test_replicas_running_the_job_at_once_remove_each_cart_once(client, cart_app):
    for n in range(30):
        await fill(client, device(f"device-{n:08d}"), item(1001), item(1002))
        await age(cart_app, 40, device_id=f"device-{n:08d}")
    removed = await asyncio.gather(*(jobs.expire_once(cart_app) for _ in range(3)))
    assert sum(removed) == 30 and await rows(cart_app, Cart) == 0 and await rows(cart_app, Line) == 0


async def test_a_cart_changed_after_the_job_listed_it_stays(client, cart_app):
    """The job lists candidates with a plain read, then locks each with its condition again: a
    buyer who changed the cart in between keeps it."""
    await fill(client, device(), item(1001))
    await age(cart_app, 31, device_id=DEVICE)
    before = domain.device_carts_expire_before(datetime.now(UTC), 30)
    async with cart_app.state.sessionmaker() as session, session.begin():
        candidates = await repository.stale_device_carts(session, before, 500)
        assert len(candidates) == 1
        assert (await add(client, device(), sku_id=1001)).status_code == 200  # the buyer, meanwhile
        assert await repository.lock_stale(session, candidates, before) == []
    assert (await cart_lines(cart_app, device_id=DEVICE))[1001].quantity == 2


async def test_the_job_skips_a_cart_a_buyer_holds_instead_of_waiting(client, cart_app):
    await fill(client, device(), item(1001))
    await age(cart_app, 31, device_id=DEVICE)
    async with cart_app.state.sessionmaker() as session, session.begin():
        await session.execute(select(Cart.id).where(Cart.device_id == DEVICE).with_for_update())  # a buyer's lock
        assert await asyncio.wait_for(jobs.expire_once(cart_app), 5) == 0
    assert await jobs.expire_once(cart_app) == 1, "the next round takes it"
