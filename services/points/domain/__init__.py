"""Points mall (积分商城) rules. Pure: plain values and the time in, a decision or a domain error out.

- `model`: the states of order holds, why a hold ended, an activity's terms, a SKU as sent.
- `rules`: an activity's own rules and lifecycle, stock edits, an exchange within stock and limit.
- `errors`: the refusals, each with its code.
"""

from __future__ import annotations

from services.points.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    ActivityNotFound,
    AlreadyClosed,
    DeleteRefused,
    Ended,
    LimitExceeded,
    NotStarted,
    OrderCancelled,
    OrderHoldEnded,
    OrderHoldsAnother,
    SkuNotInActivity,
    SoldOut,
    SpuConflict,
    SpuConflictElsewhere,
)
from services.points.domain.model import (
    CANCELLED,
    END_CANCELLED,
    END_CANCELLED_PAID,
    END_CANCELLED_REFUNDED,
    END_CHECKOUT_FAILED,
    END_EXPIRED,
    END_PAID,
    END_PAID_LATE,
    HoldStatus,
    ProductDraft,
    Terms,
)
from services.points.domain.rules import (
    DUPLICATE_SKU,
    LIMIT_NOT_POSITIVE,
    NO_PRODUCTS,
    POINTS_NOT_POSITIVE,
    PRICE_NEGATIVE,
    SKU_HAS_ORDERS,
    START_NOT_BEFORE_END,
    STOCK_BELOW_TAKEN,
    STOCK_NEGATIVE,
    check_activity,
    check_can_close,
    check_can_delete,
    check_can_remove,
    check_can_update,
    check_exchange,
    check_running,
    remaining_for_user,
    stock_left,
)
from shared.lifecycle import windows_overlap

__all__ = [  # noqa: RUF022 (grouped by module)
    "ActivityClosed", "ActivityInvalid", "ActivityNotFound", "AlreadyClosed", "DeleteRefused", "Ended",
    "LimitExceeded", "NotStarted", "OrderCancelled", "OrderHoldEnded", "OrderHoldsAnother", "SkuNotInActivity",
    "SoldOut", "SpuConflict", "SpuConflictElsewhere",
    "CANCELLED", "END_CANCELLED", "END_CANCELLED_PAID", "END_CANCELLED_REFUNDED",
    "END_CHECKOUT_FAILED", "END_EXPIRED", "END_PAID", "END_PAID_LATE", "HoldStatus",
    "ProductDraft", "Terms",
    "DUPLICATE_SKU", "LIMIT_NOT_POSITIVE", "NO_PRODUCTS", "POINTS_NOT_POSITIVE", "PRICE_NEGATIVE", "SKU_HAS_ORDERS",
    "START_NOT_BEFORE_END", "STOCK_BELOW_TAKEN", "STOCK_NEGATIVE", "check_activity", "check_can_close",
    "check_can_delete", "check_can_remove", "check_can_update", "check_exchange", "check_running",
    "remaining_for_user", "stock_left", "windows_overlap",
]
