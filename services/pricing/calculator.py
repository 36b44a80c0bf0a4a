"""The price calculator: a cart in, every fen accounted for out. Pure: no I/O, no clock, and the
same input always gives the same output.

Steps, in the order mature malls use:

1. special activity price (seckill, group buy, bargain, points mall): exclusive, such an order
   takes no discount, reward or coupon; a merchant's activity prices only that merchant's lines;
2. limited-time discount or member price, whichever is better for each line (a platform
   discount applies to any line of its SKU, a merchant's only to that merchant's lines);
3. per shop (lines of one `business_id`): the shop's spend-and-save (满减送) on its own lines,
   then at most one shop coupon;
4. the platform's spend-and-save over the lines in its scope, across shops;
5. at most one platform coupon;
6. points deduction;
7. points to grant.

A promotion's owner is its `business_id`: None for the platform's, else one merchant's; a line's
is the shop selling it (None: the platform's own goods). Every order-level amount (reward,
coupon, points) is apportioned onto the lines it touched with the largest-remainder rule, so line
amounts always sum to the totals and no line goes below 0. The calculation is split at the coupon
steps because the coupon service does the matching: `price_until_shop_coupons(...)`,
`apply_shop_coupons(draft, coupons)` (which also runs step 4), then `finish(draft, coupon, rules)`;
`price_until_coupon(...)` runs the first two at once. `best_coupons(...)` picks the combination
of coupons that leaves the least to pay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from itertools import product
from operator import attrgetter
from typing import NamedTuple

from shared.enums import DescribedIntEnum, ProductScope
from shared.errors import RuleViolation
from shared.money import apportion, format_yuan

FULL_BP = 10_000  # basis points: 8500 = the buyer pays 85% ("8.5折")


class Kind(StrEnum):
    """What adjusted a line's price."""

    SPECIAL = "special"
    DISCOUNT = "discount"
    MEMBER = "member"
    REWARD = "reward"
    COUPON = "coupon"
    POINTS = "points"


class SpecialKind(StrEnum):
    SECKILL = "seckill"
    GROUPBUY = "groupbuy"
    BARGAIN = "bargain"
    POINTS_MALL = "points_mall"


class DiscountType(DescribedIntEnum):
    """How a limited-time discount lowers a SKU's price."""

    AMOUNT = 1, "a fixed amount off each unit (amount_off, fen)"
    PERCENT = 2, "the buyer pays pay_bp / 10000 of the unit price (8500 = 85%)"


class ConditionType(DescribedIntEnum):
    """What a spend-and-save level's threshold counts."""

    AMOUNT = 10, "spend at least the threshold, in fen"
    COUNT = 20, "buy at least the threshold, in items"


class NotApplied(StrEnum):
    NOT_BETTER = "NOT_BETTER"  # another price was as good or better for the buyer
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    EXCLUDED_BY_ACTIVITY = "EXCLUDED_BY_ACTIVITY"  # a special activity order takes no other promotion
    POINTS_DISABLED = "POINTS_DISABLED"
    NO_POINTS = "NO_POINTS"
    NOTHING_TO_DEDUCT = "NOTHING_TO_DEDUCT"


# --- errors ---------------------------------------------------------------------------------------

class NothingSelected(RuleViolation):
    code = "PRICING_NOTHING_SELECTED"
    messages = {"en": "Select at least one item", "zh-CN": "请至少选择一件商品"}


class PayAmountNotPositive(RuleViolation):
    code = "PRICING_PAY_AMOUNT_NOT_POSITIVE"
    messages = {"en": "The amount to pay must be more than zero", "zh-CN": "支付价格计算异常，原因：价格小于等于 0"}


class CouponNotAllowed(RuleViolation):
    code = "PRICING_COUPON_NOT_ALLOWED"
    messages = {"en": "Coupons cannot be used on seckill, group-buy, bargain or points-mall orders",
                "zh-CN": "参与秒杀、拼团、砍价、积分商城的商品，无法使用优惠券"}


class SpecialPriceMissing(RuleViolation):
    code = "PRICING_SKU_NOT_IN_ACTIVITY"
    messages = {"en": "SKU {sku_id} is not part of this activity", "zh-CN": "商品 {sku_id} 不在该活动中"}


class SpecialPriceOtherShop(RuleViolation):
    """A merchant's seckill, group-buy or bargain price asked for a line another shop sells."""

    code = "PRICING_ACTIVITY_OTHER_SHOP"
    messages = {"en": "SKU {sku_id} is not sold by the shop running this activity, so its price cannot be used",
                "zh-CN": "商品 {sku_id} 不是该活动所属店铺的商品，不能使用该活动价"}


