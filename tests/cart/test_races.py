"""Concurrent changes of one cart on MariaDB, as real races (many requests at once, each with its
own connection) and, where the order matters, with one side's lock held while the other starts:
adds of one SKU end in one line with the sum; the 100-line limit holds; a device cart merged twice
at once, or merged while the device adds, moves each line once and loses nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.cart import service
from shared.auth import Role
from tests.cart.helpers import DEVICE, add, cart_lines, device, fill, item
from tests.conftest import bearer

MERGE = "/app-api/cart/merge"
ROUNDS = 5
WAIT = 0.5  # long enough for the other side to reach the lock on a loaded machine; the outcome holds either way


async def test_20_concurrent_adds_of_one_sku_to_a_new_cart_end_in_one_line_with_the_sum(client, cart_app):
    answers = await asyncio.gather(*(add(client, device(), sku_id=1001, quantity=7) for _ in range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
    lines = await cart_lines(cart_app, device_id=DEVICE)
    assert list(lines) == [1001] and lines[1001].quantity == 140
    assert sorted(a.json()["line"]["quantity"] for a in answers) == list(range(7, 141, 7)), "each saw the one before"


async def test_20_concurrent_adds_of_one_sku_stop_at_999(client, cart_app, tokens):
    await fill(client, tokens["member"], item(1001, 1))
    answers = await asyncio.gather(*(add(client, tokens["member"], sku_id=1001, quantity=60) for _ in range(20)))
    assert all(a.status_code == 200 for a in answers)
    assert (await cart_lines(cart_app, user_id=1001))[1001].quantity == 999
    assert sum(a.json()["capped"] for a in answers) == 4, "1 + 16 x 60 = 961; the 17th and later stop at 999"


async def test_concurrent_adds_of_new_skus_never_pass_100_lines(client, cart_app):
    await fill(client, device(), *(item(sku, unit_price=100) for sku in range(1, 96)))
    answers = await asyncio.gather(*(add(client, device(), sku_id=sku, unit_price=100) for sku in range(200, 220)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 5 + [422] * 15, [a.text for a in answers if a.status_code not in (200, 422)]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} == {"CART_TOO_MANY_LINES"}
    assert len(await cart_lines(cart_app, device_id=DEVICE)) == 100


async def test_two_concurrent_merges_move_each_line_once(client, tokens, cart_app):
    member = {**tokens["member"], **device()}
    for n in range(ROUNDS):
        await client.delete("/app-api/cart", headers=tokens["member"])
        await fill(client, tokens["member"], item(1001, 1))
        await fill(client, device(), item(1001, 2), item(1002, 3), item(1003, 4))
        first, second = await asyncio.gather(client.post(MERGE, headers=member), client.post(MERGE, headers=member))
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        done = sorted((a.json()["merged"], a.json()["moved"]) for a in (first, second))
        assert done == [(0, 0), (1, 2)], f"round {n}: {first.json()} {second.json()}"
        lines = await cart_lines(cart_app, user_id=1001)
        assert {sku: line.quantity for sku, line in lines.items()} == {1001: 3, 1002: 3, 1003: 4}
        assert await cart_lines(cart_app, device_id=DEVICE) == {}


async def test_a_merge_waits_for_a_merge_in_progress_and_then_moves_nothing(client, tokens, cart_app):
    await fill(client, device(), item(1001, 2), item(1002, 3))
    async with cart_app.state.sessionmaker() as session, session.begin():
        await service.merge(session, 1001, DEVICE, datetime.now(UTC))  # the device cart's row stays locked
        racing = asyncio.create_task(client.post(MERGE, headers={**tokens["member"], **device()}))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the second merge waits for the first's lock"
    answer = await racing
    assert answer.status_code == 200 and (answer.json()["merged"], answer.json()["moved"]) == (0, 0)
    assert {sku: x.quantity for sku, x in (await cart_lines(cart_app, user_id=1001)).items()} == {1001: 2, 1002: 3}


async def test_a_merge_racing_adds_on_the_device_loses_nothing_and_counts_nothing_twice(client, tokens, cart_app):
    member = {**tokens["member"], **device()}
    for n in range(ROUNDS):
        await client.delete("/app-api/cart", headers=tokens["member"])
        await fill(client, tokens["member"], item(1001, 1))
        await fill(client, device(), item(1001, 2), item(1002, 3))
        answers = await asyncio.gather(client.post(MERGE, headers=member),
                                       add(client, device(), sku_id=1001, quantity=4),
                                       add(client, device(), sku_id=1003, quantity=5),
                                       client.post(MERGE, headers=member))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        member_lines = await cart_lines(cart_app, user_id=1001)
        device_lines = await cart_lines(cart_app, device_id=DEVICE)
        total = {sku: (member_lines[sku].quantity if sku in member_lines else 0)
                 + (device_lines[sku].quantity if sku in device_lines else 0) for sku in (1001, 1002, 1003)}
        assert total == {1001: 1 + 2 + 4, 1002: 3, 1003: 5}, f"round {n}: member {member_lines} device {device_lines}"
        await client.delete("/app-api/cart", headers=device())


async def test_an_add_waits_for_a_merge_in_progress_and_stays_on_the_device(client, tokens, cart_app):
    await fill(client, device(), item(1001, 2))
    async with cart_app.state.sessionmaker() as session, session.begin():
        await service.merge(session, 1001, DEVICE, datetime.now(UTC))
        racing = asyncio.create_task(add(client, device(), sku_id=1001, quantity=4))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the add waits for the merge's lock on the device cart"
    assert (await racing).json()["line"]["quantity"] == 4, "a new line on the device, not added to the moved one"
    assert (await cart_lines(cart_app, user_id=1001))[1001].quantity == 2
    assert (await cart_lines(cart_app, device_id=DEVICE))[1001].quantity == 4


async def test_20_members_adding_to_their_own_carts_at_once_all_succeed(client, dev_settings):
    """Half of them have a cart already, half make theirs: no deadlock between carts, no error."""
    members = [bearer(dev_settings, Role.MEMBER, 5000 + n) for n in range(20)]
    await asyncio.gather(*(add(client, headers, sku_id=1) for headers in members[::2]))
    answers = await asyncio.gather(*(add(client, headers, sku_id=2 + n) for n, headers in enumerate(members)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
