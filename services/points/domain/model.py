"""The values the points mall rules read and decide on. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.enums import CommonStatus, DescribedIntEnum


class HoldStatus(DescribedIntEnum):
    """State of a points-mall order's hold (units of one SKU and the buyer's count)."""

    HELD = 0, "held at checkout, waiting for the order's payment"
    PAID = 10, "paid: the units are sold and count towards the buyer's limit (final unless cancelled after payment)"
    RELEASED = 20, "cancelled, failed at checkout or not paid in time: the units and the count went back (final)"


# why a hold ended: kept on the hold
END_PAID = "paid"
END_CANCELLED = "cancelled"  # order.cancelled said unpaid: a payment handled later is refused (refund asked)
END_CANCELLED_PAID = "cancelled_after_payment"  # said paid: the order service refunds it, a payment takes nothing
END_CANCELLED_REFUNDED = "cancelled_refund_asked"  # cancelled, and its payment refused once (order-refused)
END_EXPIRED = "expired"
END_CHECKOUT_FAILED = "checkout_failed"
END_PAID_LATE = "paid_after_release"  # paid after its hold went back, and nothing could be taken again
CANCELLED = (END_CANCELLED, END_CANCELLED_PAID, END_CANCELLED_REFUNDED)  # the order's cancellation is recorded


@dataclass(frozen=True)
class ProductDraft:
    """One SKU of an activity as an operator sends it."""

    sku_id: int
    points: int
    price: int  # fen
    stock: int  # units offered in all (held and sold ones included)
    limit_count: int


@dataclass(frozen=True)
class Terms:
    """An activity's state, as an exchange is checked against it."""

    status: CommonStatus
    start_at: datetime
    end_at: datetime