class CouponsOfOneOwner(RuleViolation):
    code = "PRICING_ONE_COUPON_PER_OWNER"
    messages = {"en": "At most one coupon per shop and one platform coupon may be used on an order",
                "zh-CN": "每个店铺最多使用一张店铺券，平台券最多使用一张"}


# --- inputs ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Line:
    sku_id: int
    spu_id: int
    category_id: int
    unit_price: int
    count: int
    selected: bool = True
    business_id: int | None = None  # the shop selling it; None: the platform's own goods


def owns(owner: int | None, line: Line) -> bool:
    """A promotion of this owner may touch the line: the platform's any line, a merchant's its own."""
    return owner is None or owner == line.business_id


@dataclass(frozen=True, slots=True)
class SkuDiscount:
    """A limited-time discount on one SKU."""

    activity_id: int
    name: str
    sku_id: int
    discount_type: DiscountType
    amount_off: int = 0  # AMOUNT: fen off each unit
    pay_bp: int = FULL_BP  # PERCENT
    business_id: int | None = None  # the owner: None for the platform's

    def unit_off(self, unit_price: int) -> int:
        if self.discount_type is DiscountType.AMOUNT:
            return min(self.amount_off, unit_price)
        return unit_price * (FULL_BP - self.pay_bp) // FULL_BP  # the discount rounds down


@dataclass(frozen=True, slots=True)
class RewardLevel:
    threshold: int  # fen (AMOUNT) or items (COUNT)
    amount_off: int = 0
    free_delivery: bool = False
    points: int = 0
    coupons: tuple[tuple[int, int], ...] = ()  # (template_id, count), sorted


@dataclass(frozen=True, slots=True)
class RewardRule:
    """A spend-and-save activity; levels ascend by threshold."""

    id: int
    name: str
    condition: ConditionType
    scope: ProductScope
    scope_values: frozenset[int]
    levels: tuple[RewardLevel, ...]
    business_id: int | None = None  # the owner: None for the platform's (spans shops)

    def covers(self, line: Line) -> bool:
        if self.scope is ProductScope.ALL:
            return True
        return (line.spu_id if self.scope is ProductScope.SPU else line.category_id) in self.scope_values


# SPU-scoped activities are the most specific: they claim their lines first, then category, then all.
SCOPE_PRECEDENCE = {ProductScope.SPU: 0, ProductScope.CATEGORY: 1, ProductScope.ALL: 2}


@dataclass(frozen=True, slots=True)
class SpecialPrice:
    """A special activity's own unit prices, given by the activity's service."""

    kind: SpecialKind
    activity_id: int
    unit_prices: Mapping[int, int]  # sku_id -> price
    unit_points: Mapping[int, int] = field(default_factory=dict)  # points mall: points per unit
    name: str = ""  # the activity's name, as buyers see it
    business_id: int | None = None  # the activity's owner: a merchant's prices only its own lines


@dataclass(frozen=True, slots=True)
class Cart:
    lines: tuple[Line, ...]
    member_pay_bp: int | None = None  # the member level's price, e.g. 9500 = pay 95%
    use_points: bool = False
    points_balance: int = 0
    special: SpecialPrice | None = None


@dataclass(frozen=True, slots=True)
class Offers:
    """The promotions that may apply, as loaded for this cart."""

    discounts: Mapping[int, SkuDiscount] = field(default_factory=dict)  # by sku_id
    rewards: tuple[RewardRule, ...] = ()


@dataclass(frozen=True, slots=True)
class PointsRules:
    enabled: bool = False
    fen_per_point: int = 1  # how much one point takes off
    max_points_per_order: int = 0  # 0 = no cap
    grant_per_yuan: int = 0  # points granted per yuan paid; 0 = none


class CouponLine(NamedTuple):
    """What the coupon service needs to match coupons against a line."""

    line_index: int
    spu_id: int
    category_id: int
    amount: int
    business_id: int | None = None  # the line's shop: a shop coupon considers its shop's lines only


@dataclass(frozen=True, slots=True)
class ChosenCoupon:
    """The coupon service's verdict for the coupon to apply."""

    coupon_id: int
    name: str
    discount: int
    line_indexes: tuple[int, ...]  # indexes into coupon_lines()
    business_id: int | None = None  # the coupon's owner: a shop coupon touches its shop's lines only


# --- outputs --------------------------------------------------------------------------------------

_new_tuple = tuple.__new__


class Adjustment(NamedTuple):  # a tuple: one is made for every step that touches a line
    kind: Kind
    promotion_id: int
    amount: int


