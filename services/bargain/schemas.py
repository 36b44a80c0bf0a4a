"""Request and response bodies of the bargain service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.bargain.domain import OrderStatus, RecordStatus
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import Moment

Price = Annotated[int, Field(ge=1, le=MAX_FEN)]
Floor = Annotated[int, Field(ge=0, le=MAX_FEN)]
Stock = Annotated[int, Field(ge=0, le=100_000_000)]
Count = Annotated[int, Field(ge=1, le=10_000)]
Nickname = Annotated[str, Field(max_length=64)]
Avatar = Annotated[str, Field(max_length=512, pattern=r"^(https?://\S+)?$")]

OWNER = "the activity's owner: a merchant's business id; null: the platform's"


# --- activities -----------------------------------------------------------------------------------

class ActivityIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    spu_id: Id
    sku_id: Id
    start_at: Moment
    end_at: Moment
    first_price: Price = Field(description="起始价: the record's starting price, fen")
    floor_price: Floor = Field(description="砍价底价: the price the last required helper brings it to, fen")
    stock: Stock = Field(description="units left to sell")
    total_stock: Stock | None = Field(default=None, description="units in all (default: stock)")
    help_max_count: Annotated[int, Field(ge=1, le=1_000, description="helpers needed")]
    bargain_count: Annotated[int, Field(ge=1, le=1_000, description="helps one user may give in the activity")]
    total_limit_count: Annotated[int, Field(ge=1, le=1_000, description="successful bargains per user")]
    random_min_price: Floor = Field(description="the smallest cut of one help, fen (above 0)")
    random_max_price: Price = Field(description="the largest cut of one help, fen")
    sort: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    remark: Annotated[str, Field(max_length=255)] = ""


class ActivityOut(Output):
    id: int
    name: str
    spu_id: int
    sku_id: int
    business_id: int | None = Field(description=OWNER)
    status: CommonStatus
    start_at: datetime
    end_at: datetime
    first_price: int
    floor_price: int
    stock: int
    total_stock: int
    help_max_count: int
    bargain_count: int
    total_limit_count: int
    random_min_price: int
    random_max_price: int
    sort: int
    remark: str
    closed_at: datetime | None
    closed_by: str | None
    created_at: datetime
    updated_at: datetime


class AppActivityOut(Output):
    id: int
    name: str
    spu_id: int
    sku_id: int
    business_id: int | None = Field(description=OWNER)
    start_at: datetime
    end_at: datetime
    first_price: int
    floor_price: int
    stock: int
    total_stock: int
    help_max_count: int
    success_count: int = Field(description="records that reached the floor (the page's 'N 人已砍成')")


class StatsOut(BaseModel):
    activity_id: int | None
    records_started: int
    records_in_progress: int
    records_succeeded: int
    records_failed: int
    records_ordered: int = Field(description="records whose order was paid")
    orders_held: int = Field(description="orders holding a unit, not paid yet")
    helps: int
    sales: int = Field(description="fen paid at bargained prices")


# --- records and helps ----------------------------------------------------------------------------

class StartIn(Input):
    activity_id: Id
    nickname: Nickname = ""
    avatar: Avatar = ""


class HelpIn(Input):
    nickname: Nickname = ""
    avatar: Avatar = ""


class HelpOut(Output):
    id: int
    record_id: int
    user_id: int
    nickname: str
    avatar: str
    cut: int = Field(description="what this help took off, fen")
    price_after: int
    created_at: datetime


class RecordOut(Output):
    id: int
    activity_id: int
    user_id: int
    nickname: str
    avatar: str
    spu_id: int
    sku_id: int
    first_price: int
    floor_price: int
    price: int = Field(description="the bargained price now: first_price less the helps' cuts, fen")
    helps_needed: int
    help_count: int
    status: RecordStatus
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    order_id: int | None = Field(description="the order holding or that bought this record")
    created_at: datetime


class MyRecordOut(RecordOut):
    helps: list[HelpOut]


class FriendRecordOut(RecordOut):
    can_help: bool
    viewer: str = Field(description="what the viewer may do: help, helped (already helped), own (the owner's "
                                    "record), no_helps_left (the viewer used the activity's helps), ended, "
                                    "anonymous (log in to help)")
    viewer_cut: int | None = Field(description="the viewer's own cut when they helped")
    helps_left: int = Field(description="helpers still needed")


class AdminRecordOut(RecordOut):
    busy_user_id: int | None
    updated_at: datetime


# --- pricing's checkout ---------------------------------------------------------------------------

class PricesIn(Input):
    user_id: Id
    record_id: Id
    sku_ids: Annotated[list[Id], Field(min_length=1, max_length=1)]
    order_id: Id | None = Field(default=None, description="a checkout's order: the record it holds is its own")


class PricesOut(BaseModel):
    activity_id: int
    activity_name: str = Field(description="the activity's name: the promotion a priced line shows")
    business_id: int | None = Field(description=OWNER + " (pricing applies the bargained price to that "
                                                        "merchant's own lines only)")
    record_id: int
    prices: dict[int, int] = Field(description="sku_id -> unit price, fen (one unit)")


class HoldIn(Input):
    order_id: Id
    user_id: Id
    record_id: Id
    sku_id: Id
    count: Annotated[int, Field(ge=1, le=1, description="a bargain buys one unit")] = 1


class HoldOut(Output):
    id: int
    order_id: int
    record_id: int
    activity_id: int
    user_id: int
    sku_id: int
    unit_price: int
    status: OrderStatus
    hold_expires_at: datetime


class ReleaseOut(BaseModel):
    order_id: int
    released: bool
