"""An issued coupon's life after issue: held by an order being created, given back when its
checkout fails or its hold runs out (the checkout contract: hold, commit, release by order id, see
docs/checkout.md), revoked when its rewarding order is cancelled, recalled by an operator. What
an order's payment and cancel do is in payments.py. Coupons are never deleted. Like service.py,
these flush and never commit (a checkout's hold runs in a transaction of its own: flows.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import domain, outcomes
from services.coupon import repository as repo
from services.coupon import repository_orders as orders
from services.coupon.domain import CouponStatus
from services.coupon.errors import CouponNotFound, CouponNotUsable, OrderCancelled
from services.coupon.models import Coupon, outbox
from shared.events import new_event
from shared.outbox import add_to_outbox

# --- holds ---------------------------------------------------------------------------------------

async def hold(session: AsyncSession, order_id: int, user_id: int, coupons: dict[int, int | None], now: datetime,
               hold_seconds: int) -> list[Coupon]:
    """Reserve the coupons for an order being created: `coupons` maps each coupon id to the
    discount it gives the order (None: not said), at most one coupon per owner (one per shop and
    one of the platform). All or none: one that cannot be held refuses the whole set. Idempotent:
    the same order asking again gets the same holds, running again from now (a retried checkout
    never stores a hold already due); any other order is refused, and so is an order already
    cancelled. A different set replaces the order's earlier holds: those not in it go back, in
    the same transaction."""
    if await orders.is_cancelled(session, order_id):
        raise OrderCancelled(order_id=order_id)
    domain.check_one_per_owner(await orders.owners_of(session, list(coupons)))
    until = now + timedelta(seconds=hold_seconds)
    held = False
    for coupon_id, discount in sorted(coupons.items()):  # one order of row locks for every hold
        if await orders.hold_if_unused(session, coupon_id, user_id, order_id, now, until, discount) \
                or await orders.extend_hold(session, coupon_id, user_id, order_id, now, until, discount):
            held = True
            continue
        coupon = await orders.get_coupon(session, coupon_id)
        if coupon is None or coupon.user_id != user_id or coupon.use_order_id != order_id \
                or coupon.status != CouponStatus.USED:
            raise CouponNotUsable(coupon_id=coupon_id)
        # else already used by this order (paid): the same answer
    if held:
        await orders.release_other_holds(session, order_id, list(coupons), now)
        await orders.forget_released(session, order_id)  # what it held before no longer matters
    found = [await orders.get_coupon(session, coupon_id) for coupon_id in coupons]
    return [coupon for coupon in found if coupon is not None]


async def release_holds(session: AsyncSession, order_id: int, now: datetime) -> int:
    """Pricing's checkout failed (or chose no coupon): the coupon the order HOLDS goes back, and
    the order no longer claims one for a late payment. A coupon it USED (the order was paid)
    goes back only through order.cancelled. Idempotent."""
    released = await orders.release_held(session, order_id, now)
    await orders.forget_released(session, order_id)
    return released


async def release_expired(session: AsyncSession, due: list[tuple[int, int]], now: datetime) -> int:
    """Holds past their time go back, one conditional statement each (still HELD by that order and
    still due): a payment or a retried checkout committed since the list was read is left alone.
    The order is remembered on the coupon: if it is paid after all, payments.py settles it."""
    released = 0
    for coupon_id, order_id in due:
        released += await orders.release_expired_hold(session, coupon_id, order_id, now)
    return released


async def expire_due(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """The periodic job: holds past their time are released, unused coupons past their end expire.
    Every change is conditional, so replicas running it at once do each thing once."""
    released = await release_expired(session, list(await orders.expired_holds(session, now)), now)
    return released, await orders.expire_unused(session, now)


# --- taking back ---------------------------------------------------------------------------------

async def revoke_order_rewards(session: AsyncSession, order_id: int, reason: str, now: datetime) -> int:
    """order.cancelled: the order's reward coupons not used yet are revoked at once, unused or held
    by another unpaid order (that order's hold ends; if it is paid, payments.py asks for a
    refund). Used ones stay. A second delivery finds none."""
    coupons = await orders.rewards_to_revoke(session, order_id)
    for coupon in coupons:
        await _take_back(session, coupon, CouponStatus.REVOKED, domain.revoked_by_order(order_id),
                         outcomes.revoke_reason_for_order(reason), now, order_id=order_id)
    await session.flush()
    return len(coupons)


async def _take_back(session: AsyncSession, coupon: Coupon, status: CouponStatus, by: str, reason: str,
                     now: datetime, order_id: int | None = None) -> None:
    """Revoked or recalled (the row is locked): it stays with who, why and when; its stock returns
    to the template if it could still have been used; `promo.coupon.revoked` tells the others."""
    was = CouponStatus(coupon.status)
    data = {"coupon_id": coupon.id, "template_id": coupon.template_id, "user_id": coupon.user_id,
            "status": int(status), "kind": status.name.lower(), "by": by, "reason": reason,
            "revoked_at": now.isoformat()}
    if order_id is not None:
        data["order_id"] = order_id
    if was is CouponStatus.HELD:  # the holding order's hold ends; remembered for its payment
        data["held_by_order_id"] = coupon.released_order_id = coupon.use_order_id
        coupon.use_order_id = coupon.hold_expires_at = None
    coupon.status, coupon.revoked_by, coupon.revoke_reason = status, by[:64], reason[:255]
    coupon.revoked_at = coupon.updated_at = now
    if outcomes.stock_comes_back(was):
        await repo.give_back_stock(session, coupon.template_id, 1)
    await add_to_outbox(session, outbox, new_event("promo.coupon.revoked", source="promo-coupon",
                                                   subject=coupon.user_id, time=now, data=data))


async def recall(session: AsyncSession, coupon_id: int, by: str, reason: str, now: datetime) -> Coupon:
    """An operator takes back a coupon no order holds or used (status RECALLED, with who and
    why); its stock returns to the template if it was unused (not if expired). It keeps counting
    against the user's take limit. The row is locked: an order cannot take it meanwhile."""
    coupon = await orders.get_coupon(session, coupon_id, for_update=True)
    if coupon is None:
        raise CouponNotFound(id=coupon_id)
    domain.check_recallable(coupon_id, CouponStatus(coupon.status), coupon.use_order_id)
    await _take_back(session, coupon, CouponStatus.RECALLED, by, reason, now)
    await session.flush()
    return coupon
