"""Request and response bodies of the pricing service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.pricing.calculator import FULL_BP, ConditionType, DiscountType, Kind, ProductScope, SpecialKind
from services.pricing.domain import ActivityState
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import Moment

Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
PositiveFen = Annotated[int, Field(ge=1, le=MAX_FEN)]
PayBp = Annotated[int, Field(ge=1, le=FULL_BP - 1, description="share the buyer pays, in basis points (8500 = 85%)")]



class ActivityIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    start_at: Moment
    end_at: Moment
    remark: Annotated[str, Field(max_length=255)] = ""


class ActivityOut(Output):
    id: int
    business_id: int | None = Field(description="the owner: a merchant's business id; null: the platform's")
    name: str
    status: CommonStatus
    state: ActivityState
    start_at: datetime
    end_at: datetime
    remark: str
    created_at: datetime
    updated_at: datetime


# --- limited-time discounts -----------------------------------------------------------------------

class DiscountItemIn(Input):
    spu_id: Id
    sku_id: Id
    discount_type: DiscountType
    amount_off: PositiveFen | None = Field(default=None, description="AMOUNT: fen off each unit")
    pay_bp: PayBp | None = None


class DiscountActivityIn(ActivityIn):
    products: Annotated[list[DiscountItemIn], Field(min_length=1, max_length=500)]


class DiscountItemOut(Output):
    spu_id: int
    sku_id: int
    discount_type: DiscountType
    amount_off: int | None
    pay_bp: int | None


class DiscountActivityOut(ActivityOut):
    products: list[DiscountItemOut]


class SkuDiscountOut(BaseModel):
    """A product page's view of one SKU's running discount."""

    sku_id: int
    activity_id: int | None = None
    activity_name: str | None = None
    discount_type: DiscountType | None = None
    amount_off: int | None = None
    pay_bp: int | None = None
    end_at: datetime | None = None
    price: int | None = None  # the price the client sent
    discount_price: int | None = None  # per unit, when a price was sent


# --- spend-and-save -------------------------------------------------------------------------------

class RewardLevelIn(Input):
    threshold: Annotated[int, Field(ge=1, le=MAX_FEN, description="fen (AMOUNT condition) or items (COUNT)")]
    amount_off: Fen = 0
    free_delivery: bool = False
    points: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    coupons: Annotated[dict[Id, Annotated[int, Field(ge=1, le=100)]],
                       Field(max_length=10, description="{coupon template id: count} granted after payment")] = {}


class RewardActivityIn(ActivityIn):
    condition_type: ConditionType
    product_scope: ProductScope = ProductScope.ALL
    product_scope_values: Annotated[list[Id], Field(max_length=500)] = []
    levels: Annotated[list[RewardLevelIn], Field(min_length=1, max_length=10)]


class RewardLevelOut(BaseModel):
    threshold: int
    amount_off: int
    free_delivery: bool
    points: int
    coupons: dict[int, int]
    description: str


class RewardActivityOut(ActivityOut):
    condition_type: ConditionType
    product_scope: ProductScope
    product_scope_values: list[int]
    levels: list[RewardLevelOut]


class RunningRewardOut(BaseModel):
    id: int
    name: str
    condition_type: ConditionType
    end_at: datetime
    levels: list[RewardLevelOut]


class ActivityStatsOut(BaseModel):
    """What one discount or spend-and-save activity did, from the checkouts that applied it."""

    activity_id: int
    orders: int = Field(description="orders checked out with it applied (awaiting payment, paid or cancelled)")
    awaiting_payment: int = Field(description="of those, orders not paid yet")
    paid: int
    cancelled: int
    discount_given: int = Field(description="fen it took off the paid orders")
    discount_awaiting_payment: int = Field(description="fen it takes off the orders awaiting payment")


# --- quote ----------------------------------------------------------------------------------------

class LineIn(Input):
    sku_id: Id
    spu_id: Id
    category_id: Id
    unit_price: Fen
    count: Annotated[int, Field(ge=1, le=10_000)]
    selected: bool = True
    business_id: Id | None = Field(default=None, description="the shop selling it; null: the platform's own goods "
                                                             "(trusted on /internal; on /app-api display-only, like "
                                                             "the prices)")


class SpecialActivityIn(Input):
    type: SpecialKind
    activity_id: Id
    group_id: Id | None = Field(default=None, description="groupbuy: the group to join (none = open one)")
    record_id: Id | None = Field(default=None, description="bargain: the bargain record")
    reservation_id: Id | None = Field(default=None, description="seckill: the buyer's reservation, if one was made")
    nickname: Annotated[str, Field(max_length=64)] = Field(default="", description="groupbuy: how the buyer "
                                                                                   "appears in the group")
    avatar: Annotated[str, Field(max_length=512, pattern=r"^(https?://\S+)?$")] = Field(
        default="", description="groupbuy: the buyer's avatar URL (http or https)")


class QuoteIn(Input):
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]
    coupon_id: Id | None = Field(default=None, description="apply this coupon")
    coupon_ids: Annotated[list[Id], Field(max_length=50)] = Field(
        default=[], description="apply these coupons (with coupon_id, if given): at most one per shop and one of the "
                                "platform's")
    use_best_coupon: bool = Field(default=False, description="apply the best combination of usable coupons: a shop "
                                                             "coupon per shop, then a platform coupon (ignored with "
                                                             "coupon_id or coupon_ids)")
    use_points: bool = False
    points_balance: Annotated[int, Field(ge=0, le=10**12)] = 0
    member_pay_bp: Annotated[int, Field(ge=1, le=FULL_BP)] | None = Field(
        default=None, description="the member level's price, in basis points (9500 = pay 95%)")
    activity: SpecialActivityIn | None = None


class ServiceQuoteIn(QuoteIn):
    user_id: Id


class SimulateIn(QuoteIn):
    user_id: Id | None = Field(default=None, description="price it as this buyer (with the buyer's coupons); none: "
                                                         "an anonymous buyer")


class CheckoutIn(ServiceQuoteIn):
    order_id: Id


class AdjustmentOut(BaseModel):
    kind: Kind
    promotion_id: int
    amount: int


class LineOut(BaseModel):
    index: int
    sku_id: int
    spu_id: int
    business_id: int | None = Field(default=None, description="the shop selling it; null: the platform's own goods")
    count: int
    unit_price: int
    selected: bool
    original_amount: int
    adjustments: list[AdjustmentOut]
    pay_amount: int
    points_used: int
    points_granted: int


class TotalsOut(BaseModel):
    original: int
    special: int
    discount: int
    member: int
    reward: int
    coupon: int
    points: int
    pay: int
    points_used: int = Field(description="points deducted from the buyer's balance to lower the pay amount")
    points_spent: int = Field(description="points-mall orders: the points the order needs (points per unit × "
                                          "count); the order service deducts them from the balance it owns")
    points_granted: int


class PromotionOut(BaseModel):
    kind: Kind
    id: int
    name: str
    applied: bool
    amount: int
    line_indexes: list[int]
    reason: str | None
    reason_message: str | None
    level: str | None = Field(description="the reward level reached, as display text")
    hint: str | None = Field(description="a near miss, e.g. 再买 ¥20.00 减10")
    business_id: int | None = Field(default=None, description="the promotion's owner: a shop's (it touches that "
                                                              "shop's lines only); null: the platform's")


class CouponOptionOut(BaseModel):
    coupon_id: int
    name: str
    usable: bool
    discount: int
    line_indexes: list[int]
    reason: str | None
    reason_message: str | None
    valid_end: datetime
    business_id: int | None = Field(default=None, description="a shop coupon's shop (its lines only); null: the "
                                                              "platform's coupon")


class CouponsOut(BaseModel):
    available: bool = Field(description="false when the coupon service could not be asked (quote without coupons)")
    usable: list[CouponOptionOut]
    unusable: list[CouponOptionOut]
    best_coupon_id: int | None = Field(description="the best platform coupon (of the best combination), else its "
                                                   "first shop coupon")
    best_discount: int
    applied_coupon_id: int | None = Field(description="the platform coupon applied, else the first shop coupon")
    best_coupon_ids: list[int] = Field(default=[], description="the best combination: a shop coupon per shop (by "
                                                               "business_id), then a platform coupon")
    applied_coupon_ids: list[int] = Field(default=[], description="every coupon applied, shops' first")


class HintOut(BaseModel):
    promotion_id: int
    shortfall: int = Field(description="fen or items more to buy for the next level")
    text: str = Field(description="e.g. 再买 ¥20.00 减10")


class ShopOut(BaseModel):
    """One shop's part of the cart (business_id null: the platform's own goods)."""

    business_id: int | None
    line_indexes: list[int]
    subtotal: int = Field(description="what its selected lines pay, after every step")
    promotions: list[PromotionOut] = Field(description="the shop's own promotions")
    hints: list[HintOut] = Field(description="near misses of the shop's spend-and-save")
    coupons: list[CouponOptionOut] = Field(description="the buyer's usable coupons of this shop")
    best_coupon_id: int | None = Field(description="this shop's coupon in the best combination")
    applied_coupon_id: int | None
    free_delivery: bool = Field(default=False, description="a spend-and-save level reached on this shop's lines (its "
                                                           "own, or the platform's) gives free delivery")


class GrantsOut(BaseModel):
    points: int
    coupons: dict[int, int]
    free_delivery: bool


class QuoteOut(BaseModel):
    lines: list[LineOut]
    totals: TotalsOut
    promotions: list[PromotionOut] = Field(description="every promotion, the shops' and the platform's")
    coupons: CouponsOut
    grants: GrantsOut
    shops: list[ShopOut] = Field(default=[], description="the lines by shop, in the order their first line comes")


class HoldOut(BaseModel):
    owner: str
    reference: int | None = None
    expires_at: datetime | None = None
    references: list[int] = Field(default=[], description="coupon: every coupon held for the order")


class CheckoutOut(QuoteOut):
    order_id: int
    snapshot_id: str
    holds: list[HoldOut]


class SnapshotOut(Output):
    order_id: int
    user_id: int
    snapshot_id: str
    status: str
    request: dict
    offers: dict | None
    result: dict | None
    holds: list[dict]
    created_at: datetime
    updated_at: datetime
