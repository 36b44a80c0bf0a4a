"""A multi-shop cart in the calculator: each shop's promotions touch its own lines only, the
platform's span shops, every amount is apportioned exactly, and the best combination of coupons
is never worse than any other choice."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pricing import calculator as c
from services.pricing.calculator import (
    Cart,
    ChosenCoupon,
    ConditionType,
    DiscountType,
    Kind,
    Line,
    Offers,
    PointsRules,
    ProductScope,
    RewardLevel,
    RewardRule,
    SkuDiscount,
    SpecialKind,
    SpecialPrice,
)

A, B, C = 71, 72, 73  # three merchants


def line(sku: int, price: int, shop: int | None, count: int = 1, *, spu: int | None = None,
         category: int = 1) -> Line:
    return Line(sku, spu or sku, category, price, count, True, shop)


def rule(rule_id: int, owner: int | None, threshold: int, off: int, *, scope=ProductScope.ALL, values=()) -> RewardRule:
    return RewardRule(rule_id, f"满{threshold}减{off}", ConditionType.AMOUNT, scope, frozenset(values),
                      (RewardLevel(threshold, off),), owner)


def taken(quote: c.Quote, kind: Kind, promotion_id: int | None = None) -> list[int]:
    return [sum(a.amount for a in p.adjustments if a.kind is kind and promotion_id in (None, a.promotion_id))
            for p in quote.lines]


def test_a_merchants_discount_prices_only_its_own_lines_the_platforms_any_line():
    offers = Offers({1: SkuDiscount(11, "A 9折", 1, DiscountType.PERCENT, pay_bp=9000, business_id=A),
                     2: SkuDiscount(12, "平台 减1元", 2, DiscountType.AMOUNT, amount_off=100)})
    lines = [line(1, 1000, A), line(1, 1000, B), line(2, 1000, B), line(2, 1000, None)]
    quote = c.finish(c.price_until_coupon(Cart(tuple(lines)), offers), None, PointsRules())
    assert taken(quote, Kind.DISCOUNT) == [100, 0, 100, 100]
    result = next(r for r in quote.promotions if r.id == 11)
    assert result.line_indexes == (0,) and result.business_id == A
    assert next(r for r in quote.promotions if r.id == 12).business_id is None


def test_a_shops_reward_touches_only_its_lines_whatever_spus_it_names():
    # A's spend-and-save names SPU 5, which B also sells: B's line is not A's to discount
    offers = Offers(rewards=(rule(1, A, 1000, 300, scope=ProductScope.SPU, values=[5]),))
    lines = [line(1, 600, A, spu=5), line(2, 600, B, spu=5), line(3, 600, A, spu=5)]
    quote = c.finish(c.price_until_coupon(Cart(tuple(lines)), offers), None, PointsRules())
    assert taken(quote, Kind.REWARD) == [150, 0, 150]
    [result] = [r for r in quote.promotions if r.kind is Kind.REWARD]
    assert result.applied and result.line_indexes == (0, 2) and result.business_id == A


def test_a_shop_below_its_threshold_keeps_the_hint_and_another_merchants_rule_is_not_listed():
    offers = Offers(rewards=(rule(1, A, 2000, 300), rule(2, C, 100, 50)))
    quote = c.finish(c.price_until_coupon(Cart((line(1, 1500, A), line(2, 900, B))), offers), None, PointsRules())
    [result] = [r for r in quote.promotions if r.kind is Kind.REWARD]
    assert result.id == 1 and not result.applied and result.hint.shortfall == 500


def test_the_platforms_reward_spans_shops_and_is_measured_after_shop_coupons():
    offers = Offers(rewards=(rule(1, A, 1000, 200), rule(2, None, 2000, 400)))
    cart = Cart((line(1, 1200, A), line(2, 1000, B)))
    draft = c.price_until_shop_coupons(cart, offers)
    assert [cl.amount for cl in draft.coupon_lines()] == [1000, 1000]
    assert [cl.business_id for cl in draft.coupon_lines()] == [A, B]
    c.apply_shop_coupons(draft, [ChosenCoupon(9, "A 减100", 100, (0, 1), A)])  # index 1 is B's: ignored
    quote = c.finish(draft, None, PointsRules())
    assert taken(quote, Kind.COUPON) == [100, 0]
    # 900 + 1000 = 1900 < 2000: the platform's level is missed because of the shop coupon
    assert not next(r for r in quote.promotions if r.id == 2).applied
    without = c.finish(c.price_until_coupon(cart, offers), None, PointsRules())
    assert taken(without, Kind.REWARD, 2) == [200, 200] and without.totals.pay == 2200 - 200 - 400


def test_order_of_results_and_the_coupons_applied():
    offers = Offers(rewards=(rule(1, B, 500, 100), rule(2, A, 500, 100), rule(3, None, 100, 10)))
    cart = Cart((line(1, 1000, B), line(2, 1000, A), line(3, 1000, None)))
    draft = c.price_until_shop_coupons(cart, offers)
    c.apply_shop_coupons(draft, [ChosenCoupon(8, "B", 50, (0,), B), ChosenCoupon(7, "A", 50, (1,), A)])
    quote = c.finish(draft, ChosenCoupon(6, "P", 30, (0, 1, 2)), PointsRules())
    assert [(r.kind, r.id) for r in quote.promotions] == [
        (Kind.REWARD, 2), (Kind.REWARD, 1), (Kind.COUPON, 7), (Kind.COUPON, 8), (Kind.REWARD, 3), (Kind.COUPON, 6)]
    assert quote.coupon_ids == (7, 8, 6) and quote.coupon_id == 6
    assert quote.coupon_discounts() == [(7, 50), (8, 50), (6, 30)]
    assert quote.totals.coupon == 130


def test_two_coupons_of_one_shop_are_refused():
    draft = c.price_until_shop_coupons(Cart((line(1, 1000, A),)), Offers())
    with pytest.raises(c.CouponsOfOneOwner):
        c.apply_shop_coupons(draft, [ChosenCoupon(1, "a", 10, (0,), A), ChosenCoupon(2, "b", 10, (0,), A)])


def test_a_merchants_special_price_refuses_another_shops_line_the_platforms_takes_any():
    special = SpecialPrice(SpecialKind.SECKILL, 5, {1: 500}, business_id=A)
    with pytest.raises(c.SpecialPriceOtherShop) as refused:
        c.price_until_coupon(Cart((line(1, 1000, B),), special=special), Offers())
    assert refused.value.code == "PRICING_ACTIVITY_OTHER_SHOP" and refused.value.status == 422
    assert refused.value.message("zh-CN") == "商品 1 不是该活动所属店铺的商品，不能使用该活动价"
    assert refused.value.message("en").startswith("SKU 1 is not sold by the shop")
    with pytest.raises(c.SpecialPriceOtherShop):
        c.price_until_coupon(Cart((line(1, 1000, None),), special=special), Offers())
    mine = c.finish(c.price_until_coupon(Cart((line(1, 1000, A),), special=special), Offers()), None, PointsRules())
    assert mine.totals.pay == 500 and mine.promotions[0].business_id == A
    platform = SpecialPrice(SpecialKind.SECKILL, 6, {1: 400})
    assert c.finish(c.price_until_coupon(Cart((line(1, 1000, B),), special=platform), Offers()), None,
                    PointsRules()).totals.pay == 400


def test_a_special_order_lists_as_excluded_only_promotions_that_could_touch_it():
    special = SpecialPrice(SpecialKind.SECKILL, 5, {1: 500}, business_id=A)
    offers = Offers({1: SkuDiscount(11, "B's", 1, DiscountType.PERCENT, pay_bp=9000, business_id=B)},
                    (rule(1, A, 100, 10), rule(2, B, 100, 10), rule(3, None, 100, 10)))
    quote = c.finish(c.price_until_coupon(Cart((line(1, 1000, A),), special=special), offers), None, PointsRules())
    assert [(r.kind, r.id) for r in quote.promotions if not r.applied] == [(Kind.REWARD, 1), (Kind.REWARD, 3)]


# --- properties of 2- and 3-shop carts ------------------------------------------------------------

SHOPS = (None, A, B, C)


@st.composite
def shop_carts(draw):
    shops = draw(st.sampled_from([(A, B), (A, B, C), (None, A, B), (None, A)]))
    lines = draw(st.lists(st.builds(Line, sku_id=st.integers(1, 6), spu_id=st.integers(1, 4),
                                    category_id=st.integers(1, 3), unit_price=st.integers(0, 20_000),
                                    count=st.integers(1, 3), selected=st.booleans() | st.just(True),
                                    business_id=st.sampled_from(shops)), min_size=2, max_size=9))
    discounts = {}
    for sku in draw(st.lists(st.integers(1, 6), max_size=4, unique=True)):
        owner = draw(st.sampled_from((None, *shops)))
        discounts[sku] = SkuDiscount(100 + sku, f"d{sku}", sku, DiscountType.PERCENT,
                                     pay_bp=draw(st.integers(1, 9999)), business_id=owner)
    rewards = []
    for rule_id in range(1, draw(st.integers(0, 5)) + 1):
        scope = draw(st.sampled_from(list(ProductScope)))
        values = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)) if scope is not ProductScope.ALL else []
        levels = sorted(draw(st.lists(st.tuples(st.integers(1, 60_000), st.integers(0, 20_000)), min_size=1,
                                      max_size=3, unique_by=lambda t: t[0])))
        rewards.append(RewardRule(rule_id, f"r{rule_id}", draw(st.sampled_from(list(ConditionType))), scope,
                                  frozenset(values), tuple(RewardLevel(t, off) for t, off in levels),
                                  draw(st.sampled_from((None, *shops)))))
    coupons = [Toy(200 + n, draw(st.sampled_from((None, *shops))), draw(st.integers(0, 30_000)),
                   draw(st.integers(0, 10_000)), draw(st.none() | st.frozensets(st.integers(1, 4), min_size=1)))
               for n in range(draw(st.integers(0, 5)))]
    cart = Cart(tuple(lines), member_pay_bp=draw(st.none() | st.integers(1, 10_000)))
    return cart, Offers(discounts, tuple(rewards)), coupons


class Toy:
    """A coupon as the coupon service matches it: its owner's lines (every line for the
    platform's) in its SPU scope, a threshold on what they cost, a fixed amount off."""

    def __init__(self, coupon_id: int, owner: int | None, threshold: int, off: int, spus: frozenset | None) -> None:
        self.coupon_id, self.owner, self.threshold, self.off, self.spus = coupon_id, owner, threshold, off, spus

    def verdict(self, lines: list[c.CouponLine]) -> ChosenCoupon | None:
        mine = [i for i, cl in enumerate(lines) if (self.owner is None or cl.business_id == self.owner)
                and (self.spus is None or cl.spu_id in self.spus)]
        amount = sum(lines[i].amount for i in mine)
        if not mine or amount <= 0 or amount < self.threshold:
            return None
        return ChosenCoupon(self.coupon_id, f"c{self.coupon_id}", min(self.off, amount), tuple(mine), self.owner)


