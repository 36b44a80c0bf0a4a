"""The values the group-buy rules read and decide on: the states of groups and seats, a group's
counters, a seat's, and an activity's terms. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.enums import CommonStatus, DescribedIntEnum


class GroupStatus(DescribedIntEnum):
    """State of a group (拼团)."""

    PENDING = 0, "opened by an order that is not paid yet: not listed, cannot be joined"
    IN_PROGRESS = 10, "the leader paid: open to join until it fills or its time is up"
    SUCCESS = 20, "every seat paid (by buyers, robots or placeholders): the paid orders ship"
    FAILED = 30, "time was up before it filled: the paid orders are refunded"
    VOID = 40, "the leader's order was cancelled or never paid: the group never opened"


class MemberStatus(DescribedIntEnum):
    """State of a seat (a member of a group)."""

    PENDING = 0, "taken at checkout, waiting for the order's payment"
    JOINED = 10, "paid; the group is still filling"
    SUCCESS = 20, "the group succeeded: the order ships"
    FAILED = 30, "the group failed: the order is refunded"
    VOID = 40, "given back before the group ended (order cancelled or not paid in time)"


class MemberKind(DescribedIntEnum):
    """Who holds a seat."""

    REAL = 1, "a buyer with an order"
    ROBOT = 2, "a robot that joined or leads a group (shown like any buyer)"
    VIRTUAL = 3, "a placeholder added by virtual completion when the group's time was up"


ENDED_GROUP = (GroupStatus.SUCCESS, GroupStatus.FAILED, GroupStatus.VOID)
HOLDING_SEAT = (MemberStatus.PENDING, MemberStatus.JOINED)


@dataclass(frozen=True)
class Terms:
    """An activity's state and rules: what opening or joining a group is checked against, and
    what a group's clock, its robots and its virtual completion follow."""

    id: int
    status: CommonStatus
    start_at: datetime
    end_at: datetime
    group_size: int
    limit_hours: int
    user_limit: int  # 0 = no limit
    order_limit: int  # 0 = no limit
    virtual_completion: bool
    least_population: int  # real paid members needed for virtual completion or robots
    robot_join_after_hours: int  # 0 = robots never join
    keep_open_groups: int  # 0 = no robot-led groups


@dataclass(frozen=True)
class GroupState:
    """A group's state and counters (`id` 0: not stored yet)."""

    id: int
    activity_id: int
    status: GroupStatus
    size: int
    seats_taken: int  # pending + paid seats, robots and placeholders included
    expires_at: datetime | None  # set when the leader pays
    paid_count: int = 0  # paid seats: buyers, robots and placeholders
    real_paid_count: int = 0  # paid seats of buyers
    virtual: bool = False  # robots or placeholders took seats
    started_at: datetime | None = None  # the leader paid
    robots_at: datetime | None = None  # robots may take the free seats from then
    ended_at: datetime | None = None


@dataclass(frozen=True)
class SeatState:
    """A seat's state (a member of a group)."""

    status: MemberStatus
    busy_user_id: int | None  # the buyer while the seat holds them in a running group, else None
    order_id: int | None = None  # None: a robot or a placeholder
    hold_expires_at: datetime | None = None  # an unpaid seat goes back then
    paid_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class SeatRequest:
    """What an order asks a seat for (`group_id` None: it opens a group and leads it)."""

    order_id: int
    user_id: int
    activity_id: int
    group_id: int | None
    sku_id: int
    count: int
