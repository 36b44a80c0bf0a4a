"""Request and response bodies of the coupon service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from services.coupon.domain import UNLIMITED, CouponStatus, DiscountType, ProductScope, TakeType, ValidityType
from services.coupon.outcomes import revoke_reason_text
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.pagination import PageParams, to_page
from shared.schemas import Input, Output
from shared.validation import Moment

Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]  # up to 100 million yuan
Count = Annotated[int, Field(ge=UNLIMITED, le=100_000_000, description="-1 = unlimited, else at least 1")]


class TemplateIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[str, Field(max_length=255)] = ""
    status: CommonStatus = CommonStatus.ENABLED
    take_type: TakeType
    total_count: Count
    take_limit_count: Count
    use_price: Fen = 0
    product_scope: ProductScope = ProductScope.ALL
    product_scope_values: Annotated[list[Id], Field(max_length=500)] = []
    validity_type: ValidityType
    valid_start: Moment | None = None
    valid_end: Moment | None = None
    fixed_start_term: Annotated[int, Field(ge=0, le=365)] | None = None
    fixed_end_term: Annotated[int, Field(ge=1, le=3650)] | None = None
    discount_type: DiscountType
    discount_price: Annotated[int, Field(ge=1, le=MAX_FEN)] | None = None
    discount_percent: Annotated[int, Field(ge=1, le=99, description="the share the buyer pays")] | None = None
    discount_limit_price: Annotated[int, Field(ge=1, le=MAX_FEN)] | None = None


class TemplateTerms(Output):
    """A template as buyers may see it: what it gives, when, and how much is left."""

    id: int
    name: str
    description: str
    business_id: int | None = Field(description="the owner: null: the platform's, else one merchant's (its "
                                                "coupons apply to its own goods only)")
    use_price: int
    product_scope: ProductScope
    product_scope_values: list[int]
    validity_type: ValidityType
    valid_start: datetime | None
    valid_end: datetime | None
    fixed_start_term: int | None
    fixed_end_term: int | None
    discount_type: DiscountType
    discount_price: int | None
    discount_percent: int | None
    discount_limit_price: int | None
    total_count: int
    take_count: int


class TemplateOut(TemplateTerms):
    status: CommonStatus
    take_type: TakeType
    take_limit_count: int
    use_count: int
    created_at: datetime
    updated_at: datetime


class DayStatsOut(BaseModel):
    day: date = Field(description="the business day (business timezone)")
    issued: int = Field(description="coupons issued that day")
    used: int = Field(description="coupons used by orders paid that day")
    discount_given: int = Field(description="fen those coupons took off")


class TemplateStatsOut(BaseModel):
    """A template's figures: its issued coupons by status, and what the used ones gave."""

    template_id: int
    business_id: int | None = Field(description="null: the platform's")
    issued: int = Field(description="coupons issued, whatever became of them")
    unused: int
    held: int = Field(description="held by unpaid orders")
    used: int = Field(description="used by paid orders")
    expired: int
    revoked: int = Field(description="taken back: their rewarding order was cancelled")
    recalled: int = Field(description="taken back by an operator")
    discount_given: int = Field(description="fen the used coupons took off their orders, as the checkouts said "
                                            "(a hold that said no amount counts 0)")
    orders: int = Field(description="paid orders that used them")


class StatusIn(Input):
    status: CommonStatus


class TakeOut(BaseModel):
    coupon_id: int
    can_take_again: bool


class CouponOut(Output):
    id: int
    template_id: int
    name: str
    business_id: int | None = Field(description="the owner: null: the platform's, else one merchant's (its "
                                                "coupons apply to its own goods only)")
    status: CouponStatus
    use_price: int
    product_scope: ProductScope
    product_scope_values: list[int]
    discount_type: DiscountType
    discount_price: int | None
    discount_percent: int | None
    discount_limit_price: int | None
    valid_start: datetime
    valid_end: datetime
    use_order_id: int | None = Field(description="the order that holds (HELD) or used (USED) it")
    used_at: datetime | None = Field(description="when its order was paid (USED only)")
    hold_expires_at: datetime | None = Field(description="HELD: when it goes back if the order is not paid")
    created_at: datetime


MAX_LINES = 200


class CartLineIn(Input):
    spu_id: Id
    category_id: Id
    amount: Fen = Field(description="what the line still costs after earlier discounts, fen (at most 100 million "
                                    "yuan; larger is a 422)")
    business_id: Id | None = Field(None, description="the shop selling it; null: the platform's own goods. A shop's "
                                                     "coupon considers only its shop's lines")


class CartIn(Input):
    lines: Annotated[list[CartLineIn], Field(min_length=1, max_length=MAX_LINES)]


Owners = Literal["all", "shop", "platform"]


class ServiceCartIn(CartIn):
    user_id: Id
    owners: Owners = Field("all", description='which coupons: "all", "shop" (the shops\' coupons only) or '
                                              '"platform" (the platform\'s only)')
    order_id: Id | None = Field(None, description="a checkout's order: the coupon this order already holds is "
                                                  "matched like an unused one (a retried checkout may choose it "
                                                  "again)")


