"""A multi-shop cart over HTTP: shop and platform coupons matched and applied per owner, the best
combination, checkout holding every coupon with its discount, the snapshot re-derived; and a
merchant's flash price refused for another shop's line."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from services.coupon.models import Coupon, CouponTemplate
from services.groupbuy.models import Base as GroupbuyBase
from services.groupbuy.models import Member
from services.pricing import snapshots
from services.pricing.schemas import CheckoutOut, QuoteOut
from services.seckill.models import Base as SeckillBase
from services.seckill.models import Reservation
from shared.auth import Role
from tests.conftest import asgi_client, bearer, clear_tables
from tests.groupbuy.conftest import NOW as GROUPBUY_NOW
from tests.groupbuy.conftest import activity as groupbuy_activity
from tests.pricing.conftest import give_coupon
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_checkout import checkout_row, coupon_row
from tests.seckill.conftest import activity, slot

QUOTE, CHECKOUT = "/app-api/pricing/quote", "/internal/pricing/checkout"
A, B, C = 1, 2, 3  # merchant A is the suite's merchant token (business 1)
SHOPS_CART = [
    {"sku_id": 1001, "spu_id": 101, "category_id": 5, "unit_price": 10000, "count": 1, "business_id": A},
    {"sku_id": 2001, "spu_id": 201, "category_id": 6, "unit_price": 3000, "count": 2, "business_id": B},
    {"sku_id": 3001, "spu_id": 301, "category_id": 7, "unit_price": 4000, "count": 1},
]


async def shop_coupon(coupons, coupon_app, tokens, shop: int | None, **terms) -> int:
    """A coupon in member 1001's hands whose template (and so the coupon) belongs to `shop`."""
    coupon_id = await give_coupon(coupons, tokens, **terms)
    async with coupon_app.state.engine.begin() as conn:
        template_id = (await conn.execute(select(Coupon.template_id).where(Coupon.id == coupon_id))).scalar_one()
        await conn.execute(update(CouponTemplate).where(CouponTemplate.id == template_id).values(business_id=shop))
        await conn.execute(update(Coupon).where(Coupon.id == coupon_id).values(business_id=shop))
    return coupon_id


@pytest.fixture
async def wallet(coupons, coupon_app, tokens) -> dict[str, int]:
    """A's 满50减10, another of A's 满10减3, B's 满100减20 (B's lines come to 60), the platform's 满150减15."""
    return {
        "a10": await shop_coupon(coupons, coupon_app, tokens, A, name="A 满50减10", use_price=5000, discount_type=1,
                                 discount_price=1000),
        "a3": await shop_coupon(coupons, coupon_app, tokens, A, name="A 满10减3", use_price=1000, discount_type=1,
                                discount_price=300),
        "b20": await shop_coupon(coupons, coupon_app, tokens, B, name="B 满100减20", use_price=10000, discount_type=1,
                                 discount_price=2000),
        "p15": await shop_coupon(coupons, coupon_app, tokens, None, name="平台 满150减15", use_price=15000,
                                 discount_type=1, discount_price=1500),
    }


def coupon_taken(quote: dict, coupon_id: int) -> list[int]:
    return [sum(a["amount"] for a in line["adjustments"] if a["kind"] == "coupon" and a["promotion_id"] == coupon_id)
            for line in quote["lines"]]