@dataclass(slots=True)
class LinePrice:
    index: int
    line: Line
    original: int
    pay: int
    adjustments: list[Adjustment] = field(default_factory=list)
    points_used: int = 0
    points_granted: int = 0
    special: bool = False

    def take(self, kind: Kind, promotion_id: int, amount: int) -> None:
        if amount:
            self.pay -= amount
            # tuple.__new__ makes the same Adjustment without NamedTuple's Python-level __new__:
            # this runs a few hundred times a quote
            self.adjustments.append(_new_tuple(Adjustment, (kind, promotion_id, amount)))


class Hint(NamedTuple):
    """A near miss: how much more to buy for a level, and what it gives."""

    condition: ConditionType
    shortfall: int
    level: RewardLevel


@dataclass(slots=True)
class PromotionResult:
    kind: Kind
    id: int
    name: str
    applied: bool
    amount: int = 0
    line_indexes: tuple[int, ...] = ()
    reason: NotApplied | None = None
    level: RewardLevel | None = None  # the reward level reached
    hint: Hint | None = None  # the next reward level
    business_id: int | None = None  # the promotion's owner (None: the platform, member price, points)


@dataclass(frozen=True, slots=True)
class Totals:
    original: int
    special: int
    discount: int
    member: int
    reward: int
    coupon: int
    points: int  # fen taken off by points
    pay: int
    points_used: int
    points_spent: int  # points-mall price in points
    points_granted: int


@dataclass(frozen=True, slots=True)
class Grants:
    points: int
    coupons: dict[int, int]  # template_id -> count, granted after payment
    free_delivery: bool


@dataclass(frozen=True, slots=True)
class Quote:
    lines: list[LinePrice]
    totals: Totals
    promotions: list[PromotionResult]
    grants: Grants
    coupon_id: int | None  # the platform coupon applied, else the first shop coupon
    coupon_ids: tuple[int, ...] = ()  # every coupon applied: the shops' (by business_id), then the platform's

    def coupon_discounts(self) -> list[tuple[int, int]]:
        """(coupon_id, what it took off) of every coupon applied, in `coupon_ids`' order."""
        taken = {r.id: r.amount for r in self.promotions if r.kind is Kind.COUPON and r.applied}
        return [(coupon_id, taken.get(coupon_id, 0)) for coupon_id in self.coupon_ids]


@dataclass(slots=True)
class Draft:
    """The cart priced up to the coupon step."""

    cart: Cart
    lines: list[LinePrice]
    promotions: list[PromotionResult]
    reward_points: dict[int, int] = field(default_factory=dict)  # line index -> points from rewards
    coupons: dict[int, int] = field(default_factory=dict)
    free_delivery: bool = False
    offers: Offers = field(default_factory=Offers)
    platform_priced: bool = False  # the shops' coupons and the platform's spend-and-save are done
    applied_coupons: list[ChosenCoupon] = field(default_factory=list)

    def coupon_lines(self) -> list[CouponLine]:
        """Lines a coupon may touch, with what they still cost (none in a special activity order)."""
        return [CouponLine(p.index, p.line.spu_id, p.line.category_id, p.pay, p.line.business_id)
                for p in self._couponable()]

    def shops(self) -> list[int | None]:
        """The owners of the selected lines, in the order their first line comes."""
        return list(dict.fromkeys(p.line.business_id for p in self.lines if p.line.selected))

    def has_shop_lines(self) -> bool:
        return any(p.line.business_id is not None for p in self.lines if p.line.selected)

    def copy(self) -> Draft:
        """An independent copy, to try one choice of coupons on."""
        lines = [LinePrice(p.index, p.line, p.original, p.pay, list(p.adjustments), p.points_used,
                           p.points_granted, p.special) for p in self.lines]
        # the results so far are final (only the discount step changes a result after making it)
        return Draft(self.cart, lines, list(self.promotions), dict(self.reward_points),
                     dict(self.coupons), self.free_delivery, self.offers, self.platform_priced,
                     list(self.applied_coupons))

    def _couponable(self) -> list[LinePrice]:
        return [p for p in self.lines if p.line.selected and not p.special]


BY_INDEX = attrgetter("index")


# --- the steps ------------------------------------------------------------------------------------

