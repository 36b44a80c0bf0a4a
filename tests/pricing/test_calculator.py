"""The price calculator, step by step, and its properties."""

from __future__ import annotations

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
    NotApplied,
    Offers,
    PointsRules,
    ProductScope,
    RewardLevel,
    RewardRule,
    SkuDiscount,
    SpecialKind,
    SpecialPrice,
)


def line(sku: int, price: int, count: int = 1, *, spu: int | None = None, category: int = 1,
         selected: bool = True) -> Line:
    return Line(sku, spu or sku, category, price, count, selected)


def reward(rule_id: int, *levels: RewardLevel, condition=ConditionType.AMOUNT, scope=ProductScope.ALL,
           values=(), name="满减") -> RewardRule:
    return RewardRule(rule_id, name, condition, scope, frozenset(values), levels)


def run(lines, offers=Offers(), coupon=None, rules=PointsRules(), **cart) -> c.Quote:
    draft = c.price_until_coupon(Cart(tuple(lines), **cart), offers)
    return c.finish(draft, coupon, rules)


def adjustments(quote: c.Quote, kind: Kind) -> list[int]:
    return [sum(a.amount for a in p.adjustments if a.kind is kind) for p in quote.lines]


def promotion(quote: c.Quote, kind: Kind, promotion_id: int | None = None) -> c.PromotionResult:
    return next(p for p in quote.promotions if p.kind is kind and (promotion_id is None or p.id == promotion_id))


# --- limited-time discount and member price -------------------------------------------------------

def test_percent_discount_rounds_the_discount_down():
    offer = SkuDiscount(1, "8.5折", 10, DiscountType.PERCENT, pay_bp=8500)
    quote = run([line(10, 999, 3)], Offers({10: offer}))
    # 999 * 15% = 149.85 -> 149 off each unit, 3 units
    assert adjustments(quote, Kind.DISCOUNT) == [447]
    assert quote.totals.pay == 2997 - 447


def test_fixed_discount_never_below_zero():
    quote = run([line(10, 300, 2), line(11, 1000)],
                Offers({10: SkuDiscount(1, "减5元", 10, DiscountType.AMOUNT, amount_off=500)}))
    assert adjustments(quote, Kind.DISCOUNT) == [600, 0]
    assert [p.pay for p in quote.lines] == [0, 1000]


def test_member_price_wins_when_better_and_discount_wins_a_tie():
    offers = Offers({10: SkuDiscount(1, "9折", 10, DiscountType.PERCENT, pay_bp=9000),
                     11: SkuDiscount(1, "9折", 11, DiscountType.PERCENT, pay_bp=9000)})
    tie = run([line(10, 1000), line(11, 1000)], offers, member_pay_bp=9000)
    assert adjustments(tie, Kind.DISCOUNT) == [100, 100] and adjustments(tie, Kind.MEMBER) == [0, 0]
    assert promotion(tie, Kind.MEMBER).reason is NotApplied.NOT_BETTER

    better = run([line(10, 1000), line(12, 1000)], offers, member_pay_bp=8800)
    assert adjustments(better, Kind.MEMBER) == [120, 120]
    assert promotion(better, Kind.DISCOUNT, 1).applied is False
    assert promotion(better, Kind.DISCOUNT, 1).reason is NotApplied.NOT_BETTER


# --- spend-and-save -------------------------------------------------------------------------------

def test_tiered_amount_reward_takes_the_highest_level_reached_and_hints_the_next():
    rule = reward(7, RewardLevel(10000, 1000), RewardLevel(20000, 2500), RewardLevel(30000, 4000))
    quote = run([line(1, 12000), line(2, 10000)], Offers(rewards=(rule,)))
    result = promotion(quote, Kind.REWARD)
    assert result.applied and result.amount == 2500 and result.level.threshold == 20000
    assert c.describe_hint(result.hint, "zh-CN") == "再买 ¥80.00 减40"
    assert sum(adjustments(quote, Kind.REWARD)) == 2500
    assert quote.totals.pay == 22000 - 2500


