"""A bargain order through pricing: the record's bargained price from the real bargain service
(one unit, no discount, spend-and-save or coupon), the record and a unit held at checkout, given
back when a later hold fails, and a merchant's bargain price kept to its own shop's lines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.bargain.models import Activity, Order, Record
from services.bargain.models import Base as BargainBase
from shared.auth import Role
from tests.bargain.conftest import MINE, NOW, make_activity, start, succeeded_record
from tests.conftest import asgi_client, bearer, clear_tables
from tests.pricing.conftest import give_coupon
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_checkout import RecordingOwner

CHECKOUT, QUOTE = "/internal/pricing/checkout", "/app-api/pricing/quote"
LINE = {"sku_id": 5001, "spu_id": 501, "category_id": 5, "unit_price": 12_000, "count": 1}


@pytest.fixture
async def bargain(bargain_app):
    """The bargain service's API on clean tables, on its test clock."""
    await clear_tables(bargain_app.state.engine, BargainBase.metadata)
    bargain_app.state.test_clock.at = NOW
    async with asgi_client(bargain_app) as client:
        yield client


@pytest.fixture(scope="module")
def members(dev_settings) -> dict[int, dict[str, str]]:
    return {user: bearer(dev_settings, Role.MEMBER, user) for user in range(1001, 1011)}


def bargain_order(order_id: int, record: dict, user_id: int = 1001, line: dict | None = None, **extra) -> dict:
    return {"order_id": order_id, "user_id": user_id,
            "activity": {"type": "bargain", "activity_id": record["activity_id"], "record_id": record["id"]},
            "lines": [line or LINE], **extra}


def for_quote(order: dict) -> dict:
    return {k: v for k, v in order.items() if k in ("activity", "lines", "coupon_id", "use_best_coupon")}


async def held(bargain_app, record_id: int) -> tuple[Record, Activity, list[Order]]:
    async with bargain_app.state.sessionmaker() as session:
        record = await session.get(Record, record_id)
        activity = await session.get(Activity, record.activity_id)
        orders = list((await session.scalars(select(Order).where(Order.record_id == record_id)
                                             .order_by(Order.id))).all())
        return record, activity, orders


async def test_the_bargained_price_in_quote_and_checkout_and_the_record_held_once(
        client, tokens, members, bargain, bargain_app):
    admin = tokens["admin"]
    assert (await client.post("/admin-api/pricing/discounts", json=discount(skus=((501, 5001),)),
                              headers=admin)).status_code == 201
    assert (await client.post("/admin-api/pricing/rewards", json=reward(), headers=admin)).status_code == 201
    record = await succeeded_record(bargain, admin, members, stock=5)  # 10000 -> 1000 with 3 helps
    quote = await client.post(QUOTE, json=for_quote(bargain_order(0, record)), headers=tokens["member"])
    assert quote.status_code == 200, quote.text
    body = quote.json()
    assert (body["totals"]["original"], body["totals"]["special"], body["totals"]["pay"]) == (12_000, 11_000, 1_000)
    applied = [(p["kind"], p["applied"]) for p in body["promotions"]]
    assert ("special", True) in applied and ("discount", True) not in applied and ("reward", True) not in applied

    checkout = await client.post(CHECKOUT, json=bargain_order(9101, record), headers=tokens["service"])
    assert checkout.status_code == 200, checkout.text
    assert checkout.json()["totals"]["pay"] == 1_000
    again = await client.post(CHECKOUT, json=bargain_order(9101, record), headers=tokens["service"])
    assert again.json() == checkout.json()
    stored, activity, [order] = await held(bargain_app, record["id"])
    assert (order.order_id, order.status, order.unit_price, stored.order_id, activity.stock) == (9101, 0, 1_000,
                                                                                                9101, 4)
    assert [(h["owner"], h["reference"]) for h in checkout.json()["holds"]] == [("bargain", order.id)]
    other = await client.post(CHECKOUT, json=bargain_order(9102, record), headers=tokens["service"])
    assert other.status_code == 409, other.text
    assert other.json()["error"]["details"]["owner_code"] == "BARGAIN_RECORD_ALREADY_ORDERED"


