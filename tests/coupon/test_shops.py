"""Shop and platform coupons against a cart of several shops: a shop's coupon (template
business_id B) considers only the lines of shop B, whatever its scope names; the platform's
considers the lines of every shop in its scope. Pure rules, then over HTTP against MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.coupon.domain import (
    CartIndex,
    CartLine,
    DiscountType,
    HeldCoupon,
    TakeType,
    Terms,
    Unusable,
    check_one_per_owner,
    match_coupon,
    match_coupons,
)
from services.coupon.errors import OneCouponPerOwner, TakeTypePlatformOnly
from services.coupon.template_rules import check_take_type_for_owner
from shared.auth import Role
from shared.enums import ProductScope
from tests.conftest import bearer
from tests.coupon.test_api import make_template, take, template_body

NOW = datetime(2026, 6, 1, tzinfo=UTC)
M = "/merchant-api/coupon"
MATCH = "/internal/coupon/match"


def coupon(coupon_id: int, shop: int | None, use_price: int = 0, off: int = 1000,
           scope: ProductScope = ProductScope.ALL, values: tuple[int, ...] = ()) -> HeldCoupon:
    return HeldCoupon(coupon_id, Terms(use_price, scope, values, DiscountType.PRICE, discount_price=off),
                      NOW - timedelta(days=1), NOW + timedelta(days=1), shop)


# shop 1 sells SPU 1 (8,000) and SPU 2 (3,000); shop 2 sells SPU 3 (20,000); the platform SPU 4 (5,000)
CART = [CartLine(1, 10, 8000, 1), CartLine(2, 10, 3000, 1), CartLine(3, 10, 20000, 2), CartLine(4, 20, 5000)]


def test_a_shop_coupon_counts_its_threshold_and_discount_on_its_own_lines_only():
    cart = CartIndex(CART)
    assert match_coupon(coupon(1, 1, use_price=10000), cart, NOW).line_indexes == (0, 1)
    below = match_coupon(coupon(2, 1, use_price=20000), cart, NOW)
    assert below.reason is Unusable.BELOW_THRESHOLD and below.details == {"shortfall": "90.00"}, \
        "shop 2's 20,000 does not help shop 1's coupon"
    platform = match_coupon(coupon(3, None, use_price=20000), cart, NOW)
    assert platform.usable and platform.line_indexes == (0, 1, 2, 3), "the platform's coupon spans every shop"


def test_a_shop_coupon_ignores_other_shops_lines_whatever_its_scope_names():
    cart = CartIndex(CART)
    named = match_coupon(coupon(1, 1, scope=ProductScope.SPU, values=(2, 3, 4)), cart, NOW)
    assert named.usable and named.line_indexes == (1,), "SPU 3 is shop 2's, SPU 4 the platform's"
    elsewhere = match_coupon(coupon(2, 1, scope=ProductScope.SPU, values=(3,)), cart, NOW)
    assert elsewhere.reason is Unusable.NO_PRODUCT_IN_SCOPE
    absent = match_coupon(coupon(3, 9), cart, NOW)
    assert absent.reason is Unusable.NO_PRODUCT_IN_SCOPE, "no line of shop 9 in the cart"
    by_category = match_coupon(coupon(4, None, scope=ProductScope.CATEGORY, values=(20,)), cart, NOW)
    assert by_category.line_indexes == (3,)


def test_a_shop_coupon_leaves_one_fen_of_its_shop_s_lines_to_pay():
    cart = CartIndex([CartLine(1, 10, 500, 1), CartLine(2, 10, 90000, 2)])
    assert match_coupon(coupon(1, 1, off=1000), cart, NOW).discount == 499
    assert match_coupon(coupon(2, None, off=1000), cart, NOW).discount == 1000
    penny = CartIndex([CartLine(1, 10, 1, 1), CartLine(2, 10, 90000, 2)])
    assert match_coupon(coupon(3, 1), penny, NOW).reason is Unusable.NOTHING_TO_PAY


def test_the_best_is_the_best_single_usable_coupon_of_any_owner():
    _, best = match_coupons([coupon(1, 1, off=500), coupon(2, 2, off=1500), coupon(3, None, off=1000)], CART, NOW)
    assert best is not None and best.coupon_id == 2


def test_an_order_uses_one_coupon_per_shop_and_one_of_the_platform():
    check_one_per_owner({1: 1, 2: 2, 3: None})
    check_one_per_owner({})
    for owners, clash in (({5: 1, 2: 1, 3: None}, "2, 5"), ({1: None, 2: 7, 3: None}, "1, 3")):
        with pytest.raises(OneCouponPerOwner) as refused:
            check_one_per_owner(owners)
        assert refused.value.details["coupon_ids"] == clash


def test_only_the_platform_issues_coupons_to_every_new_member():
    for take_type in TakeType:
        check_take_type_for_owner(None, take_type)
    check_take_type_for_owner(7, TakeType.USER)
    check_take_type_for_owner(7, TakeType.ADMIN)  # what the shop's own spend-and-save gives
    for take_type in (TakeType.REGISTER,):
        with pytest.raises(TakeTypePlatformOnly) as refused:
            check_take_type_for_owner(7, take_type)
        assert refused.value.status == 422 and refused.value.details["take_type"] == int(take_type)


lines = st.lists(st.builds(CartLine, st.integers(1, 4), st.integers(10, 12), st.integers(0, 50_000),
                           st.sampled_from([None, 1, 2])), min_size=1, max_size=8)
coupons = st.builds(coupon, st.just(1), st.sampled_from([1, 2]), st.integers(0, 40_000), st.integers(1, 30_000),
                    st.sampled_from(list(ProductScope)), st.lists(st.integers(1, 12), min_size=1, max_size=3)
                    .map(tuple))


@settings(max_examples=300, deadline=None)
@given(lines, coupons)
def test_a_shop_coupon_on_a_mixed_cart_matches_as_on_its_shop_s_lines_alone(cart, shop_coupon):
    """The same verdict and discount as the platform's coupon of the same terms on a cart of the
    shop's lines only, the lines numbered as in the mixed cart."""
    mine = [i for i, line in enumerate(cart) if line.business_id == shop_coupon.business_id]
    mixed = match_coupon(shop_coupon, CartIndex(cart), NOW)
    alone = match_coupon(HeldCoupon(shop_coupon.id, shop_coupon.terms, shop_coupon.valid_start,
                                    shop_coupon.valid_end), CartIndex([cart[i] for i in mine]), NOW)
    assert (mixed.usable, mixed.discount, mixed.reason) == (alone.usable, alone.discount, alone.reason)
    assert mixed.line_indexes == tuple(mine[i] for i in alone.line_indexes)
    assert set(mixed.line_indexes) <= set(mine)