def test_reward_threshold_not_reached_is_a_near_miss():
    rule = reward(7, RewardLevel(10000, 1000, free_delivery=True))
    quote = run([line(1, 8000)], Offers(rewards=(rule,)))
    result = promotion(quote, Kind.REWARD)
    assert not result.applied and result.reason is NotApplied.BELOW_THRESHOLD
    assert c.describe_hint(result.hint, "zh-CN") == "再买 ¥20.00 减10，包邮"
    assert c.describe_hint(result.hint, "en") == "Add ¥20.00 more: ¥10 off, free delivery"
    assert quote.totals.pay == 8000 and not quote.grants.free_delivery


def test_count_reward_counts_items_in_scope_only():
    rule = reward(7, RewardLevel(3, 500), RewardLevel(5, 1000, points=20, coupons=((9, 2),)),
                  condition=ConditionType.COUNT, scope=ProductScope.CATEGORY, values=[5])
    quote = run([line(1, 1000, 2, category=5), line(2, 1000, 3, category=5), line(3, 1000, 9, category=6)],
                Offers(rewards=(rule,)))
    assert adjustments(quote, Kind.REWARD) == [400, 600, 0]
    assert quote.grants.coupons == {9: 2} and quote.grants.points == 20
    assert c.describe_level(ConditionType.COUNT, rule.levels[1], "zh-CN") == "满5件减10，送20积分，送2张券"


def test_reward_is_measured_after_the_discount():
    rule = reward(7, RewardLevel(10000, 1000))
    quote = run([line(1, 10000)], Offers({1: SkuDiscount(1, "9折", 1, DiscountType.PERCENT, pay_bp=9000)}, (rule,)))
    assert promotion(quote, Kind.REWARD).reason is NotApplied.BELOW_THRESHOLD


def test_each_line_gets_at_most_one_reward_the_most_specific_first():
    everything = reward(1, RewardLevel(100, 50))
    spu = reward(2, RewardLevel(100, 30), scope=ProductScope.SPU, values=[1])
    quote = run([line(1, 1000), line(2, 1000)], Offers(rewards=(everything, spu)))
    assert adjustments(quote, Kind.REWARD) == [30, 50]
    assert promotion(quote, Kind.REWARD, 2).line_indexes == (0,)
    assert promotion(quote, Kind.REWARD, 1).line_indexes == (1,)


# --- coupon -----------------------------------------------------------------------------------------

def test_coupon_touches_only_its_lines_and_what_they_still_cost():
    rule = reward(7, RewardLevel(1000, 300))
    draft = c.price_until_coupon(Cart((line(1, 600), line(2, 600), line(3, 600))), Offers(rewards=(rule,)))
    assert [cl.amount for cl in draft.coupon_lines()] == [500, 500, 500]
    quote = c.finish(draft, ChosenCoupon(5, "满5减3", 301, (0, 2)), PointsRules())
    assert adjustments(quote, Kind.COUPON) == [151, 0, 150]
    assert promotion(quote, Kind.COUPON).name == "满5减3" and quote.totals.points_spent == 0
    assert quote.lines[1].pay == 500 and quote.coupon_id == 5


def test_coupon_cannot_exceed_the_lines_it_touches():
    draft = c.price_until_coupon(Cart((line(1, 100), line(2, 900))), Offers())
    quote = c.finish(draft, ChosenCoupon(5, "big", 5000, (0,)), PointsRules())
    with_one_fen_left = run([line(1, 100), line(2, 900)])
    assert adjustments(quote, Kind.COUPON) == [100, 0]
    assert quote.totals.pay == 900 and with_one_fen_left.totals.pay == 1000


def test_unselected_lines_are_ignored():
    rule = reward(7, RewardLevel(1000, 100))
    quote = run([line(1, 800), line(2, 800, selected=False)], Offers(rewards=(rule,)))
    assert promotion(quote, Kind.REWARD).reason is NotApplied.BELOW_THRESHOLD
    assert quote.totals.original == 800 and quote.lines[1].adjustments == []
    with pytest.raises(c.NothingSelected):
        run([line(1, 800, selected=False)])


# --- points -----------------------------------------------------------------------------------------