def price_until_shop_coupons(cart: Cart, offers: Offers) -> Draft:
    """Steps 1-3 up to the shops' coupons: special price, discount or member price, and each
    shop's spend-and-save on its own lines."""
    lines = [LinePrice(i, line, line.unit_price * line.count, line.unit_price * line.count)
             for i, line in enumerate(cart.lines)]
    selected = [p for p in lines if p.line.selected]
    if not selected:
        raise NothingSelected()
    draft = Draft(cart, lines, [], offers=offers)
    if cart.special is not None:
        _special_prices(draft, selected, cart.special, offers)
    else:
        _discount_or_member(draft, selected, offers.discounts, cart.member_pay_bp)
        shop_rules = [rule for rule in offers.rewards if rule.business_id is not None]
        if shop_rules:
            for shop in sorted(b for b in draft.shops() if b is not None):
                _rewards(draft, [p for p in selected if p.line.business_id == shop],
                         [rule for rule in shop_rules if rule.business_id == shop])
    return draft


def apply_shop_coupons(draft: Draft, coupons: Sequence[ChosenCoupon] = ()) -> None:
    """At most one coupon per shop, each on its shop's lines, then the platform's spend-and-save
    over the lines in its scope across shops (measured on what they cost after the shop coupons)."""
    if draft.platform_priced:
        raise ValueError("the shops' coupons were applied already")
    special = draft.cart.special
    if coupons and special is not None:
        raise CouponNotAllowed()
    owners = [coupon.business_id for coupon in coupons]
    if None in owners:
        raise ValueError("a platform coupon is applied by finish()")
    if len(set(owners)) != len(owners):
        raise CouponsOfOneOwner()
    for coupon in sorted(coupons, key=lambda c: c.business_id or 0):
        _coupon(draft, coupon)
    draft.platform_priced = True
    if special is None:
        platform_rules = [rule for rule in draft.offers.rewards if rule.business_id is None]
        if platform_rules:
            _rewards(draft, [p for p in draft.lines if p.line.selected], platform_rules)


def price_until_coupon(cart: Cart, offers: Offers, shop_coupons: Sequence[ChosenCoupon] = ()) -> Draft:
    """Every step before the platform coupon."""
    draft = price_until_shop_coupons(cart, offers)
    apply_shop_coupons(draft, shop_coupons)
    return draft


def finish(draft: Draft, coupon: ChosenCoupon | None, rules: PointsRules) -> Quote:
    """The platform coupon, points, and the quote."""
    if not draft.platform_priced:
        apply_shop_coupons(draft)
    selected = [p for p in draft.lines if p.line.selected]
    special = draft.cart.special
    if coupon is not None:
        if special is not None:
            raise CouponNotAllowed()
        _coupon(draft, coupon)
    points_mall = special is not None and special.kind is SpecialKind.POINTS_MALL
    if draft.cart.use_points and not points_mall:
        _deduct_points(draft, selected, rules)
    pay = sum(p.pay for p in selected)
    if pay <= 0 and not points_mall:
        raise PayAmountNotPositive(pay=pay)
    if not points_mall:  # an exchange spends points: it earns none
        _grant_points(draft, selected, rules)
    coupon_ids = tuple(c.coupon_id for c in draft.applied_coupons)
    main = coupon.coupon_id if coupon else (coupon_ids[0] if coupon_ids else None)
    return Quote(draft.lines, _totals(draft, selected), draft.promotions,
                 Grants(sum(p.points_granted for p in selected), dict(sorted(draft.coupons.items())),
                        draft.free_delivery),
                 main, coupon_ids)


# --- the best combination of coupons -------------------------------------------------------------

ShopCoupons = tuple[ChosenCoupon, ...]


def shop_coupon_choices(options: Mapping[int, Sequence[ChosenCoupon]], limit: int = 8) -> list[ShopCoupons]:
    """The choices of shop coupons worth pricing, `options` being each shop's usable ones. Every
    combination (none or one per shop) when there are at most `limit` of them; else each shop's
    largest together, and none. The first is each shop's largest together."""
    shops = sorted(options)
    largest = tuple(max(options[b], key=lambda c: (c.discount, -c.coupon_id)) for b in shops if options[b])
    choices = [largest]
    count = 1
    for b in shops:
        count *= len(options[b]) + 1
    if count <= limit:
        for combination in product(*[(None, *sorted(options[b], key=lambda c: c.coupon_id)) for b in shops]):
            choice = tuple(c for c in combination if c is not None)
            if choice != largest:
                choices.append(choice)
    elif largest:
        choices.append(())
    return choices


def try_shop_coupons(base: Draft, choice: ShopCoupons) -> Draft:
    """A copy of a draft priced up to the platform coupon with these shop coupons."""
    draft = base.copy()
    apply_shop_coupons(draft, choice)
    return draft


def coupon_off(draft: Draft, coupon: ChosenCoupon, couponable: list[LinePrice] | None = None) -> int:
    """What the coupon would take off this draft (as `_coupon` applies it)."""
    if couponable is None:
        couponable = draft._couponable()
    return _off(coupon, couponable, sum(p.pay for p in couponable))


