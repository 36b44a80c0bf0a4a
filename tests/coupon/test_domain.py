"""Coupon rules, pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.coupon.domain import (
    CODE_ALPHABET,
    CartLine,
    CouponStatus,
    DiscountType,
    HeldCoupon,
    Match,
    ProductScope,
    Quota,
    TakeType,
    Terms,
    Unusable,
    Validity,
    ValidityType,
    applies_to_product,
    ceiling,
    check_recallable,
    discount,
    match_coupons,
    new_codes,
    normalize_code,
    released_status,
)
from services.coupon.errors import CouponHeld, CouponInUse, CouponTakenBack
from services.coupon.outcomes import (
    CANCEL_CAUSES,
    PaymentRefusal,
    counts_against_the_limit,
    late_payment_refusal,
    revoke_reason_text,
    stock_comes_back,
)
from shared.events import CancelReason

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AMOUNT_OFF = Terms(use_price=10000, product_scope=ProductScope.ALL, scope_values=(), discount_type=DiscountType.PRICE,
                   discount_price=1000)
PERCENT = Terms(use_price=0, product_scope=ProductScope.ALL, scope_values=(), discount_type=DiscountType.PERCENT,
                discount_percent=80, discount_limit_price=3000)
TERM = Validity(ValidityType.TERM, fixed_start_term=0, fixed_end_term=7)
DATES = Validity(ValidityType.DATE, valid_start=NOW - timedelta(days=1), valid_end=NOW + timedelta(days=1))
QUOTA = Quota(total_count=100, take_limit_count=2)


# --- discounts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("terms, amount, off", [
    (AMOUNT_OFF, 12000, 1000),
    (AMOUNT_OFF, 600, 600),  # never more than what the lines cost
    (PERCENT, 10000, 2000),  # pay 80% -> 20% off
    (PERCENT, 99999, 3000),  # capped
    (PERCENT, 1, 0),  # 20% of 1 fen rounds down
    (replace(PERCENT, discount_percent=99), 150, 1),
    (AMOUNT_OFF, 0, 0),
    (AMOUNT_OFF, 1, 1),  # a line of one fen: that fen off (matching's cap keeps one fen of the cart to pay)
    (replace(AMOUNT_OFF, discount_price=None), 500, 0),  # terms without an amount take nothing off
    (replace(PERCENT, discount_limit_price=None), 10000, 0),  # nor a percent without its cap
    (replace(PERCENT, discount_percent=None), 10000, 0),  # or without its percent
    (AMOUNT_OFF, -5, 0),  # nothing left to pay on the lines: nothing off
])
def test_discounts(terms, amount, off):
    assert discount(terms, amount) == off
    assert off <= ceiling(terms), "never more than the coupon's ceiling"


@pytest.mark.parametrize("terms, most", [
    (AMOUNT_OFF, 1000), (PERCENT, 3000), (replace(AMOUNT_OFF, discount_price=None), 0),
    (replace(PERCENT, discount_limit_price=None), 0), (replace(PERCENT, discount_percent=None), 0)])
def test_a_coupon_s_ceiling_is_its_amount_or_its_cap(terms, most):
    assert ceiling(terms) == most
    assert max(discount(terms, amount) for amount in (0, 1, 999, 10**9)) == most


# --- matching -----------------------------------------------------------------------------------

def held(coupon_id: int, terms: Terms, start=NOW - timedelta(days=1), end=NOW + timedelta(days=1)) -> HeldCoupon:
    return HeldCoupon(coupon_id, terms, start, end)


LINES = [CartLine(spu_id=1, category_id=10, amount=8000), CartLine(spu_id=2, category_id=20, amount=3000)]


def test_each_coupon_gets_a_verdict_and_a_reason():
    coupons = [
        held(1, AMOUNT_OFF),  # 11000 >= 10000: usable, 10.00 off
        held(2, replace(AMOUNT_OFF, use_price=20000)),  # 90.00 short
        held(3, AMOUNT_OFF, start=NOW + timedelta(hours=1)),
        held(4, AMOUNT_OFF, end=NOW - timedelta(seconds=1)),
        held(5, replace(AMOUNT_OFF, product_scope=ProductScope.SPU, scope_values=(99,))),
        held(6, replace(PERCENT, product_scope=ProductScope.CATEGORY, scope_values=(20,))),  # 3000 * 20% = 600
    ]
    matches, best = match_coupons(coupons, LINES, NOW, zone=UTC)
    by_id = {m.coupon_id: m for m in matches}
    assert by_id[1].usable and by_id[1].discount == 1000 and by_id[1].line_indexes == (0, 1)
    assert by_id[2] == Match(2, False, reason=Unusable.BELOW_THRESHOLD, details={"shortfall": "90.00"})
    assert by_id[2].message("zh-CN") == "再买 ¥90.00 可用" and by_id[2].message("en") == "Spend ¥90.00 more to use it"
    assert by_id[3] == Match(3, False, reason=Unusable.NOT_YET_VALID, details={"valid_start": "2026-11-22 13:00"})
    assert by_id[4] == Match(4, False, reason=Unusable.EXPIRED) and by_id[4].message("en") == "Expired"
    assert by_id[5] == Match(5, False, reason=Unusable.NO_PRODUCT_IN_SCOPE)
    assert by_id[6].usable and by_id[6].discount == 600 and by_id[6].line_indexes == (1,)
    assert best is by_id[1]


def test_threshold_counts_only_lines_in_scope():
    spu_only = replace(AMOUNT_OFF, use_price=5000, product_scope=ProductScope.SPU, scope_values=(2,))
    matches, best = match_coupons([held(1, spu_only)], LINES, NOW, zone=UTC)
    assert matches[0].reason is Unusable.BELOW_THRESHOLD and matches[0].details == {"shortfall": "20.00"}
    assert best is None


def test_a_coupon_is_valid_from_its_start_up_to_not_including_its_end():
    """As a hold sees it (valid_start <= now < valid_end): matching never offers what a hold refuses."""
    matches, best = match_coupons([held(1, AMOUNT_OFF, start=NOW), held(2, AMOUNT_OFF, end=NOW)], LINES, NOW)
    assert matches == [Match(1, True, 1000, (0, 1)), Match(2, False, reason=Unusable.EXPIRED)] and best == matches[0]


def test_a_cart_reaching_the_threshold_exactly_may_use_the_coupon():
    matches, _ = match_coupons([held(1, replace(AMOUNT_OFF, use_price=11000))], LINES, NOW)
    assert matches == [Match(1, True, 1000, (0, 1))]


def test_best_coupon_ties_go_to_the_one_expiring_first_then_lowest_id():
    soon, later = NOW + timedelta(hours=2), NOW + timedelta(days=5)
    coupons = [held(7, AMOUNT_OFF, end=later), held(8, AMOUNT_OFF, end=soon), held(9, AMOUNT_OFF, end=soon)]
    assert match_coupons(coupons, LINES, NOW, zone=UTC)[1].coupon_id == 8


def test_no_coupons_no_best():
    assert match_coupons([], LINES, NOW, zone=UTC) == ([], None)


NO_THRESHOLD = replace(AMOUNT_OFF, use_price=0, discount_price=100_000)


def test_a_coupon_larger_than_the_cart_leaves_one_fen_to_pay_and_may_be_best():
    cart = [CartLine(spu_id=1, category_id=10, amount=300), CartLine(spu_id=2, category_id=20, amount=200)]
    small = replace(AMOUNT_OFF, use_price=0, discount_price=400)
    matches, best = match_coupons([held(1, NO_THRESHOLD), held(2, small)], cart, NOW, zone=UTC)
    assert matches[0].usable and matches[0].discount == 499 and matches[0].line_indexes == (0, 1)
    assert best is matches[0]


def test_the_cap_counts_every_line_sent_not_only_those_in_scope():
    scoped = replace(NO_THRESHOLD, product_scope=ProductScope.SPU, scope_values=(2,))
    matches, _ = match_coupons([held(1, scoped)], LINES, NOW, zone=UTC)
    assert matches[0].discount == 3000  # its line is free, the other still costs 80.00


def test_a_cart_of_one_fen_cannot_use_a_coupon():
    matches, best = match_coupons([held(1, NO_THRESHOLD)], [CartLine(1, 10, 1)], NOW, zone=UTC)
    assert matches == [Match(1, False, reason=Unusable.NOTHING_TO_PAY)] and best is None
    assert matches[0].message("zh-CN") == "订单金额过低，无法使用优惠券"
    assert matches[0].message("en") == "The order amount is too small to use a coupon"


def test_a_cart_of_two_fen_may_use_a_coupon_for_one():
    matches, best = match_coupons([held(1, NO_THRESHOLD)], [CartLine(1, 10, 2)], NOW)
    assert matches == [Match(1, True, 1, (0,))] and best == matches[0]


def test_a_coupon_worth_nothing_on_this_cart_is_unusable():
    """95% to pay on 10 fen rounds down to 0 off: usable, it would be spent for nothing."""
    tiny = replace(PERCENT, discount_percent=95)
    matches, best = match_coupons([held(1, tiny)], [CartLine(1, 10, 10)], NOW, zone=UTC)
    assert matches == [Match(1, False, reason=Unusable.ZERO_DISCOUNT)]
    assert matches[0].message("zh-CN") == "对本单没有优惠金额，无法使用"
    assert matches[0].message("en") == "It takes nothing off this order"
    assert best is None
    assert match_coupons([held(1, tiny)], [CartLine(1, 10, 20)], NOW, zone=UTC)[0][0].discount == 1


def test_not_yet_valid_reads_in_the_business_timezone():
    start = datetime(2026, 12, 11, 23, 3, 15, 108713, tzinfo=UTC)
    matches, _ = match_coupons([held(1, AMOUNT_OFF, start=start)], LINES, NOW, zone=ZoneInfo("Asia/Shanghai"))
    assert matches[0].message("zh-CN") == "2026-12-12 07:03 起可用"
    assert matches[0].message("en") == "Usable from 2026-12-12 07:03"


# --- the coupon center filtered by a product --------------------------------------------------------

SPU_1 = replace(AMOUNT_OFF, product_scope=ProductScope.SPU, scope_values=(1,))
CATEGORY_10 = replace(AMOUNT_OFF, product_scope=ProductScope.CATEGORY, scope_values=(10,))


@pytest.mark.parametrize("terms, spu_id, category_id, applies", [
    (SPU_1, None, None, True),  # no product asked: every coupon
    (CATEGORY_10, None, None, True),
    (AMOUNT_OFF, 5, 50, True),  # all products
    (AMOUNT_OFF, 5, None, True),
    (SPU_1, 1, 50, True),
    (SPU_1, 5, 10, False),  # its category does not matter
    (SPU_1, 5, None, False),
    (CATEGORY_10, 5, 10, True),
    (CATEGORY_10, 1, 50, False),
    (CATEGORY_10, None, 50, False),
])
def test_a_coupon_applies_to_a_product_in_its_scope(terms, spu_id, category_id, applies):
    assert applies_to_product(terms, spu_id, category_id) is applies


# --- an issued coupon's life --------------------------------------------------------------------

def test_a_coupon_given_back_is_unused_while_valid_else_expired():
    assert released_status(NOW + timedelta(seconds=1), NOW) is CouponStatus.UNUSED
    assert released_status(NOW, NOW) is CouponStatus.EXPIRED


@pytest.mark.parametrize("status", [CouponStatus.UNUSED, CouponStatus.EXPIRED])
def test_unused_and_expired_coupons_may_be_recalled(status):
    check_recallable(1, status, None)


@pytest.mark.parametrize("status, error", [
    (CouponStatus.HELD, CouponHeld), (CouponStatus.USED, CouponInUse),
    (CouponStatus.REVOKED, CouponTakenBack), (CouponStatus.RECALLED, CouponTakenBack),
])
def test_coupons_in_use_or_taken_back_cannot_be_recalled(status, error):
    with pytest.raises(error) as caught:
        check_recallable(1, status, 7)
    in_use = status in (CouponStatus.HELD, CouponStatus.USED)
    assert caught.value.details == ({"id": 1, "order_id": 7} if in_use else {"id": 1})


# --- codes --------------------------------------------------------------------------------------

def test_new_codes_are_distinct_prefixed_and_readable():
    codes = new_codes(200, "VIP", 8)
    assert len(codes) == 200
    assert all(len(code) == 11 and code.startswith("VIP") and set(code[3:]) <= set(CODE_ALPHABET) for code in codes)
    assert not set(CODE_ALPHABET) & set("01ILO"), "no look-alikes"


def test_a_code_is_read_as_typed_in_any_case_with_spaces_or_dashes():
    assert normalize_code(" vx-2k9\tpq ") == "VX2K9PQ"


def test_client_enums_carry_their_meaning_and_yudaos_numbers():
    assert [(s.value, s.name) for s in CouponStatus] == [
        (1, "UNUSED"), (2, "USED"), (3, "EXPIRED"), (4, "HELD"), (5, "REVOKED"), (6, "RECALLED")]
    for enum in (CouponStatus, TakeType, ValidityType, DiscountType):
        assert all(member.meaning for member in enum), enum


# --- late payments, taking back (outcomes.py) ------------------------------------------------------

@pytest.mark.parametrize("status, start, end, refusal", [
    (CouponStatus.UNUSED, NOW - timedelta(days=1), NOW + timedelta(days=1), None),
    (CouponStatus.UNUSED, NOW - timedelta(days=1), NOW, PaymentRefusal.COUPON_EXPIRED),  # ended as it was paid
    (CouponStatus.UNUSED, NOW + timedelta(hours=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_EXPIRED),
    (CouponStatus.EXPIRED, NOW - timedelta(days=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_EXPIRED),
    (CouponStatus.HELD, NOW - timedelta(days=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_USED_ELSEWHERE),
    (CouponStatus.USED, NOW - timedelta(days=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_USED_ELSEWHERE),
    (CouponStatus.REVOKED, NOW - timedelta(days=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_REVOKED),
    (CouponStatus.RECALLED, NOW - timedelta(days=1), NOW + timedelta(days=1), PaymentRefusal.COUPON_RECALLED),
])
def test_a_late_payment_takes_a_coupon_still_unused_and_valid_when_paid(status, start, end, refusal):
    assert late_payment_refusal(status, start, end, NOW) is refusal


def test_stock_and_the_per_user_limit_after_taking_back():
    assert [s for s in CouponStatus if stock_comes_back(s)] == [CouponStatus.UNUSED, CouponStatus.HELD]
    assert [s for s in CouponStatus if not counts_against_the_limit(s)] == [CouponStatus.REVOKED]


def test_an_order_cancel_s_reason_reads_in_words_an_operator_s_as_typed():
    assert revoke_reason_text("order_cancelled:member_cancel", "zh-CN") == "发券的订单已取消（买家取消）"
    assert revoke_reason_text("order_cancelled:after_sale_close", "en") == \
        "The rewarding order was cancelled (closed by an after-sale refund)"
    assert revoke_reason_text("order_cancelled:lost_in_space", "zh-CN") == "发券的订单已取消（原因代码 lost_in_space）"
    assert revoke_reason_text("发错了", "en") == "发错了" and revoke_reason_text(None, "en") is None
    assert set(CANCEL_CAUSES) == {reason.value for reason in CancelReason}
