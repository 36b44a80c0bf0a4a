"""Coupon rules. Pure: plain values and `now` in, a decision or a domain error out.

A coupon's terms (threshold, scope, discount) are a snapshot of its template taken when it was
issued, so later template edits never change coupons already in users' hands. A coupon is valid
from `valid_start` up to, not including, `valid_end`. What a template may say and when it may
issue coupons is in template_rules.py; here: the values, an issued coupon's life, discounts and
matching a cart, codes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from services.coupon.errors import CouponHeld, CouponInUse, CouponTakenBack, OneCouponPerOwner
from shared.enums import DescribedIntEnum, ProductScope
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


def check_one_per_owner(owners: dict[int, int | None]) -> None:
    """An order uses at most one coupon per owner: one per shop, one of the platform (None)."""
    seen: dict[int | None, int] = {}
    for coupon_id, owner in sorted(owners.items()):
        if owner in seen:
            raise OneCouponPerOwner(coupon_ids=f"{seen[owner]}, {coupon_id}")
        seen[owner] = coupon_id


def revoked_by_order(order_id: int) -> str:
    """Who took back a reward coupon when its order was cancelled (`revoked_by`)."""
    return f"order:{order_id}"


# --- discounts and matching -------------------------------------------------------------------

def discount(terms: Terms, amount: int) -> int:
    """Fen off `amount` (what the lines in scope still cost). Percent discounts round down, in the
    merchant's favour, and never exceed the cap; no discount exceeds the amount."""
    if terms.discount_type is DiscountType.PRICE:
        off = terms.discount_price or 0
    elif terms.discount_percent:
        off = min(amount * (100 - terms.discount_percent) // 100, terms.discount_limit_price or 0)
    else:
        off = 0  # a percent coupon without its percent (validation refuses it) takes nothing off
    return max(0, min(off, amount))


def ceiling(terms: Terms) -> int:
    """The most the coupon can take off any cart: its amount, or a percent coupon's cap."""
    if terms.discount_type is DiscountType.PRICE:
        return terms.discount_price or 0
    return terms.discount_limit_price or 0 if terms.discount_percent else 0


def capped(off: int, total: int) -> int:
    """The cap rule: a coupon never takes the lines it was matched against below 1 fen to pay in
    total (points follow the same rule), so a coupon larger than the cart gives all but 1 fen."""
    return max(0, min(off, total - 1))


@dataclass(frozen=True)
class CartLine:
    spu_id: int
    category_id: int
    amount: int  # payable after earlier discounts, fen
    business_id: int | None = None  # the shop selling it; None: the platform's own goods


@dataclass(frozen=True)
class HeldCoupon:
    id: int
    terms: Terms
    valid_start: datetime
    valid_end: datetime
    business_id: int | None = None  # a shop's coupon (its lines only); None: the platform's (every shop's)


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
    """The cart's line positions by SPU, by category and by shop, built once for all of a user's
    coupons, so each coupon looks up its scope instead of scanning every line."""

    def __init__(self, lines: Sequence[CartLine]) -> None:
        self.amounts = [line.amount for line in lines]
        self.total = sum(self.amounts)
        self.every = tuple(range(len(lines)))
        self.spus = [line.spu_id for line in lines]
        self.categories = [line.category_id for line in lines]
        self.by_spu: dict[int, list[int]] = {}
        self.by_category: dict[int, list[int]] = {}
        self.by_shop: dict[int, list[int]] = {}
        self._scopes: dict[tuple, tuple[int, ...]] = {}  # (scope, values, shop) -> in_scope's answer
        for i, line in enumerate(lines):
            self.by_spu.setdefault(line.spu_id, []).append(i)
            self.by_category.setdefault(line.category_id, []).append(i)
            if line.business_id is not None:
                self.by_shop.setdefault(line.business_id, []).append(i)
        self.shop_totals = {shop: sum(self.amounts[i] for i in indexes) for shop, indexes in self.by_shop.items()}

    def in_scope(self, terms: Terms, shop: int | None = None) -> tuple[int, ...]:
        """The lines a coupon's scope names; for a shop's coupon (`shop`), only among that shop's
        lines, whatever its scope names. The platform's coupons consider every shop's lines.
        Worked out once per scope and shop: a user's coupons often share them."""
        if shop is None and terms.product_scope is ProductScope.ALL:
            return self.every
        key = (terms.product_scope, terms.scope_values, shop)
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = self._lines_in_scope(terms, shop)
        return found

    def _lines_in_scope(self, terms: Terms, shop: int | None) -> tuple[int, ...]:
        if shop is not None:
            mine = self.by_shop.get(shop, ())
            if terms.product_scope is ProductScope.ALL:
                return tuple(mine)
            named = self.spus if terms.product_scope is ProductScope.SPU else self.categories
            values = set(terms.scope_values)
            return tuple(i for i in mine if named[i] in values)
        if terms.product_scope is ProductScope.ALL:
            return self.every
        index = self.by_spu if terms.product_scope is ProductScope.SPU else self.by_category
        return tuple(sorted(i for value in set(terms.scope_values) for i in index.get(value, ())))

    def total_of(self, shop: int | None) -> int:
        """What the lines a coupon may touch cost: one shop's, or (the platform's coupon) the cart's."""
        return self.total if shop is None else self.shop_totals.get(shop, 0)


def match_coupon(coupon: HeldCoupon, cart: CartIndex, now: datetime, *, zone: tzinfo = UTC) -> Match:
    """One coupon against the cart. `zone` is the business timezone a buyer reads times in. A
    shop's coupon considers only that shop's lines (its threshold, discount and cap on them); the
    platform's considers the lines of every shop in its scope."""
    if now < coupon.valid_start:
        return Match(coupon.id, False, reason=Unusable.NOT_YET_VALID,
                     details={"valid_start": coupon.valid_start.astimezone(zone).strftime(SHOWN_TIME)})
    if now >= coupon.valid_end:  # as a hold sees it: valid up to, not including, its end
        return Match(coupon.id, False, reason=Unusable.EXPIRED)
    indexes = cart.in_scope(coupon.terms, coupon.business_id)
    if not indexes:
        return Match(coupon.id, False, reason=Unusable.NO_PRODUCT_IN_SCOPE)
    amounts = cart.amounts
    amount = cart.total if indexes is cart.every else sum([amounts[i] for i in indexes])
    if amount < coupon.terms.use_price:
        return Match(coupon.id, False, reason=Unusable.BELOW_THRESHOLD,
                     details={"shortfall": format_yuan(coupon.terms.use_price - amount)})
    total = cart.total_of(coupon.business_id)  # a shop's coupon: its shop's lines are the order it touches
    if total <= 1:
        return Match(coupon.id, False, reason=Unusable.NOTHING_TO_PAY)
    off = capped(discount(coupon.terms, amount), total)
    if off == 0:  # a percent rounded down to nothing: using it would spend it for nothing
        return Match(coupon.id, False, reason=Unusable.ZERO_DISCOUNT)
    return Match(coupon.id, True, off, indexes)


def match_coupons(coupons: Sequence[HeldCoupon], lines: Sequence[CartLine], now: datetime,
                  *, zone: tzinfo = UTC) -> tuple[list[Match], Match | None]:
    """Every coupon's verdict, and the best usable one: the largest discount; on a tie the one
    that expires first (use it before it is lost), then the lowest id."""
    cart = CartIndex(lines)
    matches = [match_coupon(coupon, cart, now, zone=zone) for coupon in coupons]
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