def _off(coupon: ChosenCoupon, couponable: list[LinePrice], total: int) -> int:
    n = len(couponable)
    if coupon.business_id is None:
        mine = sum(couponable[i].pay for i in coupon.line_indexes if i < n)
    else:
        mine = sum(couponable[i].pay for i in coupon.line_indexes
                   if i < n and couponable[i].line.business_id == coupon.business_id)
    return max(0, min(coupon.discount, mine, total - 1))


class CouponPick(NamedTuple):
    shop: ShopCoupons
    draft: Draft  # priced with `shop`, up to the platform coupon
    platform: ChosenCoupon | None
    pay: int  # what the selected lines would pay before points


def pick_best(trials: Sequence[tuple[ShopCoupons, Draft, Sequence[ChosenCoupon]]]) -> CouponPick:
    """Of every (shop coupons, the draft they give, the platform coupons usable on it), and each
    with one platform coupon or none, the one leaving the least to pay before points (points only
    ever take less off a smaller amount, never more): ties go to fewer coupons, then the earlier
    trial, then the larger platform coupon."""
    best: tuple | None = None
    for n, (shop, draft, platform) in enumerate(trials):
        before = sum(p.pay for p in draft.lines if p.line.selected)
        ranked = sorted(platform, key=lambda c: (-c.discount, c.coupon_id))
        couponable = draft._couponable()
        total = sum(p.pay for p in couponable)
        largest = 0  # what the best platform coupon so far takes off this trial
        for m, coupon in enumerate((None, *ranked)):
            if coupon is not None and coupon.discount <= largest:
                break  # ranked by discount: none of the rest can take off more (a tie goes to the earlier)
            off = _off(coupon, couponable, total) if coupon is not None else 0
            pay = before - off
            key = (pay, len(shop) + (coupon is not None), n, m)
            if off > largest or coupon is None:
                largest = max(largest, off)
                if best is None or key < best[0]:
                    best = key, CouponPick(shop, draft, coupon, pay)
    assert best is not None, "no trial"
    return best[1]


def platform_ceiling(base: Draft, coupon_ceiling: int | None) -> int | None:
    """The most the platform's steps could take off any choice of shop coupons on `base` (priced up
    to them): each platform spend-and-save at the highest level the lines in its scope reach
    before any shop coupon (coupons only lower them), and the largest platform coupon
    (`coupon_ceiling`, the most any of the user's could take off; None when unknown: no bound)."""
    if coupon_ceiling is None:
        return None
    selected = [p for p in base.lines if p.line.selected]
    gain = 0
    for rule in base.offers.rewards:
        if rule.business_id is None:
            covered = [p for p in selected if rule.covers(p.line)]
            measure = (sum(p.pay for p in covered) if rule.condition is ConditionType.AMOUNT
                       else sum(p.line.count for p in covered))
            gain += max((level.amount_off for level in rule.levels if level.threshold <= measure), default=0)
    return coupon_ceiling + gain


def floors(base: Draft, choices: Sequence[ShopCoupons], ceiling: int | None) -> list[int | None]:
    """For each choice (on `base`, before any is applied), a pay that pricing it could not go
    below: what the selected lines pay after its shop coupons (each taking at most what it would
    take from `base`), less `platform_ceiling`. None: no bound."""
    if ceiling is None:
        return [None] * len(choices)
    couponable = base._couponable()
    total = sum(p.pay for p in couponable)
    before = sum(p.pay for p in base.lines if p.line.selected)
    return [before - sum(_off(c, couponable, total) for c in choice) - ceiling for choice in choices]


def worth_trying(floor: int | None, best_pay: int) -> bool:
    """Whether a choice whose floor is `floor` could still win against `best_pay` (on a tie, the
    one with fewer coupons wins: so a floor equal to it still counts)."""
    return floor is None or floor <= best_pay


