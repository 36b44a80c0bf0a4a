"""Request and response bodies of the voucher service. Date-times go out in UTC with their offset,
as everywhere in the suite; what a person reads of a voucher's validity is also given as text in
the business timezone (`valid_from_text`, `valid_until_text`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict, model_validator

from services.voucher.domain import (
    RecordKind,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
    ValidityType,
    VoucherKind,
    VoucherStatus,
    shown,
)
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import Moment, check_reason, invalid

Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY")]
Lat = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False, description="latitude, degrees")]
Lon = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False, description="longitude, degrees")]
Text = Annotated[str, Field(max_length=64)]
MAX_USES = 100  # a voucher's history (verifications and reversals) stays short enough to show whole
MAX_STORES = 200


class StoreIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    address: Annotated[str, Field(min_length=1, max_length=255)]
    phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+\- ()]*$")] = ""
    opening_hours: Text = Field("", description="as shown to buyers, e.g. 10:00-22:00")
    lat: Lat
    lon: Lon


class ProductTermsIn(Input):
    """What the platform reviews; a change of an approved product waits for its approval."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    kind: VoucherKind
    value: Annotated[int, Field(ge=1, le=MAX_FEN, description="face value, minor units (fen)")]
    currency: Currency = "CNY"
    max_using_times: Annotated[int, Field(ge=1, le=MAX_USES)] = 1
    cost: Fen = Field(0, description="what the merchant is settled for a voucher fully used, minor units")
    bright_desc: Annotated[str, Field(max_length=100, description="highlight text")] = ""
    image_url: Annotated[str, Field(max_length=200, pattern=r"^(https?://\S+)?$")] = ""
    validity_type: ValidityType
    valid_start_at: Moment | None = None
    valid_end_at: Moment | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    selling_store_id: Id = Field(description="the store that sells it (goods group); one of store_ids")
    store_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_STORES, description="stores that accept it")]


class ProductIn(ProductTermsIn):
    spu_id: Id
    sku_id: Id = Field(description="the mall's SKU; order.paid lines of it issue vouchers (one voucher product "
                                   "per SKU)")


class StatusIn(Input):
    status: CommonStatus


class RejectIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=255)]


VALUE_WITH_CURRENCY = check_reason("VALUE_WITH_CURRENCY", en="minus_value and currency go together",
                                   zh="核销金额和币种须同时填写")


class VerifyIn(Input):
    code: Annotated[str, Field(min_length=4, max_length=32, description="the voucher's code, any case, spaces or "
                                                                       "dashes")]
    store_id: Id = Field(description="where the voucher is used: one of the merchant's stores")
    minus_value: Annotated[int, Field(ge=1, le=MAX_FEN)] | None = Field(
        None, description="stored-value vouchers: the amount to deduct (the actual deduction is capped at what is "
                          "left); none for vouchers of uses")
    currency: Currency | None = None

    @model_validator(mode="after")
    def value_with_currency(self) -> VerifyIn:
        if (self.minus_value is None) != (self.currency is None):
            raise invalid(VALUE_WITH_CURRENCY)
        return self


# --- answers ------------------------------------------------------------------------------------

class Reviewed(Output):
    status: CommonStatus = Field(description="the merchant's on/off: 0 enabled, 1 disabled")
    review_status: ReviewStatus
    pending_review_id: int | None = Field(description="a change waiting for review (the live terms stay)")
    last_editor: str
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StoreBase(Output):
    id: int
    business_id: int
    name: str
    address: str
    phone: str
    opening_hours: str
    lat: float
    lon: float


class StoreOut(StoreBase, Reviewed):
    pass


class ProductBriefOut(Output):
    """A product as buyers see it next to a store."""

    id: int
    name: str
    kind: VoucherKind
    value: int
    currency: str
    max_using_times: int
    bright_desc: str
    image_url: str


class ProductPublicOut(ProductBriefOut):
    spu_id: int
    sku_id: int
    validity_type: ValidityType
    valid_start_at: datetime | None
    valid_end_at: datetime | None
    valid_days: int | None
    selling_store_id: int
    store_ids: list[int]