def test_points_capped_by_balance_settings_and_one_fen_left():
    rules = PointsRules(enabled=True, fen_per_point=10, max_points_per_order=50)
    by_balance = run([line(1, 10000)], rules=rules, use_points=True, points_balance=30)
    assert by_balance.totals.points_used == 30 and by_balance.totals.points == 300
    by_setting = run([line(1, 10000)], rules=rules, use_points=True, points_balance=1000)
    assert by_setting.totals.points_used == 50 and by_setting.totals.pay == 9500
    by_price = run([line(1, 95)], rules=PointsRules(enabled=True, fen_per_point=10), use_points=True,
                   points_balance=1000)
    assert by_price.totals.points_used == 9 and by_price.totals.pay == 5  # 9 points = 90 fen; never to 0
    disabled = run([line(1, 10000)], rules=PointsRules(enabled=False), use_points=True, points_balance=100)
    assert disabled.totals.points == 0 and promotion(disabled, Kind.POINTS).reason is NotApplied.POINTS_DISABLED
    assert promotion(disabled, Kind.POINTS).applied is False


def test_points_granted_per_yuan_paid_plus_reward_points():
    rule = reward(7, RewardLevel(1000, 0, points=30))
    quote = run([line(1, 1999), line(2, 1000)], Offers(rewards=(rule,)), rules=PointsRules(grant_per_yuan=2))
    assert quote.totals.points_granted == 2999 * 2 // 100 + 30
    assert sum(p.points_granted for p in quote.lines) == quote.grants.points


def test_zero_pay_is_refused_for_normal_orders():
    with pytest.raises(c.PayAmountNotPositive):
        run([line(1, 500)], Offers({1: SkuDiscount(1, "free", 1, DiscountType.AMOUNT, amount_off=500)}))


# --- special activities -------------------------------------------------------------------------

def test_special_activity_price_is_exclusive():
    offers = Offers({1: SkuDiscount(3, "9折", 1, DiscountType.PERCENT, pay_bp=9000)},
                    (reward(7, RewardLevel(100, 50)),))
    special = SpecialPrice(SpecialKind.SECKILL, 42, {1: 1999})
    quote = run([line(1, 5000, 2)], offers, special=special, member_pay_bp=5000)
    assert quote.totals.pay == 3998 and quote.totals.special == 10000 - 3998
    assert promotion(quote, Kind.DISCOUNT).reason is NotApplied.EXCLUDED_BY_ACTIVITY
    assert promotion(quote, Kind.REWARD).reason is NotApplied.EXCLUDED_BY_ACTIVITY
    draft = c.price_until_coupon(Cart((line(1, 5000),), special=special), offers)
    assert draft.coupon_lines() == []
    with pytest.raises(c.CouponNotAllowed):
        c.finish(draft, ChosenCoupon(5, "x", 100, ()), PointsRules())
    with pytest.raises(c.SpecialPriceMissing):
        run([line(2, 100)], special=special)


def test_points_leave_exactly_one_fen_to_pay():
    quote = run([line(1, 5000, 2)], use_points=True, points_balance=1_000_000,
                rules=PointsRules(enabled=True, fen_per_point=1))
    assert quote.totals.pay == 1 and quote.totals.points == 9999 and quote.totals.points_used == 9999


def test_a_coupon_worth_nothing_takes_nothing():
    draft = c.price_until_coupon(Cart((line(1, 500),)), Offers())
    assert c.finish(draft, ChosenCoupon(7, "零元券", 0, (0,)), PointsRules()).totals.coupon == 0


def test_a_coupon_larger_than_the_order_leaves_exactly_one_fen():
    draft = c.price_until_coupon(Cart((line(1, 500, 1), line(2, 300, 1))), Offers())
    quote = c.finish(draft, ChosenCoupon(7, "减1000", 100_000, (0, 1)), PointsRules())
    assert quote.totals.coupon == 799 and quote.totals.pay == 1


def test_points_mall_order_may_be_free():
    special = SpecialPrice(SpecialKind.POINTS_MALL, 9, {1: 0}, {1: 500})
    quote = run([line(1, 5000, 2)], special=special, use_points=True, points_balance=10,
                rules=PointsRules(enabled=True))
    assert quote.totals.pay == 0 and quote.totals.points_spent == 1000 and quote.totals.points_used == 0


@pytest.mark.parametrize("kind", [SpecialKind.SECKILL, SpecialKind.GROUPBUY, SpecialKind.BARGAIN])
def test_only_a_points_mall_order_may_be_free(kind):
    with pytest.raises(c.PayAmountNotPositive):
        run([line(1, 5000, 1)], special=SpecialPrice(kind, 9, {1: 0}))


