"""Coupon rules, pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.coupon.domain import (
    UNLIMITED,
    CartLine,
    DiscountType,
    HeldCoupon,
    InvalidTemplate,
    OutOfStock,
    ProductScope,
    Quota,
    TakeLimitReached,
    TakeType,
    TemplateDisabled,
    TemplateExpired,
    Terms,
    TotalBelowTaken,
    Unusable,
    Validity,
    ValidityType,
    WrongTakeType,
    can_take_again,
    check_can_issue,
    check_total_not_below_taken,
    discount,
    match_coupons,
    validate_template,
    validity_window,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AMOUNT_OFF = Terms(use_price=10000, product_scope=ProductScope.ALL, scope_values=(), discount_type=DiscountType.PRICE,
                   discount_price=1000)
PERCENT = Terms(use_price=0, product_scope=ProductScope.ALL, scope_values=(), discount_type=DiscountType.PERCENT,
                discount_percent=80, discount_limit_price=3000)
TERM = Validity(ValidityType.TERM, fixed_start_term=0, fixed_end_term=7)
DATES = Validity(ValidityType.DATE, valid_start=NOW - timedelta(days=1), valid_end=NOW + timedelta(days=1))
QUOTA = Quota(total_count=100, take_limit_count=2)


def issue(**overrides):
    values = dict(enabled=True, take_type=TakeType.USER, requested=TakeType.USER, validity=TERM, quota=QUOTA,
                  take_count=0, held_by_user=0, count=1, now=NOW)
    check_can_issue(**{**values, **overrides})


# --- template validation ------------------------------------------------------------------------

def test_a_sound_template_passes():
    validate_template(AMOUNT_OFF, QUOTA, TERM)
    validate_template(PERCENT, Quota(UNLIMITED, UNLIMITED), DATES)


@pytest.mark.parametrize("terms, quota, validity, fragment", [
    (AMOUNT_OFF, Quota(1, 2), TERM, "take_limit_count exceeds total_count"),
    (replace(AMOUNT_OFF, product_scope=ProductScope.SPU), QUOTA, TERM, "required for an SPU or category"),
    (replace(AMOUNT_OFF, scope_values=(1,)), QUOTA, TERM, "must be empty"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW), "valid_start and valid_end"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW, valid_end=NOW), "after valid_start"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.TERM, fixed_start_term=1), "fixed_start_term and fixed_end_term"),
    (replace(AMOUNT_OFF, discount_price=None), QUOTA, TERM, "discount_price is required"),
    (replace(PERCENT, discount_limit_price=None), QUOTA, TERM, "discount_limit_price are required"),
])
def test_inconsistent_templates_are_rejected(terms, quota, validity, fragment):
    with pytest.raises(InvalidTemplate) as caught:
        validate_template(terms, quota, validity)
    assert fragment in caught.value.details["reason"]


def test_unlimited_total_allows_any_per_user_limit():
    validate_template(AMOUNT_OFF, Quota(UNLIMITED, 5), TERM)
    validate_template(AMOUNT_OFF, Quota(5, UNLIMITED), TERM)


def test_total_cannot_drop_below_what_was_taken():
    check_total_not_below_taken(10, 10)
    check_total_not_below_taken(UNLIMITED, 10)
    with pytest.raises(TotalBelowTaken):
        check_total_not_below_taken(9, 10)


# --- validity -----------------------------------------------------------------------------------

def test_fixed_dates_are_copied_and_terms_count_from_the_take():
    assert validity_window(DATES, NOW) == (DATES.valid_start, DATES.valid_end)
    later = Validity(ValidityType.TERM, fixed_start_term=2, fixed_end_term=30)
    assert validity_window(later, NOW) == (NOW + timedelta(days=2), NOW + timedelta(days=32))


# --- issuing ------------------------------------------------------------------------------------

def test_take_is_allowed_within_the_rules():
    issue()
    issue(held_by_user=1)
    issue(quota=Quota(UNLIMITED, UNLIMITED), take_count=10**6, held_by_user=10**3)


def test_take_rejected_when_template_disabled():  # yudao lets a disabled template be taken; we don't
    with pytest.raises(TemplateDisabled):
        issue(enabled=False)


def test_take_rejected_for_the_wrong_take_type():
    with pytest.raises(WrongTakeType):
        issue(take_type=TakeType.ADMIN)


def test_take_rejected_after_the_fixed_end():
    with pytest.raises(TemplateExpired):
        issue(validity=replace(DATES, valid_end=NOW))


def test_take_rejected_at_the_per_user_limit():
    with pytest.raises(TakeLimitReached) as caught:
        issue(held_by_user=2)
    assert caught.value.details == {"limit": 2}


def test_take_rejected_when_exhausted_and_a_batch_may_not_overshoot():
    with pytest.raises(OutOfStock):
        issue(take_count=100)
    with pytest.raises(OutOfStock):  # yudao's guard lets a batch of N overshoot by N-1
        issue(quota=Quota(100, UNLIMITED), take_count=98, count=3)
    issue(quota=Quota(100, UNLIMITED), take_count=97, count=3)


def test_can_take_again_follows_the_per_user_limit():
    assert can_take_again(QUOTA, 1) and not can_take_again(QUOTA, 2)
    assert can_take_again(Quota(10, UNLIMITED), 99)


# --- discounts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("terms, amount, off", [
    (AMOUNT_OFF, 12000, 1000),
    (AMOUNT_OFF, 600, 600),  # never more than what the lines cost
    (PERCENT, 10000, 2000),  # pay 80% -> 20% off
    (PERCENT, 99999, 3000),  # capped
    (PERCENT, 1, 0),  # 20% of 1 fen rounds down
    (replace(PERCENT, discount_percent=99), 150, 1),
    (AMOUNT_OFF, 0, 0),
])
def test_discounts(terms, amount, off):
    assert discount(terms, amount) == off


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
    matches, best = match_coupons(coupons, LINES, NOW)
    by_id = {m.coupon_id: m for m in matches}
    assert by_id[1].usable and by_id[1].discount == 1000 and by_id[1].line_indexes == (0, 1)
    assert by_id[2].reason is Unusable.BELOW_THRESHOLD
    assert by_id[2].message("zh-CN") == "再买 ¥90.00 可用" and by_id[2].message("en") == "Spend ¥90.00 more to use it"
    assert by_id[3].reason is Unusable.NOT_YET_VALID
    assert by_id[4].reason is Unusable.EXPIRED and by_id[4].message("en") == "Expired"
    assert by_id[5].reason is Unusable.NO_PRODUCT_IN_SCOPE
    assert by_id[6].usable and by_id[6].discount == 600 and by_id[6].line_indexes == (1,)
    assert best is by_id[1]


def test_threshold_counts_only_lines_in_scope():
    spu_only = replace(AMOUNT_OFF, use_price=5000, product_scope=ProductScope.SPU, scope_values=(2,))
    matches, best = match_coupons([held(1, spu_only)], LINES, NOW)
    assert matches[0].reason is Unusable.BELOW_THRESHOLD and matches[0].details == {"shortfall": "20.00"}
    assert best is None


def test_best_coupon_ties_go_to_the_one_expiring_first_then_lowest_id():
    soon, later = NOW + timedelta(hours=2), NOW + timedelta(days=5)
    coupons = [held(7, AMOUNT_OFF, end=later), held(8, AMOUNT_OFF, end=soon), held(9, AMOUNT_OFF, end=soon)]
    assert match_coupons(coupons, LINES, NOW)[1].coupon_id == 8


def test_no_coupons_no_best():
    assert match_coupons([], LINES, NOW) == ([], None)
