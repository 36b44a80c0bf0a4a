"""Every buyer endpoint of /app-api/cart and each of its errors, over HTTP on MariaDB."""

from __future__ import annotations

from sqlalchemy import func, select

from services.cart.models import Cart
from tests.cart.helpers import DEVICE, LINES, OTHER_DEVICE, add, cart_lines, device, fill, item

CART = "/app-api/cart"


def error_code(answer) -> str:
    return answer.json()["error"]["code"]


async def carts_count(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Cart))


# --- whose cart ------------------------------------------------------------------------------------

async def test_an_anonymous_caller_without_a_device_id_is_told_to_send_one(client):
    answer = await client.get(CART)
    assert answer.status_code == 400 and error_code(answer) == "CART_DEVICE_ID_REQUIRED"
    assert (await client.post(LINES, json=item())).status_code == 400


async def test_a_malformed_device_id_is_refused(client, cart_app):
    for bad in ("short", "x" * 65, "has space1", "semi;colon1"):
        answer = await client.post(LINES, json=item(), headers=device(bad))
        assert answer.status_code == 400 and error_code(answer) == "INVALID_DEVICE_ID", bad
    assert await carts_count(cart_app) == 0


async def test_a_bad_token_is_401_and_other_roles_have_no_cart(client, tokens):
    answer = await client.get(CART, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and error_code(answer) == "AUTH_INVALID_TOKEN"
    for role in ("merchant", "admin", "service"):
        answer = await client.get(f"{CART}/count", headers=tokens[role])
        assert answer.status_code == 403 and error_code(answer) == "FORBIDDEN", role


async def test_each_device_and_each_member_has_its_own_cart(client, tokens, cart_app):
    await fill(client, device(), item(1001))
    await fill(client, device(OTHER_DEVICE), item(1002))
    await fill(client, tokens["member"], item(1003))
    await fill(client, {**tokens["other_member"], **device()}, item(1004))  # a member's X-Device-Id is ignored
    assert list(await cart_lines(cart_app, device_id=DEVICE)) == [1001]
    assert list(await cart_lines(cart_app, device_id=OTHER_DEVICE)) == [1002]
    assert list(await cart_lines(cart_app, user_id=1001)) == [1003]
    assert list(await cart_lines(cart_app, user_id=1002)) == [1004]


# --- add ----------------------------------------------------------------------------------------------

async def test_add_creates_a_line_with_what_the_app_sent(client):
    answer = await client.post(LINES, json=item(1001, 2, 19900, business_id=194, selected=False), headers=device())
    assert answer.status_code == 200
    body = answer.json()
    line = body["line"]
    assert {k: line[k] for k in ("sku_id", "spu_id", "category_id", "business_id", "quantity", "selected",
                                 "unit_price", "added_price")} == {
        "sku_id": 1001, "spu_id": 101, "category_id": 11, "business_id": 194, "quantity": 2, "selected": False,
        "unit_price": 19900, "added_price": 19900}
    assert line["added_at"] == line["updated_at"] and line["added_at"].endswith("Z")
    assert body["capped"] is False and body["count"] == {"lines": 1, "quantity": 2, "selected_lines": 0}


async def test_adding_a_sku_again_adds_to_its_line_and_keeps_the_price_when_added(client, cart_app):
    await add(client, device(), sku_id=1001, quantity=2, unit_price=19900)
    answer = await add(client, device(), sku_id=1001, quantity=3, unit_price=17900)
    line = answer.json()["line"]
    assert (line["quantity"], line["unit_price"], line["added_price"]) == (5, 17900, 19900)
    assert answer.json()["count"] == {"lines": 1, "quantity": 5, "selected_lines": 1}
    assert len(await cart_lines(cart_app, device_id=DEVICE)) == 1


async def test_adding_past_999_stops_at_999_and_says_so(client):
    await add(client, device(), quantity=990)
    answer = await add(client, device(), quantity=20)
    assert answer.status_code == 200
    assert answer.json()["line"]["quantity"] == 999 and answer.json()["capped"] is True


async def test_a_quantity_outside_1_to_999_has_its_own_code_and_creates_nothing(client, cart_app):
    for quantity in (0, -1, 1000):
        answer = await add(client, device(), quantity=quantity)
        assert answer.status_code == 422 and error_code(answer) == "CART_QUANTITY_OUT_OF_RANGE", quantity
        assert answer.json()["error"]["details"] == {"quantity": quantity, "min": 1, "max": 999}
    assert await carts_count(cart_app) == 0


async def test_the_101st_product_is_refused_with_its_code(client, cart_app):
    await fill(client, device(), *(item(sku, unit_price=100) for sku in range(1, 101)))
    answer = await add(client, device(), sku_id=101, unit_price=100)
    assert answer.status_code == 422 and error_code(answer) == "CART_TOO_MANY_LINES"
    assert answer.json()["error"]["details"] == {"limit": 100}
    more = await add(client, device(), sku_id=100, quantity=5, unit_price=100)  # a SKU it has: still fine
    assert more.status_code == 200 and more.json()["count"]["lines"] == 100
    assert len(await cart_lines(cart_app, device_id=DEVICE)) == 100


async def test_add_bodies_are_strict(client):
    for body in ({**item(), "quantity": "2"}, {**item(), "selected": 1}, {**item(), "price": 1},
                 {**item(), "unit_price": -1}, {**item(), "unit_price": 10**13}, {**item(), "sku_id": 0}):
        answer = await client.post(LINES, json=body, headers=device())
        assert answer.status_code == 422 and error_code(answer) == "VALIDATION_FAILED", body
    answer = await client.post(LINES, content=b"sku_id=1", headers={**device(), "Content-Type": "text/plain"})
    assert answer.status_code == 415


# --- set quantity, select ---------------------------------------------------------------------------

async def test_set_quantity_replaces_it_and_may_bring_the_current_price(client):
    await add(client, device(), quantity=2)
    answer = await client.put(f"{LINES}/1001", json={"quantity": 7}, headers=device())
    assert answer.status_code == 200 and answer.json()["quantity"] == 7 and answer.json()["unit_price"] == 19900
    answer = await client.put(f"{LINES}/1001", json={"quantity": 1, "unit_price": 18800}, headers=device())
    assert (answer.json()["quantity"], answer.json()["unit_price"], answer.json()["added_price"]) == (1, 18800, 19900)


async def test_set_quantity_outside_1_to_999_is_refused(client):
    await add(client, device(), quantity=2)
    for quantity in (0, 1000):
        answer = await client.put(f"{LINES}/1001", json={"quantity": quantity}, headers=device())
        assert answer.status_code == 422 and error_code(answer) == "CART_QUANTITY_OUT_OF_RANGE"


async def test_changing_a_sku_the_cart_lacks_is_404(client):
    for path, body in ((f"{LINES}/1001", {"quantity": 1}), (f"{LINES}/1001/selected", {"selected": True})):
        answer = await client.put(path, json=body, headers=device())  # no cart at all
        assert answer.status_code == 404 and error_code(answer) == "CART_LINE_NOT_FOUND"
    await add(client, device(), sku_id=1002)
    answer = await client.put(f"{LINES}/1001", json={"quantity": 1}, headers=device())  # a cart without it
    assert answer.status_code == 404 and answer.json()["error"]["details"] == {"sku_id": 1001}


async def test_select_and_unselect_one_line(client):
    await fill(client, device(), item(1001), item(1002))
    answer = await client.put(f"{LINES}/1001/selected", json={"selected": False}, headers=device())
    assert answer.status_code == 200 and answer.json()["selected"] is False
    count = (await client.get(f"{CART}/count", headers=device())).json()
    assert count == {"lines": 2, "quantity": 2, "selected_lines": 1}


async def test_select_and_unselect_all(client):
    await fill(client, device(), item(1001), item(1002, selected=False), item(1003, selected=False))
    answer = await client.put(f"{CART}/selected", json={"selected": True}, headers=device())
    assert answer.status_code == 200 and answer.json() == {
        "changed": 2, "count": {"lines": 3, "quantity": 3, "selected_lines": 3}}
    answer = await client.put(f"{CART}/selected", json={"selected": False}, headers=device())
    assert answer.json()["changed"] == 3 and answer.json()["count"]["selected_lines"] == 0
    nothing = await client.put(f"{CART}/selected", json={"selected": True}, headers=device(OTHER_DEVICE))
    assert nothing.status_code == 200 and nothing.json()["changed"] == 0


# --- remove, clear, count ---------------------------------------------------------------------------

async def test_remove_lines_by_sku(client, cart_app):
    await fill(client, device(), item(1001), item(1002), item(1003, quantity=3))
    answer = await client.delete(f"{LINES}?sku_id=1001&sku_id=1002&sku_id=9999", headers=device())
    assert answer.status_code == 200
    assert answer.json() == {"changed": 2, "count": {"lines": 1, "quantity": 3, "selected_lines": 1}}
    assert list(await cart_lines(cart_app, device_id=DEVICE)) == [1003]


async def test_remove_needs_at_least_one_sku(client):
    answer = await client.delete(LINES, headers=device())
    assert answer.status_code == 422 and error_code(answer) == "VALIDATION_FAILED"
    answer = await client.delete(f"{LINES}?sku_id=0", headers=device())
    assert answer.status_code == 422


async def test_clear_empties_the_cart(client, cart_app):
    await fill(client, device(), item(1001), item(1002))
    answer = await client.delete(CART, headers=device())
    assert answer.status_code == 200 and answer.json() == {
        "changed": 2, "count": {"lines": 0, "quantity": 0, "selected_lines": 0}}
    assert await cart_lines(cart_app, device_id=DEVICE) == {}
    again = await client.delete(CART, headers=device(OTHER_DEVICE))  # a device without a cart
    assert again.status_code == 200 and again.json()["changed"] == 0


async def test_count_of_a_device_without_a_cart_is_zero(client, tokens):
    for headers in (device(), tokens["member"]):
        answer = await client.get(f"{CART}/count", headers=headers)
        assert answer.status_code == 200 and answer.json() == {"lines": 0, "quantity": 0, "selected_lines": 0}


# --- merge ---------------------------------------------------------------------------------------------

MERGE = f"{CART}/merge"


async def test_merge_moves_the_device_cart_into_the_members(client, tokens, cart_app):
    await fill(client, device(), item(1001, 2, selected=False), item(1002, 990), item(1003, 1, selected=False))
    await fill(client, tokens["member"], item(1001, 3, selected=False), item(1002, 20, selected=False), item(1004))
    answer = await client.post(MERGE, headers={**tokens["member"], **device()})
    assert answer.status_code == 200
    assert answer.json() == {"merged": 2, "moved": 1, "left_behind": [],
                             "count": {"lines": 4, "quantity": 5 + 999 + 1 + 1, "selected_lines": 2}}
    member = await cart_lines(cart_app, user_id=1001)
    assert {sku: (line.quantity, line.selected) for sku, line in member.items()} == {
        1001: (5, False), 1002: (999, True), 1003: (1, False), 1004: (1, True)}
    assert await cart_lines(cart_app, device_id=DEVICE) == {}


async def test_a_retried_merge_changes_nothing(client, tokens, cart_app):
    await fill(client, device(), item(1001, 2))
    await fill(client, tokens["member"], item(1001, 3))
    first = await client.post(MERGE, headers={**tokens["member"], **device()})
    again = await client.post(MERGE, headers={**tokens["member"], **device()})
    assert first.json()["merged"] == 1
    assert again.status_code == 200 and again.json() == {
        "merged": 0, "moved": 0, "left_behind": [], "count": {"lines": 1, "quantity": 5, "selected_lines": 1}}
    assert (await cart_lines(cart_app, user_id=1001))[1001].quantity == 5


async def test_merge_of_a_device_without_a_cart_creates_nothing(client, tokens, cart_app):
    answer = await client.post(MERGE, headers={**tokens["member"], **device()})
    assert answer.status_code == 200 and answer.json()["count"]["lines"] == 0
    assert await carts_count(cart_app) == 0


async def test_lines_a_full_member_cart_cannot_take_stay_on_the_device(client, tokens, cart_app):
    await fill(client, tokens["member"], *(item(sku, unit_price=100) for sku in range(1, 100)))
    await fill(client, device(), item(1001), item(1002), item(1))
    answer = await client.post(MERGE, headers={**tokens["member"], **device()})
    assert answer.json()["merged"] == 1 and answer.json()["moved"] == 1
    assert answer.json()["left_behind"] == [1001] and answer.json()["count"]["lines"] == 100
    assert list(await cart_lines(cart_app, device_id=DEVICE)) == [1001]


async def test_merge_needs_a_member_and_a_device_id(client, tokens):
    anonymous = await client.post(MERGE, headers=device())
    assert anonymous.status_code == 401 and error_code(anonymous) == "UNAUTHORIZED"
    merchant = await client.post(MERGE, headers={**tokens["merchant"], **device()})
    assert merchant.status_code == 403
    no_device = await client.post(MERGE, headers=tokens["member"])
    assert no_device.status_code == 400 and error_code(no_device) == "CART_DEVICE_ID_REQUIRED"
    bad_device = await client.post(MERGE, headers={**tokens["member"], **device("bad")})
    assert bad_device.status_code == 400 and error_code(bad_device) == "INVALID_DEVICE_ID"
