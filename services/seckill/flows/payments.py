"""A payment (`order.paid`) that arrives after its flash reservation gave the stock back.

An expired reservation (not paid within `SECKILL_HOLD_SECONDS`) is taken again when it still can
be: the activity is enabled, the buyer's total stays within the user limit and the SKU has the
units left, each a conditional update in MySQL (then Redis follows); the reservation is committed
again. Otherwise, and always for an order whose cancellation was handled first (`cancelled_at`)
or whose checkout failed (released), as its units must not be tied to an order that will not
ship, the order service is told to refund the order: `promo.seckill.payment-refused`, written to
the outbox in the same transaction. Either happens once per reservation, whatever the
redeliveries: the first handler marks the reservation paid (`paid_at`), the others find it marked.
An order.cancelled that said the order had been paid marks it too: the order service refunds
that order itself, so its order.paid, handled after it (the two topics are not ordered together),
does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill import repository as repo
from services.seckill.context import Seckill
from services.seckill.domain import ReservationStatus
from services.seckill.models import Reservation, outbox
from services.seckill.stock import REDIS_DOWN
from shared.db import in_transaction
from shared.enums import CommonStatus
from shared.events import new_event
from shared.outbox import add_to_outbox

log = logging.getLogger("seckill.payments")

SOURCE = "promo-seckill"
PAYMENT_REFUSED = "promo.seckill.payment-refused"


class RefusedBecause(StrEnum):
    """`reason` of promo.seckill.payment-refused."""

    ORDER_CANCELLED = "order_cancelled"  # order.cancelled (unpaid) was handled before the payment
    RESERVATION_RELEASED = "reservation_released"  # its checkout failed (released by pricing) first
    SOLD_OUT = "sold_out"  # the reservation expired and fewer units than the order's are left
    USER_LIMIT_REACHED = "user_limit_reached"  # it expired and the buyer has bought up to the limit since
    ACTIVITY_CLOSED = "activity_closed"  # it expired and the activity was closed or deleted since


async def settle_late(seckill: Seckill, order_id: int, paid_at: datetime, now: datetime) -> bool:
    """The order's reservation gave its stock back before this payment: taken again, or the
    payment refused. False when there is nothing to do (no such reservation, already done, or the
    order was cancelled after payment: the order service refunds it). Run again if MySQL picks it
    as a deadlock's victim (see orders.release)."""
    settled = await in_transaction(seckill.sessions, lambda session: _settled_in_mysql(session, order_id, paid_at,
                                                                                        now))
    if settled is None:
        return False
    found, refused = settled
    if refused is not None:
        log.warning("order %s was paid after its seckill reservation %s was %s: refund asked (%s)", order_id,
                    found.id, ReservationStatus(found.status).name, refused.value)
    elif seckill.redis_filter:
        try:
            await seckill.stock.take_again(found.activity_id, found.token, found.sku_id, found.user_id, found.count)
        except REDIS_DOWN as exc:
            log.warning("could not take reservation %s again in redis (reconciliation will): %r", found.id, exc)
    return True


async def _settled_in_mysql(session: AsyncSession, order_id: int, paid_at: datetime,
                            now: datetime) -> tuple[Reservation, RefusedBecause | None] | None:
    found = await repo.reservation_by_order(session, order_id)
    if found is None or not await repo.claim_late_payment(session, found.id, paid_at, now):
        return None
    await session.refresh(found, with_for_update=True)  # what a cancellation committed meanwhile
    refused = await _take_again_or_refuse(session, found, paid_at, now)
    if refused is not None:
        await _publish_refusal(session, found, refused, paid_at, now)
    return found, refused


async def _take_again_or_refuse(session: AsyncSession, r: Reservation, paid_at: datetime,
                                now: datetime) -> RefusedBecause | None:
    """A cancelled order (said unpaid: one said paid is never claimed) and a failed checkout are
    refused; an expired reservation is taken again if it can be. None when taken again."""
    if r.cancelled_at is not None:
        return RefusedBecause.ORDER_CANCELLED
    if r.status != ReservationStatus.EXPIRED:
        return RefusedBecause.RESERVATION_RELEASED
    return await _take_again(session, r, paid_at, now)


async def _take_again(session: AsyncSession, r: Reservation, paid_at: datetime,
                      now: datetime) -> RefusedBecause | None:
    """The buyer's total and the units taken again, each by a conditional update (rows in the order
    the writer and a release lock them: reservation, quota, product); None when done, else why not."""
    activity = await repo.get_activity(session, r.activity_id)
    if activity is None or activity.status != CommonStatus.ENABLED:
        return RefusedBecause.ACTIVITY_CLOSED
    # the quota row exists (made with the reservation): locked at once for update, never first
    # shared (INSERT IGNORE) then exclusive, which deadlocks two late payments of one buyer
    if not await repo.add_to_quotas(session, r.activity_id, {r.user_id: r.count}, activity.user_limit):
        return RefusedBecause.USER_LIMIT_REACHED
    if not await repo.take_stock(session, r.activity_id, r.sku_id, r.count):
        await repo.take_from_quota(session, r.activity_id, r.user_id, r.count)
        return RefusedBecause.SOLD_OUT
    await repo.commit(session, r.id, paid_at, now, only_from=(ReservationStatus.EXPIRED,))
    return None


async def _publish_refusal(session: AsyncSession, r: Reservation, reason: RefusedBecause, paid_at: datetime,
                           now: datetime) -> None:
    await add_to_outbox(session, outbox, new_event(PAYMENT_REFUSED, source=SOURCE, subject=r.order_id, time=now, data={
        "order_id": r.order_id, "user_id": r.user_id, "activity_id": r.activity_id, "sku_id": r.sku_id,
        "count": r.count, "reservation_id": r.id, "reason": reason.value, "paid_at": paid_at.isoformat(),
        "refused_at": now.isoformat()}))
