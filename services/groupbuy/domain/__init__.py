"""Group-buy (拼团) rules. Pure: plain values and the time in, a decision or a domain error out.

- `model`: the values decided on: the states of groups and seats (`GroupStatus`, `MemberStatus`),
  a group's counters (`GroupState`), a seat's (`SeatState`), an activity's terms (`Terms`).
- `rules`: what is checked before anything changes: an activity's own rules, opening and joining
  a group, the buyer's limits, a retried checkout; a group's clock.
- `transitions`: the state machine: every change of a group or a seat (open, join, pay, give
  back, time up, robots, the end of a group) as a function from states to a `Step`.
- `errors`: the refusals, each with its code.

Everything is importable from here (`domain.pay`, `domain.GroupFull`).
"""

from __future__ import annotations

from services.groupbuy.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    ActivityNotFound,
    AlreadyClosed,
    AlreadyInGroup,
    DeleteRefused,
    Ended,
    GroupExpired,
    GroupFull,
    GroupNotFound,
    GroupNotJoinable,
    NotStarted,
    OrderHoldsAnotherSeat,
    OrderLimitExceeded,
    SkuNotInActivity,
    SpuConflict,
    SpuConflictElsewhere,
    UserLimitReached,
    WrongActivity,
)
from services.groupbuy.domain.model import (
    ENDED_GROUP,
    HOLDING_SEAT,
    GroupState,
    GroupStatus,
    MemberKind,
    MemberStatus,
    SeatRequest,
    SeatState,
    Terms,
)
from services.groupbuy.domain.rules import (
    LEADER_PRICE_ABOVE_GROUP_PRICE,
    LEAST_POPULATION_NOT_BELOW_SIZE,
    ORDER_LIMIT_ABOVE_USER_LIMIT,
    ROBOTS_AFTER_TIME_UP,
    SKU_TWICE,
    START_NOT_BEFORE_END,
    SkuPrice,
    can_complete_without_buyers,
    check_activity,
    check_can_close,
    check_can_delete,
    check_can_join,
    check_can_open,
    check_can_update,
    check_counts,
    check_prices,
    check_same_seat,
    expires_at,
    is_own_seat,
    robots_due_at,
    time_left_seconds,
    unit_price,
)
from services.groupbuy.domain.transitions import (
    EXPIRED,
    PAID_AFTER_SEAT_RELEASED,
    PAID_ORDER_CANCELLED,
    StandIns,
    Step,
    announced,
    cancel,
    end_if_due,
    end_seat,
    end_seats,
    free_seat,
    hold_seat,
    is_time_up,
    join,
    open_group,
    open_robot_group,
    pay,
    release,
    robot_groups_to_open,
    robots_join,
    time_up,
)
from shared.lifecycle import windows_overlap

__all__ = [  # noqa: RUF022 (grouped by module)
    "ActivityClosed", "ActivityInvalid", "ActivityNotFound", "AlreadyClosed", "AlreadyInGroup", "DeleteRefused",
    "Ended", "GroupExpired", "GroupFull", "GroupNotFound", "GroupNotJoinable", "NotStarted",
    "OrderHoldsAnotherSeat", "OrderLimitExceeded", "SkuNotInActivity", "SpuConflict", "SpuConflictElsewhere",
    "UserLimitReached",
    "WrongActivity",
    "ENDED_GROUP", "HOLDING_SEAT", "GroupState", "GroupStatus", "MemberKind", "MemberStatus", "SeatRequest",
    "SeatState", "Terms",
    "LEADER_PRICE_ABOVE_GROUP_PRICE", "LEAST_POPULATION_NOT_BELOW_SIZE", "ORDER_LIMIT_ABOVE_USER_LIMIT",
    "ROBOTS_AFTER_TIME_UP", "SKU_TWICE", "START_NOT_BEFORE_END", "SkuPrice", "can_complete_without_buyers",
    "check_activity", "check_can_close", "check_can_delete", "check_can_join", "check_can_open",
    "check_can_update", "check_counts", "check_prices", "check_same_seat", "expires_at", "is_own_seat",
    "robots_due_at", "time_left_seconds", "unit_price", "windows_overlap",
    "EXPIRED", "PAID_AFTER_SEAT_RELEASED", "PAID_ORDER_CANCELLED", "StandIns", "Step", "announced", "cancel",
    "end_if_due", "end_seat", "end_seats", "free_seat", "hold_seat", "is_time_up", "join", "open_group",
    "open_robot_group", "pay", "release", "robot_groups_to_open", "robots_join", "time_up",
]