def best_coupons(base: Draft, shop_options: Mapping[int, Sequence[ChosenCoupon]],
                 platform_options: Callable[[Draft], Sequence[ChosenCoupon]], limit: int = 8,
                 coupon_ceiling: int | None = None) -> CouponPick:
    """The best combination: `base` priced up to the shops' coupons (it is used up), each shop's
    usable coupons, and what the platform's usable coupons are on a draft priced up to the
    platform coupon. Each shop's largest coupons are priced first; another choice only if its
    floor (with `coupon_ceiling`, the most any platform coupon of the user's takes off) could
    beat the best so far."""
    choices = shop_coupon_choices(shop_options, limit)
    bounds = floors(base, choices, platform_ceiling(base, coupon_ceiling))
    trials: list[tuple[ShopCoupons, Draft, Sequence[ChosenCoupon]]] = []
    best_pay: int | None = None
    for n, choice in enumerate(choices):
        if best_pay is not None and not worth_trying(bounds[n], best_pay):
            continue
        if n == len(choices) - 1:  # the last one may take `base` itself
            draft = base
            apply_shop_coupons(draft, choice)
        else:
            draft = try_shop_coupons(base, choice)
        trials.append((choice, draft, platform_options(draft)))
        pay = pick_best(trials[-1:]).pay
        best_pay = pay if best_pay is None else min(best_pay, pay)
    return pick_best(trials)


def _special_prices(draft: Draft, selected: list[LinePrice], special: SpecialPrice, offers: Offers) -> None:
    for p in selected:
        if not owns(special.business_id, p.line):
            raise SpecialPriceOtherShop(sku_id=p.line.sku_id)
        price = special.unit_prices.get(p.line.sku_id)
        if price is None:
            raise SpecialPriceMissing(sku_id=p.line.sku_id)
        p.special = True
        if special.kind is SpecialKind.POINTS_MALL and price * p.line.count > p.original:
            p.original = p.pay = price * p.line.count  # the exchange's cash is its price, even above the SKU's
        p.take(Kind.SPECIAL, special.activity_id, max(0, p.original - price * p.line.count))
    draft.promotions.append(PromotionResult(Kind.SPECIAL, special.activity_id, special.name or special.kind.value, True,
                                            sum(_taken(p, Kind.SPECIAL) for p in selected),
                                            tuple(p.index for p in selected), business_id=special.business_id))
    excluded = {d.activity_id: d for p in selected
                if (d := offers.discounts.get(p.line.sku_id)) and owns(d.business_id, p.line)}
    for activity_id, d in sorted(excluded.items()):
        draft.promotions.append(PromotionResult(Kind.DISCOUNT, activity_id, d.name, False,
                                                reason=NotApplied.EXCLUDED_BY_ACTIVITY, business_id=d.business_id))
    for rule in sorted(offers.rewards, key=lambda r: r.id):
        if any(rule.covers(p.line) and owns(rule.business_id, p.line) for p in selected):
            draft.promotions.append(PromotionResult(Kind.REWARD, rule.id, rule.name, False,
                                                    reason=NotApplied.EXCLUDED_BY_ACTIVITY,
                                                    business_id=rule.business_id))


def _discount_or_member(draft: Draft, selected: list[LinePrice], discounts: Mapping[int, SkuDiscount],
                        member_pay_bp: int | None) -> None:
    by_activity: dict[int, PromotionResult] = {}
    member = PromotionResult(Kind.MEMBER, 0, "", False, reason=NotApplied.NOT_BETTER)
    member_considered = False
    for p in selected:
        unit = p.line.unit_price
        offer = discounts.get(p.line.sku_id)
        if offer is not None and offer.business_id is not None and offer.business_id != p.line.business_id:
            offer = None  # a merchant's discount prices only its own lines
        discount_off = offer.unit_off(unit) * p.line.count if offer else 0
        member_off = unit * (FULL_BP - member_pay_bp) // FULL_BP * p.line.count if member_pay_bp else 0
        member_considered = member_considered or member_pay_bp is not None
        if offer is not None:
            result = by_activity.get(offer.activity_id)
            if result is None:
                result = by_activity[offer.activity_id] = PromotionResult(
                    Kind.DISCOUNT, offer.activity_id, offer.name, False, reason=NotApplied.NOT_BETTER,
                    business_id=offer.business_id)
        if offer is not None and discount_off > 0 and discount_off >= member_off:  # a tie goes to the activity
            p.take(Kind.DISCOUNT, offer.activity_id, discount_off)
            _applied(result, p.index, discount_off)
        elif member_off > 0:
            p.take(Kind.MEMBER, 0, member_off)
            _applied(member, p.index, member_off)
    draft.promotions.extend(by_activity[k] for k in sorted(by_activity))
    if member_considered:
        draft.promotions.append(member)