class CouponMatchOut(BaseModel):
    coupon_id: int
    name: str
    business_id: int | None = Field(description="the coupon's owner: a shop (its lines only), or null: the platform's")
    usable: bool
    discount: int
    max_discount: int = Field(description="the most it can take off any cart (its amount, or a percent coupon's "
                                          "cap): pricing skips coupon choices that could not do better")
    line_indexes: list[int]
    reason: str | None
    reason_message: str | None
    valid_end: datetime


class MatchOut(BaseModel):
    coupons: list[CouponMatchOut]
    best_coupon_id: int | None


class HoldCouponIn(Input):
    coupon_id: Id
    discount: Fen = Field(description="what this coupon takes off the order, fen, as the checkout computed it "
                                      "(kept for the template's figures)")


MAX_HELD = 50  # one per shop of the order, and one of the platform


class HoldIn(Input):
    """Exactly one of `coupon_id` (one coupon, no discount said) or `coupons` (several: at most one
    per owner, each with its discount)."""

    order_id: Id
    user_id: Id
    coupon_id: Id | None = Field(None, description="one coupon (the form of a single-shop checkout)")
    coupons: Annotated[list[HoldCouponIn], Field(min_length=1, max_length=MAX_HELD)] | None = Field(
        None, description="the coupons the order uses: at most one per shop and one of the platform; a different "
                          "set for the same order replaces its earlier holds")

    @model_validator(mode="after")
    def _one_form(self) -> HoldIn:
        if (self.coupon_id is None) == (self.coupons is None):
            raise ValueError("give exactly one of coupon_id or coupons")
        if self.coupons is not None and len({c.coupon_id for c in self.coupons}) != len(self.coupons):
            raise ValueError("a coupon is listed twice")
        return self

    def discounts(self) -> dict[int, int | None]:
        """Each coupon id with the discount said for it (None: the coupon_id form says none)."""
        if self.coupons is None:
            assert self.coupon_id is not None
            return {self.coupon_id: None}
        return {c.coupon_id: c.discount for c in self.coupons}


class HoldOut(BaseModel):
    order_id: int
    coupon_id: int = Field(description="the coupon held (with `coupons`: the first listed)")
    coupon_ids: list[int] = Field(description="every coupon the order holds (or used, if already paid), as asked")
    hold_expires_at: datetime | None


class ReleaseOut(BaseModel):
    order_id: int
    released: int


class CenterTemplateOut(TemplateTerms):
    can_take: bool


class CouponSummaryOut(BaseModel):
    unused: int
    expiring_soon: int
    expiring_within_days: int


class GiveIn(Input):
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]


class Given(BaseModel):
    user_id: int
    coupon_id: int


class Refused(BaseModel):
    user_id: int
    code: str
    message: str


class GiveOut(BaseModel):
    given: list[Given]
    refused: list[Refused]


class AdminCouponOut(CouponOut):
    user_id: int
    take_type: TakeType
    source_order_id: int | None
    revoked_at: datetime | None
    revoked_by: str | None = Field(description='revoked or recalled by: an admin\'s subject or "order:<id>"')
    revoke_reason: str | None = Field(description='as stored and sent in promo.coupon.revoked: the operator\'s words, '
                                      'or "order_cancelled:<order.cancelled reason>"')
    revoke_reason_text: str | None = Field(default=None, description="revoke_reason as a person reads it, in the "
                                           "caller's language (an operator's words as typed)")
    released_order_id: int | None = Field(description="the order whose hold ended unpaid (its time ran out, or the "
                                          "coupon was revoked while held); its late payment settles it")


def admin_coupons_page(result: tuple[Sequence[object], int], paging: PageParams, locale: str) -> dict:
    """A page of issued coupons for operators, each stored revoke reason also in words."""
    page = to_page(AdminCouponOut, result, paging)
    for item in page["items"]:
        item.revoke_reason_text = revoke_reason_text(item.revoke_reason, locale)
    return page


class TemplateLookupIn(Input):
    template_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]


class TemplateBriefOut(Output):
    id: int
    name: str
    business_id: int | None = Field(description="the owner: null: the platform's, else one merchant's")
    take_type: TakeType
    status: CommonStatus
    validity_type: ValidityType
    valid_end: datetime | None


class TemplateLookupOut(BaseModel):
    templates: list[TemplateBriefOut] = Field(description="those of the ids asked that exist, by id")


class CodesIn(Input):
    count: Annotated[int, Field(ge=1, le=10_000)]
    prefix: Annotated[str, Field(max_length=8, pattern="^[A-HJKMNP-Z2-9]*$",
                                 description="capital letters and digits without look-alikes")] = ""
    length: Annotated[int, Field(ge=6, le=20, description="random characters after the prefix")] = 10


class CodesOut(BaseModel):
    template_id: int
    created: int


class CodeOut(Output):
    code: str
    redeemed_by: int | None
    coupon_id: int | None
    redeemed_at: datetime | None
    created_at: datetime


class RedeemIn(Input):
    code: Annotated[str, Field(min_length=1, max_length=64)]
