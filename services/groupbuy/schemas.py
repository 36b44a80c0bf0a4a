"""Request and response bodies of the group-buy service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from shared.enums import CommonStatus
from shared.ids import Id
from shared.money import MAX_FEN
from shared.schemas import Input, Output
from shared.validation import Moment

Price = Annotated[int, Field(ge=1, le=MAX_FEN)]
Limit = Annotated[int, Field(ge=0, le=10_000, description="0 = no limit")]



# --- activities -----------------------------------------------------------------------------------

class ProductIn(Input):
    sku_id: Id
    group_price: Price = Field(description="参团价: what a member pays per unit, fen")
    leader_price: Price | None = Field(default=None, description="开团价: what the leader pays per unit, fen "
                                                                 "(default: the group price)")


class ActivityIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    spu_id: Id
    start_at: Moment
    end_at: Moment
    group_size: Annotated[int, Field(ge=2, le=100, description="seats per group, the leader's included")]
    limit_hours: Annotated[int, Field(ge=1, le=720, description="a group must fill within this after its "
                                                                "leader paid")]
    user_limit: Limit = 0
    order_limit: Limit = 0
    virtual_completion: bool = Field(default=False, description="when time is up, a group with at least "
                                                                "least_population real paid members succeeds")
    least_population: Annotated[int, Field(ge=1, le=99)] = 1
    robot_join_after_hours: Annotated[int, Field(ge=0, le=719, description="robots take the free seats this "
                                                                           "long after the leader paid; 0 = off")] = 0
    keep_open_groups: Annotated[int, Field(ge=0, le=50, description="robot-led groups kept open; 0 = off")] = 0
    sort: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    remark: Annotated[str, Field(max_length=255)] = ""
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=200)]


class ProductOut(Output):
    sku_id: int
    group_price: int
    leader_price: int


OWNER = "the activity's owner: a merchant's business id; null: the platform's"


class AppActivityOut(BaseModel):
    id: int
    name: str
    spu_id: int
    business_id: int | None = Field(description=OWNER)
    start_at: datetime
    end_at: datetime
    group_size: int
    limit_hours: int
    user_limit: int
    order_limit: int
    joined_count: int = Field(description="real buyers who paid so far")
    products: list[ProductOut]


class ActivityOut(AppActivityOut):
    """What operators see besides the buyer's view."""

    status: CommonStatus
    virtual_completion: bool
    least_population: int
    robot_join_after_hours: int
    keep_open_groups: int
    sort: int
    remark: str
    created_at: datetime
    updated_at: datetime


# --- groups and members ---------------------------------------------------------------------------

class GroupOut(BaseModel):
    id: int
    activity_id: int
    spu_id: int
    leader_nickname: str
    leader_avatar: str
    size: int
    seats_left: int
    paid_count: int
    status: GroupStatus
    expires_at: datetime | None
    time_left_seconds: int | None = Field(description="while in progress")
    opened_at: datetime
    ended_at: datetime | None


class AppMemberOut(BaseModel):
    nickname: str
    avatar: str
    leader: bool
    joined_at: datetime | None


class AppGroupOut(GroupOut):
    members: list[AppMemberOut] = Field(description="the seats paid so far")


class MemberOut(Output):
    id: int
    group_id: int
    activity_id: int
    user_id: int | None
    nickname: str
    avatar: str
    kind: MemberKind
    leader: bool
    sku_id: int | None
    count: int
    unit_price: int
    order_id: int | None
    status: MemberStatus
    hold_expires_at: datetime | None
    paid_at: datetime | None
    ended_at: datetime | None
    created_at: datetime


class AdminGroupOut(GroupOut):
    leader_user_id: int | None
    virtual: bool = Field(description="completed (or led) by robots or placeholders")
    real_paid_count: int
    seats_taken: int
    started_at: datetime | None
    members: list[MemberOut]


class AdminGroupRowOut(Output):
    id: int
    activity_id: int
    leader_user_id: int | None
    leader_nickname: str
    size: int
    seats_taken: int
    paid_count: int
    real_paid_count: int
    status: GroupStatus
    virtual: bool
    opened_at: datetime
    started_at: datetime | None
    expires_at: datetime | None
    ended_at: datetime | None


class MyGroupOut(BaseModel):
    member_id: int
    order_id: int | None
    sku_id: int | None
    count: int
    unit_price: int
    leader: bool
    status: MemberStatus
    group: GroupOut


class StatsOut(BaseModel):
    activity_id: int | None
    groups_opened: int = Field(description="groups whose leader paid")
    groups_in_progress: int
    groups_succeeded: int
    groups_failed: int
    members_paid: int = Field(description="real buyers who paid, one order each (succeeded, failed or still in "
                                          "a group)")
    members_succeeded: int
    members_failed: int
    members_pending: int = Field(description="seats held by orders not paid yet")
    sales_amount: int = Field(description="fen paid by real buyers whose seats were not refunded (groups filling "
                                          "or succeeded): units x the unit price each seat was taken at")
    refunded_amount: int = Field(description="fen paid by real buyers of failed groups (refunded)")
    robots: int
    placeholders: int


# --- pricing's checkout ---------------------------------------------------------------------------

class PricesIn(Input):
    user_id: Id | None = None
    activity_id: Id
    group_id: Id | None = Field(default=None, description="the group to join; none = open a new one (leader price)")
    sku_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]
    order_id: Id | None = Field(default=None, description="the order being checked out: a seat it already holds "
                                                          "(a retried checkout) counts as its own")


class PricesOut(BaseModel):
    activity_id: int
    activity_name: str = Field(description="the activity's name, to name the order's promotion")
    business_id: int | None = Field(description=OWNER + " (pricing refuses a merchant's group price for "
                                                        "another shop's line)")
    group_id: int | None
    leader: bool
    prices: dict[int, int] = Field(description="sku_id -> unit price, fen")


class HoldIn(Input):
    order_id: Id
    user_id: Id
    activity_id: Id
    group_id: Id | None = Field(default=None, description="the group to join; none = open a new one")
    sku_id: Id
    count: Annotated[int, Field(ge=1, le=10_000)]
    nickname: Annotated[str, Field(max_length=64)] = ""
    avatar: Annotated[str, Field(max_length=512, pattern=r"^(https?://\S+)?$")] = ""


class SeatOut(Output):
    id: int
    group_id: int
    activity_id: int
    order_id: int | None
    leader: bool
    sku_id: int | None
    count: int
    unit_price: int
    status: MemberStatus
    hold_expires_at: datetime | None


class ReleaseOut(BaseModel):
    order_id: int
    released: bool
