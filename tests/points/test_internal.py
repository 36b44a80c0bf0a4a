"""/internal/points: pricing's checkout. Prices with the activity's name and owner; refusals with
stable codes (missing, closed, not started, ended, SKU not in the activity, sold out, the buyer's
limit used up), an order's own hold counting as its own; holds idempotent by order id, guarded
by stock and the per-user limit; release once; the service token only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.points.conftest import ADMIN, HOLDS, NOW, PRICES, hold_body, make_activity, product, stored


def prices_body(activity_id: int, sku_ids=(6001,), user_id: int | None = 1001, order_id: int | None = None) -> dict:
    return {"user_id": user_id, "activity_id": activity_id, "sku_ids": list(sku_ids), "order_id": order_id}


async def test_prices_of_several_skus_with_points_and_the_owner(client, tokens):
    body = await make_activity(client, tokens["admin"], name="积分兑好礼")
    priced = await client.post(PRICES, headers=tokens["service"], json=prices_body(body["id"], (6001, 6002)))
    assert priced.status_code == 200, priced.text
    assert priced.json() == {"activity_id": body["id"], "activity_name": "积分兑好礼", "business_id": None,
                             "prices": {"6001": 1_000, "6002": 0}, "points": {"6001": 500, "6002": 800}}
    anonymous = await client.post(PRICES, headers=tokens["service"], json=prices_body(body["id"], user_id=None))
    assert anonymous.status_code == 200


async def test_prices_refusals_each_with_its_code(client, tokens, points_app):
    admin, service = tokens["admin"], tokens["service"]
    body = await make_activity(client, admin, products=[product(stock=1, limit=1), product(6002, stock=0)])
    cases = [(prices_body(999_999), 404, "POINTS_ACTIVITY_NOT_FOUND"),
             (prices_body(body["id"], (6001, 6009)), 422, "POINTS_SKU_NOT_IN_ACTIVITY"),
             (prices_body(body["id"], (6002,)), 409, "POINTS_SOLD_OUT")]
    for request, status, code in cases:
        refused = await client.post(PRICES, headers=service, json=request)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), refused.text
    assert (await client.post(HOLDS, headers=service, json=hold_body(7, body["id"], user_id=1002))).status_code == 201
    sold_out = await client.post(PRICES, headers=service, json=prices_body(body["id"]))
    assert sold_out.json()["error"]["code"] == "POINTS_SOLD_OUT"
    # the order holding the last unit retries its checkout: its own hold is its own
    retried = await client.post(PRICES, headers=service, json=prices_body(body["id"], user_id=1002, order_id=7))
    assert retried.status_code == 200, retried.text
    other_order = await client.post(PRICES, headers=service, json=prices_body(body["id"], user_id=1002, order_id=8))
    assert other_order.status_code == 409

    later = await make_activity(client, admin, spu_id=602, start=NOW + timedelta(hours=1))
    refused = await client.post(PRICES, headers=service, json=prices_body(later["id"]))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "POINTS_NOT_STARTED"
    ending = await make_activity(client, admin, spu_id=603, end=NOW + timedelta(hours=1))
    assert (await client.post(f"{ADMIN}/activities/{later['id']}/close", headers=admin)).status_code == 204
    closed = await client.post(PRICES, headers=service, json=prices_body(later["id"]))
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "POINTS_ACTIVITY_CLOSED"
    points_app.state.test_clock.at = NOW + timedelta(hours=1)
    ended = await client.post(PRICES, headers=service, json=prices_body(ending["id"]))
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "POINTS_ENDED"


async def test_the_buyers_limit_is_checked_at_pricing_with_the_orders_own_hold_counted_as_its_own(client, tokens):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"], products=[product(limit=2)])
    assert (await client.post(HOLDS, headers=service, json=hold_body(1, body["id"], count=2))).status_code == 201
    used = await client.post(PRICES, headers={**service, "Accept-Language": "en"}, json=prices_body(body["id"]))
    assert used.status_code == 409 and used.json()["error"]["code"] == "POINTS_LIMIT_EXCEEDED"
    assert used.json()["error"]["details"] == {"sku_id": 6001, "limit": 2, "remaining": 0}
    assert (await client.post(PRICES, headers=service, json=prices_body(body["id"], order_id=1))).status_code == 200
    assert (await client.post(PRICES, headers=service, json=prices_body(body["id"], user_id=1002))).status_code == 200


async def test_a_hold_takes_stock_and_the_buyers_count_and_is_idempotent_by_order(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    held = await client.post(HOLDS, headers=service, json=hold_body(11, body["id"], count=2))
    assert held.status_code == 201, held.text
    answer = held.json()
    assert {k: answer[k] for k in ("order_id", "activity_id", "user_id", "sku_id", "count", "unit_price",
                                   "unit_points", "status")} == {
        "order_id": 11, "activity_id": body["id"], "user_id": 1001, "sku_id": 6001, "count": 2, "unit_price": 1_000,
        "unit_points": 500, "status": 0}
    assert answer["hold_expires_at"].startswith((NOW + timedelta(seconds=900)).strftime("%Y-%m-%dT%H:%M:%S"))
    again = await client.post(HOLDS, headers=service, json=hold_body(11, body["id"], count=2))
    assert again.status_code == 201 and again.json() == answer
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts) == (8, (2, 0))
    for other in (hold_body(11, body["id"], sku_id=6002), hold_body(11, body["id"], count=1),
                  hold_body(11, body["id"], user_id=1002)):
        refused = await client.post(HOLDS, headers=service, json=other)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "POINTS_ORDER_HOLDS_ANOTHER"
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts) == (8, (2, 0))  # nothing more taken


async def test_hold_refusals_write_nothing(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"], products=[product(stock=3, limit=5), product(6002, limit=1)])
    cases = [(hold_body(1, body["id"], count=4), "POINTS_SOLD_OUT"),
             (hold_body(1, body["id"], count=6), "POINTS_LIMIT_EXCEEDED"),
             (hold_body(1, body["id"], sku_id=6002, count=2), "POINTS_LIMIT_EXCEEDED"),
             (hold_body(1, body["id"], sku_id=6009), "POINTS_SKU_NOT_IN_ACTIVITY"),
             (hold_body(1, 999_999), "POINTS_ACTIVITY_NOT_FOUND")]
    for request, code in cases:
        refused = await client.post(HOLDS, headers=service, json=request)
        assert refused.json()["error"]["code"] == code, refused.text
    product_row, counts, hold = await stored(points_app, body["id"], order_id=1)
    assert (product_row.stock, counts, hold) == (3, (0, 0), None)
    assert (await client.post(HOLDS, headers=service, json=hold_body(1, body["id"], count=3))).status_code == 201
    for count in (3, 6):
        limit = await client.post(HOLDS, headers=service, json=hold_body(2, body["id"], count=count))
        assert limit.json()["error"]["details"] == {"sku_id": 6001, "limit": 5, "remaining": 2}
    sold_out = await client.post(HOLDS, headers=service, json=hold_body(2, body["id"], count=1))
    assert sold_out.json()["error"]["code"] == "POINTS_SOLD_OUT"
    product_row, counts, _ = await stored(points_app, body["id"])
    assert (product_row.stock, counts) == (0, (3, 0))  # the refused holds left the count as it was


async def test_a_closed_activity_takes_no_hold(client, tokens):
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(f"{ADMIN}/activities/{body['id']}/close", headers=tokens["admin"])).status_code == 204
    refused = await client.post(HOLDS, headers=tokens["service"], json=hold_body(1, body["id"]))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "POINTS_ACTIVITY_CLOSED"


async def test_release_gives_stock_and_count_back_once(client, tokens, points_app):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"])
    assert (await client.post(HOLDS, headers=service, json=hold_body(21, body["id"], count=2))).status_code == 201
    assert (await client.post(f"{HOLDS}/21/release", headers=service)).json() == {"order_id": 21, "released": True}
    assert (await client.post(f"{HOLDS}/21/release", headers=service)).json() == {"order_id": 21, "released": False}
    assert (await client.post(f"{HOLDS}/999/release", headers=service)).json() == {"order_id": 999, "released": False}
    product_row, counts, hold = await stored(points_app, body["id"], order_id=21)
    assert (product_row.stock, counts, hold.status, hold.end_reason) == (10, (0, 0), 20, "checkout_failed")
    again = await client.post(HOLDS, headers=service, json=hold_body(21, body["id"], count=2))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "POINTS_ORDER_HOLD_ENDED")
    product_row, counts, _ = await stored(points_app, body["id"], order_id=21)
    assert (product_row.stock, counts) == (10, (0, 0))  # nothing taken


@pytest.mark.parametrize("role", ["member", "merchant", "admin"])
async def test_only_the_service_token_reaches_internal_routes(client, tokens, role):
    body = {"user_id": 1001, "activity_id": 1, "sku_ids": [1]}
    assert (await client.post(PRICES, json=body)).status_code == 401
    assert (await client.post(PRICES, headers=tokens[role], json=body)).status_code == 403
    assert (await client.post(HOLDS, headers=tokens[role], json=hold_body(1, 1))).status_code == 403
    assert (await client.post(f"{HOLDS}/1/release", headers=tokens[role])).status_code == 403


async def test_internal_input_is_strict(client, tokens):
    service = tokens["service"]
    for body in ({"user_id": 1001, "activity_id": 1, "sku_ids": []},
                 {"user_id": 1001, "activity_id": 1, "sku_ids": list(range(1, 52))},
                 {"user_id": "1001", "activity_id": 1, "sku_ids": [1]}):
        assert (await client.post(PRICES, headers=service, json=body)).status_code == 422
    assert (await client.post(HOLDS, headers=service, json={**hold_body(1, 1), "count": 0})).status_code == 422
    assert (await client.post(HOLDS, headers=service, json={**hold_body(1, 1), "extra": 1})).status_code == 422


def counted(activity_id: int, counts: dict, user_id: int | None = 1001, order_id: int | None = None) -> dict:
    keyed = {str(sku_id): n for sku_id, n in counts.items()}  # JSON keys are strings
    return {**prices_body(activity_id, tuple(counts), user_id, order_id), "counts": keyed}


async def test_prices_with_counts_check_each_skus_units_against_the_limit_and_the_stock(client, tokens):
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"], products=[product(stock=10, limit=3), product(6002, stock=2,
                                                                                                      limit=5)])
    ok = await client.post(PRICES, headers=service, json=counted(body["id"], {6001: 3, 6002: 2}))
    assert ok.status_code == 200, ok.text
    assert ok.json()["prices"] == {"6001": 1_000, "6002": 1_000}
    cases = [({6001: 4}, 1001, "POINTS_LIMIT_EXCEEDED"), ({6001: 1, 6002: 3}, 1001, "POINTS_SOLD_OUT"),
             ({6002: 3}, None, "POINTS_SOLD_OUT")]
    for counts, user_id, code in cases:
        refused = await client.post(PRICES, headers=service, json=counted(body["id"], counts, user_id))
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, code), (counts, refused.text)
    # no buyer: the stock, and the limit as a whole (no one buyer may exchange more)
    anonymous = {n: (await client.post(PRICES, headers=service, json=counted(body["id"], {6001: n}, None)))
                 for n in (3, 4)}
    assert (anonymous[3].status_code, anonymous[4].json()["error"]["code"]) == (200, "POINTS_LIMIT_EXCEEDED")
    # the buyer holds 2 of 6001 for order 11: another order may ask 1 more, order 11 itself up to 3
    assert (await client.post(HOLDS, headers=service, json=hold_body(11, body["id"], count=2))).status_code == 201
    refusals = {n: (await client.post(PRICES, headers=service, json=counted(body["id"], {6001: n}))).status_code
                for n in (1, 2)}
    assert refusals == {1: 200, 2: 409}
    own = {n: (await client.post(PRICES, headers=service, json=counted(body["id"], {6001: n}, order_id=11)))
           .status_code for n in (2, 3, 4)}
    assert own == {2: 200, 3: 200, 4: 409}
    # a SKU not in `counts` is asked once; no `counts`: one unit each, as before
    mixed = await client.post(PRICES, headers=service, json={**counted(body["id"], {6002: 2}), "sku_ids": [6001, 6002]})
    assert mixed.status_code == 200, mixed.text


async def test_prices_counts_own_hold_stock(client, tokens):
    """The order's own units are its own also for the stock: all 3 left are held by order 12."""
    service = tokens["service"]
    body = await make_activity(client, tokens["admin"], products=[product(stock=3, limit=5)])
    assert (await client.post(HOLDS, headers=service, json=hold_body(12, body["id"], count=3))).status_code == 201
    assert (await client.post(PRICES, headers=service, json=counted(body["id"], {6001: 3}, order_id=12))).status_code \
        == 200
    refused = await client.post(PRICES, headers=service, json=counted(body["id"], {6001: 1}, user_id=1002))
    assert refused.json()["error"]["code"] == "POINTS_SOLD_OUT"
    more = await client.post(PRICES, headers=service, json=counted(body["id"], {6001: 4}, order_id=12))
    assert more.json()["error"]["code"] == "POINTS_SOLD_OUT"


@pytest.mark.parametrize("counts", [{"6001": 0}, {"6001": 10_001}, {"6001": "2"}, {"0": 1}, {"x": 1}, [1]])
async def test_prices_counts_are_strict(client, tokens, counts):
    body = {**prices_body(1), "counts": counts}
    refused = await client.post(PRICES, headers=tokens["service"], json=body)
    assert refused.status_code == 422, refused.text
