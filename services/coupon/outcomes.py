"""Pure rules for what an order's late payment or its cancel does to a coupon, and how a taken-back
coupon's stored reason reads to an operator. Plain values in, a decision or words out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from services.coupon.domain import IN_USE, CouponStatus
from shared.errors import Reason


class PaymentRefusal(StrEnum):
    """`reason` of promo.coupon.payment-refused: why a payment that came after its order's hold
    ended cannot take the coupon the order was priced with (the order service refunds or accepts)."""

    COUPON_USED_ELSEWHERE = "coupon_used_elsewhere"  # another order holds or used it since
    COUPON_EXPIRED = "coupon_expired"  # its window ended (before the payment, or it was marked expired)
    COUPON_REVOKED = "coupon_revoked"  # a reward whose rewarding order was cancelled
    COUPON_RECALLED = "coupon_recalled"  # an operator took it back


def late_payment_refusal(status: CouponStatus, valid_start: datetime, valid_end: datetime,
                         paid_at: datetime) -> PaymentRefusal | None:
    """A payment arriving after its order's hold on the coupon ended: None when it may take the
    coupon again (unused, and valid when paid), otherwise why not."""
    if status is CouponStatus.REVOKED:
        return PaymentRefusal.COUPON_REVOKED
    if status is CouponStatus.RECALLED:
        return PaymentRefusal.COUPON_RECALLED
    if status in IN_USE:
        return PaymentRefusal.COUPON_USED_ELSEWHERE
    if status is CouponStatus.EXPIRED or not valid_start <= paid_at < valid_end:
        return PaymentRefusal.COUPON_EXPIRED
    return None


def stock_comes_back(status: CouponStatus) -> bool:
    """A coupon taken back returns its stock to the template only when it could still have been
    used (unused, or held by an unpaid order); an expired one consumed its stock."""
    return status in (CouponStatus.UNUSED, CouponStatus.HELD)


def counts_against_the_limit(status: CouponStatus) -> bool:
    """The per-user take limit counts every coupon the user received, recalled ones too (an
    operator recalling a duplicate must not let the buyer take it again at once); a revoked
    reward (its order was cancelled) no longer counts. The repository applies it in SQL."""
    return status is not CouponStatus.REVOKED


# --- the stored reason of a taken-back coupon, as an operator reads it ------------------------------

ORDER_CANCEL_PREFIX = "order_cancelled:"  # revoke_reason of a reward revoked by its order's cancel

ORDER_CANCELLED = Reason("ORDER_CANCELLED", en="The rewarding order was cancelled ({cause})",
                         zh="发券的订单已取消（{cause}）")
CANCEL_CAUSES = {
    "pay_timeout": Reason("PAY_TIMEOUT", en="not paid in time", zh="超时未支付"),
    "member_cancel": Reason("MEMBER_CANCEL", en="cancelled by the buyer", zh="买家取消"),
    "admin_cancel": Reason("ADMIN_CANCEL", en="cancelled by an operator", zh="运营人员取消"),
    "after_sale_close": Reason("AFTER_SALE_CLOSE", en="closed by an after-sale refund", zh="售后退款关闭"),
    "groupbuy_close": Reason("GROUPBUY_CLOSE", en="the group buy failed", zh="拼团失败"),
}
UNKNOWN_CAUSE = Reason("UNKNOWN_CAUSE", en="reason {cause}", zh="原因代码 {cause}")


def revoke_reason_for_order(cancel_reason: str) -> str:
    """What is stored (and sent in promo.coupon.revoked) when an order's cancel revokes its rewards."""
    return f"{ORDER_CANCEL_PREFIX}{cancel_reason}"


def revoke_reason_text(stored: str | None, locale: str) -> str | None:
    """The stored reason as an operator reads it: an order cancel's machine value in words of the
    caller's language; an operator's own words as typed."""
    if stored is None or not stored.startswith(ORDER_CANCEL_PREFIX):
        return stored
    cause = stored.removeprefix(ORDER_CANCEL_PREFIX)
    return ORDER_CANCELLED.with_(cause=CANCEL_CAUSES.get(cause) or UNKNOWN_CAUSE.with_(cause=cause)).render(locale)