async def test_the_best_combination_takes_a_shop_coupon_per_shop_then_the_platforms(client, tokens, wallet):
    response = await client.post(QUOTE, json={"lines": SHOPS_CART, "use_best_coupon": True}, headers=tokens["member"])
    assert response.status_code == 200, response.text
    quote = response.json()
    assert QuoteOut.model_validate(quote).model_dump(mode="json") == quote, "the prebuilt answer keeps to its schema"
    # A: 10000 - 1000 (its 满50减10); B's 6000 misses 满100; platform: 9000 + 6000 + 4000 = 19000 >= 150 -> 1500
    assert quote["coupons"]["applied_coupon_ids"] == [wallet["a10"], wallet["p15"]]
    assert quote["coupons"]["best_coupon_ids"] == [wallet["a10"], wallet["p15"]]
    assert quote["coupons"]["applied_coupon_id"] == wallet["p15"] == quote["coupons"]["best_coupon_id"]
    assert quote["totals"]["coupon"] == 2500 and quote["totals"]["pay"] == 20000 - 2500
    assert coupon_taken(quote, wallet["a10"]) == [1000, 0, 0], "a shop coupon touches only its shop's lines"
    platform = coupon_taken(quote, wallet["p15"])
    assert sum(platform) == 1500 and all(platform), "the platform's coupon spans shops"
    shops = {s["business_id"]: s for s in quote["shops"]}
    assert [s["business_id"] for s in quote["shops"]] == [A, B, None]
    assert shops[A]["line_indexes"] == [0] and shops[A]["applied_coupon_id"] == wallet["a10"]
    assert {c["coupon_id"] for c in shops[A]["coupons"]} == {wallet["a10"], wallet["a3"]}
    assert shops[B]["coupons"] == [] and shops[B]["applied_coupon_id"] is None
    assert sum(s["subtotal"] for s in quote["shops"]) == quote["totals"]["pay"]
    assert shops[A]["subtotal"] == quote["lines"][0]["pay_amount"]
    options = {c["coupon_id"]: c for c in quote["coupons"]["usable"] + quote["coupons"]["unusable"]}
    assert options[wallet["b20"]]["business_id"] == B and not options[wallet["b20"]]["usable"]
    assert options[wallet["p15"]]["business_id"] is None and options[wallet["p15"]]["usable"]
    assert [line["business_id"] for line in quote["lines"]] == [A, B, None]
    applied = [p for p in quote["promotions"] if p["kind"] == "coupon"]
    assert [(p["id"], p["business_id"]) for p in applied] == [(wallet["a10"], A), (wallet["p15"], None)]


async def test_the_buyers_own_choice_and_its_refusals(client, tokens, wallet):
    member = tokens["member"]
    mine = await client.post(QUOTE, json={"lines": SHOPS_CART, "coupon_ids": [wallet["a3"]],
                                          "coupon_id": wallet["p15"]}, headers=member)
    assert mine.status_code == 200, mine.text
    assert mine.json()["coupons"]["applied_coupon_ids"] == [wallet["a3"], wallet["p15"]]
    assert mine.json()["totals"]["coupon"] == 300 + 1500
    assert mine.json()["coupons"]["best_coupon_ids"] == [wallet["a10"], wallet["p15"]], "the best is still shown"
    none = await client.post(QUOTE, json={"lines": SHOPS_CART}, headers=member)
    assert none.json()["coupons"]["applied_coupon_ids"] == [] and none.json()["totals"]["coupon"] == 0
    two = await client.post(QUOTE, json={"lines": SHOPS_CART, "coupon_ids": [wallet["a3"], wallet["a10"]]},
                            headers=member)
    assert two.status_code == 422 and two.json()["error"]["code"] == "PRICING_ONE_COUPON_PER_OWNER"
    short = await client.post(QUOTE, json={"lines": SHOPS_CART, "coupon_ids": [wallet["b20"]]}, headers=member)
    assert short.status_code == 422 and short.json()["error"]["code"] == "PRICING_COUPON_CANNOT_BE_USED"
    zh = await client.post(QUOTE, json={"lines": SHOPS_CART, "coupon_ids": [wallet["a3"], wallet["a10"]]},
                           headers={**member, "Accept-Language": "zh-CN"})
    assert zh.json()["error"]["message"] == "每个店铺最多使用一张店铺券，平台券最多使用一张"
    anonymous = await client.post(QUOTE, json={"lines": SHOPS_CART, "coupon_ids": [wallet["a3"]]})
    assert anonymous.status_code == 401


async def test_a_platform_goods_cart_keeps_its_single_answer_with_one_shop_entry(client, tokens, wallet):
    lines = [{k: v for k, v in line.items() if k != "business_id"} for line in SHOPS_CART]
    quote = (await client.post(QUOTE, json={"lines": lines, "use_best_coupon": True}, headers=tokens["member"])).json()
    assert quote["coupons"]["applied_coupon_ids"] == [wallet["p15"]] == [quote["coupons"]["applied_coupon_id"]]
    assert [s["business_id"] for s in quote["shops"]] == [None] and quote["shops"][0]["line_indexes"] == [0, 1, 2]
    assert quote["shops"][0]["subtotal"] == quote["totals"]["pay"] == 20000 - 1500


