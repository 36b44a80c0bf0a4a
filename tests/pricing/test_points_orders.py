"""A points-mall order through pricing: the SKU's cash price and points from the real points
service (no discount, spend-and-save, coupon or points deduction), a pure-points order paying 0,
the stock and the buyer's count held at checkout and given back when a later hold fails, a cart
with another line refused, the points service's refusals relayed with its code, and a merchant's
exchange kept to its own shop's lines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.points.models import Base as PointsBase
from services.points.models import Hold, Product, UserCount
from tests.conftest import asgi_client, clear_tables
from tests.points.conftest import MINE, NOW, make_activity, product
from tests.pricing.conftest import give_coupon
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_checkout import RecordingOwner

CHECKOUT, QUOTE = "/internal/pricing/checkout", "/app-api/pricing/quote"
CASH_SKU, PURE_SKU = 6001, 6002  # 500 points + 10.00 (limit 2); 800 points alone (limit 1)
LINE = {"sku_id": CASH_SKU, "spu_id": 601, "category_id": 5, "unit_price": 12_000, "count": 1}


@pytest.fixture
async def points(points_app):
    """The points service's API on clean tables, on its test clock."""
    await clear_tables(points_app.state.engine, PointsBase.metadata)
    points_app.state.test_clock.at = NOW
    async with asgi_client(points_app) as client:
        yield client


def points_order(order_id: int, activity: dict, user_id: int = 1001, line: dict | None = None,
                 **extra) -> dict:
    return {"order_id": order_id, "user_id": user_id,
            "activity": {"type": "points_mall", "activity_id": activity["id"]}, "lines": [line or LINE], **extra}


def for_quote(order: dict) -> dict:
    return {k: v for k, v in order.items() if k in ("activity", "lines", "coupon_id", "use_best_coupon",
                                                     "use_points", "points_balance")}


async def held(points_app, order_id: int) -> tuple[Hold | None, Product, UserCount | None]:
    async with points_app.state.sessionmaker() as session:
        hold = await session.scalar(select(Hold).where(Hold.order_id == order_id))
        product_row = await session.scalar(select(Product).where(Product.sku_id == CASH_SKU))
        count = await session.scalar(select(UserCount).where(UserCount.sku_id == CASH_SKU))
        return hold, product_row, count


async def test_points_and_cash_in_quote_and_checkout_with_no_other_promotion(client, tokens, points, points_app):
    admin = tokens["admin"]
    assert (await client.post("/admin-api/pricing/discounts", json=discount(skus=((601, CASH_SKU),)),
                              headers=admin)).status_code == 201
    assert (await client.post("/admin-api/pricing/rewards", json=reward(), headers=admin)).status_code == 201
    activity = await make_activity(points, admin)
    order = points_order(9701, activity, line={**LINE, "count": 2})
    quote = await client.post(QUOTE, json=for_quote({**order, "use_points": True, "points_balance": 5_000}),
                              headers=tokens["member"])
    assert quote.status_code == 200, quote.text
    totals = quote.json()["totals"]
    assert (totals["original"], totals["pay"], totals["points_spent"]) == (24_000, 2_000, 1_000)
    assert (totals["points_used"], totals["discount"], totals["reward"], totals["coupon"]) == (0, 0, 0, 0)
    applied = [(p["kind"], p["applied"]) for p in quote.json()["promotions"]]
    assert ("special", True) in applied and ("discount", True) not in applied and ("reward", True) not in applied

    checkout = await client.post(CHECKOUT, json=order, headers=tokens["service"])
    assert checkout.status_code == 200, checkout.text
    assert (checkout.json()["totals"]["pay"], checkout.json()["totals"]["points_spent"]) == (2_000, 1_000)
    again = await client.post(CHECKOUT, json=order, headers=tokens["service"])
    assert again.json() == checkout.json(), "a retried checkout takes nothing twice"
    hold, product_row, count = await held(points_app, 9701)
    assert (hold.status, hold.count, hold.unit_price, hold.unit_points) == (0, 2, 1_000, 500)
    assert (product_row.stock, count.held, count.bought) == (8, 2, 0)
    assert [(h["owner"], h["reference"]) for h in checkout.json()["holds"]] == [("points_mall", hold.id)]
    over_limit = await client.post(CHECKOUT, json=points_order(9702, activity), headers=tokens["service"])
    assert over_limit.status_code == 409, over_limit.text
    error = over_limit.json()["error"]
    assert (error["code"], error["details"]["owner_code"]) == ("PRICING_ACTIVITY_REFUSED", "POINTS_LIMIT_EXCEEDED")
    assert (await held(points_app, 9702))[0] is None


