"""The values the bargain rules read and decide on. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.enums import CommonStatus, DescribedIntEnum


class RecordStatus(DescribedIntEnum):
    """State of a bargain record (a buyer's attempt)."""

    IN_PROGRESS = 1, "friends are helping: the price goes down with each help"
    SUCCESS = 2, "reached the floor price (or its required helpers): may be ordered at the bargained price"
    FAILED = 3, "the activity's window or the record's lifetime ended first (final)"


class OrderStatus(DescribedIntEnum):
    """State of a bargain order's hold (the record and one unit of the activity's stock)."""

    HELD = 0, "held at checkout, waiting for the order's payment"
    PAID = 10, "paid: the unit is sold and the record is used (final)"
    RELEASED = 20, "cancelled, failed elsewhere or not paid in time: the unit and the record went back (final)"


# why an order's hold ended (kept on the order) when its order was cancelled: recorded whatever the
# hold's state, as order.paid may be handled before or after order.cancelled
END_ORDER_CANCELLED = "order_cancelled"  # said unpaid: a payment handled after it is refused (refund asked)
END_CANCELLED_PAID = "order_cancelled_after_payment"  # said paid: the order service refunds it
END_CANCELLED_REFUNDED = "order_cancelled_refund_asked"  # cancelled, and its payment refused once
CANCELLED = (END_ORDER_CANCELLED, END_CANCELLED_PAID, END_CANCELLED_REFUNDED)
END_PAID_LATE = "order_paid_late"  # paid after its hold went back, and the record or a unit was gone

# why a record ended: kept on the record
END_SUCCEEDED = "reached_floor"
END_WINDOW = "activity_ended"
END_LIFETIME = "lifetime_ended"


@dataclass(frozen=True)
class Terms:
    """An activity's state and rules, as a buyer's start or a help is checked against them."""

    id: int
    status: CommonStatus
    start_at: datetime
    end_at: datetime
    first_price: int  # fen: the record's starting price
    floor_price: int  # fen: the price the record reaches with its last required helper
    stock: int
    help_max_count: int  # helpers needed
    bargain_count: int  # helps one user may give within the activity
    total_limit_count: int  # successful records one user may have in the activity
    random_min_price: int  # fen per help
    random_max_price: int


@dataclass(frozen=True)
class Plan:
    """What a record's cuts follow, copied from its activity when it started (a later change of
    the activity never strands a record above its floor)."""

    first_price: int
    floor_price: int
    helps_needed: int
    random_min: int
    random_max: int