def test_a_points_mall_line_costs_its_cash_even_above_the_skus_price_and_earns_no_points():
    rules = PointsRules(enabled=True, grant_per_yuan=10)
    quote = run([line(1, 500, 2)], special=SpecialPrice(SpecialKind.POINTS_MALL, 9, {1: 1000}, {1: 300}), rules=rules)
    assert (quote.totals.original, quote.totals.special, quote.totals.pay) == (2000, 0, 2000)
    assert (quote.totals.points_spent, quote.totals.points_granted) == (600, 0)
    cheaper = run([line(1, 5000, 2)], special=SpecialPrice(SpecialKind.POINTS_MALL, 9, {1: 1000}, {1: 300}),
                  rules=rules)
    assert (cheaper.totals.original, cheaper.totals.special, cheaper.totals.pay) == (10_000, 8000, 2000)
    assert cheaper.totals.points_granted == 0
    seckill = run([line(1, 5000, 2)], special=SpecialPrice(SpecialKind.SECKILL, 9, {1: 1000}), rules=rules)
    assert seckill.totals.points_granted == 200, "other special orders still earn points on what they pay"


# --- properties -------------------------------------------------------------------------------------

lines_strategy = st.lists(
    st.builds(Line, sku_id=st.integers(1, 6), spu_id=st.integers(1, 4), category_id=st.integers(1, 3),
              unit_price=st.integers(0, 50_000), count=st.integers(1, 5), selected=st.booleans()),
    min_size=1, max_size=12)
discount_strategy = st.dictionaries(st.integers(1, 6), st.one_of(
    st.integers(1, 9999).map(lambda bp: (DiscountType.PERCENT, bp)),
    st.integers(1, 60_000).map(lambda off: (DiscountType.AMOUNT, off))), max_size=6)
levels_strategy = st.lists(st.tuples(st.integers(1, 200_000), st.integers(0, 100_000), st.integers(0, 500)),
                           min_size=1, max_size=4, unique_by=lambda t: t[0])


@st.composite
def scenarios(draw):
    lines = draw(lines_strategy)
    discounts = {sku: SkuDiscount(sku, f"d{sku}", sku, kind, amount_off=value if kind is DiscountType.AMOUNT else 0,
                                  pay_bp=value if kind is DiscountType.PERCENT else c.FULL_BP)
                 for sku, (kind, value) in draw(discount_strategy).items()}
    rewards = []
    for rule_id in range(draw(st.integers(0, 3))):
        levels = tuple(RewardLevel(t, off, points=pts) for t, off, pts in sorted(draw(levels_strategy)))
        scope = draw(st.sampled_from(list(ProductScope)))
        values = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)) if scope is not ProductScope.ALL else []
        condition = draw(st.sampled_from(list(ConditionType)))
        rewards.append(reward(rule_id + 1, *levels, condition=condition, scope=scope, values=values))
    cart = Cart(tuple(lines), member_pay_bp=draw(st.none() | st.integers(1, 10_000)),
                use_points=draw(st.booleans()), points_balance=draw(st.integers(0, 100_000)))
    coupon_pick = draw(st.lists(st.integers(0, 11), max_size=6, unique=True))
    coupon_off = draw(st.integers(0, 500_000))
    rules = PointsRules(True, draw(st.integers(1, 100)), draw(st.integers(0, 1000)), draw(st.integers(0, 10)))
    return cart, Offers(discounts, tuple(rewards)), coupon_pick, coupon_off, rules