async def test_checkout_holds_every_coupon_with_its_discount_and_the_snapshot_rederives(
        client, tokens, wallet, coupon_app, pricing_app):
    body = {"order_id": 9101, "user_id": 1001, "lines": SHOPS_CART, "use_best_coupon": True}
    done = await client.post(CHECKOUT, json=body, headers=tokens["service"])
    assert done.status_code == 200, done.text
    out = CheckoutOut.model_validate(done.json())
    [hold] = out.holds
    assert hold.owner == "coupon" and hold.references == [wallet["a10"], wallet["p15"]]
    assert hold.reference == wallet["p15"]
    for key, off in (("a10", 1000), ("p15", 1500)):
        row = await coupon_row(coupon_app, wallet[key])
        assert (row.use_order_id, row.use_discount) == (9101, off)
    assert (await coupon_row(coupon_app, wallet["a3"])).use_order_id is None
    again = await client.post(CHECKOUT, json=body, headers=tokens["service"])
    assert again.json() == done.json()
    stored = await checkout_row(pricing_app, 9101)
    assert [c["business_id"] for c in stored.offers["shop_coupons"]] == [A]
    assert stored.offers["coupon"]["coupon_id"] == wallet["p15"]
    rederived = snapshots.rederive(stored)
    assert rederived.totals.pay == out.totals.pay and rederived.coupon_ids == (wallet["a10"], wallet["p15"])
    assert [p.pay for p in rederived.lines] == [line.pay_amount for line in out.lines]


# --- a merchant's flash price is its own shop's ---------------------------------------------------

@pytest.fixture
async def shop_sale(seckill_app, tokens, redis) -> int:
    """Merchant A's running flash sale of SKU 1001 (flash price 9900, stock 5)."""
    await clear_tables(seckill_app.state.engine, SeckillBase.metadata)
    stale = [key async for key in redis.scan_iter("{sk:*")]
    if stale:
        await redis.delete(*stale)
    seckill_app.state.seckill.catalog.forget()
    async with asgi_client(seckill_app) as seckill:
        made = await seckill.post("/admin-api/seckill/slots", json=slot(), headers=tokens["admin"])
        assert made.status_code == 201, made.text
        sale = await seckill.post("/merchant-api/seckill/activities", headers=tokens["merchant"],
                                  json=activity([made.json()["id"]], skus=((1001, 9900, 5),)))
        assert sale.status_code == 201, sale.text
        assert sale.json()["business_id"] == A
        return sale.json()["id"]


def seckill_lines(shop: int | None) -> list[dict]:
    return [{"sku_id": 1001, "spu_id": 101, "category_id": 5, "unit_price": 19900, "count": 1,
             **({"business_id": shop} if shop is not None else {})}]


