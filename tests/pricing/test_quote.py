"""Quotes over HTTP, with the coupon service running for real."""

from __future__ import annotations

from sqlalchemy import event

from services.pricing.schemas import QuoteOut
from tests.pricing.conftest import gift_template, give_coupon
from tests.pricing.test_admin import discount, reward

CART = [
    {"sku_id": 1001, "spu_id": 101, "category_id": 5, "unit_price": 10000, "count": 1},
    {"sku_id": 2001, "spu_id": 201, "category_id": 6, "unit_price": 5000, "count": 2},
    {"sku_id": 3001, "spu_id": 301, "category_id": 6, "unit_price": 3000, "count": 1, "selected": False},
]


async def setup_promotions(client, tokens, coupons) -> int:
    """A discount and a spend-and-save activity whose second level gives a coupon: its template id."""
    admin = tokens["admin"]
    assert (await client.post("/admin-api/pricing/discounts", json=discount(skus=((101, 1001),)),
                              headers=admin)).status_code == 201
    gift = await gift_template(coupons, tokens)
    levels = [{"threshold": 10000, "amount_off": 1000},
              {"threshold": 20000, "amount_off": 2000, "free_delivery": True, "coupons": {str(gift): 1}}]
    assert (await client.post("/admin-api/pricing/rewards", json=reward(scope=3, values=[6], levels=levels),
                              headers=admin)).status_code == 201
    return gift


async def test_quote_applies_every_step_and_explains_it(client, coupons, tokens):
    await setup_promotions(client, tokens, coupons)
    percent = await give_coupon(coupons, tokens, name="9折券 最高减5", use_price=1000, discount_type=2,
                                discount_percent=90, discount_limit_price=500)
    too_high = await give_coupon(coupons, tokens, name="满500减50", use_price=50000, discount_type=1,
                                 discount_price=5000)
    body = {"lines": CART, "coupon_id": percent, "use_points": True, "points_balance": 300}
    response = await client.post("/app-api/pricing/quote", json=body, headers=tokens["member"])
    assert response.status_code == 200, response.text
    quote = response.json()
    assert QuoteOut.model_validate(quote).model_dump(mode="json") == quote, "the prebuilt answer keeps to its schema"
    totals = quote["totals"]
    # 8.5折 on line 0: 1500 off; category 6 reaches 满100减10 (10000); 9折 coupon capped at 500 on
    # 8500 + 9000; 300 points = 300 fen; 1 point per yuan paid.
    assert (totals["original"], totals["discount"], totals["reward"], totals["coupon"], totals["points"]) == \
        (20000, 1500, 1000, 500, 300)
    assert totals["pay"] == 20000 - 1500 - 1000 - 500 - 300 == sum(line["pay_amount"] for line in quote["lines"][:2])
    assert totals["points_granted"] == totals["pay"] // 100
    assert quote["lines"][2]["selected"] is False and quote["lines"][2]["adjustments"] == []
    reward_result = next(p for p in quote["promotions"] if p["kind"] == "reward")
    assert reward_result["applied"] and reward_result["level"] == "满100减10"
    assert reward_result["hint"] == "再买 ¥100.00 减20，包邮，送1张券"
    assert quote["coupons"]["applied_coupon_id"] == percent
    assert [c["coupon_id"] for c in quote["coupons"]["usable"]] == [percent]
    unusable = quote["coupons"]["unusable"][0]
    assert unusable["coupon_id"] == too_high and unusable["reason"] == "BELOW_THRESHOLD"
    assert unusable["reason_message"].startswith("再买 ¥")
    assert quote["coupons"]["best_coupon_id"] == percent and quote["coupons"]["best_discount"] == 500
    assert quote["grants"] == {"points": totals["points_granted"], "coupons": {}, "free_delivery": False}