def price_all(cart, offers, coupon_pick, coupon_off, rules):
    """The quote and the coupon lines the coupon did not touch; or, when pricing refused, why,
    with what the selected lines cost before the coupon."""
    try:
        draft = c.price_until_coupon(cart, offers)
    except c.NothingSelected:
        return "nothing selected", None
    indexes = tuple(i for i in coupon_pick if i < len(draft.coupon_lines()))
    coupon = ChosenCoupon(1, "c", coupon_off, indexes) if indexes else None
    coupon_lines = [cl.line_index for cl in draft.coupon_lines()]
    before_coupon = sum(p.pay for p in draft.lines if p.line.selected)
    try:
        quote = c.finish(draft, coupon, rules)
    except c.PayAmountNotPositive:
        return "pays nothing", before_coupon
    untouched = [coupon_lines[i] for i in range(len(coupon_lines)) if i not in indexes]
    return quote, untouched


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_properties(scenario):
    cart = scenario[0]
    quote, context = price_all(*scenario)
    if quote == "nothing selected":
        assert not any(line.selected for line in cart.lines), "refused though a line was selected"
        return
    if quote == "pays nothing":
        # neither a coupon nor points ever take the last fen: only a cart already free is refused
        assert context == 0, f"refused with {context} fen to pay before the coupon"
        return
    selected = [p for p in quote.lines if p.line.selected]
    for p in quote.lines:
        assert p.pay >= 0, "no line below zero"
        assert p.original - sum(a.amount for a in p.adjustments) == p.pay, "adjustments explain the line"
        assert all(a.amount > 0 for a in p.adjustments)
    totals = quote.totals
    assert totals.pay == sum(p.pay for p in selected) > 0
    assert totals.original == sum(p.original for p in selected)
    assert totals.original - totals.special - totals.discount - totals.member - totals.reward - totals.coupon \
        - totals.points == totals.pay, "totals = sum of lines"
    for kind in (Kind.SPECIAL, Kind.DISCOUNT, Kind.MEMBER, Kind.REWARD, Kind.COUPON, Kind.POINTS):
        assert getattr(totals, kind.value) == sum(a.amount for p in selected for a in p.adjustments if a.kind is kind)
    for result in quote.promotions:
        if result.applied and result.kind in (Kind.REWARD, Kind.COUPON, Kind.POINTS):
            shares = [sum(a.amount for a in quote.lines[i].adjustments if a.kind is result.kind and
                          (result.kind is Kind.POINTS or a.promotion_id == result.id)) for i in result.line_indexes]
            assert sum(shares) == result.amount, "shares sum exactly to the order-level amount"
    untouched = context
    for i in untouched:
        assert not any(a.kind is Kind.COUPON for a in quote.lines[i].adjustments), "coupon stays in its scope"
    assert price_all(*scenario)[0] == quote, "same input, same output"


# --- what each result says (found by `make mutate`: these were changed freely and no test saw) ------

def test_a_special_price_result_names_its_activity_and_lines_and_what_it_excluded():
    offers = Offers({1: SkuDiscount(3, "9折", 1, DiscountType.PERCENT, pay_bp=9000),
                     2: SkuDiscount(4, "8折", 2, DiscountType.PERCENT, pay_bp=8000)},
                    (reward(9, RewardLevel(100, 50)), reward(8, RewardLevel(100, 50), scope=ProductScope.SPU,
                                                                  values=[1]),
                     reward(7, RewardLevel(100, 50), scope=ProductScope.SPU, values=[99])))
    special = SpecialPrice(SpecialKind.SECKILL, 42, {1: 1999, 2: 6000}, name="双12秒杀")
    quote = run([line(1, 5000, 2), line(2, 5000)], offers, special=special)
    result = promotion(quote, Kind.SPECIAL)
    assert (result.id, result.name, result.applied, result.amount, result.line_indexes) == (
        42, "双12秒杀", True, 10000 - 3998, (0, 1))
    assert quote.lines[0].adjustments == [(Kind.SPECIAL, 42, 10000 - 3998)]
    assert quote.lines[1].adjustments == [], "a special price above the unit price takes nothing off"
    assert quote.totals.points_spent == 0, "only the points mall prices in points"
    excluded = [(p.kind, p.id, p.name, p.applied, p.reason) for p in quote.promotions if p.kind is not Kind.SPECIAL]
    assert excluded == [(Kind.DISCOUNT, 3, "9折", False, NotApplied.EXCLUDED_BY_ACTIVITY),
                        (Kind.DISCOUNT, 4, "8折", False, NotApplied.EXCLUDED_BY_ACTIVITY),
                        (Kind.REWARD, 8, "满减", False, NotApplied.EXCLUDED_BY_ACTIVITY),
                        (Kind.REWARD, 9, "满减", False, NotApplied.EXCLUDED_BY_ACTIVITY)]  # not 7: no line of it
    unnamed = run([line(1, 5000)], special=SpecialPrice(SpecialKind.GROUPBUY, 5, {1: 100}))
    assert promotion(unnamed, Kind.SPECIAL).name == "groupbuy"
    with pytest.raises(c.SpecialPriceMissing) as missing:
        run([line(1, 100), line(3, 100)], special=special)
    assert missing.value.details == {"sku_id": 3}