def usable(coupons: list[Toy], draft: c.Draft, shop: bool) -> list[ChosenCoupon]:
    lines = draft.coupon_lines()
    return [v for t in coupons if (t.owner is not None) == shop and (v := t.verdict(lines)) is not None]


def check_quote(quote: c.Quote, offers: Offers) -> None:
    selected = [p for p in quote.lines if p.line.selected]
    for p in quote.lines:
        assert p.pay >= 0 and p.original - sum(a.amount for a in p.adjustments) == p.pay
    owners = {(r.kind, r.id): r.business_id for r in quote.promotions}
    for p in quote.lines:
        for a in p.adjustments:
            owner = owners.get((a.kind, a.promotion_id))
            assert owner is None or owner == p.line.business_id, f"{a} of {owner} on {p.line.business_id}'s line"
    totals = quote.totals
    assert totals.pay == sum(p.pay for p in selected) > 0
    assert totals.original - totals.discount - totals.member - totals.reward - totals.coupon == totals.pay
    for result in quote.promotions:
        if result.applied and result.kind in (Kind.REWARD, Kind.COUPON):
            shares = [sum(a.amount for a in quote.lines[i].adjustments if a.kind is result.kind and
                          a.promotion_id == result.id) for i in result.line_indexes]
            assert sum(shares) == result.amount, "shares sum exactly to the amount"
            assert all(owns_line(result.business_id, quote.lines[i].line) for i in result.line_indexes)
    claimed: set[int] = set()  # a platform rule reaches every line it covers, whichever shop sells it
    for r in sorted((r for r in offers.rewards if r.business_id is None),
                    key=lambda r: (c.SCOPE_PRECEDENCE[r.scope], r.id)):
        result = next((x for x in quote.promotions if x.kind is Kind.REWARD and x.id == r.id), None)
        if result is not None and result.applied:
            covered = tuple(p.index for p in selected if r.covers(p.line) and p.index not in claimed)
            assert result.line_indexes == covered
            claimed.update(covered)


