"""A template's rules (template_rules.py), pure: consistency of what an operator saves, and when a
template may issue coupons, with the window each coupon gets."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.coupon.domain import UNLIMITED, ProductScope, Quota, TakeType, Validity, ValidityType
from services.coupon.errors import (
    InvalidTemplate,
    OutOfStock,
    TakeLimitReached,
    TemplateDisabled,
    TemplateExpired,
    TotalBelowTaken,
    WrongTakeType,
)
from services.coupon.template_rules import (
    can_take_again,
    check_can_issue,
    check_total_not_below_taken,
    validate_template,
    validity_window,
)
from tests.coupon.test_domain import AMOUNT_OFF, DATES, NOW, PERCENT, QUOTA, TERM


def issue(**overrides):
    values = dict(enabled=True, take_type=TakeType.USER, requested=TakeType.USER, validity=TERM, quota=QUOTA,
                  take_count=0, held_by_user=0, count=1, now=NOW)
    check_can_issue(**{**values, **overrides})


# --- template validation ------------------------------------------------------------------------

def test_a_sound_template_passes():
    validate_template(AMOUNT_OFF, QUOTA, TERM, NOW)
    validate_template(PERCENT, Quota(UNLIMITED, UNLIMITED), DATES, NOW)
    validate_template(AMOUNT_OFF, Quota(5, 5), TERM, NOW)  # each user may take the whole stock


@pytest.mark.parametrize("terms, quota, validity, field, code", [
    (AMOUNT_OFF, Quota(1, 2), TERM, "take_limit_count", "TAKE_LIMIT_ABOVE_TOTAL"),
    (AMOUNT_OFF, Quota(10, 0), TERM, "take_limit_count", "TAKE_LIMIT_ZERO"),
    (AMOUNT_OFF, Quota(0, UNLIMITED), TERM, "total_count", "TOTAL_COUNT_ZERO"),
    (replace(AMOUNT_OFF, product_scope=ProductScope.SPU), QUOTA, TERM, "product_scope_values", "SCOPE_WITHOUT_VALUES"),
    (replace(AMOUNT_OFF, scope_values=(1,)), QUOTA, TERM, "product_scope_values", "SCOPE_ALL_WITH_VALUES"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW), "valid_end", "DATES_REQUIRED"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_end=NOW + timedelta(days=1)), "valid_start",
     "DATES_REQUIRED"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW, valid_end=NOW), "valid_end",
     "END_NOT_AFTER_START"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW - timedelta(days=9),
                                 valid_end=NOW - timedelta(seconds=1)), "valid_end", "END_IN_PAST"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.DATE, valid_start=NOW - timedelta(days=9), valid_end=NOW), "valid_end",
     "END_IN_PAST"),  # ending now is ending already
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.TERM, fixed_start_term=1), "fixed_end_term", "TERMS_REQUIRED"),
    (AMOUNT_OFF, QUOTA, Validity(ValidityType.TERM, fixed_end_term=7), "fixed_start_term", "TERMS_REQUIRED"),
    (replace(AMOUNT_OFF, discount_price=None), QUOTA, TERM, "discount_price", "DISCOUNT_PRICE_REQUIRED"),
    (replace(AMOUNT_OFF, discount_price=20000), QUOTA, TERM, "discount_price", "DISCOUNT_ABOVE_THRESHOLD"),
    (replace(AMOUNT_OFF, use_price=1, discount_price=2), QUOTA, TERM, "discount_price", "DISCOUNT_ABOVE_THRESHOLD"),
    (replace(PERCENT, discount_limit_price=None), QUOTA, TERM, "discount_limit_price", "PERCENT_TERMS_REQUIRED"),
    (replace(PERCENT, discount_percent=None), QUOTA, TERM, "discount_percent", "PERCENT_TERMS_REQUIRED"),
])
def test_inconsistent_templates_are_rejected_naming_the_field(terms, quota, validity, field, code):
    with pytest.raises(InvalidTemplate) as caught:
        validate_template(terms, quota, validity, NOW)
    assert caught.value.details["field"] == field and caught.value.details["reason"].code == code


def test_unlimited_total_allows_any_per_user_limit():
    validate_template(AMOUNT_OFF, Quota(UNLIMITED, 5), TERM, NOW)
    validate_template(AMOUNT_OFF, Quota(5, UNLIMITED), TERM, NOW)


def test_a_discount_up_to_the_threshold_or_without_one_is_allowed():
    validate_template(replace(AMOUNT_OFF, discount_price=10000), QUOTA, TERM, NOW)  # 满100减100: capped when matched
    validate_template(replace(AMOUNT_OFF, use_price=0, discount_price=10**6), QUOTA, TERM, NOW)
    validate_template(replace(PERCENT, use_price=100, discount_limit_price=10**6), QUOTA, TERM, NOW)


def test_total_cannot_drop_below_what_was_taken():
    check_total_not_below_taken(10, 10)
    check_total_not_below_taken(UNLIMITED, 10)
    with pytest.raises(TotalBelowTaken) as caught:
        check_total_not_below_taken(9, 10)
    assert caught.value.details == {"take_count": 10}


# --- validity -----------------------------------------------------------------------------------

def test_fixed_dates_are_copied_and_terms_count_from_the_take():
    assert validity_window(DATES, NOW) == (DATES.valid_start, DATES.valid_end)
    later = Validity(ValidityType.TERM, fixed_start_term=2, fixed_end_term=30)
    assert validity_window(later, NOW) == (NOW + timedelta(days=2), NOW + timedelta(days=32))


@pytest.mark.parametrize("incomplete", [
    Validity(ValidityType.DATE, valid_start=NOW), Validity(ValidityType.DATE, valid_end=NOW),
    Validity(ValidityType.TERM, fixed_start_term=1), Validity(ValidityType.TERM, fixed_end_term=7),
])
def test_no_window_from_an_incomplete_validity(incomplete):
    """validate_template refuses these before any coupon is issued; the window never guesses."""
    with pytest.raises(AssertionError):
        validity_window(incomplete, NOW)


# --- issuing ------------------------------------------------------------------------------------

def test_take_is_allowed_within_the_rules():
    issue()
    issue(held_by_user=1)
    issue(validity=DATES)  # fixed dates not ended yet
    issue(validity=replace(TERM, valid_end=NOW))  # a relative validity has no end of its own
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
