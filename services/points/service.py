"""Pricing's side: the points-mall prices of an activity's SKUs and the order holds. Every decision
is made by `domain` on rows read under their locks or guarded by conditional updates (hold first,
then the buyer's count row, then the product's stock row). Flushes; never commits: flows.py (and
the consumer runner) own the transactions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.points import activities, domain
from services.points import repository as repo
from services.points.domain import HoldStatus
from services.points.models import Activity, Hold, outbox
from services.points.schemas import HoldIn, PricesIn
from shared.enums import CommonStatus
from shared.events import new_event
from shared.outbox import add_to_outbox

SOURCE = "promo-points"
HOLD_EXPIRED = "promo.points.hold-expired"  # an unpaid hold went back: the order should be cancelled
PAID_AFTER_RELEASE = "promo.points.order-refused"  # a payment for a hold that went back: refund it
# `reason` of promo.points.order-refused
REFUSED_RELEASED = "paid_after_hold_released"  # the hold went back and its units or the count are gone
REFUSED_ORDER_CANCELLED = "order_cancelled"  # the order was cancelled unpaid (before or after this payment)
REFUSED_ACTIVITY_CLOSED = "activity_closed"  # the hold went back and the activity was closed or deleted since


async def _publish(session: AsyncSession, event_type: str, hold: Hold, now: datetime, **data) -> None:
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=hold.order_id, time=now, data={
        "order_id": hold.order_id, "activity_id": hold.activity_id, "user_id": hold.user_id, "sku_id": hold.sku_id,
        "count": hold.count, "unit_price": hold.unit_price, "unit_points": hold.unit_points, "at": now.isoformat(),
        **data}))


async def _running(session: AsyncSession, activity_id: int, now: datetime, *, for_share: bool = False) -> Activity:
    activity = await activities.get_activity(session, activity_id, for_share=for_share)
    domain.check_running(activities.terms_of(activity), now)
    return activity


def _counts_asked(request: PricesIn) -> dict[int, int]:
    """Units of each SKU the order asks for: `counts` when sent, else one of each."""
    return {sku_id: (request.counts or {}).get(sku_id, 1) for sku_id in request.sku_ids}


async def prices(session: AsyncSession, request: PricesIn, now: datetime) -> dict:
    """Points and cash per unit of each SKU, if its units (`counts`, one by default) can be exchanged
    now: stock left and, for a buyer, their limit not used up. What `order_id` already holds counts
    as its own (its units and the buyer's count are back in the figures checked)."""
    activity = await _running(session, request.activity_id, now)
    products = {p.sku_id: p for p in (await repo.products_of(session, [activity.id]))[activity.id]}
    own = None if request.order_id is None else await repo.hold_by_order(session, request.order_id)
    for sku_id, count in _counts_asked(request).items():
        product = products.get(sku_id)
        if product is None:
            raise domain.SkuNotInActivity(sku_id=sku_id)
        held, bought = (0, 0) if request.user_id is None else await repo.user_count(
            session, activity.id, sku_id, request.user_id)
        stock = product.stock
        if own is not None and own.status == HoldStatus.HELD and (own.activity_id, own.sku_id) == (activity.id, sku_id):
            if count <= own.count:
                continue  # the order's own hold: its units and the buyer's count are taken already
            stock += own.count  # asks more than it holds: checked as if its hold went back first
            held = max(held - own.count, 0) if own.user_id == request.user_id else held
        domain.check_exchange(sku_id=sku_id, count=count, stock=stock, limit_count=product.limit_count,
                              held=held, bought=bought)
    return {"activity_id": activity.id, "activity_name": activity.name, "business_id": activity.business_id,
            "prices": {s: products[s].price for s in request.sku_ids},
            "points": {s: products[s].points for s in request.sku_ids}}


def same_hold(hold: Hold, request: HoldIn) -> Hold:
    """The order's hold asked again: the same exchange, still held or paid (one that went back is
    not held again: its order was cancelled, failed or not paid in time)."""
    asked = (request.activity_id, request.sku_id, request.user_id, request.count)
    if (hold.activity_id, hold.sku_id, hold.user_id, hold.count) != asked:
        raise domain.OrderHoldsAnother(order_id=request.order_id)
    if hold.status not in (HoldStatus.HELD, HoldStatus.PAID):
        raise domain.OrderHoldEnded(order_id=request.order_id)
    return hold


async def hold(session: AsyncSession, request: HoldIn, now: datetime, hold_seconds: int) -> Hold:
    """`count` units and the buyer's count for the order, pending payment (idempotent by order
    id). The activity's row is read under a shared lock (a close waits for the holds in flight, and
    a hold after the close sees it); then the database guards both: the buyer's row
    `held + bought + count <= limit`, then the product's row `stock >= count`; a refusal rolls the
    whole transaction back."""
    existing = await repo.hold_by_order(session, request.order_id)
    if existing is not None:
        return same_hold(existing, request)
    if await repo.is_cancelled(session, request.order_id):  # order.cancelled came before its checkout's hold
        raise domain.OrderCancelled(order_id=request.order_id)
    activity = await _running(session, request.activity_id, now, for_share=True)
    product = await repo.get_product(session, activity.id, request.sku_id)
    if product is None:
        raise domain.SkuNotInActivity(sku_id=request.sku_id)
    limit, sku_id = product.limit_count, request.sku_id
    await repo.ensure_user_count(session, activity.id, sku_id, request.user_id, now)
    if not await repo.count_within_limit(session, activity.id, sku_id, request.user_id, request.count, limit, now):
        held, bought = await repo.user_count(session, activity.id, sku_id, request.user_id, for_update=True)
        raise domain.LimitExceeded(sku_id=sku_id, limit=limit, remaining=domain.remaining_for_user(limit, held, bought))
    if not await repo.take_stock(session, activity.id, sku_id, request.count):
        raise domain.SoldOut(sku_id=sku_id)
    held = Hold(order_id=request.order_id, activity_id=activity.id, user_id=request.user_id, sku_id=sku_id,
                count=request.count, unit_price=product.price, unit_points=product.points, status=HoldStatus.HELD,
                hold_expires_at=now + timedelta(seconds=hold_seconds), created_at=now, updated_at=now)
    session.add(held)
    await session.flush()
    return held


async def _give_back(session: AsyncSession, held: Hold, now: datetime, reason: str) -> bool:
    """A held or paid hold -> released: its units and the buyer's count go back, once."""
    counts = {"held": -held.count} if held.status == HoldStatus.HELD else {"bought": -held.count}
    if not await repo.change_hold(session, held, now, status=HoldStatus.RELEASED, ended_at=now,
                                  end_reason=reason):
        return False
    await repo.move_count(session, held.activity_id, held.sku_id, held.user_id, now, **counts)
    await repo.give_stock_back(session, held.activity_id, held.sku_id, held.count)
    return True


async def release(session: AsyncSession, order_id: int, now: datetime, reason: str, *,
                  due_by: datetime | None = None) -> bool:
    """An unpaid hold's units and the buyer's count go back, once (a failed checkout, or the job's
    `due_by`: only a hold unpaid past its time)."""
    held = await repo.hold_by_order(session, order_id, for_update=True)
    if held is None or held.status != HoldStatus.HELD:
        return False
    if due_by is not None and held.hold_expires_at > due_by:
        return False
    if not await _give_back(session, held, now, reason):
        return False
    if reason == domain.END_EXPIRED:
        await _publish(session, HOLD_EXPIRED, held, now, reason=reason)
    return True


async def cancel(session: AsyncSession, order_id: int, now: datetime, *, said_paid: bool) -> bool:
    """order.cancelled: recorded on the order's hold whatever its state (order.paid may come before
    or after it), and a held or paid hold goes back. A payment handled after it takes nothing: for
    an order said paid (the order service refunds it) it does nothing, else it is refused once. A
    hold we saw paid although the event says unpaid is refused now (the payment must go back)."""
    # first, as a hold's check reads it first: a hold of the order waits for it, or it for the hold
    await repo.record_cancelled(session, order_id, now)  # a hold made later for this order is refused
    held = await repo.hold_by_order(session, order_id, for_update=True)
    if held is None:
        return False
    recorded = domain.END_CANCELLED_PAID if said_paid else domain.END_CANCELLED
    if held.status == HoldStatus.RELEASED:
        if held.end_reason in domain.CANCELLED or held.end_reason == domain.END_PAID_LATE:
            return False  # recorded already, or its payment was refused already
        return await repo.change_hold(session, held, now, end_reason=recorded)  # went back before: recorded
    refund = held.status == HoldStatus.PAID and not said_paid
    if not await _give_back(session, held, now, domain.END_CANCELLED_REFUNDED if refund else recorded):
        return False
    if refund:
        await _publish(session, PAID_AFTER_RELEASE, held, now, reason=REFUSED_ORDER_CANCELLED)
    return True


async def _take_again(session: AsyncSession, held: Hold, now: datetime) -> str | None:
    """A released hold's units and count taken again for its late payment, if the activity is still
    open and both are still free (rows in the order a hold locks them: activity shared, the buyer's
    count, the product). None when taken, else why not."""
    activity = await repo.get_activity(session, held.activity_id, for_share=True)
    if activity is None or activity.deleted_at is not None or activity.status == CommonStatus.DISABLED:
        return REFUSED_ACTIVITY_CLOSED
    product = await repo.get_product(session, held.activity_id, held.sku_id)
    if product is None:
        return REFUSED_RELEASED
    await repo.ensure_user_count(session, held.activity_id, held.sku_id, held.user_id, now)
    if not await repo.count_within_limit(session, held.activity_id, held.sku_id, held.user_id, held.count,
                                         product.limit_count, now, bought=True):
        return REFUSED_RELEASED
    if not await repo.take_stock(session, held.activity_id, held.sku_id, held.count):
        await repo.move_count(session, held.activity_id, held.sku_id, held.user_id, now, bought=-held.count)
        return REFUSED_RELEASED
    return None


async def pay(session: AsyncSession, order_id: int, paid_at: datetime, now: datetime) -> bool:
    """order.paid: the held units are sold and count as bought, once. A payment for a hold that
    went back (not in time, or a failed checkout) takes the units and the count again when the
    activity is open and both are still free; otherwise an event asks for the refund. One for an
    order whose cancellation came first takes nothing: refused once if it was cancelled unpaid."""
    held = await repo.hold_by_order(session, order_id, for_update=True)
    if held is None or held.status == HoldStatus.PAID:
        return False  # not a points-mall order, or paid already
    paid = {"status": HoldStatus.PAID, "paid_at": paid_at, "ended_at": now, "end_reason": domain.END_PAID}
    if held.status == HoldStatus.HELD:
        if not await repo.change_hold(session, held, now, **paid):
            return False
        await repo.move_count(session, held.activity_id, held.sku_id, held.user_id, now,
                              held=-held.count, bought=held.count)
        return True
    if held.end_reason == domain.END_CANCELLED:  # cancelled unpaid before this payment: its money goes back
        if not await repo.change_hold(session, held, now, end_reason=domain.END_CANCELLED_REFUNDED):
            return False
        await _publish(session, PAID_AFTER_RELEASE, held, now, reason=REFUSED_ORDER_CANCELLED)
        return True
    if held.end_reason in domain.CANCELLED or held.end_reason == domain.END_PAID_LATE or not await repo.change_hold(
            session, held, now, end_reason=domain.END_PAID_LATE):  # claimed: no other payment takes it again
        return False  # cancelled after payment (the order service refunds it), or settled already
    refused = await _take_again(session, held, now)
    if refused is None:
        await repo.change_hold(session, held, now, reason_was=domain.END_PAID_LATE, **paid)
    else:
        await _publish(session, PAID_AFTER_RELEASE, held, now, reason=refused)
    return True


async def holds_page(session: AsyncSession, paging, scope, *, activity_id: int | None = None,
                     user_id: int | None = None, status: int | None = None) -> dict:
    """The holds of the activities `scope` sees (a merchant naming another owner's activity: 404)."""
    if activity_id is not None and scope.merchant:
        await activities.get_activity(session, activity_id, scope=scope)
    rows, total = await repo.page_holds(session, repo.HoldFilter(activity_id, user_id, status), paging, scope)
    return {"items": rows, "total": total, "page": paging.page, "size": paging.size}