def test_discount_and_member_results_name_their_promotion_and_lines():
    offers = Offers({10: SkuDiscount(1, "9折", 10, DiscountType.PERCENT, pay_bp=9000),
                     11: SkuDiscount(1, "9折", 11, DiscountType.PERCENT, pay_bp=9000)})
    quote = run([line(10, 1000), line(12, 50), line(11, 1000)], offers, member_pay_bp=9900)
    discount = promotion(quote, Kind.DISCOUNT, 1)
    assert (discount.name, discount.applied, discount.amount, discount.line_indexes) == ("9折", True, 200, (0, 2))
    assert quote.lines[0].adjustments == [(Kind.DISCOUNT, 1, 100)]
    member = promotion(quote, Kind.MEMBER)
    # 50 * 1% rounds to nothing: no member adjustment, the result says not better
    assert (member.id, member.name, member.applied, member.line_indexes) == (0, "", False, ())
    assert member.reason is NotApplied.NOT_BETTER and quote.lines[1].adjustments == []
    assert promotion(run([line(12, 100)], member_pay_bp=9900), Kind.MEMBER).amount == 1, "one fen is a price too"
    members = run([line(12, 1000), line(13, 1000)], member_pay_bp=9000)
    result = promotion(members, Kind.MEMBER)
    assert (result.applied, result.amount, result.line_indexes) == (True, 200, (0, 1))
    assert members.lines[1].adjustments == [(Kind.MEMBER, 0, 100)]
    assert not [p for p in run([line(12, 1000)]).promotions if p.kind is Kind.MEMBER], "no member price asked"


def test_a_discount_worth_nothing_is_not_applied():
    offers = Offers({10: SkuDiscount(1, "9.99折", 10, DiscountType.PERCENT, pay_bp=9999)})
    quote = run([line(10, 99)], offers)
    result = promotion(quote, Kind.DISCOUNT, 1)
    assert not result.applied and result.reason is NotApplied.NOT_BETTER and quote.lines[0].adjustments == []
    one_fen = run([line(10, 10_000)], offers)
    assert promotion(one_fen, Kind.DISCOUNT, 1).applied and one_fen.totals.discount == 1


def test_rewards_of_several_activities_add_up_and_a_skipped_one_does_not_stop_the_next():
    spus = reward(3, RewardLevel(1000, 100, points=10, coupons=((5, 1),)), scope=ProductScope.SPU, values=[2, 1])
    nothing = reward(4, RewardLevel(100, 10), scope=ProductScope.SPU, values=[99])
    rest = reward(5, RewardLevel(500, 0, free_delivery=True, points=6, coupons=((5, 2), (6, 1))))
    quote = run([line(1, 600), line(3, 700), line(2, 600)], Offers(rewards=(nothing, rest, spus)))
    first = promotion(quote, Kind.REWARD, 3)
    assert (first.name, first.applied, first.amount, first.line_indexes) == ("满减", True, 100, (0, 2))
    assert promotion(quote, Kind.REWARD, 5).line_indexes == (1,)
    assert quote.grants.coupons == {5: 3, 6: 1} and quote.grants.free_delivery
    assert quote.totals.points_granted == 16
    assert [p.points_granted for p in quote.lines] == [5, 6, 5]
    below = run([line(1, 100)], Offers(rewards=(spus,)))
    assert promotion(below, Kind.REWARD, 3).name == "满减" and not below.grants.free_delivery
    after_a_miss = run([line(1, 100), line(3, 700)], Offers(rewards=(spus, rest)))
    assert promotion(after_a_miss, Kind.REWARD, 5).applied, "a rule below its threshold does not stop the next"


def test_a_count_reward_counts_items_not_fen():
    rule = reward(7, RewardLevel(3, 100), condition=ConditionType.COUNT)
    assert promotion(run([line(1, 10_000, 2)], Offers(rewards=(rule,))), Kind.REWARD).applied is False
    assert promotion(run([line(1, 1000, 3)], Offers(rewards=(rule,))), Kind.REWARD).applied is True


def test_covers_reads_the_spu_or_the_category_as_the_scope_says():
    spu = reward(1, RewardLevel(1, 1), scope=ProductScope.SPU, values=[7])
    category = reward(2, RewardLevel(1, 1), scope=ProductScope.CATEGORY, values=[7])
    assert spu.covers(line(1, 1, spu=7, category=8)) and not spu.covers(line(1, 1, spu=8, category=7))
    assert category.covers(line(1, 1, spu=8, category=7)) and not category.covers(line(1, 1, spu=7, category=8))


