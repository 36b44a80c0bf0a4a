"""Request and response bodies of the seckill service."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, HttpUrl, WithJsonSchema

from services.seckill.domain import ReservationStatus, SlotState
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import check_reason, invalid

Count = Annotated[int, Field(ge=1, le=10_000)]
Limit = Annotated[int, Field(ge=0, le=10_000, description="0 = no limit")]

WALL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
_WALL_TIME = re.compile(WALL_TIME_PATTERN, re.ASCII)


WALL_TIME = check_reason("WALL_TIME", en='should be a wall-clock time "HH:MM:SS" or "HH:MM" (business timezone, '
                                         'no offset), e.g. 10:00:00 or 10:00',
                         zh="须为营业时区的时刻（时:分:秒 或 时:分，不带时区），例如 10:00:00 或 10:00")


def _wall_time(value: Any) -> Any:
    """"HH:MM" or "HH:MM:SS", nothing else: no offset (the time is the business timezone's), no
    fraction, no number of seconds."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _WALL_TIME.fullmatch(value):
        raise invalid(WALL_TIME)
    return time.fromisoformat(value)


def wall_time(description: str) -> Any:
    """A time of day in the business timezone, declared with a schema its values match (OpenAPI's
    `format: time` is RFC 3339's full-time, which requires an offset)."""
    return Annotated[time, BeforeValidator(_wall_time), WithJsonSchema(
        {"type": "string", "pattern": WALL_TIME_PATTERN, "description": description, "examples": ["10:00:00"]})]


START_TIME = wall_time("business-local wall-clock time (BUSINESS_TIMEZONE), e.g. 10:00:00")
END_TIME = wall_time("business-local wall-clock time; 00:00:00 = midnight (the slot runs to the end of the day)")


# --- slots ----------------------------------------------------------------------------------------

class SlotIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    start_time: START_TIME
    end_time: END_TIME
    picture_urls: Annotated[list[HttpUrl], Field(max_length=10)] = []
    status: CommonStatus = CommonStatus.ENABLED


class SlotOut(Output):
    id: int
    name: str
    start_time: START_TIME
    end_time: END_TIME
    picture_urls: list[str]
    status: CommonStatus


class TodaySlotOut(SlotOut):
    state: SlotState


class TodayOut(BaseModel):
    date: date
    now: datetime
    current_slot_id: int | None
    slots: list[TodaySlotOut]


# --- activities -----------------------------------------------------------------------------------

class ProductIn(Input):
    sku_id: Id
    price: Annotated[int, Field(ge=1, le=MAX_FEN, description="flash price, fen per unit (at least 1)")]
    stock: Annotated[int, Field(ge=0, le=10_000_000)]


class ActivityIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    spu_id: Id
    slot_ids: Annotated[list[Id], Field(min_length=1, max_length=24)]
    start_date: date
    end_date: date
    user_limit: Limit = 0
    order_limit: Limit = 0
    sort: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    remark: Annotated[str, Field(max_length=255)] = ""
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=200)]


class ProductOut(Output):
    sku_id: int
    price: int
    stock: int = Field(description="left to sell")
    total_stock: int


OWNER = Field(description="the owner: null: the platform's, else the merchant's business id")


class AppActivityOut(BaseModel):
    id: int
    name: str
    spu_id: int
    business_id: int | None = OWNER
    slot_ids: list[int]
    start_date: date
    end_date: date
    user_limit: int
    order_limit: int
    stock: int = Field(description="left to sell, all SKUs")
    total_stock: int
    products: list[ProductOut]


class ActivityOut(AppActivityOut):
    """What operators see besides the buyer's view."""

    status: CommonStatus
    sort: int
    remark: str
    created_at: datetime
    updated_at: datetime


# --- reservations ---------------------------------------------------------------------------------

class ReservationIn(Input):
    activity_id: Id
    sku_id: Id
    count: Count = 1


class ReservationOut(Output):
    id: int
    activity_id: int
    sku_id: int
    count: int
    price: int = Field(description="flash price per unit, fen")
    status: ReservationStatus
    order_id: int | None
    expires_at: datetime


class HoldIn(Input):
    order_id: Id
    user_id: Id
    activity_id: Id
    sku_id: Id
    count: Count
    reservation_id: Id | None = Field(default=None, description="a reservation the buyer made on the flash-sale page")


class PricesIn(Input):
    user_id: Id | None = None
    activity_id: Id
    sku_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]
    order_id: Id | None = Field(default=None, description="a checkout's order: what it already holds is its own")


class PricesOut(BaseModel):
    activity_id: int
    activity_name: str = Field(description="the activity's name: the promotion a priced line shows")
    business_id: int | None = Field(description=(
        "the activity's owner: null: the platform's (any shop's line), else the merchant's business id (pricing "
        "applies the flash price to that merchant's own lines only)"))
    prices: dict[int, int] = Field(description="sku_id -> flash price per unit, fen")


class ReleaseOut(BaseModel):
    order_id: int
    released: bool


class DriftOut(BaseModel):
    activity_id: int
    loaded: bool = Field(description="Redis had the activity's stock before this check")
    drift: dict[int, int] = Field(description="sku_id -> Redis stock minus MySQL stock, where they differ")
    fixed: bool


class ActivityStatsOut(BaseModel):
    """An activity's figures, in units (pieces) unless said otherwise: from MySQL, the record (during a
    sale Redis counts a few reservations ahead of it)."""

    activity_id: int
    reserved: int = Field(description="units ever reserved: held + sold + released + expired")
    held: int = Field(description="units reserved now, waiting for their order to be paid")
    sold: int = Field(description="units of paid orders (committed)")
    released: int = Field(description="units given back: order cancelled or its checkout failed")
    expired: int = Field(description="units given back: not paid in time")
    orders_paid: int = Field(description="paid orders (committed reservations)")
    sales_amount: int = Field(description="fen: flash price x units of the paid orders")
    stock: int = Field(description="units left to sell, all SKUs")
    total_stock: int = Field(description="units ever put on sale: stock + held + sold")
