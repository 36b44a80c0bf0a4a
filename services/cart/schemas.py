"""Request and response bodies of the cart service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.cart.domain import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY, Direction
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output

Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
QUANTITY = (f"{MIN_QUANTITY}..{MAX_QUANTITY} of this SKU (outside: 422 CART_QUANTITY_OUT_OF_RANGE, "
            "not VALIDATION_FAILED)")
Quantity = Annotated[int, Field(description=QUANTITY)]
UNIT_PRICE = "the unit price the buyer sees now, fen (the order service prices the order again with trusted prices)"


class LineIn(Input):
    sku_id: Id
    spu_id: Id
    category_id: Id
    business_id: Id | None = Field(default=None, description="the shop (store / goods group); none for the "
                                                             "platform's own products")
    quantity: Annotated[int, Field(description=f"{QUANTITY}; added to what the cart holds, at most {MAX_QUANTITY}")]
    unit_price: Annotated[int, Field(ge=0, le=MAX_FEN, description=UNIT_PRICE)]
    selected: bool = Field(default=True, description="the line counts towards the totals")


class QuantityIn(Input):
    quantity: Quantity
    unit_price: Fen | None = Field(default=None, description=UNIT_PRICE + "; omitted: unchanged")


class SelectedIn(Input):
    selected: bool


class CountOut(BaseModel):
    """The badge: distinct products, their total quantity, and the selected products."""

    lines: int
    quantity: int
    selected_lines: int


class CartLineOut(Output):
    sku_id: int
    spu_id: int
    category_id: int
    business_id: int | None
    quantity: int
    selected: bool
    unit_price: int = Field(description="the last unit price the app sent, fen")
    added_price: int = Field(description="the unit price when the line was added, fen")
    added_at: datetime
    updated_at: datetime


class AddOut(BaseModel):
    line: CartLineOut
    capped: bool = Field(description=f"the quantity would have passed {MAX_QUANTITY} and stopped there")
    count: CountOut


class ChangedOut(BaseModel):
    changed: int = Field(description="lines changed or removed")
    count: CountOut


class MergeOut(BaseModel):
    merged: int = Field(description="the member's lines of a SKU the device had too (quantities added)")
    moved: int = Field(description="device lines that became member lines")
    left_behind: list[int] = Field(description=f"SKUs left on the device: the member cart holds {MAX_LINES} "
                                               "products (a later merge moves them once there is room)")
    count: CountOut


# --- the page -----------------------------------------------------------------------------------

class PriceChangeOut(BaseModel):
    direction: Direction
    amount: int = Field(description="fen, since the line was added")
    text: str = Field(description="比加入时降价 ¥20.00 / ¥20.00 cheaper than when added")


class AdjustmentOut(BaseModel):
    kind: str = Field(description="pricing's kind: special, discount, member, reward, coupon, points")
    promotion_id: int
    amount: int


class PageLineOut(CartLineOut):
    price_change: PriceChangeOut | None
    original_amount: int = Field(description="unit_price x quantity")
    adjustments: list[AdjustmentOut]
    pay_amount: int = Field(description="what is left to pay for the line (unselected lines: original_amount)")


class TotalsOut(BaseModel):
    """Of the selected lines, as pricing's quote gives them (fen; the points fields are 0 here)."""

    original: int
    special: int
    discount: int
    member: int
    reward: int
    coupon: int
    points: int
    pay: int
    points_used: int
    points_spent: int
    points_granted: int


class PromotionOut(BaseModel):
    kind: str
    id: int
    name: str
    applied: bool
    amount: int
    line_indexes: list[int] = Field(description="positions in `lines`")
    reason: str | None
    reason_message: str | None
    level: str | None = Field(description="the reward level reached, as display text")
    hint: str | None = Field(description="a near miss, e.g. 再买 ¥20.00 减10")
    business_id: int | None = Field(default=None, description="the promotion's owner: a shop's; null: the platform's")


class CouponOptionOut(BaseModel):
    coupon_id: int
    name: str
    usable: bool
    discount: int
    line_indexes: list[int]
    reason: str | None
    reason_message: str | None
    valid_end: datetime
    business_id: int | None = Field(default=None, description="a shop coupon's shop; null: the platform's coupon")


class CouponsOut(BaseModel):
    available: bool = Field(description="false when they could not be asked for")
    usable: list[CouponOptionOut]
    unusable: list[CouponOptionOut]
    best_coupon_id: int | None
    best_discount: int
    applied_coupon_id: int | None
    best_coupon_ids: list[int] = Field(default=[], description="the best combination: a coupon per shop, then the "
                                                               "platform's")
    applied_coupon_ids: list[int] = Field(default=[], description="every coupon applied")


class GrantsOut(BaseModel):
    points: int
    coupons: dict[int, int]
    free_delivery: bool


class HintOut(BaseModel):
    promotion_id: int
    shortfall: int = Field(description="fen or items more to buy for the next level")
    text: str = Field(description="e.g. 再买 ¥20.00 减10")


class ShopOut(BaseModel):
    """One shop's part of the page (business_id null: the platform's own goods), as pricing groups it."""

    business_id: int | None
    line_indexes: list[int] = Field(description="indexes into `lines`")
    subtotal: int = Field(description="what its selected lines pay")
    promotions: list[PromotionOut] = Field(description="the shop's own promotions")
    hints: list[HintOut] = Field(description="near misses of the shop's spend-and-save")
    coupons: list[CouponOptionOut] = Field(description="the member's usable coupons of this shop")
    best_coupon_id: int | None
    applied_coupon_id: int | None
    free_delivery: bool


class CartPageOut(BaseModel):
    lines: list[PageLineOut] = Field(description="the most recently added first")
    shops: list[ShopOut] = Field(description="the lines grouped by the shop that sells them, in the order their "
                                             "first line appears")
    totals: TotalsOut
    promotions: list[PromotionOut]
    coupons: CouponsOut = Field(description="a member's coupons (none for a device cart); the best one is not "
                                            "applied to the totals: best_discount says what it would take off")
    grants: GrantsOut
    count: CountOut
    promotions_available: bool = Field(description="false: pricing could not be asked, lines at plain prices")
    notice: str | None = Field(description="why promotions are missing, in the caller's language")
    notice_code: str | None