async def test_best_coupon_and_unusable_choice(client, coupons, tokens):
    small = await give_coupon(coupons, tokens, name="减3", discount_type=1, discount_price=300)
    big = await give_coupon(coupons, tokens, name="减8", discount_type=1, discount_price=800)
    other = await give_coupon(coupons, tokens, user_id=1002, name="别人的", discount_type=1, discount_price=900)
    lines = CART[:2]
    best = await client.post("/app-api/pricing/quote", json={"lines": lines, "use_best_coupon": True},
                             headers=tokens["member"])
    assert best.json()["coupons"]["applied_coupon_id"] == big and best.json()["totals"]["coupon"] == 800
    offered = await client.post("/app-api/pricing/quote", json={"lines": lines}, headers=tokens["member"])
    assert offered.json()["coupons"]["applied_coupon_id"] is None and offered.json()["totals"]["coupon"] == 0
    assert offered.json()["coupons"]["best_coupon_id"] == big
    assert {c["coupon_id"] for c in offered.json()["coupons"]["usable"]} == {small, big}
    refused = await client.post("/app-api/pricing/quote", json={"lines": lines, "coupon_id": other},
                                headers=tokens["member"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PRICING_COUPON_CANNOT_BE_USED"


async def test_anonymous_quote_gets_promotions_but_no_coupons(client, coupons, tokens):
    await setup_promotions(client, tokens, coupons)
    response = await client.post("/app-api/pricing/quote", json={"lines": CART})
    assert response.status_code == 200
    assert response.json()["totals"]["discount"] == 1500 and response.json()["coupons"]["usable"] == []
    with_coupon = await client.post("/app-api/pricing/quote", json={"lines": CART, "coupon_id": 5})
    assert with_coupon.status_code == 401
    admin = await client.post("/app-api/pricing/quote", json={"lines": CART}, headers=tokens["admin"])
    assert admin.status_code == 403


async def test_quote_errors(client, tokens):
    member = tokens["member"]
    nothing = await client.post("/app-api/pricing/quote", json={"lines": [{**CART[0], "selected": False}]},
                                headers=member)
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "PRICING_NOTHING_SELECTED"
    free = await client.post("/app-api/pricing/quote", json={"lines": [{**CART[0], "unit_price": 0}]}, headers=member)
    assert free.json()["error"]["code"] == "PRICING_PAY_AMOUNT_NOT_POSITIVE"
    points_mall = await client.post("/app-api/pricing/quote",
                                    json={"lines": CART, "activity": {"type": "points_mall", "activity_id": 1}},
                                    headers=member)
    assert points_mall.status_code == 422, "a points-mall order holds only its own line"
    assert points_mall.json()["error"]["code"] == "PRICING_POINTS_ORDER_INVALID"
    assert points_mall.json()["error"]["details"]["reason_code"] == "POINTS_ONE_LINE"
    seckill = await client.post("/app-api/pricing/quote",
                                json={"lines": CART, "activity": {"type": "seckill", "activity_id": 987654}},
                                headers=member)
    assert seckill.status_code == 409 and seckill.json()["error"]["code"] == "PRICING_ACTIVITY_REFUSED"
    assert seckill.json()["error"]["details"]["owner_code"] == "SECKILL_ACTIVITY_NOT_FOUND"
    for bad in ({"lines": []}, {"lines": [{**CART[0], "count": 0}]}, {"lines": [{**CART[0], "unit_price": -1}]},
                {"lines": CART, "member_pay_bp": 10001}, {"lines": CART, "extra": 1}):
        response = await client.post("/app-api/pricing/quote", json=bad, headers=member)
        assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED", bad


async def test_coupon_service_down_degrades_the_cart_page(pricing_app, client, tokens):
    coupons = pricing_app.state.pricing.coupons.client
    real_url = coupons.base_url
    coupons.base_url = "http://127.0.0.1:9"  # nothing listens there
    try:
        page = await client.post("/app-api/pricing/quote", json={"lines": CART}, headers=tokens["member"])
        assert page.status_code == 200 and page.json()["coupons"]["available"] is False
        chosen = await client.post("/app-api/pricing/quote", json={"lines": CART, "coupon_id": 1},
                                   headers=tokens["member"])
        assert chosen.status_code == 503 and chosen.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
    finally:
        coupons.base_url = real_url


async def test_product_page_lookups(client, coupons, tokens):
    await setup_promotions(client, tokens, coupons)
    found = await client.get("/app-api/pricing/discounts", params=[("sku", "1001:9999"), ("sku", "2001")])
    assert found.status_code == 200
    first, second = found.json()
    assert (first["activity_name"], first["pay_bp"], first["discount_price"]) == ("限时折扣", 8500, 9999 - 1499)
    assert second["activity_id"] is None and second["discount_price"] is None
    assert (await client.get("/app-api/pricing/discounts", params={"sku": "x1"})).status_code == 422
    rewards = await client.get("/app-api/pricing/rewards", params={"spu_id": 999, "category_id": 6})
    assert [lv["description"] for lv in rewards.json()[0]["levels"]] == ["满100减10", "满200减20，包邮，送1张券"]
    assert (await client.get("/app-api/pricing/rewards", params={"spu_id": 999, "category_id": 5})).json() == []


async def test_sql_statements_per_quote_do_not_grow_with_promotions(pricing_app, client, tokens):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        # the quote's own: not the outbox relay polling in the background, nor what a new
        # pooled connection runs to set itself up
        if "pricing_" in statement and "pricing_outbox" not in statement and "pricing_inbox" not in statement:
            statements.append(statement)

    engine = pricing_app.state.engine.sync_engine
    lines = [{"sku_id": 5000 + n, "spu_id": 600 + n, "category_id": 70 + n % 5, "unit_price": 1000 + n, "count": 1}
             for n in range(50)]

    async def measure() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = await client.post("/internal/pricing/quote", json={"lines": lines, "user_id": 1001},
                                         headers=tokens["service"])
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.text
        return len(statements)

    await measure()
    bare = await measure()
    for n in range(50):
        await client.post("/admin-api/pricing/discounts", json=discount(f"d{n}", skus=((600 + n, 5000 + n),)),
                          headers=tokens["admin"])
    for n in range(10):
        await client.post("/admin-api/pricing/rewards", json=reward(f"r{n}", scope=2, values=[600 + n, 610 + n]),
                          headers=tokens["admin"])
    first = await measure()  # both kinds changed: the versions, then a load of each
    busy = await measure()
    assert bare == busy == 1 and first == 3, (bare, first, busy)


async def test_an_edited_activity_prices_with_its_new_terms_at_once(client, tokens):
    admin = tokens["admin"]
    created = await client.post("/admin-api/pricing/rewards", json=reward(scope=3, values=[6]), headers=admin)
    body = {"lines": CART[1:2]}  # 10000 in category 6
    assert (await client.post("/app-api/pricing/quote", json=body)).json()["totals"]["reward"] == 1000
    changed = reward(scope=3, values=[6], levels=[{"threshold": 10000, "amount_off": 1500}])
    assert (await client.put(f"/admin-api/pricing/rewards/{created.json()['id']}", json=changed,
                             headers=admin)).status_code == 200
    assert (await client.post("/app-api/pricing/quote", json=body)).json()["totals"]["reward"] == 1500
    await client.post(f"/admin-api/pricing/rewards/{created.json()['id']}/close", headers=admin)
    assert (await client.post("/app-api/pricing/quote", json=body)).json()["totals"]["reward"] == 0


async def test_the_console_s_simulator_prices_as_the_buyer_and_holds_nothing(client, coupons, tokens):
    """/admin-api/pricing/simulate: the quote a buyer would get (as `user_id`, with that buyer's
    coupons, or anonymous); a merchant simulates anonymously; members cannot call it."""
    await setup_promotions(client, tokens, coupons)
    mine = await give_coupon(coupons, tokens, name="减8", discount_type=1, discount_price=800)
    body = {"lines": CART[:2], "use_best_coupon": True}
    as_buyer = await client.post("/app-api/pricing/quote", json=body, headers=tokens["member"])
    simulated = await client.post("/admin-api/pricing/simulate", json={**body, "user_id": 1001},
                                  headers=tokens["admin"])
    assert simulated.status_code == 200, simulated.text
    assert simulated.json() == as_buyer.json() and simulated.json()["coupons"]["applied_coupon_id"] == mine
    anonymous = await client.post("/app-api/pricing/quote", json=body)
    assert (await client.post("/admin-api/pricing/simulate", json=body, headers=tokens["admin"])).json() == \
        anonymous.json()
    assert (await client.post("/merchant-api/pricing/simulate", json=body, headers=tokens["merchant"])).json() == \
        anonymous.json()
    with_user = await client.post("/merchant-api/pricing/simulate", json={**body, "user_id": 1001},
                                  headers=tokens["merchant"])
    assert with_user.status_code == 422, "a merchant does not price with a buyer's coupons"
    assert (await client.post("/admin-api/pricing/simulate", json=body, headers=tokens["member"])).status_code == 403
    again = await client.post("/admin-api/pricing/simulate", json={**body, "user_id": 1001}, headers=tokens["admin"])
    assert again.json()["coupons"]["applied_coupon_id"] == mine, "nothing was held: the coupon is still usable"
