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
from shared.events import new_event
from shared.outbox import add_to_outbox

SOURCE = "promo-points"
HOLD_EXPIRED = "promo.points.hold-expired"  # an unpaid hold went back: the order should be cancelled
PAID_AFTER_RELEASE = "promo.points.order-refused"  # a payment for a hold that went back: refund it


async def _publish(session: AsyncSession, event_type: str, hold: Hold, now: datetime, **data) -> None:
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=hold.order_id, time=now, data={
        "order_id": hold.order_id, "activity_id": hold.activity_id, "user_id": hold.user_id, "sku_id": hold.sku_id,
        "count": hold.count, "unit_price": hold.unit_price, "unit_points": hold.unit_points, "at": now.isoformat(),
        **data}))


async def _running(session: AsyncSession, activity_id: int, now: datetime) -> Activity:
    activity = await activities.get_activity(session, activity_id)
    domain.check_running(activities.terms_of(activity), now)
    return activity


async def prices(session: AsyncSession, request: PricesIn, now: datetime) -> dict:
    """Points and cash per unit of each SKU, if one unit can be exchanged now: stock left and,
    for a buyer, their limit not used up. What `order_id` already holds counts as its own."""
    activity = await _running(session, request.activity_id, now)
    products = {p.sku_id: p for p in (await repo.products_of(session, [activity.id]))[activity.id]}
    own = None if request.order_id is None else await repo.hold_by_order(session, request.order_id)
    for sku_id in request.sku_ids:
        product = products.get(sku_id)
        if product is None:
            raise domain.SkuNotInActivity(sku_id=sku_id)
        if own is not None and own.status == HoldStatus.HELD and (own.activity_id, own.sku_id) == (activity.id, sku_id):
            continue  # the order's own hold: its units and the buyer's count are taken already
        held, bought = (0, 0) if request.user_id is None else await repo.user_count(
            session, activity.id, sku_id, request.user_id)
        domain.check_exchange(sku_id=sku_id, count=1, stock=product.stock, limit_count=product.limit_count,
                              held=held, bought=bought)
    return {"activity_id": activity.id, "activity_name": activity.name, "business_id": activity.business_id,
            "prices": {s: products[s].price for s in request.sku_ids},
            "points": {s: products[s].points for s in request.sku_ids}}


def same_hold(hold: Hold, request: HoldIn) -> Hold:
    asked = (request.activity_id, request.sku_id, request.user_id, request.count)
    if (hold.activity_id, hold.sku_id, hold.user_id, hold.count) != asked:
        raise domain.OrderHoldsAnother(order_id=request.order_id)
    return hold


async def hold(session: AsyncSession, request: HoldIn, now: datetime, hold_seconds: int) -> Hold:
    """`count` units and the buyer's count for the order, pending payment (idempotent by order
    id). The database guards both: the buyer's row `held + bought + count <= limit`, then the
    product's row `stock >= count`; a refusal rolls the whole transaction back."""
    existing = await repo.hold_by_order(session, request.order_id)
    if existing is not None:
        return same_hold(existing, request)
    activity = await _running(session, request.activity_id, now)
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


async def release(session: AsyncSession, order_id: int, now: datetime, reason: str, *,
                  due_by: datetime | None = None, paid_too: bool = False) -> bool:
    """The order's units and the buyer's count go back, once. A paid hold goes back only when its
    order was cancelled after payment (`paid_too`); the job's (`due_by`) only a hold unpaid past its time."""
    held = await repo.hold_by_order(session, order_id, for_update=True)
    if held is None or held.status == HoldStatus.RELEASED or (held.status == HoldStatus.PAID and not paid_too):
        return False
    if due_by is not None and (held.status != HoldStatus.HELD or held.hold_expires_at > due_by):
        return False
    counts = {"held": -held.count} if held.status == HoldStatus.HELD else {"bought": -held.count}
    if not await repo.change_hold(session, held, now, status=HoldStatus.RELEASED, ended_at=now,
                                  end_reason=reason):
        return False
    await repo.move_count(session, held.activity_id, held.sku_id, held.user_id, now, **counts)
    await repo.give_stock_back(session, held.activity_id, held.sku_id, held.count)
    if reason == domain.END_EXPIRED:
        await _publish(session, HOLD_EXPIRED, held, now, reason=reason)
    return True


async def _take_again(session: AsyncSession, held: Hold, now: datetime) -> bool:
    """A released hold's units and count taken again for its late payment, if both are still free."""
    product = await repo.get_product(session, held.activity_id, held.sku_id)
    if product is None:
        return False
    await repo.ensure_user_count(session, held.activity_id, held.sku_id, held.user_id, now)
    if not await repo.count_within_limit(session, held.activity_id, held.sku_id, held.user_id, held.count,
                                         product.limit_count, now, bought=True):
        return False
    if not await repo.take_stock(session, held.activity_id, held.sku_id, held.count):
        await repo.move_count(session, held.activity_id, held.sku_id, held.user_id, now, bought=-held.count)
        return False
    return True


async def pay(session: AsyncSession, order_id: int, paid_at: datetime, now: datetime) -> bool:
    """order.paid: the held units are sold and count as bought, once. A payment for a hold that
    went back takes the units and the count again when both are still free; otherwise an event
    asks for the refund."""
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
    if held.end_reason == domain.END_PAID_LATE or not await repo.change_hold(
            session, held, now, end_reason=domain.END_PAID_LATE):  # claimed: no other payment takes it again
        return False
    if await _take_again(session, held, now):
        await repo.change_hold(session, held, now, reason_was=domain.END_PAID_LATE, **paid)
    else:
        await _publish(session, PAID_AFTER_RELEASE, held, now, reason="paid_after_hold_released")
    return True


async def holds_page(session: AsyncSession, paging, scope, *, activity_id: int | None = None,
                     user_id: int | None = None, status: int | None = None) -> dict:
    """The holds of the activities `scope` sees (a merchant naming another owner's activity: 404)."""
    if activity_id is not None and scope.merchant:
        await activities.get_activity(session, activity_id, scope=scope)
    rows, total = await repo.page_holds(session, repo.HoldFilter(activity_id, user_id, status), paging, scope)
    return {"items": rows, "total": total, "page": paging.page, "size": paging.size}