def owns_line(owner: int | None, line_: Line) -> bool:
    return owner is None or owner == line_.business_id


@settings(max_examples=250, deadline=None)
@given(shop_carts())
def test_shop_properties_and_the_best_coupons_beat_every_choice(scenario):
    cart, offers, coupons = scenario
    try:
        base = c.price_until_shop_coupons(cart, offers)
    except c.NothingSelected:
        return
    before = sum(p.pay for p in base.lines if p.line.selected)
    if before == 0:
        return  # a free cart is refused whatever the coupons
    shop_usable: dict[int, list[ChosenCoupon]] = {}
    for v in usable(coupons, base, shop=True):
        shop_usable.setdefault(v.business_id, []).append(v)
    tried: list[c.Draft] = []

    def platform(d: c.Draft) -> list[ChosenCoupon]:
        tried.append(d)
        return usable(coupons, d, shop=False)

    most = max((t.off for t in coupons if t.owner is None), default=0)  # what a platform toy takes at most
    pick = c.best_coupons(base, shop_usable, platform, limit=10_000, coupon_ceiling=most)
    assert len(tried) <= len(c.shop_coupon_choices(shop_usable, limit=10_000)), "choices that cannot win are skipped"
    if pick.pay == 0:
        return  # spend-and-save took everything (coupons always leave a fen): refused whatever the coupons
    quote = c.finish(pick.draft.copy(), pick.platform, PointsRules())
    check_quote(quote, offers)
    assert quote.totals.pay == pick.pay
    # brute force: none or any one coupon per shop, then none or any usable platform coupon
    per_shop = [[None, *shop_usable[b]] for b in sorted(shop_usable)]
    for combination in product(*per_shop):
        choice = [x for x in combination if x is not None]
        draft = c.price_until_shop_coupons(cart, offers)
        c.apply_shop_coupons(draft, choice)
        for platform in (None, *usable(coupons, draft, shop=False)):
            other = c.finish(draft.copy(), platform, PointsRules())
            check_quote(other, offers)
            assert quote.totals.pay <= other.totals.pay, (choice, platform)