def _rewards(draft: Draft, selected: list[LinePrice], rules: Sequence[RewardRule]) -> None:
    taken: set[int] = set()
    results = []
    by_spu: dict[int, list[LinePrice]] = {}
    by_category: dict[int, list[LinePrice]] = {}
    for p in selected:
        by_spu.setdefault(p.line.spu_id, []).append(p)
        by_category.setdefault(p.line.category_id, []).append(p)
    for rule in sorted(rules, key=lambda r: (SCOPE_PRECEDENCE[r.scope], r.id)):
        if rule.scope is ProductScope.ALL:
            candidates = selected
        else:
            index = by_spu if rule.scope is ProductScope.SPU else by_category
            if len(rule.scope_values) == 1:  # the index keeps cart order
                candidates = index.get(next(iter(rule.scope_values)), ())
            else:
                candidates = sorted((p for value in rule.scope_values for p in index.get(value, ())),
                                    key=BY_INDEX)
        mine = [p for p in candidates if p.index not in taken]
        if not mine:
            continue
        pays = [p.pay for p in mine]
        measure = sum(pays) if rule.condition is ConditionType.AMOUNT else sum(p.line.count for p in mine)
        level = following = None
        for candidate in rule.levels:  # ascending: the last reached, then the first not reached
            if candidate.threshold > measure:
                following = candidate
                break
            level = candidate
        hint = Hint(rule.condition, following.threshold - measure, following) if following else None
        if level is None:
            results.append(PromotionResult(Kind.REWARD, rule.id, rule.name, False,
                                           reason=NotApplied.BELOW_THRESHOLD, hint=hint, business_id=rule.business_id))
            continue
        indexes = tuple(p.index for p in mine)
        taken.update(indexes)
        off = min(level.amount_off, sum(pays))
        if off:
            for p, share in zip(mine, apportion(off, pays), strict=True):
                p.take(Kind.REWARD, rule.id, share)
        if level.points:
            for p, share in zip(mine, apportion(level.points, [p.pay for p in mine]), strict=True):
                draft.reward_points[p.index] = draft.reward_points.get(p.index, 0) + share
        for template_id, count in level.coupons:
            draft.coupons[template_id] = draft.coupons.get(template_id, 0) + count
        draft.free_delivery = draft.free_delivery or level.free_delivery
        results.append(PromotionResult(Kind.REWARD, rule.id, rule.name, True, off, indexes, level=level, hint=hint,
                                       business_id=rule.business_id))
    draft.promotions.extend(sorted(results, key=lambda r: r.id))


def _coupon(draft: Draft, coupon: ChosenCoupon) -> None:
    couponable = draft._couponable()  # what coupon_lines() listed, in its order
    # a shop coupon touches its shop's lines only, whatever the coupon service said
    mine = [couponable[i] for i in coupon.line_indexes if owns(coupon.business_id, couponable[i].line)]
    # A coupon larger than the order leaves one fen to pay (the coupon service caps its verdict alike).
    off = max(0, min(coupon.discount, sum(p.pay for p in mine), sum(p.pay for p in couponable) - 1))
    for p, share in zip(mine, apportion(off, [p.pay for p in mine]), strict=True):
        p.take(Kind.COUPON, coupon.coupon_id, share)
    draft.promotions.append(PromotionResult(Kind.COUPON, coupon.coupon_id, coupon.name, True, off,
                                            tuple(p.index for p in mine), business_id=coupon.business_id))
    draft.applied_coupons.append(coupon)


