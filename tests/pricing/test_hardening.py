"""What the hardening issue found in pricing: no 500 on large carts, one rule for coupons larger
than the cart, checked reward coupons, special-price names and exclusions, texts in the
caller's language."""

from __future__ import annotations

import re

from tests.pricing.conftest import gift_template, give_coupon
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_seckill_orders import sale, seckill_order  # noqa: F401  (a fixture and a helper)

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH_WORD.findall(text) if w not in ("SKU", "SPU")]


async def test_a_cart_above_the_order_limit_is_a_422_not_a_500(client, tokens):
    big = [{"sku_id": 1, "spu_id": 1, "category_id": 1, "unit_price": 10**10, "count": 2}]
    for path, headers, extra in (("/app-api/pricing/quote", tokens["member"], {}),
                                 ("/internal/pricing/quote", tokens["service"], {"user_id": 1001}),
                                 ("/internal/pricing/checkout", tokens["service"], {"user_id": 1001, "order_id": 77})):
        response = await client.post(path, json={"lines": big, **extra}, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] == "PRICING_CART_TOO_LARGE"
    right_at = [{"sku_id": 1, "spu_id": 1, "category_id": 1, "unit_price": 5 * 10**9, "count": 2}]
    assert (await client.post("/app-api/pricing/quote", json={"lines": right_at},
                              headers=tokens["member"])).status_code == 200


async def test_a_coupon_larger_than_the_cart_leaves_one_fen_and_is_never_refused(client, coupons, tokens):
    coupon_id = await give_coupon(coupons, tokens, name="无门槛减1000", use_price=0, discount_type=1,
                                  discount_price=100_000)
    cart = [{"sku_id": 1, "spu_id": 1, "category_id": 1, "unit_price": 500, "count": 1}]
    offered = await client.post("/app-api/pricing/quote", json={"lines": cart}, headers=tokens["member"])
    [usable] = offered.json()["coupons"]["usable"]
    assert usable["coupon_id"] == coupon_id and usable["discount"] == 499
    assert offered.json()["coupons"]["best_coupon_id"] == coupon_id
    for choice in ({"coupon_id": coupon_id}, {"use_best_coupon": True}):
        applied = await client.post("/app-api/pricing/quote", json={"lines": cart, **choice},
                                    headers=tokens["member"])
        assert applied.status_code == 200, applied.text
        assert applied.json()["totals"]["coupon"] == 499 and applied.json()["totals"]["pay"] == 1


async def test_a_reward_level_must_give_an_existing_admin_give_coupon_template(client, coupons, tokens):
    admin = {**tokens["admin"], "Accept-Language": "zh-CN"}
    self_take = await gift_template(coupons, tokens, take_type=1)
    given = await gift_template(coupons, tokens)
    for template_id, code in ((999_999, "LEVEL_COUPON_MISSING"), (self_take, "LEVEL_COUPON_NOT_GIVEABLE")):
        levels = [{"threshold": 10000, "amount_off": 1000, "coupons": {str(template_id): 1}}]
        refused = await client.post("/admin-api/pricing/rewards", json=reward(levels=levels), headers=admin)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["details"]["problems_codes"] == [code]
        assert str(template_id) in error["message"] and not english_in(error["message"]), error["message"]
    levels = [{"threshold": 10000, "amount_off": 1000, "coupons": {str(given): 2}}]
    assert (await client.post("/admin-api/pricing/rewards", json=reward(levels=levels),
                              headers=admin)).status_code == 201


async def test_activity_validation_speaks_the_callers_language(client, tokens):
    body = reward(levels=[{"threshold": 100, "amount_off": 100}, {"threshold": 50, "free_delivery": True}])
    zh = await client.post("/admin-api/pricing/rewards", json=body, headers={**tokens["admin"],
                                                                             "Accept-Language": "zh-CN"})
    en = await client.post("/admin-api/pricing/rewards", json=body, headers={**tokens["admin"],
                                                                             "Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    assert not english_in(zh.json()["error"]["message"]), zh.json()["error"]["message"]
    assert "threshold" in en.json()["error"]["message"]
    assert zh.json()["error"]["details"]["problems_codes"] == en.json()["error"]["details"]["problems_codes"] == [
        "THRESHOLDS_NOT_ASCENDING", "LEVEL_OFF_NOT_BELOW_THRESHOLD"]
    await client.post("/admin-api/pricing/rewards", json=reward("全场"), headers=tokens["admin"])
    conflict = await client.post("/admin-api/pricing/rewards", json=reward("又一个全场"),
                                 headers={**tokens["admin"], "Accept-Language": "zh-CN"})
    assert conflict.status_code == 409
    assert not english_in(conflict.json()["error"]["message"]), conflict.json()["error"]["message"]


async def test_a_special_price_order_is_named_by_its_activity_and_lists_what_it_excluded(
        client, tokens, seckill_app, sale):  # noqa: F811
    await client.post("/admin-api/pricing/discounts", json=discount(skus=((101, 1001),)), headers=tokens["admin"])
    await client.post("/admin-api/pricing/rewards", json=reward("满100减10"), headers=tokens["admin"])
    body = {k: v for k, v in seckill_order(0, sale).items() if k in ("activity", "lines")}
    quote = (await client.post("/app-api/pricing/quote", json=body, headers=tokens["member"])).json()
    [special] = [p for p in quote["promotions"] if p["kind"] == "special"]
    assert special["applied"] and special["name"] not in ("seckill", "")
    excluded = {(p["kind"], p["name"]) for p in quote["promotions"] if p["reason"] == "EXCLUDED_BY_ACTIVITY"}
    assert excluded == {("discount", "限时折扣"), ("reward", "满100减10")}
    assert quote["totals"]["discount"] == quote["totals"]["reward"] == 0


async def test_a_refusal_relayed_from_a_hold_owner_keeps_the_callers_language(client, tokens, seckill_app,
                                                                              sale):  # noqa: F811
    for order_id in (8801, 8802):
        done = await client.post("/internal/pricing/checkout", json=seckill_order(order_id, sale),
                                 headers=tokens["service"])
        assert done.status_code == 200, done.text
    for locale, check in (("zh-CN", lambda m: not english_in(m)), ("en", lambda m: not CJK.search(m))):
        over = await client.post("/internal/pricing/checkout", json=seckill_order(8803, sale),
                                 headers={**tokens["service"], "Accept-Language": locale})
        assert over.status_code == 409 and over.json()["error"]["code"] == "PRICING_HOLD_FAILED"
        assert check(over.json()["error"]["message"]), over.json()["error"]["message"]