async def test_a_pure_points_order_pays_nothing_and_takes_no_coupon(client, tokens, coupons, points, points_app):
    activity = await make_activity(points, tokens["admin"])
    pure = {**LINE, "sku_id": PURE_SKU, "unit_price": 3_000}
    quote = await client.post(QUOTE, json=for_quote(points_order(0, activity, line=pure)), headers=tokens["member"])
    assert quote.status_code == 200, quote.text
    assert (quote.json()["totals"]["pay"], quote.json()["totals"]["points_spent"]) == (0, 800)
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=100, use_price=0)
    refused = await client.post(CHECKOUT, json=points_order(9801, activity, coupon_id=coupon_id),
                                headers=tokens["service"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PRICING_COUPON_NOT_ALLOWED"
    best = await client.post(QUOTE, json=for_quote(points_order(0, activity, use_best_coupon=True)),
                             headers=tokens["member"])
    assert best.status_code == 200 and best.json()["coupons"]["applied_coupon_id"] is None
    assert (await held(points_app, 9801))[0] is None
    free = await client.post(CHECKOUT, json=points_order(9802, activity, line=pure), headers=tokens["service"])
    assert free.status_code == 200, free.text
    assert (free.json()["totals"]["pay"], free.json()["totals"]["points_spent"]) == (0, 800)
    assert [h["owner"] for h in free.json()["holds"]] == ["points_mall"]


async def test_a_cart_with_another_line_is_refused_and_nothing_held(client, tokens, points, points_app):
    activity = await make_activity(points, tokens["admin"])
    other = {"sku_id": 7001, "spu_id": 701, "category_id": 5, "unit_price": 5_000, "count": 1}
    mixed = points_order(9901, activity)
    mixed["lines"].append(other)
    for path, body, headers in ((QUOTE, for_quote(mixed), tokens["member"]), (CHECKOUT, mixed, tokens["service"])):
        refused = await client.post(path, json=body, headers={**headers, "Accept-Language": "en"})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["details"]["reason_code"]) == ("PRICING_POINTS_ORDER_INVALID", "POINTS_ONE_LINE")
        assert "only its own line" in error["message"]
    zh = await client.post(QUOTE, json=for_quote(mixed), headers={**tokens["member"], "Accept-Language": "zh-CN"})
    assert "积分商城订单只能包含兑换的商品" in zh.json()["error"]["message"]
    assert (await held(points_app, 9901))[0] is None
    unselected = points_order(9902, activity)
    unselected["lines"].append({**other, "selected": False})
    assert (await client.post(CHECKOUT, json=unselected, headers=tokens["service"])).status_code == 200, (
        "an unselected line stays in the cart")
    nothing = points_order(9903, activity, line={**LINE, "selected": False})
    refused = await client.post(QUOTE, json=for_quote(nothing), headers=tokens["member"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PRICING_NOTHING_SELECTED"


async def test_a_failed_checkout_gives_the_stock_and_the_count_back(client, tokens, points, points_app, pricing_app):
    activity = await make_activity(points, tokens["admin"])
    refusing = RecordingOwner("other", refuse=True)
    pricing_app.state.pricing.holds.append(refusing)
    try:
        failed = await client.post(CHECKOUT, json=points_order(9951, activity), headers=tokens["service"])
    finally:
        pricing_app.state.pricing.holds.remove(refusing)
    assert failed.status_code == 409 and failed.json()["error"]["code"] == "PRICING_HOLD_FAILED", failed.text
    hold, product_row, count = await held(points_app, 9951)
    assert (hold.status, hold.end_reason, product_row.stock, count.held) == (20, "checkout_failed", 10, 0)
    retried = await client.post(CHECKOUT, json=points_order(9952, activity), headers=tokens["service"])
    assert retried.status_code == 200, retried.text
    assert (await held(points_app, 9952))[1].stock == 9


async def test_the_points_services_refusals_are_relayed_with_its_code(client, tokens, points):
    activity = await make_activity(points, tokens["admin"], products=[product(stock=0), product(6002, 800, 0, 5, 1)])
    short = await make_activity(points, tokens["admin"], spu_id=602,
                                products=[product(6101, stock=3, limit=5), product(6102, stock=10, limit=2)])
    for sku_id, count, code in ((6101, 4, "POINTS_SOLD_OUT"), (6102, 3, "POINTS_LIMIT_EXCEEDED")):
        line = {**LINE, "sku_id": sku_id, "spu_id": 602, "count": count}
        too_many = await client.post(QUOTE, json=for_quote(points_order(0, short, line=line)), headers=tokens["member"])
        assert too_many.status_code == 409, "the quote checks the order's units, not one"
        assert too_many.json()["error"]["details"]["owner_code"] == code
        one_less = await client.post(QUOTE, json=for_quote(points_order(0, short, line={**line, "count": count - 1})),
                                     headers=tokens["member"])
        assert one_less.status_code == 200, one_less.text
    cases = ((points_order(9961, {"id": 987_654}), "POINTS_ACTIVITY_NOT_FOUND"),
             (points_order(9962, activity, line={**LINE, "sku_id": 6999}), "POINTS_SKU_NOT_IN_ACTIVITY"),
             (points_order(9963, activity), "POINTS_SOLD_OUT"))
    for order, code in cases:
        refused = await client.post(CHECKOUT, json=order, headers=tokens["service"])
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["details"]["owner_code"]) == ("PRICING_ACTIVITY_REFUSED", code)


async def test_a_merchants_exchange_only_for_its_own_shops_line(client, tokens, points):
    activity = await make_activity(points, tokens["merchant"], prefix=MINE)  # the shop of business 1
    other_shop = await client.post(CHECKOUT, json=points_order(9971, activity, line={**LINE, "business_id": 2}),
                                   headers=tokens["service"])
    assert other_shop.status_code == 422 and other_shop.json()["error"]["code"] == "PRICING_ACTIVITY_OTHER_SHOP"
    own = await client.post(CHECKOUT, json=points_order(9972, activity, line={**LINE, "business_id": 1}),
                            headers=tokens["service"])
    assert own.status_code == 200, own.text
    [special] = [p for p in own.json()["promotions"] if p["kind"] == "special"]
    assert (special["business_id"], special["name"], own.json()["totals"]["pay"]) == (1, "积分兑换", 1_000)