def test_choices_that_cannot_beat_the_best_are_not_priced():
    """Each shop's largest coupon leaves 1000 - 300 + 1000 - 300 to pay; no other choice can go below
    it when the platform takes off at most 100 (its coupon) and 0 (no spend-and-save): one platform
    match. With a platform spend-and-save whose top level takes 1000 off, every choice is worth it."""
    cart = Cart((line(1, 1000, A), line(2, 1000, B)))
    shop = {A: [ChosenCoupon(8, "A 减300", 300, (0,), A)], B: [ChosenCoupon(9, "B 减300", 300, (1,), B)]}
    priced: list[c.Draft] = []

    def platform(d: c.Draft) -> list[ChosenCoupon]:
        priced.append(d)
        return [ChosenCoupon(7, "平台减100", 100, (0, 1), None)]

    pick = c.best_coupons(c.price_until_shop_coupons(cart, Offers()), shop, platform, coupon_ceiling=100)
    assert (pick.pay, len(priced)) == (1300, 1) and {x.coupon_id for x in pick.shop} == {8, 9}
    priced.clear()
    unbounded = c.best_coupons(c.price_until_shop_coupons(cart, Offers()), shop, platform)
    assert (unbounded.pay, len(priced)) == (1300, 4), "without a ceiling every choice is priced"
    priced.clear()
    big = Offers(rewards=(rule(1, None, 2000, 1000),))
    pick = c.best_coupons(c.price_until_shop_coupons(cart, big), shop, platform, coupon_ceiling=100)
    assert pick.shop == () and pick.pay == 900 and len(priced) > 1, "the platform's 1000 off needs 2000: no shop coupon"


def test_the_best_coupons_skip_a_shop_coupon_that_costs_the_platform_level():
    offers = Offers(rewards=(rule(1, None, 2000, 500),))
    cart = Cart((line(1, 1000, A), line(2, 1000, B)))
    base = c.price_until_shop_coupons(cart, offers)
    shop = {A: [ChosenCoupon(9, "A 减100", 100, (0,), A)]}
    pick = c.best_coupons(base, shop, lambda d: [])
    assert pick.shop == () and pick.pay == 1500, "the platform's 500 beats the shop's 100"
    base = c.price_until_shop_coupons(cart, offers)  # best_coupons used the first up
    pick = c.best_coupons(base, shop, lambda d: [], limit=1)  # too many to try: the largest, and none
    assert pick.shop == () and pick.pay == 1500


def test_shop_coupon_choices():
    a1, a2, b1 = (ChosenCoupon(1, "a1", 10, (), A), ChosenCoupon(2, "a2", 30, (), A), ChosenCoupon(3, "b1", 5, (), B))
    choices = c.shop_coupon_choices({A: [a1, a2], B: [b1]})
    assert choices[0] == (a2, b1) and len(choices) == 6 and () in choices and (a1,) in choices
    assert c.shop_coupon_choices({A: [a1, a2], B: [b1]}, limit=2) == [(a2, b1), ()]
    assert c.shop_coupon_choices({}) == [()]