async def test_a_merchants_flash_price_is_refused_for_another_shops_line_in_quote_and_checkout(
        client, tokens, seckill_app, shop_sale):
    special = {"type": "seckill", "activity_id": shop_sale}
    own = await client.post(QUOTE, json={"lines": seckill_lines(A), "activity": special}, headers=tokens["member"])
    assert own.status_code == 200, own.text
    assert own.json()["totals"]["pay"] == 9900
    assert next(p for p in own.json()["promotions"] if p["kind"] == "special")["business_id"] == A
    for shop in (B, None):
        refused = await client.post(QUOTE, json={"lines": seckill_lines(shop), "activity": special},
                                    headers={**tokens["member"], "Accept-Language": "en"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "PRICING_ACTIVITY_OTHER_SHOP"
        assert refused.json()["error"]["message"].startswith("SKU 1001 is not sold by the shop")
    zh = await client.post(CHECKOUT, json={"order_id": 9201, "user_id": 1001, "lines": seckill_lines(B),
                                           "activity": special}, headers={**tokens["service"],
                                                                          "Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and zh.json()["error"]["code"] == "PRICING_ACTIVITY_OTHER_SHOP"
    assert zh.json()["error"]["message"] == "商品 1001 不是该活动所属店铺的商品，不能使用该活动价"
    async with seckill_app.state.sessionmaker() as session:
        assert (await session.scalars(select(Reservation))).all() == [], "a refused checkout holds nothing"
    ok = await client.post(CHECKOUT, json={"order_id": 9202, "user_id": 1001, "lines": seckill_lines(A),
                                           "activity": special}, headers=tokens["service"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["totals"]["pay"] == 9900 and [h["owner"] for h in ok.json()["holds"]] == ["seckill"]


# --- merchants' own activities from the catalog, and one SQL statement a quote --------------------

@pytest.fixture
def merchants(tokens, dev_settings) -> dict[int, dict[str, str]]:
    return {shop: bearer(dev_settings, Role.MERCHANT, 3000 + shop, business_id=shop) for shop in (A, B, C)}


def three_shop_cart() -> list[dict]:
    """30 lines, 10 per shop; SPU 700 + n, SKU 7000 + n; category 80 + shop, and 90 on every fourth line."""
    return [{"sku_id": 7000 + n, "spu_id": 700 + n, "category_id": 90 if n % 4 == 0 else 80 + (A, B, C)[n // 10],
             "unit_price": 2990 + 41 * n, "count": 1 + n % 3, "business_id": (A, B, C)[n // 10]} for n in range(30)]


async def seed_three_shops(client, tokens, merchants) -> None:
    """Each shop: a discount on its first line and spend-and-save on its category (A's delivers
    free); the platform: a
    discount on every fifth line and spend-and-save on category 90, which spans the shops."""
    for s, shop in enumerate((A, B, C)):
        made = await client.post("/merchant-api/pricing/discounts", headers=merchants[shop], json=discount(
            f"店铺{shop}折扣", skus=((700 + 10 * s + 1, 7000 + 10 * s + 1),)))
        assert made.status_code == 201, made.text
        made = await client.post("/merchant-api/pricing/rewards", headers=merchants[shop], json=reward(
            f"店铺{shop}满减", scope=3, values=[80 + shop],
            levels=[{"threshold": 5000, "amount_off": 500, "free_delivery": shop == A}]))
        assert made.status_code == 201, made.text
    made = await client.post("/admin-api/pricing/discounts", headers=tokens["admin"], json=discount(
        "平台折扣", skus=tuple((700 + n, 7000 + n) for n in range(0, 30, 5))))
    assert made.status_code == 201, made.text
    made = await client.post("/admin-api/pricing/rewards", headers=tokens["admin"], json=reward(
        "平台跨店满减", scope=3, values=[90], levels=[{"threshold": 10000, "amount_off": 1000}]))
    assert made.status_code == 201, made.text


async def test_a_three_shop_quote_costs_one_sql_statement(pricing_app, client, tokens, merchants):
    await seed_three_shops(client, tokens, merchants)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if "pricing_" in statement and "pricing_outbox" not in statement and "pricing_inbox" not in statement:
            statements.append(statement)

    engine = pricing_app.state.engine.sync_engine
    body = {"lines": three_shop_cart(), "user_id": 1001, "use_best_coupon": True}
    await client.post("/internal/pricing/quote", json=body, headers=tokens["service"])  # loads the catalogue
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await client.post("/internal/pricing/quote", json=body, headers=tokens["service"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    assert len(statements) == 1, statements
    quote = response.json()
    assert [s["business_id"] for s in quote["shops"]] == [A, B, C]
    platform = next(p for p in quote["promotions"] if p["name"] == "平台跨店满减")
    assert platform["applied"] and platform["business_id"] is None
    assert {quote["lines"][i]["business_id"] for i in platform["line_indexes"]} == {A, B, C}, "it spans shops"
    assert [s["free_delivery"] for s in quote["shops"]] == [True, False, False], "A's level delivers A's parcel free"
    assert quote["grants"]["free_delivery"] is True
    assert [h["promotion_id"] for s in quote["shops"] for h in s["hints"]] == [
        p["id"] for p in quote["promotions"] if p["business_id"] is not None and p["hint"]]


async def test_merchants_activities_from_the_catalog_touch_only_their_own_lines(client, tokens, merchants):
    await seed_three_shops(client, tokens, merchants)
    lines = three_shop_cart()
    lines[11] = {**lines[1], "business_id": B}  # B sells A's discounted SKU too: A's discount is not B's
    response = await client.post("/internal/pricing/quote", json={"lines": lines, "user_id": 1001},
                                 headers=tokens["service"])
    assert response.status_code == 200, response.text
    quote = response.json()
    for promotion in quote["promotions"]:
        if promotion["business_id"] is not None and promotion["applied"]:
            assert {quote["lines"][i]["business_id"] for i in promotion["line_indexes"]} == {promotion["business_id"]}
    shop_a_discount = next(p for p in quote["promotions"] if p["name"] == f"店铺{A}折扣")
    assert shop_a_discount["business_id"] == A and shop_a_discount["line_indexes"] == [1]
    assert not any(a["kind"] == "discount" for a in quote["lines"][11]["adjustments"])


async def test_a_merchants_group_price_is_refused_for_another_shops_line(client, tokens, groupbuy_app):
    await clear_tables(groupbuy_app.state.engine, GroupbuyBase.metadata)
    groupbuy_app.state.test_clock.at = GROUPBUY_NOW
    async with asgi_client(groupbuy_app) as groupbuy:
        made = await groupbuy.post("/merchant-api/groupbuy/activities", json=groupbuy_activity(size=2),
                                   headers=tokens["merchant"])
    assert made.status_code == 201, made.text
    assert made.json()["business_id"] == A
    special = {"type": "groupbuy", "activity_id": made.json()["id"], "nickname": "阿花"}
    line = {"sku_id": 3001, "spu_id": 301, "category_id": 5, "unit_price": 9900, "count": 1}
    own = await client.post(QUOTE, json={"lines": [{**line, "business_id": A}], "activity": special},
                            headers=tokens["member"])
    assert own.status_code == 200 and own.json()["totals"]["pay"] == 4900, own.text
    other = await client.post(CHECKOUT, json={"order_id": 9301, "user_id": 1001, "activity": special,
                                              "lines": [{**line, "business_id": B}]}, headers=tokens["service"])
    assert other.status_code == 422 and other.json()["error"]["code"] == "PRICING_ACTIVITY_OTHER_SHOP"
    async with groupbuy_app.state.sessionmaker() as session:
        assert (await session.scalars(select(Member))).all() == [], "no seat held"


async def test_the_search_asks_for_platform_coupons_once_when_none_could_be_usable(
        client, tokens, coupons, coupon_app, pricing_app):
    """Shop coupons in two shops (4 choices to try), the user's only platform coupon expired or out
    of scope: one shop match and one platform match, not one per choice."""
    await shop_coupon(coupons, coupon_app, tokens, A, name="A 减5", use_price=0, discount_type=1, discount_price=500)
    await shop_coupon(coupons, coupon_app, tokens, B, name="B 减3", use_price=0, discount_type=1, discount_price=300)
    await shop_coupon(coupons, coupon_app, tokens, None, name="平台 SPU 999", use_price=0, discount_type=1,
                      discount_price=100, product_scope=2, product_scope_values=[999])
    client_ = pricing_app.state.pricing.coupons
    calls = []
    original = client_.match

    async def counting(*args, **kwargs):
        calls.append(args[4] if len(args) > 4 else kwargs.get("owners"))
        return await original(*args, **kwargs)

    client_.match = counting
    try:
        response = await client.post(QUOTE, json={"lines": SHOPS_CART, "use_best_coupon": True},
                                     headers=tokens["member"])
    finally:
        client_.match = original
    assert response.status_code == 200, response.text
    assert calls == ["shop", "platform"]
    quote = response.json()
    assert quote["totals"]["coupon"] == 800 and len(quote["coupons"]["applied_coupon_ids"]) == 2
    assert [c["reason"] for c in quote["coupons"]["unusable"]] == ["NO_PRODUCT_IN_SCOPE"]