class ProductOut(ProductPublicOut, Reviewed):
    business_id: int
    cost: int


class ReviewOut(Output):
    id: int
    kind: ReviewKind
    target_id: int
    business_id: int
    terms: dict[str, Any] = Field(description="the submitted terms (lat_e6/lon_e6 in micro-degrees)")
    status: ReviewOutcome
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class StoreNearOut(StoreBase):
    distance_m: int | None = Field(description="metres from the point sent (none without one)")
    products: list[ProductBriefOut] = Field(description="vouchers on sale that this store accepts (up to 10)")


class VoucherOut(Output):
    id: int
    code: str = Field(description="for the QR code and for typing")
    product_id: int
    spu_id: int
    sku_id: int
    order_id: int
    name: str
    image_url: str
    kind: VoucherKind
    value: int
    currency: str
    max_using_times: int
    surplus_value: int
    surplus_times: int
    status: VoucherStatus
    selling_store_id: int
    valid_start_at: datetime
    valid_end_at: datetime = Field(description="excluded: usable before it")
    valid_from_text: str = Field("", description="first minute of validity, business timezone")
    valid_until_text: str = Field("", description="last minute of validity, business timezone")
    paid_at: datetime
    ended_at: datetime | None
    created_at: datetime


class MerchantVoucherOut(VoucherOut):
    business_id: int
    user_id: int
    unit_no: int
    pay_price: int
    cost: int
    cost_settled: int
    store_ids: list[int]
    ended_by: str | None
    end_reason: str | None
    updated_at: datetime


class UsageOut(Output):
    """One row of a voucher's history, as its buyer sees it."""

    id: int
    kind: RecordKind
    reverses_id: int | None
    store_id: int
    store_name: str = ""
    actual_minus_value: int
    times_taken: int
    surplus_value_after: int
    surplus_times_after: int
    created_at: datetime


class VoucherDetailOut(VoucherOut):
    usages: list[UsageOut] = Field(description=f"every verification and reversal, oldest first (at most "
                                               f"{2 * MAX_USES})")


class VerificationOut(Output):
    id: int
    business_id: int
    kind: RecordKind
    reverses_id: int | None
    voucher_id: int
    order_id: int
    user_id: int
    product_id: int
    spu_id: int
    sku_id: int
    selling_store_id: int
    store_id: int
    staff_user_id: int
    voucher_kind: VoucherKind
    currency: str
    value: int
    max_using_times: int
    minus_value: int | None = Field(description="asked (stored value)")
    actual_minus_value: int = Field(description="taken; negative in a reversal")
    times_taken: int
    cost: int = Field(description="the merchant's settlement for this row; negative in a reversal")
    surplus_value_before: int
    surplus_times_before: int
    surplus_value_after: int
    surplus_times_after: int
    business_date: date
    created_at: datetime


class ReportTotals(BaseModel):
    currency: str
    verifications: int
    reversals: int
    value_verified: int = Field(description="net of reversals, minor units")
    times_verified: int
    cost: int = Field(description="settlement, net of reversals")


class ReportRowOut(ReportTotals):
    business_id: int
    store_id: int
    store_name: str
    business_date: date


class ReportPage(BaseModel):
    items: list[ReportRowOut]
    total: int
    page: int
    size: int
    date_from: date
    date_to: date
    totals: list[ReportTotals] = Field(description="over every row of the range, one per currency")


def voucher_view(row: Any, zone: tzinfo, schema: type[VoucherOut] = VoucherOut, **extra: Any) -> VoucherOut:
    """A voucher with its validity also as text in the business timezone."""
    texts = {"valid_from_text": shown(row.valid_start_at, zone),
             "valid_until_text": shown(row.valid_end_at - timedelta(minutes=1), zone)}
    values = {name: getattr(row, name) for name in schema.model_fields if name not in texts and name not in extra}
    return schema.model_validate({**values, **texts, **extra})