async def test_a_failed_checkout_gives_the_record_and_the_unit_back(
        client, tokens, members, bargain, bargain_app, pricing_app):
    record = await succeeded_record(bargain, tokens["admin"], members, stock=5)
    sold_out = RecordingOwner("points_mall", refuse=True)
    pricing_app.state.pricing.holds.append(sold_out)
    try:
        failed = await client.post(CHECKOUT, json=bargain_order(9201, record), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(sold_out)
    assert failed.status_code == 409 and failed.json()["error"]["code"] == "PRICING_HOLD_FAILED", failed.text
    stored, activity, [order] = await held(bargain_app, record["id"])
    assert (order.status, stored.order_id, activity.stock) == (20, None, 5), "the record and the unit went back"
    retried = await client.post(CHECKOUT, json=bargain_order(9202, record), headers=tokens["service"])
    assert retried.status_code == 200, retried.text
    stored, activity, orders = await held(bargain_app, record["id"])
    assert (stored.order_id, activity.stock, [o.status for o in orders]) == (9202, 4, [20, 0])


async def test_no_coupon_on_a_bargain_order_and_nothing_held(client, tokens, coupons, members, bargain, bargain_app):
    record = await succeeded_record(bargain, tokens["admin"], members)
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=100, use_price=0)
    refused = await client.post(CHECKOUT, json=bargain_order(9301, record, coupon_id=coupon_id),
                                headers=tokens["service"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PRICING_COUPON_NOT_ALLOWED"
    best = await client.post(QUOTE, json=for_quote(bargain_order(0, record, use_best_coupon=True)),
                             headers=tokens["member"])
    assert best.status_code == 200 and best.json()["totals"]["pay"] == 1_000
    assert best.json()["coupons"]["applied_coupon_id"] is None
    stored, _, orders = await held(bargain_app, record["id"])
    assert (stored.order_id, orders) == (None, [])


async def test_the_bargain_services_refusals_are_relayed_with_its_code(client, tokens, members, bargain):
    activity_id = await make_activity(bargain, tokens["admin"])
    running = await start(bargain, members[1001], activity_id)
    done = await succeeded_record(bargain, tokens["admin"], members, user=1005, activity_id=activity_id,
                                  helpers=(1002, 1003, 1004))
    other_activity = await make_activity(bargain, tokens["admin"], name="另一个", spu_id=502, sku_id=5002)
    cases = ((bargain_order(9401, running), "BARGAIN_RECORD_NOT_SUCCEEDED"),
             (bargain_order(9402, done), "BARGAIN_RECORD_OF_ANOTHER_USER"),
             (bargain_order(9403, {**done, "activity_id": other_activity}, user_id=1005),
              "BARGAIN_RECORD_OF_ANOTHER_ACTIVITY"),
             (bargain_order(9404, done, user_id=1005, line={**LINE, "sku_id": 5002}), "BARGAIN_SKU_NOT_IN_ACTIVITY"))
    for order, code in cases:
        refused = await client.post(CHECKOUT, json=order, headers=tokens["service"])
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["details"]["owner_code"]) == ("PRICING_ACTIVITY_REFUSED", code)
    zh = await client.post(CHECKOUT, json=cases[2][0], headers={**tokens["service"], "Accept-Language": "zh-CN"})
    assert "不属于此砍价活动" in zh.json()["error"]["message"]


async def test_a_bargain_order_is_one_unit_of_the_buyers_record(client, tokens, members, bargain):
    record = await succeeded_record(bargain, tokens["admin"], members)
    no_record = bargain_order(9501, record)
    no_record["activity"]["record_id"] = None
    two_units = bargain_order(9502, record, line={**LINE, "count": 2})
    two_lines = bargain_order(9503, record)
    two_lines["lines"].append({**LINE, "sku_id": 5002})
    for order, reason in ((no_record, "record_id"), (two_units, "one unit"), (two_lines, "one unit")):
        refused = await client.post(CHECKOUT, json=order, headers={**tokens["service"], "Accept-Language": "en"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "PRICING_BARGAIN_ORDER_INVALID" and reason in (
            refused.json()["error"]["message"])
    anonymous = await client.post(QUOTE, json=for_quote(bargain_order(0, record)))
    assert anonymous.status_code == 422 and anonymous.json()["error"]["code"] == "PRICING_BARGAIN_ORDER_INVALID"
    assert (await client.post(QUOTE, json=for_quote(bargain_order(0, record)),
                              headers=tokens["member"])).status_code == 200


async def test_a_merchants_bargain_price_only_for_its_own_shops_line(client, tokens, members, bargain):
    activity_id = await make_activity(bargain, tokens["merchant"], prefix=MINE)  # the shop of business 1
    record = await succeeded_record(bargain, tokens["admin"], members, activity_id=activity_id)
    other_shop = await client.post(CHECKOUT, json=bargain_order(9601, record, line={**LINE, "business_id": 2}),
                                   headers=tokens["service"])
    assert other_shop.status_code == 422 and other_shop.json()["error"]["code"] == "PRICING_ACTIVITY_OTHER_SHOP"
    own = await client.post(CHECKOUT, json=bargain_order(9602, record, line={**LINE, "business_id": 1}),
                            headers=tokens["service"])
    assert own.status_code == 200, own.text
    assert own.json()["totals"]["pay"] == 1_000
    [special] = [p for p in own.json()["promotions"] if p["kind"] == "special"]
    assert special["business_id"] == 1 and special["name"] == "好友砍价"