def test_coupon_lines_carry_the_spu_and_category_a_coupon_scope_reads():
    draft = c.price_until_coupon(Cart((line(1, 600, spu=11, category=21), line(2, 100, selected=False))), Offers())
    assert draft.coupon_lines() == [c.CouponLine(0, 11, 21, 600)]


def test_points_results_say_why_not_and_which_lines_paid():
    rules = PointsRules(enabled=True)
    assert not [p for p in run([line(1, 100)], rules=rules).promotions if p.kind is Kind.POINTS], "not asked"
    none = run([line(1, 100)], rules=rules, use_points=True, points_balance=0)
    assert promotion(none, Kind.POINTS).reason is NotApplied.NO_POINTS and none.totals.points == 0
    one = run([line(1, 100)], rules=rules, use_points=True, points_balance=1)
    assert one.totals.points_used == 1 and promotion(one, Kind.POINTS).applied
    left = run([line(1, 1)], rules=rules, use_points=True, points_balance=50)
    assert promotion(left, Kind.POINTS).reason is NotApplied.NOTHING_TO_DEDUCT
    just_one = run([line(1, 2)], rules=rules, use_points=True, points_balance=50)
    assert just_one.totals.points_used == 1 and just_one.totals.pay == 1
    used = run([line(1, 100), line(2, 300)], rules=rules, use_points=True, points_balance=40)
    result = promotion(used, Kind.POINTS)
    assert (result.id, result.name, result.amount, result.line_indexes) == (0, "", 40, (0, 1))
    assert used.lines[0].adjustments == [(Kind.POINTS, 0, 10)]
    points_mall = run([line(1, 100)], rules=rules, use_points=True, points_balance=40,
                      special=SpecialPrice(SpecialKind.POINTS_MALL, 3, {1: 50}, {1: 20}))
    assert points_mall.totals.points == 0 and points_mall.totals.points_spent == 20


def test_points_granted_per_whole_yuan():
    assert run([line(1, 99)], rules=PointsRules(grant_per_yuan=1)).totals.points_granted == 0
    assert run([line(1, 10_000)], rules=PointsRules(grant_per_yuan=1)).totals.points_granted == 100


def test_a_free_cart_is_refused_with_what_it_would_pay():
    with pytest.raises(c.PayAmountNotPositive) as refused:
        run([line(1, 0)])
    assert refused.value.details == {"pay": 0}


def test_level_and_hint_texts_in_both_languages():
    # cached: cleared so that every text is built here (make mutate maps code to the tests that run it)
    c.describe_level.cache_clear()
    c._benefits.cache_clear()
    level = RewardLevel(9950, 1000, free_delivery=True, points=5, coupons=((1, 1),))
    assert c.describe_level(ConditionType.AMOUNT, level, "zh-CN") == "满99.50减10，包邮，送5积分，送1张券"
    assert c.describe_level(ConditionType.AMOUNT, level, "en") == \
        "Spend ¥99.50: ¥10 off, free delivery, 5 points, 1 coupon"
    assert c.describe_level(ConditionType.COUNT, RewardLevel(2, 0, coupons=((1, 2),)), "en") == "Buy 2: 2 coupons"
    one = c.Hint(ConditionType.COUNT, 1, RewardLevel(3, 500))
    assert c.describe_hint(one, "en") == "Add 1 more item: ¥5 off"
    assert c.describe_hint(c.Hint(ConditionType.COUNT, 2, RewardLevel(3, 500)), "zh-CN") == "再买 2 件 减5"
    assert c.describe_hint(c.Hint(ConditionType.COUNT, 2, RewardLevel(3, 500)), "en") == "Add 2 more items: ¥5 off"


def test_reason_messages_in_both_languages_and_english_for_others():
    assert c.reason_message(NotApplied.EXCLUDED_BY_ACTIVITY, "zh-CN") == "活动商品不参与其他优惠"
    assert c.reason_message(NotApplied.NOT_BETTER, "en") == "Another price is better"
    assert c.reason_message(NotApplied.NO_POINTS, "fr") == "No points to use"
