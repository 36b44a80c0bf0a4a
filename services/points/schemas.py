"""Request and response bodies of the points service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.points.domain import HoldStatus
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import Moment

# Bounds only: the rules (points > 0, price >= 0, stock >= 0, limit >= 1) refuse with POINTS_ACTIVITY_INVALID.
Points = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
Fen = Annotated[int, Field(ge=-MAX_FEN, le=MAX_FEN)]
Stock = Annotated[int, Field(ge=-100_000_000, le=100_000_000)]
Limit = Annotated[int, Field(ge=-10_000, le=10_000)]


OWNER = "the activity's owner: a merchant's business id; null: the platform's"


# --- activities -----------------------------------------------------------------------------------

class ProductIn(Input):
    sku_id: Id
    points: Points = Field(description="points per unit (above 0)")
    price: Fen = Field(description="cash per unit besides the points, fen (0: points only)")
    stock: Stock = Field(description="units offered in all, held and sold ones included (on update: not below "
                                     "what is held or sold)")
    limit_count: Limit = Field(description="units one buyer may exchange of this SKU, in all orders (at least 1)")


class ActivityIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    spu_id: Id
    start_at: Moment
    end_at: Moment
    sort: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    remark: Annotated[str, Field(max_length=255)] = ""
    products: Annotated[list[ProductIn], Field(max_length=100)]


class ProductOut(Output):
    sku_id: int
    points: int
    price: int
    stock: int = Field(description="units left (not held, not sold)")
    total_stock: int = Field(description="units offered in all")
    limit_count: int


class ActivityOut(Output):
    id: int
    name: str
    spu_id: int
    business_id: int | None = Field(description=OWNER)
    status: CommonStatus
    start_at: datetime
    end_at: datetime
    sort: int
    remark: str
    stock: int = Field(description="the products' units left, summed")
    total_stock: int = Field(description="the products' units offered, summed")
    products: list[ProductOut]
    closed_at: datetime | None
    closed_by: str | None
    created_at: datetime
    updated_at: datetime


class AppProductOut(Output):
    sku_id: int
    points: int
    price: int = Field(description="cash per unit besides the points, fen (0: points only)")
    stock: int = Field(description="units left")
    limit_count: int
    my_remaining: int | None = Field(description="units the viewer may still exchange; null without a member token")


class AppActivityOut(Output):
    id: int
    name: str
    spu_id: int
    business_id: int | None = Field(description=OWNER)
    start_at: datetime
    end_at: datetime
    stock: int
    total_stock: int
    products: list[AppProductOut]


class StatsOut(BaseModel):
    activity_id: int | None
    total_stock: int = Field(description="units offered")
    stock: int = Field(description="units left")
    orders_held: int = Field(description="orders holding units, not paid yet")
    units_held: int
    orders_paid: int
    units_sold: int
    sales: int = Field(description="cash paid, fen")
    points_used: int = Field(description="points of the paid orders")
    orders_released: int = Field(description="holds that went back (cancelled, failed at checkout, expired)")


# --- pricing's checkout ---------------------------------------------------------------------------

class PricesIn(Input):
    user_id: Id | None = None
    activity_id: Id
    sku_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    order_id: Id | None = Field(default=None, description="a checkout's order: what it already holds is its own")
    counts: Annotated[dict[Id, Annotated[int, Field(ge=1, le=10_000)]] | None,
                      Field(max_length=50, description="sku_id -> units the order asks for (checked against the "
                                                       "stock and the buyer's limit); one of each if absent")] = None


class PricesOut(BaseModel):
    activity_id: int
    activity_name: str = Field(description="the activity's name: the promotion a priced line shows")
    business_id: int | None = Field(description=OWNER)
    prices: dict[int, int] = Field(description="sku_id -> cash per unit, fen (0: points only)")
    points: dict[int, int] = Field(description="sku_id -> points per unit")


class HoldIn(Input):
    order_id: Id
    user_id: Id
    activity_id: Id
    sku_id: Id
    count: Annotated[int, Field(ge=1, le=10_000)]


class HoldOut(Output):
    id: int
    order_id: int
    activity_id: int
    user_id: int
    sku_id: int
    count: int
    unit_price: int = Field(description="fen per unit")
    unit_points: int = Field(description="points per unit")
    status: HoldStatus
    hold_expires_at: datetime


class AdminHoldOut(HoldOut):
    paid_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None = Field(description="paid, cancelled, expired, checkout_failed, paid_after_release")
    created_at: datetime
    updated_at: datetime


class ReleaseOut(BaseModel):
    order_id: int
    released: bool
