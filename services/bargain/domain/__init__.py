"""Bargain (砍价) rules. Pure: plain values and the time in, a decision or a domain error out.

- `model`: the states of records and order holds, an activity's terms, a record's cut plan.
- `rules`: an activity's own rules, starting a record, helping one, and the cut planning (the
  record reaches exactly the floor with its last required helper; no cut is 0).
- `errors`: the refusals, each with its code.
"""

from __future__ import annotations

from services.bargain.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    ActivityNotFound,
    AlreadyClosed,
    AlreadyHelped,
    DeleteRefused,
    Ended,
    HelpLimitReached,
    NotStarted,
    OrderCancelled,
    OrderHoldEnded,
    OrderHoldsAnotherRecord,
    OwnRecord,
    RecordInProgress,
    RecordNotFound,
    RecordNotInProgress,
    RecordNotSucceeded,
    RecordOfAnotherUser,
    RecordOrdered,
    SkuNotInActivity,
    SoldOut,
    SpuConflict,
    SpuConflictElsewhere,
    SuccessLimitReached,
)
from services.bargain.domain.model import (
    CANCELLED,
    END_CANCELLED_PAID,
    END_CANCELLED_REFUNDED,
    END_LIFETIME,
    END_ORDER_CANCELLED,
    END_PAID_LATE,
    END_SUCCEEDED,
    END_WINDOW,
    OrderStatus,
    Plan,
    RecordStatus,
    Terms,
)
from services.bargain.domain.rules import (
    FLOOR_NOT_BELOW_START,
    HELPERS_CANNOT_REACH_FLOOR,
    HELPERS_OVERSHOOT_FLOOR,
    RANDOM_MIN_ABOVE_MAX,
    RANDOM_MIN_NOT_POSITIVE,
    START_NOT_BEFORE_END,
    STOCK_ABOVE_TOTAL,
    check_activity,
    check_can_close,
    check_can_delete,
    check_can_help,
    check_can_start,
    check_can_update,
    check_running,
    cut_bounds,
    plan_cut,
    record_expires_at,
    succeeds,
)
from shared.lifecycle import windows_overlap

__all__ = [  # noqa: RUF022 (grouped by module)
    "ActivityClosed", "ActivityInvalid", "ActivityNotFound", "AlreadyClosed", "AlreadyHelped", "DeleteRefused",
    "Ended", "HelpLimitReached", "NotStarted", "OrderCancelled", "OrderHoldEnded", "OrderHoldsAnotherRecord",
    "OwnRecord",
    "RecordInProgress",
    "RecordNotFound", "RecordNotInProgress", "RecordNotSucceeded", "RecordOfAnotherUser", "RecordOrdered",
    "SkuNotInActivity", "SoldOut", "SpuConflict", "SpuConflictElsewhere", "SuccessLimitReached",
    "CANCELLED", "END_CANCELLED_PAID", "END_CANCELLED_REFUNDED", "END_LIFETIME", "END_ORDER_CANCELLED",
    "END_PAID_LATE", "END_SUCCEEDED", "END_WINDOW", "OrderStatus", "Plan", "RecordStatus", "Terms",
    "FLOOR_NOT_BELOW_START", "HELPERS_CANNOT_REACH_FLOOR", "HELPERS_OVERSHOOT_FLOOR", "RANDOM_MIN_ABOVE_MAX",
    "RANDOM_MIN_NOT_POSITIVE", "START_NOT_BEFORE_END", "STOCK_ABOVE_TOTAL", "check_activity", "check_can_close",
    "check_can_delete", "check_can_help", "check_can_start", "check_can_update", "check_running", "cut_bounds",
    "plan_cut", "record_expires_at", "succeeds", "windows_overlap",
]
