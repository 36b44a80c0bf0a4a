"""A template's rules, pure: which templates are consistent (the first problem, naming its
field), and when a template may issue coupons to a user, with the window each coupon gets."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.coupon.domain import UNLIMITED, DiscountType, Quota, TakeType, Terms, Validity, ValidityType
from services.coupon.errors import (
    InvalidTemplate,
    OutOfStock,
    TakeLimitReached,
    TakeTypePlatformOnly,
    TemplateDisabled,
    TemplateExpired,
    TotalBelowTaken,
    WrongTakeType,
)
from shared.enums import scope_problems
from shared.errors import Reason

TAKE_LIMIT_ABOVE_TOTAL = Reason("TAKE_LIMIT_ABOVE_TOTAL", en="take_limit_count exceeds total_count",
                                zh="每人限领数量不能超过发放总量")
TOTAL_COUNT_ZERO = Reason("TOTAL_COUNT_ZERO", en="total_count must be -1 (unlimited) or at least 1",
                          zh="发放总量须为 -1（不限）或至少 1 张")
TAKE_LIMIT_ZERO = Reason("TAKE_LIMIT_ZERO", en="take_limit_count must be -1 (unlimited) or at least 1",
                         zh="每人限领数量须为 -1（不限）或至少 1 张")
DATES_REQUIRED = Reason("DATES_REQUIRED", en="valid_start and valid_end are required for fixed dates",
                        zh="固定日期的有效期须填写开始时间和结束时间")
END_NOT_AFTER_START = Reason("END_NOT_AFTER_START", en="valid_end must be after valid_start",
                             zh="结束时间必须晚于开始时间")
END_IN_PAST = Reason("END_IN_PAST", en="valid_end is already past", zh="结束时间已过，须晚于当前时间")
TERMS_REQUIRED = Reason("TERMS_REQUIRED", en="fixed_start_term and fixed_end_term are required for a relative "
                        "validity", zh="领取后生效的有效期须填写生效天数和有效天数")
DISCOUNT_PRICE_REQUIRED = Reason("DISCOUNT_PRICE_REQUIRED", en="discount_price is required for an amount-off coupon",
                                 zh="满减券须填写优惠金额")
DISCOUNT_ABOVE_THRESHOLD = Reason("DISCOUNT_ABOVE_THRESHOLD", en="discount_price exceeds use_price (the threshold)",
                                  zh="优惠金额不能超过使用门槛金额")
PERCENT_TERMS_REQUIRED = Reason("PERCENT_TERMS_REQUIRED", en="discount_percent and discount_limit_price are required "
                                "for a percent coupon", zh="折扣券须填写折扣比例和最多优惠金额")


def validate_template(terms: Terms, quota: Quota, validity: Validity, now: datetime) -> None:
    """Cross-field rules (field bounds are the schema's job): the first problem, naming its field."""
    for name, reason in _template_problems(terms, quota, validity, now):
        raise InvalidTemplate(reason=reason, field=name)


def _template_problems(terms: Terms, quota: Quota, validity: Validity, now: datetime) -> list[tuple[str, Reason]]:
    return [*_quota_problems(quota), *_scope_problems(terms), *_validity_problems(validity, now),
            *_discount_problems(terms)]


def _quota_problems(quota: Quota) -> list[tuple[str, Reason]]:
    problems = []
    if quota.total_count == 0:
        problems.append(("total_count", TOTAL_COUNT_ZERO))
    if quota.take_limit_count == 0:
        problems.append(("take_limit_count", TAKE_LIMIT_ZERO))
    if UNLIMITED not in (quota.total_count, quota.take_limit_count) and quota.take_limit_count > quota.total_count:
        problems.append(("take_limit_count", TAKE_LIMIT_ABOVE_TOTAL))
    return problems


def _scope_problems(terms: Terms) -> list[tuple[str, Reason]]:
    return [("product_scope_values", reason) for reason in scope_problems(terms.product_scope, terms.scope_values)]


def _validity_problems(validity: Validity, now: datetime) -> list[tuple[str, Reason]]:
    if validity.validity_type is ValidityType.TERM:
        if validity.fixed_start_term is None or validity.fixed_end_term is None:
            return [("fixed_start_term" if validity.fixed_start_term is None else "fixed_end_term", TERMS_REQUIRED)]
        return []
    if validity.valid_start is None or validity.valid_end is None:
        return [("valid_start" if validity.valid_start is None else "valid_end", DATES_REQUIRED)]
    if validity.valid_end <= validity.valid_start:
        return [("valid_end", END_NOT_AFTER_START)]
    return [("valid_end", END_IN_PAST)] if validity.valid_end <= now else []


def _discount_problems(terms: Terms) -> list[tuple[str, Reason]]:
    if terms.discount_type is DiscountType.PERCENT:
        if not terms.discount_percent or not terms.discount_limit_price:
            return [("discount_percent" if not terms.discount_percent else "discount_limit_price",
                     PERCENT_TERMS_REQUIRED)]
        return []
    if not terms.discount_price:
        return [("discount_price", DISCOUNT_PRICE_REQUIRED)]
    if terms.use_price > 0 and terms.discount_price > terms.use_price:
        return [("discount_price", DISCOUNT_ABOVE_THRESHOLD)]  # no threshold: the cap of `capped` applies
    return []


# a shop's coupons are taken by buyers, or given by the system for its own spend-and-save; issuing to
# every new member is the platform's
MERCHANT_TAKE_TYPES = (TakeType.USER, TakeType.ADMIN)


def check_take_type_for_owner(business_id: int | None, take_type: TakeType) -> None:
    """A merchant's template is taken by buyers or given by its own spend-and-save, never issued to
    every new member."""
    if business_id is not None and take_type not in MERCHANT_TAKE_TYPES:
        raise TakeTypePlatformOnly(take_type=int(take_type))


def check_total_not_below_taken(total_count: int, take_count: int) -> None:
    if total_count != UNLIMITED and total_count < take_count:
        raise TotalBelowTaken(take_count=take_count)


def validity_window(validity: Validity, taken_at: datetime) -> tuple[datetime, datetime]:
    """The issued coupon's own window, fixed at the moment it is issued."""
    if validity.validity_type is ValidityType.DATE:
        assert validity.valid_start is not None and validity.valid_end is not None
        return validity.valid_start, validity.valid_end
    assert validity.fixed_start_term is not None and validity.fixed_end_term is not None
    start = taken_at + timedelta(days=validity.fixed_start_term)
    return start, start + timedelta(days=validity.fixed_end_term)


def check_can_issue(*, enabled: bool, take_type: TakeType, requested: TakeType, validity: Validity,
                    quota: Quota, take_count: int, held_by_user: int, count: int, now: datetime) -> None:
    """May `count` more coupons go to one user? The database re-checks stock and the per-user
    limit atomically; this gives the precise reason first."""
    check_takeable(enabled=enabled, take_type=take_type, requested=requested, validity=validity, now=now)
    if quota.take_limit_count != UNLIMITED and held_by_user + count > quota.take_limit_count:
        raise TakeLimitReached(limit=quota.take_limit_count)
    if quota.total_count != UNLIMITED and take_count + count > quota.total_count:
        raise OutOfStock()


def check_takeable(*, enabled: bool, take_type: TakeType, requested: TakeType, validity: Validity,
                   now: datetime) -> None:
    """The template's own state allows issuing now (stock and the user's count aside)."""
    if not enabled:
        raise TemplateDisabled()
    if take_type is not requested:
        raise WrongTakeType()
    if validity.validity_type is ValidityType.DATE and validity.valid_end is not None and validity.valid_end <= now:
        raise TemplateExpired()


def can_take_again(quota: Quota, held_by_user: int) -> bool:
    return quota.take_limit_count == UNLIMITED or held_by_user < quota.take_limit_count
