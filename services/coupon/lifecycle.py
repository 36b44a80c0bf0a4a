"""An issued coupon's life after issue: held by an order being created, used when it is paid,
given back when it is not (the checkout contract: hold, commit, release by order id, see
docs/checkout.md), revoked when its rewarding order is cancelled, recalled by an operator.
Coupons are never deleted. Like service.py, these flush and never commit, except
`hold_for_order`, which owns its transaction so that it can run again after a deadlock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import domain
from services.coupon import repository as repo
from services.coupon.domain import CouponStatus
from services.coupon.errors import CouponNotFound, CouponNotUsable
from services.coupon.models import Coupon, outbox
from shared.db import is_deadlock
from shared.events import new_event
from shared.outbox import add_to_outbox

# --- holds ---------------------------------------------------------------------------------------

async def hold(session: AsyncSession, order_id: int, user_id: int, coupon_id: int, now: datetime,
               hold_seconds: int) -> Coupon:
    """Reserve the coupon for an order being created. Idempotent: the same order asking again
    gets the same hold; any other order is refused. An order holds one coupon: when a retried
    checkout chose another one, the order's earlier hold goes back in the same transaction."""
    until = now + timedelta(seconds=hold_seconds)
    if await repo.hold_if_unused(session, coupon_id, user_id, order_id, now, until):
        await repo.release_other_holds(session, order_id, coupon_id, now)
    coupon = await repo.get_coupon(session, coupon_id)
    if coupon is None or coupon.user_id != user_id or coupon.use_order_id != order_id \
            or coupon.status not in domain.IN_USE:
        raise CouponNotUsable(coupon_id=coupon_id)
    return coupon


async def hold_for_order(sessions: async_sessionmaker[AsyncSession], order_id: int, user_id: int, coupon_id: int,
                         now: datetime, hold_seconds: int) -> Coupon:
    """`hold` in a transaction of its own. Two holds of one order for two coupons at the same
    time each wait for the other's row to give it back, a deadlock MySQL ends by rolling one
    back; that one runs again, sees the other's hold committed and replaces it."""
    for attempt in range(3):
        try:
            async with sessions() as session, session.begin():
                return await hold(session, order_id, user_id, coupon_id, now, hold_seconds)
        except OperationalError as error:
            if not is_deadlock(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


async def commit_order(session: AsyncSession, order_id: int, now: datetime) -> int:
    """order.paid: the order's held coupons are used for good. A second delivery finds nothing."""
    committed = await repo.commit_holds(session, order_id, now)
    for coupon in committed:
        await repo.add_use_count(session, coupon.template_id, 1)
        await add_to_outbox(session, outbox, new_event(
            "promo.coupon.used", source="promo-coupon", subject=order_id, time=now,
            data={"coupon_id": coupon.id, "template_id": coupon.template_id, "user_id": coupon.user_id,
                  "order_id": order_id}))
    await session.flush()
    return len(committed)


async def release_order(session: AsyncSession, order_id: int, now: datetime) -> int:
    """order.cancelled or an expired hold: the order's coupons go back (or expire), a used one
    with its use returned. Idempotent."""
    released = await repo.release_order(session, order_id, now)
    for template_id, was_used in released:
        if was_used:
            await repo.add_use_count(session, template_id, -1)
    return len(released)


async def expire_due(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """The periodic job: holds past their time are released, unused coupons past their end expire.
    Every change is conditional, so replicas running it at once do each thing once."""
    released = 0
    for order_id in await repo.orders_with_expired_holds(session, now):
        released += await release_order(session, order_id, now)
    return released, await repo.expire_unused(session, now)


# --- taking back ---------------------------------------------------------------------------------

async def revoke_order_rewards(session: AsyncSession, order_id: int, reason: str, now: datetime) -> int:
    """order.cancelled: the order's reward coupons still unused are revoked, their stock given
    back (those held or used by another order stay). A second delivery finds none."""
    coupons = await repo.unused_granted_by_order(session, order_id)
    for coupon in coupons:
        await _take_back(session, coupon, CouponStatus.REVOKED, domain.revoked_by_order(order_id),
                         f"order_cancelled:{reason}", now, order_id=order_id)
    await session.flush()
    return len(coupons)


async def _take_back(session: AsyncSession, coupon: Coupon, status: CouponStatus, by: str, reason: str,
                     now: datetime, order_id: int | None = None) -> None:
    """Revoked or recalled: the row stays with who, why and when; its stock returns to the
    template; `promo.coupon.revoked` tells the others."""
    coupon.status, coupon.revoked_by, coupon.revoke_reason = status, by[:64], reason[:255]
    coupon.revoked_at = coupon.updated_at = now
    await repo.give_back_stock(session, coupon.template_id, 1)
    data = {"coupon_id": coupon.id, "template_id": coupon.template_id, "user_id": coupon.user_id,
            "status": int(status), "kind": status.name.lower(), "by": by, "reason": reason,
            "revoked_at": now.isoformat()}
    if order_id is not None:
        data["order_id"] = order_id
    await add_to_outbox(session, outbox, new_event("promo.coupon.revoked", source="promo-coupon",
                                                   subject=coupon.user_id, time=now, data=data))


async def recall(session: AsyncSession, coupon_id: int, by: str, reason: str, now: datetime) -> Coupon:
    """An operator takes back a coupon no order holds or used (status RECALLED, with who and
    why); its stock returns to the template. The row is locked: an order cannot take it meanwhile."""
    coupon = await repo.get_coupon(session, coupon_id, for_update=True)
    if coupon is None:
        raise CouponNotFound(id=coupon_id)
    domain.check_recallable(coupon_id, CouponStatus(coupon.status), coupon.use_order_id)
    await _take_back(session, coupon, CouponStatus.RECALLED, by, reason, now)
    await session.flush()
    return coupon
