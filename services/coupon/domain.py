"""Coupon rules. Pure: plain values and `now` in, a decision or a domain error out.

A coupon's terms (threshold, scope, discount) are a snapshot of its template taken when it was
issued, so later template edits never change coupons already in users' hands.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from services.coupon.errors import (
    CouponHeld,
    CouponInUse,
    CouponTakenBack,
    InvalidTemplate,
    OutOfStock,
    TakeLimitReached,
    TemplateDisabled,
    TemplateExpired,
    TotalBelowTaken,
    WrongTakeType,
)
from shared.enums import DescribedIntEnum, ProductScope, scope_problems
from shared.errors import Reason
from shared.money import format_yuan

UNLIMITED = -1


class TakeType(DescribedIntEnum):
    """How a template's coupons reach buyers (yudao's numbers)."""

    USER = 1, "the buyer takes it (coupon center, product page)"
    ADMIN = 2, "given by an operator, a code or the system (spend-and-save rewards)"
    REGISTER = 3, "issued to every new member"


class ValidityType(DescribedIntEnum):
    """How an issued coupon's validity window is set (yudao's numbers)."""

    DATE = 1, "fixed dates: valid_start to valid_end"
    TERM = 2, "relative: starts fixed_start_term days after it is taken and lasts fixed_end_term days"


class DiscountType(DescribedIntEnum):
    """What a coupon takes off (yudao's numbers)."""

    PRICE = 1, "a fixed amount off: discount_price fen"
    PERCENT = 2, "the buyer pays discount_percent % (80 = pays 80%), at most discount_limit_price fen off"


class CouponStatus(DescribedIntEnum):
    """Where an issued coupon stands (1-3 are yudao's numbers). Coupons are never deleted."""

    UNUSED = 1, "in the buyer's hands, usable within its window"
    USED = 2, "used by a paid order (use_order_id, used_at)"
    EXPIRED = 3, "its window ended before it was used"
    HELD = 4, "in use by an unpaid order (use_order_id, hold_expires_at); back to unused if the order is not paid"
    REVOKED = 5, "taken back: the order that rewarded it was cancelled (final)"
    RECALLED = 6, "taken back by an operator (final)"


IN_USE = (CouponStatus.HELD, CouponStatus.USED)  # an order holds or used it
TAKEN_BACK = (CouponStatus.REVOKED, CouponStatus.RECALLED)  # final: the buyer no longer has it


@dataclass(frozen=True)
class Terms:
    """What a coupon does, shared by a template and the coupons issued from it."""

    use_price: int  # threshold in fen over the lines in scope; 0 = none
    product_scope: ProductScope
    scope_values: tuple[int, ...]
    discount_type: DiscountType
    discount_price: int | None = None
    discount_percent: int | None = None
    discount_limit_price: int | None = None


@dataclass(frozen=True)
class Quota:
    total_count: int  # UNLIMITED or >= 1
    take_limit_count: int  # per user; UNLIMITED or >= 1


@dataclass(frozen=True)
class Validity:
    validity_type: ValidityType
    valid_start: datetime | None = None
    valid_end: datetime | None = None
    fixed_start_term: int | None = None  # days after taking
    fixed_end_term: int | None = None  # days valid


# --- templates ----------------------------------------------------------------------------------

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
    if not enabled:
        raise TemplateDisabled()
    if take_type is not requested:
        raise WrongTakeType()
    if validity.validity_type is ValidityType.DATE and validity.valid_end is not None and validity.valid_end <= now:
        raise TemplateExpired()
    if quota.take_limit_count != UNLIMITED and held_by_user + count > quota.take_limit_count:
        raise TakeLimitReached(limit=quota.take_limit_count)
    if quota.total_count != UNLIMITED and take_count + count > quota.total_count:
        raise OutOfStock()


def can_take_again(quota: Quota, held_by_user: int) -> bool:
    return quota.take_limit_count == UNLIMITED or held_by_user < quota.take_limit_count


# --- an issued coupon's life ----------------------------------------------------------------------
#
#   UNUSED --hold--> HELD --order.paid--> USED
#   HELD --release (cancel, failed checkout, hold time up)--> UNUSED, or EXPIRED past its end
#   USED --order.cancelled after payment--> UNUSED / EXPIRED (the use is returned)
#   HELD --hold time up (job)--> UNUSED / EXPIRED, remembering the order (released_order_id)
#   UNUSED --window ends--> EXPIRED
#   UNUSED or HELD --the rewarding order is cancelled--> REVOKED;  UNUSED or EXPIRED --operator--> RECALLED

def released_status(valid_end: datetime, now: datetime) -> CouponStatus:
    """What a coupon given back by an order becomes (the repository applies it in SQL as well)."""
    return CouponStatus.UNUSED if valid_end > now else CouponStatus.EXPIRED


def check_recallable(coupon_id: int, status: CouponStatus, use_order_id: int | None) -> None:
    """An operator may take back a coupon no order uses and not taken back already."""
    if status is CouponStatus.HELD:
        raise CouponHeld(id=coupon_id, order_id=use_order_id)
    if status is CouponStatus.USED:
        raise CouponInUse(id=coupon_id, order_id=use_order_id)
    if status in TAKEN_BACK:
        raise CouponTakenBack(id=coupon_id)


def revoked_by_order(order_id: int) -> str:
    """Who took back a reward coupon when its order was cancelled (`revoked_by`)."""
    return f"order:{order_id}"


# --- discounts and matching -------------------------------------------------------------------

def discount(terms: Terms, amount: int) -> int:
    """Fen off `amount` (what the lines in scope still cost). Percent discounts round down, in the
    merchant's favour, and never exceed the cap; no discount exceeds the amount."""
    if amount <= 0:
        return 0
    if terms.discount_type is DiscountType.PRICE:
        off = terms.discount_price or 0
    else:
        off = amount * (100 - (terms.discount_percent or 100)) // 100
        off = min(off, terms.discount_limit_price or 0)
    return max(0, min(off, amount))


def capped(off: int, total: int) -> int:
    """The cap rule: a coupon never takes the lines it was matched against below 1 fen to pay in
    total (points follow the same rule), so a coupon larger than the cart gives all but 1 fen."""
    return max(0, min(off, total - 1))


@dataclass(frozen=True)
class CartLine:
    spu_id: int
    category_id: int
    amount: int  # payable after earlier discounts, fen


@dataclass(frozen=True)
class HeldCoupon:
    id: int
    terms: Terms
    valid_start: datetime
    valid_end: datetime


class Unusable(StrEnum):
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    NO_PRODUCT_IN_SCOPE = "NO_PRODUCT_IN_SCOPE"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    NOTHING_TO_PAY = "NOTHING_TO_PAY"
    ZERO_DISCOUNT = "ZERO_DISCOUNT"


USABLE_FROM = Reason("NOT_YET_VALID", en="Usable from {valid_start}", zh="{valid_start} 起可用")
COUPON_EXPIRED = Reason("EXPIRED", en="Expired", zh="已过期")
NO_PRODUCT_IN_SCOPE = Reason("NO_PRODUCT_IN_SCOPE", en="No product in your cart can use it", zh="购物车中没有可用商品")
SPEND_MORE = Reason("BELOW_THRESHOLD", en="Spend ¥{shortfall} more to use it", zh="再买 ¥{shortfall} 可用")
NOTHING_TO_PAY = Reason("NOTHING_TO_PAY", en="The order amount is too small to use a coupon",
                        zh="订单金额过低，无法使用优惠券")
ZERO_DISCOUNT = Reason("ZERO_DISCOUNT", en="It takes nothing off this order", zh="对本单没有优惠金额，无法使用")
UNUSABLE_REASONS = {Unusable.NOT_YET_VALID: USABLE_FROM, Unusable.EXPIRED: COUPON_EXPIRED,
                    Unusable.NO_PRODUCT_IN_SCOPE: NO_PRODUCT_IN_SCOPE, Unusable.BELOW_THRESHOLD: SPEND_MORE,
                    Unusable.NOTHING_TO_PAY: NOTHING_TO_PAY, Unusable.ZERO_DISCOUNT: ZERO_DISCOUNT}
SHOWN_TIME = "%Y-%m-%d %H:%M"  # how a buyer reads a time, in the business timezone


@dataclass(frozen=True)
class Match:
    coupon_id: int
    usable: bool
    discount: int = 0
    line_indexes: tuple[int, ...] = ()  # the lines the discount applies to
    reason: Unusable | None = None
    details: dict[str, str] = field(default_factory=dict)

    def message(self, locale: str) -> str | None:
        if self.reason is None:
            return None
        return UNUSABLE_REASONS[self.reason].with_(**self.details).render(locale)


def applies_to_product(terms: Terms, spu_id: int | None, category_id: int | None) -> bool:
    """For the coupon center filtered by a product: would this coupon apply to it?"""
    if (spu_id is None and category_id is None) or terms.product_scope is ProductScope.ALL:
        return True
    if terms.product_scope is ProductScope.SPU:
        return spu_id in terms.scope_values
    return category_id in terms.scope_values


class CartIndex:
    """The cart's line positions by SPU and by category, built once for all of a user's coupons,
    so each coupon looks up its scope instead of scanning every line."""

    def __init__(self, lines: Sequence[CartLine]) -> None:
        self.amounts = [line.amount for line in lines]
        self.total = sum(self.amounts)
        self.every = tuple(range(len(lines)))
        self.by_spu: dict[int, list[int]] = {}
        self.by_category: dict[int, list[int]] = {}
        for i, line in enumerate(lines):
            self.by_spu.setdefault(line.spu_id, []).append(i)
            self.by_category.setdefault(line.category_id, []).append(i)

    def in_scope(self, terms: Terms) -> tuple[int, ...]:
        if terms.product_scope is ProductScope.ALL:
            return self.every
        index = self.by_spu if terms.product_scope is ProductScope.SPU else self.by_category
        return tuple(sorted(i for value in set(terms.scope_values) for i in index.get(value, ())))


def match_coupon(coupon: HeldCoupon, lines: Sequence[CartLine], now: datetime, *, zone: tzinfo = UTC,
                 index: CartIndex | None = None) -> Match:
    """One coupon against the cart. `zone` is the business timezone a buyer reads times in."""
    if now < coupon.valid_start:
        return Match(coupon.id, False, reason=Unusable.NOT_YET_VALID,
                     details={"valid_start": coupon.valid_start.astimezone(zone).strftime(SHOWN_TIME)})
    if now > coupon.valid_end:
        return Match(coupon.id, False, reason=Unusable.EXPIRED)
    index = index or CartIndex(lines)
    indexes = index.in_scope(coupon.terms)
    if not indexes:
        return Match(coupon.id, False, reason=Unusable.NO_PRODUCT_IN_SCOPE)
    amounts = index.amounts
    amount = index.total if indexes is index.every else sum([amounts[i] for i in indexes])
    if amount < coupon.terms.use_price:
        return Match(coupon.id, False, reason=Unusable.BELOW_THRESHOLD,
                     details={"shortfall": format_yuan(coupon.terms.use_price - amount)})
    if index.total <= 1:
        return Match(coupon.id, False, reason=Unusable.NOTHING_TO_PAY)
    off = capped(discount(coupon.terms, amount), index.total)
    if off == 0:  # a percent rounded down to nothing: using it would spend it for nothing
        return Match(coupon.id, False, reason=Unusable.ZERO_DISCOUNT)
    return Match(coupon.id, True, off, indexes)


def match_coupons(coupons: Sequence[HeldCoupon], lines: Sequence[CartLine], now: datetime,
                  *, zone: tzinfo = UTC) -> tuple[list[Match], Match | None]:
    """Every coupon's verdict, and the best usable one: the largest discount; on a tie the one
    that expires first (use it before it is lost), then the lowest id."""
    index = CartIndex(lines)
    matches = [match_coupon(coupon, lines, now, zone=zone, index=index) for coupon in coupons]
    ends = {coupon.id: coupon.valid_end for coupon in coupons}
    usable = [m for m in matches if m.usable]
    best = min(usable, key=lambda m: (-m.discount, ends[m.coupon_id], m.coupon_id), default=None)
    return matches, best


# --- codes --------------------------------------------------------------------------------------

# Letters and digits a person cannot confuse when reading a code aloud or from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_codes(count: int, prefix: str, length: int) -> set[str]:
    """`count` distinct random codes: `prefix` followed by `length` characters of CODE_ALPHABET."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length)))
    return codes


def normalize_code(text: str) -> str:
    """What a buyer types: any case, spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")
