"""/admin-api/points: activities with per-SKU products, validation with stable codes in both
languages and nothing written on a refusal, the global SPU conflict, updates that keep what is
held or sold, close once, delete only closed or ended (marked deleted, its holds kept), pages,
figures, and the admin's role check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.points.models import Activity, Hold, Product
from tests.points.conftest import ADMIN, HOLDS, NOW, activity, hold_body, make_activity, product


async def count_rows(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_admin_creates_reads_and_lists_an_activity_with_its_skus(client, tokens):
    admin = tokens["admin"]
    body = await make_activity(client, admin, sort=5, remark="年终积分兑换")
    assert body["business_id"] is None and body["status"] == 0 and (body["sort"], body["remark"]) == (5, "年终积分兑换")
    assert (body["stock"], body["total_stock"]) == (15, 15)
    assert body["products"] == [
        {"sku_id": 6001, "points": 500, "price": 1_000, "stock": 10, "total_stock": 10, "limit_count": 2},
        {"sku_id": 6002, "points": 800, "price": 0, "stock": 5, "total_stock": 5, "limit_count": 1}]
    read = await client.get(f"{ADMIN}/activities/{body['id']}", headers=admin)
    assert read.status_code == 200 and read.json() == body
    other = await make_activity(client, admin, name="另一个", spu_id=602, sort=9)
    page = (await client.get(f"{ADMIN}/activities", headers=admin, params={"size": 1})).json()
    assert (page["total"], [a["id"] for a in page["items"]]) == (2, [other["id"]])  # highest sort first
    named = (await client.get(f"{ADMIN}/activities", headers=admin, params={"name": "另一"})).json()
    assert [a["id"] for a in named["items"]] == [other["id"]]
    by_spu = (await client.get(f"{ADMIN}/activities", headers=admin, params={"spu_id": 601})).json()
    assert [a["id"] for a in by_spu["items"]] == [body["id"]]
    missing = await client.get(f"{ADMIN}/activities/999999", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "POINTS_ACTIVITY_NOT_FOUND"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"products": []}, "NO_PRODUCTS"),
    ({"products": [product(), product()]}, "DUPLICATE_SKU"),
    ({"products": [product(points=0)]}, "POINTS_NOT_POSITIVE"),
    ({"products": [product(price=-1)]}, "PRICE_NEGATIVE"),
    ({"products": [product(stock=-1)]}, "STOCK_NEGATIVE"),
    ({"products": [product(limit=0)]}, "LIMIT_NOT_POSITIVE"),
    ({"end": NOW - timedelta(hours=2)}, "START_NOT_BEFORE_END"),
])
async def test_an_invalid_activity_is_refused_with_its_reason_and_nothing_is_written(client, tokens, points_app,
                                                                                    changes, reason):
    refused = await client.post(f"{ADMIN}/activities", headers={**tokens["admin"], "Accept-Language": "zh-CN"},
                                json=activity(**changes))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["details"]["reason_code"]) == ("POINTS_ACTIVITY_INVALID", reason)
    assert error["message"].startswith("积分商城活动无效")
    assert await count_rows(points_app, Activity) == 0 and await count_rows(points_app, Product) == 0


async def test_strict_input_refuses_unknown_fields_and_strings_for_numbers(client, tokens):
    admin = tokens["admin"]
    typo = await client.post(f"{ADMIN}/activities", headers=admin, json={**activity(), "stok": 1})
    assert typo.status_code == 422 and typo.json()["error"]["code"] == "VALIDATION_FAILED"
    text = await client.post(f"{ADMIN}/activities", headers=admin,
                             json=activity(products=[{**product(), "points": "5"}]))
    assert text.status_code == 422 and text.json()["error"]["code"] == "VALIDATION_FAILED"
    for field, value in (("start_at", "0001-01-01T00:00:00+01:00"), ("end_at", "9999-12-31T23:59:59-01:00")):
        edge = await client.post(f"{ADMIN}/activities", headers=admin, json={**activity(), field: value})
        assert edge.status_code == 422 and edge.json()["error"]["details"]["errors"][0]["type"] == "DATE_TIME_IN_RANGE"


async def test_one_spu_in_one_enabled_activity_at_overlapping_times(client, tokens):
    admin = tokens["admin"]
    first = await make_activity(client, admin, name="第一期", end=NOW + timedelta(days=2))
    clash = await client.post(f"{ADMIN}/activities", headers=admin, json=activity(start=NOW + timedelta(days=1)))
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "POINTS_ACTIVITY_SPU_CONFLICT"
    assert "第一期" in clash.json()["error"]["message"]
    await make_activity(client, admin, start=NOW + timedelta(days=2), end=NOW + timedelta(days=4))  # touching: fine
    assert (await client.post(f"{ADMIN}/activities/{first['id']}/close", headers=admin)).status_code == 204
    await make_activity(client, admin, start=NOW, end=NOW + timedelta(days=1))  # the closed one no longer counts


async def test_an_update_keeps_what_is_held_or_sold(client, tokens):
    admin, service = tokens["admin"], tokens["service"]
    body = await make_activity(client, admin)
    url = f"{ADMIN}/activities/{body['id']}"
    assert (await client.post(HOLDS, headers=service, json=hold_body(1, body["id"], count=2))).status_code == 201
    below = await client.put(url, headers=admin,
                             json=activity(products=[product(stock=1), product(6002, 800, 0, 5, 1)]))
    assert below.status_code == 422 and below.json()["error"]["details"]["reason_code"] == "STOCK_BELOW_TAKEN"
    removed = await client.put(url, headers=admin, json=activity(products=[product(6002, 800, 0, 5, 1)]))
    assert removed.status_code == 422 and removed.json()["error"]["details"]["reason_code"] == "SKU_HAS_ORDERS"
    changed = await client.put(url, headers=admin, json=activity(name="改名", products=[
        product(points=600, price=500, stock=4, limit=3), product(6003, 100, 0, 7, 1)]))
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "改名" and (changed.json()["stock"], changed.json()["total_stock"]) == (9, 11)
    assert changed.json()["products"] == [
        {"sku_id": 6001, "points": 600, "price": 500, "stock": 2, "total_stock": 4, "limit_count": 3},
        {"sku_id": 6003, "points": 100, "price": 0, "stock": 7, "total_stock": 7, "limit_count": 1}]
    held = (await client.get(f"{ADMIN}/holds", headers=admin)).json()["items"][0]
    assert (held["unit_points"], held["unit_price"]) == (500, 1_000)  # the hold keeps its prices
    missing = await client.put(f"{ADMIN}/activities/999999", headers=admin, json=activity())
    assert missing.status_code == 404


async def test_close_once_no_update_after_and_delete_only_when_closed_or_ended(client, tokens, points_app):
    admin, service = tokens["admin"], tokens["service"]
    body = await make_activity(client, admin)
    url = f"{ADMIN}/activities/{body['id']}"
    assert (await client.post(HOLDS, headers=service, json=hold_body(1, body["id"]))).status_code == 201
    refused = await client.delete(url, headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "POINTS_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"{url}/close", headers=admin)).status_code == 204
    again = await client.post(f"{url}/close", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "POINTS_ACTIVITY_ALREADY_CLOSED"
    closed = await client.put(url, headers=admin, json=activity())
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "POINTS_ACTIVITY_CLOSED"
    assert (await client.get(url, headers=admin)).json()["closed_by"] == "admin:1"
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404
    assert (await client.delete(url, headers=admin)).status_code == 404
    assert (await client.get(f"{ADMIN}/activities", headers=admin)).json()["total"] == 0
    figures = (await client.get(f"{ADMIN}/stats", headers=admin)).json()
    assert (figures["total_stock"], figures["orders_held"]) == (0, 0)  # the deleted activity is not summed
    async with points_app.state.sessionmaker() as session:  # marked deleted; nothing removed
        kept = await session.get(Activity, body["id"])
        assert kept.deleted_by == "admin:1" and kept.deleted_at is not None
    assert await count_rows(points_app, Product) == 2 and await count_rows(points_app, Hold) == 1

    ending = await make_activity(client, admin, spu_id=602, end=NOW + timedelta(hours=1))
    points_app.state.test_clock.at = NOW + timedelta(hours=1)
    assert (await client.delete(f"{ADMIN}/activities/{ending['id']}", headers=admin)).status_code == 204


async def test_figures_per_activity_and_by_owner(client, tokens, points_app):
    from tests.points.conftest import deliver, paid

    admin, service = tokens["admin"], tokens["service"]
    body = await make_activity(client, admin)
    await make_activity(client, admin, spu_id=602)
    for order_id, user, count in ((1, 1001, 2), (2, 1002, 1), (3, 1003, 1)):
        held = await client.post(HOLDS, headers=service, json=hold_body(order_id, body["id"], count=count,
                                                                          user_id=user))
        assert held.status_code == 201, held.text
    await deliver(points_app, "order.paid", paid(1))
    assert (await client.post(f"{HOLDS}/3/release", headers=service)).json()["released"]
    figures = (await client.get(f"{ADMIN}/activities/{body['id']}/stats", headers=admin)).json()
    assert figures == {"activity_id": body["id"], "total_stock": 15, "stock": 12, "orders_held": 1, "units_held": 1,
                       "orders_paid": 1, "units_sold": 2, "sales": 2_000, "points_used": 1_000,
                       "orders_released": 1}
    everything = (await client.get(f"{ADMIN}/stats", headers=admin)).json()
    assert (everything["activity_id"], everything["total_stock"], everything["units_sold"]) == (None, 30, 2)
    merchant_only = (await client.get(f"{ADMIN}/stats", headers=admin, params={"business_id": 1})).json()
    assert (merchant_only["total_stock"], merchant_only["orders_paid"]) == (0, 0)
    both = await client.get(f"{ADMIN}/stats", headers=admin, params={"business_id": 1, "platform": "true"})
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"
    holds = (await client.get(f"{ADMIN}/holds", headers=admin, params={"status": 10})).json()
    assert [(h["order_id"], h["end_reason"]) for h in holds["items"]] == [(1, "paid")]
    released = (await client.get(f"{ADMIN}/holds", headers=admin, params={"user_id": 1003})).json()["items"]
    assert [(h["status"], h["end_reason"]) for h in released] == [(20, "checkout_failed")]


async def test_only_the_admin_manages_activities(client, tokens):
    assert (await client.get(f"{ADMIN}/activities")).status_code == 401
    for role in ("member", "merchant", "service"):
        refused = await client.post(f"{ADMIN}/activities", headers=tokens[role], json=activity())
        assert refused.status_code == 403, role