def _deduct_points(draft: Draft, selected: list[LinePrice], rules: PointsRules) -> None:
    result = PromotionResult(Kind.POINTS, 0, "", False)
    draft.promotions.append(result)
    balance = draft.cart.points_balance
    if not rules.enabled:
        result.reason = NotApplied.POINTS_DISABLED
        return
    if balance <= 0:
        result.reason = NotApplied.NO_POINTS
        return
    pay = sum(p.pay for p in selected)
    # Points never make a normal order free: at least one fen is left to pay.
    points = min(balance, max(0, pay - 1) // rules.fen_per_point)
    if rules.max_points_per_order:
        points = min(points, rules.max_points_per_order)
    if points <= 0:
        result.reason = NotApplied.NOTHING_TO_DEDUCT
        return
    off = points * rules.fen_per_point
    shares = apportion(off, [p.pay for p in selected])
    for p, share, used in zip(selected, shares, apportion(points, shares), strict=True):
        p.take(Kind.POINTS, 0, share)
        p.points_used = used
    result.applied, result.reason, result.amount = True, None, off
    result.line_indexes = tuple(p.index for p, share in zip(selected, shares, strict=True) if share)


def _grant_points(draft: Draft, selected: list[LinePrice], rules: PointsRules) -> None:
    paid_points = sum(p.pay for p in selected) * rules.grant_per_yuan // 100
    shares = apportion(paid_points, [p.pay for p in selected]) if paid_points else [0] * len(selected)
    for p, share in zip(selected, shares, strict=True):
        p.points_granted = share + draft.reward_points.get(p.index, 0)


def _totals(draft: Draft, selected: list[LinePrice]) -> Totals:
    by_kind = dict.fromkeys(Kind, 0)
    for result in draft.promotions:  # each applied promotion's amount is what its lines took
        if result.applied:
            by_kind[result.kind] += result.amount
    special = draft.cart.special
    points_spent = sum(special.unit_points.get(p.line.sku_id, 0) * p.line.count
                       for p in selected) if special is not None else 0
    return Totals(original=sum(p.original for p in selected), special=by_kind[Kind.SPECIAL],
                  discount=by_kind[Kind.DISCOUNT], member=by_kind[Kind.MEMBER], reward=by_kind[Kind.REWARD],
                  coupon=by_kind[Kind.COUPON], points=by_kind[Kind.POINTS], pay=sum(p.pay for p in selected),
                  points_used=sum(p.points_used for p in selected), points_spent=points_spent,
                  points_granted=sum(p.points_granted for p in selected))


def _taken(p: LinePrice, kind: Kind) -> int:
    return sum(a.amount for a in p.adjustments if a.kind is kind)


def _applied(result: PromotionResult, index: int, amount: int) -> None:
    result.applied, result.reason = True, None
    result.amount += amount
    result.line_indexes += (index,)


# --- display text ---------------------------------------------------------------------------------

def _yuan(fen: int) -> str:
    """Compact yuan for labels: 10000 -> '100', 9950 -> '99.50'."""
    text = format_yuan(fen)
    return text[:-3] if text.endswith(".00") else text


@lru_cache(maxsize=4096)  # the same few levels are described on every quote
def describe_level(condition: ConditionType, level: RewardLevel, locale: str) -> str:
    """'满100减10，包邮，送50积分，送2张券' / 'Spend ¥100: ¥10 off, free delivery, ...'."""
    zh = locale == "zh-CN"
    if condition is ConditionType.AMOUNT:
        head = f"满{_yuan(level.threshold)}" if zh else f"Spend ¥{_yuan(level.threshold)}"
    else:
        head = f"满{level.threshold}件" if zh else f"Buy {level.threshold}"
    return head + _benefits(level, zh)


@lru_cache(maxsize=4096)  # hints name the same few levels on every quote
def _benefits(level: RewardLevel, zh: bool) -> str:
    coupons = sum(count for _, count in level.coupons)
    parts = [
        (f"减{_yuan(level.amount_off)}" if zh else f"¥{_yuan(level.amount_off)} off") if level.amount_off else "",
        ("包邮" if zh else "free delivery") if level.free_delivery else "",
        (f"送{level.points}积分" if zh else f"{level.points} points") if level.points else "",
        (f"送{coupons}张券" if zh else f"{coupons} coupon{'s' if coupons > 1 else ''}") if coupons else "",
    ]
    parts = [part for part in parts if part]
    if zh:
        return parts[0] + "".join("，" + part for part in parts[1:]) if parts else ""
    return ": " + ", ".join(parts) if parts else ""


def describe_hint(hint: Hint, locale: str) -> str:
    """'再买 ¥20.00 减10' / 'Add ¥20.00 more: ¥10 off'."""
    zh = locale == "zh-CN"
    if hint.condition is ConditionType.AMOUNT:
        more = f"再买 ¥{format_yuan(hint.shortfall)} " if zh else f"Add ¥{format_yuan(hint.shortfall)} more"
    else:
        items = "item" if hint.shortfall == 1 else "items"
        more = f"再买 {hint.shortfall} 件 " if zh else f"Add {hint.shortfall} more {items}"
    return (more + _benefits(hint.level, zh)).rstrip()


REASON_MESSAGES = {
    NotApplied.NOT_BETTER: {"en": "Another price is better", "zh-CN": "已享受更优惠的价格"},
    NotApplied.BELOW_THRESHOLD: {"en": "Threshold not reached", "zh-CN": "未达到门槛"},
    NotApplied.EXCLUDED_BY_ACTIVITY: {"en": "Not combined with this activity's price",
                                      "zh-CN": "活动商品不参与其他优惠"},
    NotApplied.POINTS_DISABLED: {"en": "Points cannot be used", "zh-CN": "积分抵扣未开启"},
    NotApplied.NO_POINTS: {"en": "No points to use", "zh-CN": "暂无可用积分"},
    NotApplied.NOTHING_TO_DEDUCT: {"en": "Nothing left for points to pay", "zh-CN": "订单金额不足以使用积分抵扣"},
}


def reason_message(reason: NotApplied, locale: str) -> str:
    messages = REASON_MESSAGES[reason]
    return messages.get(locale) or messages["en"]