# --- over HTTP --------------------------------------------------------------------------------------


async def shop_coupon(client, tokens, dev_settings, shop: int, **overrides) -> int:
    created = await client.post(f"{M}/templates", json=template_body(take_limit_count=-1, **overrides),
                                headers=bearer(dev_settings, Role.MERCHANT, 2000 + shop, business_id=shop))
    assert created.status_code == 201, created.text
    return (await take(client, created.json()["id"], tokens["member"])).json()["coupon_id"]


async def platform_coupon(client, tokens, **overrides) -> int:
    created = await make_template(client, tokens, take_limit_count=-1, **overrides)
    return (await take(client, created["id"], tokens["member"])).json()["coupon_id"]


def body(owners: str | None = None) -> dict:
    lines = [{"spu_id": 1, "category_id": 10, "amount": 8000, "business_id": 1},
             {"spu_id": 2, "category_id": 10, "amount": 3000, "business_id": 1},
             {"spu_id": 3, "category_id": 10, "amount": 20000, "business_id": 2},
             {"spu_id": 4, "category_id": 20, "amount": 5000, "business_id": None}]
    return {"user_id": 1001, "lines": lines, **({"owners": owners} if owners else {})}


async def test_match_answers_each_coupon_with_its_owner_and_narrows_by_owners(client, tokens, dev_settings):
    shop1 = await shop_coupon(client, tokens, dev_settings, 1, name="店1满100减10")
    shop1_far = await shop_coupon(client, tokens, dev_settings, 1, name="店1满200减30", use_price=20000,
                                  discount_price=3000)
    shop2 = await shop_coupon(client, tokens, dev_settings, 2, name="店2满100减20", discount_price=2000)
    platform = await platform_coupon(client, tokens, name="平台满300减50", use_price=30000, discount_price=5000)
    answer = await client.post(MATCH, json=body(), headers=tokens["service"])
    assert answer.status_code == 200, answer.text
    coupons = {c["coupon_id"]: c for c in answer.json()["coupons"]}
    assert {i: (c["business_id"], c["usable"], c["discount"], c["line_indexes"]) for i, c in coupons.items()} == {
        shop1: (1, True, 1000, [0, 1]), shop1_far: (1, False, 0, []), shop2: (2, True, 2000, [2]),
        platform: (None, True, 5000, [0, 1, 2, 3])}
    assert coupons[shop1_far]["reason"] == "BELOW_THRESHOLD"
    assert answer.json()["best_coupon_id"] == platform
    shops = (await client.post(MATCH, json=body("shop"), headers=tokens["service"])).json()
    assert {c["coupon_id"] for c in shops["coupons"]} == {shop1, shop1_far, shop2}
    assert shops["best_coupon_id"] == shop2
    only_platform = (await client.post(MATCH, json=body("platform"), headers=tokens["service"])).json()
    assert [c["coupon_id"] for c in only_platform["coupons"]] == [platform]
    wrong = await client.post(MATCH, json=body("mine"), headers=tokens["service"])
    assert wrong.status_code == 422


async def test_a_cart_without_shops_sees_a_shop_coupon_as_out_of_scope(client, tokens, dev_settings):
    shop1 = await shop_coupon(client, tokens, dev_settings, 1)
    platform = await platform_coupon(client, tokens)
    plain = {"user_id": 1001, "lines": [{"spu_id": 1, "category_id": 10, "amount": 20000}]}
    answer = (await client.post(MATCH, json=plain, headers=tokens["service"])).json()
    verdicts = {c["coupon_id"]: (c["usable"], c["reason"]) for c in answer["coupons"]}
    assert verdicts == {shop1: (False, "NO_PRODUCT_IN_SCOPE"), platform: (True, None)}
    assert answer["best_coupon_id"] == platform


async def test_lookup_names_each_template_s_owner(client, tokens, dev_settings):
    mine = await client.post(f"{M}/templates", json=template_body(),
                             headers=bearer(dev_settings, Role.MERCHANT, 2001, business_id=1))
    platform = await make_template(client, tokens, take_type=2)
    found = await client.post("/internal/coupon/templates/lookup",
                              json={"template_ids": [mine.json()["id"], platform["id"]]}, headers=tokens["service"])
    assert {t["id"]: t["business_id"] for t in found.json()["templates"]} == {mine.json()["id"]: 1,
                                                                              platform["id"]: None}

