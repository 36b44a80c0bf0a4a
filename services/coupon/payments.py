"""What an order's payment and cancel do to its coupons (order.paid, order.cancelled).

The two events travel on two topics, in no guaranteed order, and may be delivered again:
- a cancel is recorded (coupon_cancelled_order) with its effects; a payment processed after it
  takes nothing and grants nothing (the order service refunds cancelled orders);
- a payment commits the coupons the order holds (one per shop and one of the platform at most);
  for each coupon the order no longer holds (its hold ran out, or the coupon was revoked while
  held) but was priced with, the payment takes that coupon again if it is still unused and
  valid, or else publishes `promo.coupon.payment-refused` so that the order service refunds or
  accepts. Either happens once: the coupon remembers the order (`released_order_id`) until this
  settles it.
Like service.py, these flush and never commit (the consumer runner owns the transaction)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import lifecycle, outcomes, service
from services.coupon import repository as repo
from services.coupon import repository_orders as orders
from services.coupon.domain import CouponStatus
from services.coupon.models import Coupon, outbox
from services.coupon.outcomes import PaymentRefusal
from shared.events import OrderCancelled, OrderPaid, new_event
from shared.outbox import add_to_outbox

log = logging.getLogger("coupon.payments")

PAYMENT_REFUSED = "promo.coupon.payment-refused"


async def order_paid(session: AsyncSession, paid: OrderPaid) -> None:
    """order.paid: the order's coupons are used for good, its reward coupons are granted, once."""
    if await orders.is_cancelled(session, paid.order_id):
        log.info("order %s was paid after it was cancelled: no coupon used, no reward granted", paid.order_id)
        return
    await commit_order(session, paid.order_id, paid.paid_at)
    await settle_late_payment(session, paid.order_id, paid.user_id, paid.paid_at)
    if paid.give_coupons:
        await service.grant_order_rewards(session, paid.order_id, paid.user_id, paid.give_coupons, paid.paid_at)


async def order_cancelled(session: AsyncSession, cancelled: OrderCancelled) -> None:
    """order.cancelled: recorded first (a hold or a payment of the order waits for it, or it waits
    for them), then the order's coupons go back (a used one with its use returned) and its reward
    coupons not used yet are revoked. Idempotent."""
    await orders.record_cancelled(session, cancelled.order_id, cancelled.cancelled_at)
    await release_order(session, cancelled.order_id, cancelled.cancelled_at)
    await lifecycle.revoke_order_rewards(session, cancelled.order_id, cancelled.reason.value,
                                         cancelled.cancelled_at)


async def commit_order(session: AsyncSession, order_id: int, now: datetime) -> int:
    """The order's held coupons are used for good. A second delivery finds nothing."""
    committed = await orders.commit_holds(session, order_id, now)
    for coupon in committed:
        await _used(session, coupon, order_id, now)
    await session.flush()
    return len(committed)


async def release_order(session: AsyncSession, order_id: int, now: datetime) -> int:
    """The order's coupons go back (or expire), held or used, a used one with its use returned."""
    released = await orders.release_order(session, order_id, now)
    for template_id, was_used in released:
        if was_used:
            await repo.add_use_count(session, template_id, -1)
    return len(released)


async def settle_late_payment(session: AsyncSession, order_id: int, user_id: int, paid_at: datetime) -> None:
    """A payment of an order: each coupon whose hold by this order ended unpaid (none when the
    order was priced without one, its checkout gave it up, or an earlier delivery settled it) is
    taken again or refused with a refund request, once: the coupon forgets the order either way.
    The order's other coupons, still held, were committed just before."""
    for coupon in await orders.released_to(session, order_id, user_id):
        refusal = outcomes.late_payment_refusal(CouponStatus(coupon.status), coupon.valid_start, coupon.valid_end,
                                                paid_at)
        if refusal is None:
            if await orders.take_for_late_payment(session, coupon.id, order_id, paid_at, paid_at):
                await _used(session, coupon, order_id, paid_at)
        elif await orders.forget_released(session, order_id, coupon.id):
            await _refused(session, coupon, order_id, refusal, paid_at)
    await session.flush()


async def _used(session: AsyncSession, coupon: Coupon, order_id: int, at: datetime) -> None:
    await repo.add_use_count(session, coupon.template_id, 1)
    await add_to_outbox(session, outbox, new_event(
        "promo.coupon.used", source="promo-coupon", subject=order_id, time=at,
        data={"coupon_id": coupon.id, "template_id": coupon.template_id, "user_id": coupon.user_id,
              "order_id": order_id}))


async def _refused(session: AsyncSession, coupon: Coupon, order_id: int, reason: PaymentRefusal,
                   paid_at: datetime) -> None:
    log.warning("order %s was paid after its hold of coupon %s ended; refused: %s", order_id, coupon.id, reason)
    await add_to_outbox(session, outbox, new_event(
        PAYMENT_REFUSED, source="promo-coupon", subject=order_id, time=paid_at,
        data={"order_id": order_id, "user_id": coupon.user_id, "coupon_id": coupon.id,
              "template_id": coupon.template_id, "reason": reason.value, "paid_at": paid_at.isoformat()}))
