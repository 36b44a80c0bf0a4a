"""Records, helps and order holds: every decision is made by `domain` on rows read under their
locks (record first, then its order hold, then the activity's stock row). Flushes; never commits:
flows.py (and the consumer runner) own the transactions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.bargain import activities, domain
from services.bargain import repository as repo
from services.bargain.domain import OrderStatus, RecordStatus
from services.bargain.models import Activity, Help, Order, Record, outbox
from services.bargain.schemas import HoldIn, PricesIn
from shared.enums import CommonStatus
from shared.events import new_event
from shared.outbox import add_to_outbox

SOURCE = "promo-bargain"
SUCCEEDED = "promo.bargain.succeeded"
FAILED = "promo.bargain.failed"
PAID_AFTER_RELEASE = "promo.bargain.order-refused"  # a payment for a hold that went back: refund it
# `reason` of promo.bargain.order-refused
REFUSED_RELEASED = "paid_after_hold_released"  # the hold went back and the record or a unit is gone
REFUSED_ORDER_CANCELLED = "order_cancelled"  # the order was cancelled unpaid (before or after this payment)

_random = random.SystemRandom()


def plan_of(record: Record) -> domain.Plan:
    return domain.Plan(first_price=record.first_price, floor_price=record.floor_price,
                       helps_needed=record.helps_needed, random_min=record.random_min, random_max=record.random_max)


async def _publish(session: AsyncSession, event_type: str, record: Record, now: datetime, **data) -> None:
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=record.id, time=now, data={
        "record_id": record.id, "activity_id": record.activity_id, "user_id": record.user_id,
        "sku_id": record.sku_id, "spu_id": record.spu_id, "price": record.price, "help_count": record.help_count,
        "at": now.isoformat(), **data}))


# --- records --------------------------------------------------------------------------------------

async def start(session: AsyncSession, user_id: int, activity_id: int, nickname: str, avatar: str,
                now: datetime, lifetime_seconds: int) -> Record:
    """A buyer's record on a running activity with stock: one in progress per user and activity
    (the unique busy key settles a race), at most total_limit_count successful ones."""
    activity = await activities.get_activity(session, activity_id)
    domain.check_can_start(activities.terms_of(activity), now,
                           in_progress=await repo.in_progress(session, user_id, activity_id) is not None,
                           succeeded=await repo.succeeded_count(session, user_id, activity_id))
    record = Record(
        activity_id=activity.id, user_id=user_id, busy_user_id=user_id, nickname=nickname, avatar=avatar,
        spu_id=activity.spu_id, sku_id=activity.sku_id, first_price=activity.first_price,
        floor_price=activity.floor_price, helps_needed=activity.help_max_count,
        random_min=activity.random_min_price, random_max=activity.random_max_price, price=activity.first_price,
        help_count=0, status=RecordStatus.IN_PROGRESS,
        expires_at=domain.record_expires_at(now, activity.end_at, lifetime_seconds), created_at=now, updated_at=now)
    session.add(record)
    await session.flush()
    return record


def _open(activity: Activity | None) -> bool:
    """Neither closed nor deleted: its records may still be helped."""
    return activity is not None and activity.status != CommonStatus.DISABLED


async def help_record(session: AsyncSession, record_id: int, helper_id: int, nickname: str, avatar: str,
                      now: datetime, pick=None) -> Help:
    """砍一刀: under the record's row lock, so concurrent helps queue and each sees the price the
    one before it left, and the helper's row in the activity (`bargain_count` across records); the
    cut is planned so the last required helper reaches exactly the floor."""
    record = await repo.get_record(session, record_id, for_update=True)
    if record is None:
        raise domain.RecordNotFound(id=record_id)
    await repo.lock_helper(session, record.activity_id, helper_id, now)  # before any plain read: they see
    activity = await repo.get_activity(session, record.activity_id)      # what the helps before this wrote
    domain.check_can_help(
        status=RecordStatus(record.status), owner_id=record.user_id, helper_id=helper_id,
        helped=await repo.has_helped(session, record_id, helper_id) is not None,
        helps_given=await repo.helps_given(session, record.activity_id, helper_id),
        bargain_count=activity.bargain_count if activity is not None else 0,
        expires_at=record.expires_at, now=now, activity_open=_open(activity))
    cut = domain.plan_cut(plan_of(record), record.price, record.help_count, pick or _random.randint)
    record.price -= cut
    record.help_count += 1
    record.updated_at = now
    help_ = Help(activity_id=record.activity_id, record_id=record.id, user_id=helper_id, nickname=nickname,
                 avatar=avatar, cut=cut, price_after=record.price, created_at=now)
    session.add(help_)
    if domain.succeeds(plan_of(record), record.price, record.help_count):
        record.status, record.busy_user_id = RecordStatus.SUCCESS, None
        record.ended_at, record.end_reason = now, domain.END_SUCCEEDED
        await _publish(session, SUCCEEDED, record, now)
    await session.flush()
    return help_


async def fail_if_due(session: AsyncSession, record_id: int, now: datetime) -> bool:
    """A record in progress past its time fails, once (re-checked under the lock)."""
    record = await repo.get_record(session, record_id, for_update=True)
    if record is None or record.status != RecordStatus.IN_PROGRESS or record.expires_at > now:
        return False
    activity = await repo.get_activity(session, record.activity_id)
    window_ended = activity is None or record.expires_at >= activity.end_at
    record.status, record.busy_user_id, record.ended_at, record.updated_at = RecordStatus.FAILED, None, now, now
    record.end_reason = domain.END_WINDOW if window_ended else domain.END_LIFETIME
    await _publish(session, FAILED, record, now, reason=record.end_reason)
    return True


# --- pricing's checkout ---------------------------------------------------------------------------

async def _orderable(session: AsyncSession, record: Record | None, record_id: int, user_id: int, sku_id: int,
                     order_id: int | None, now: datetime):
    if record is None:
        raise domain.RecordNotFound(id=record_id)
    if record.user_id != user_id:
        raise domain.RecordOfAnotherUser(id=record_id)
    if record.status != RecordStatus.SUCCESS:
        raise domain.RecordNotSucceeded()
    if record.order_id is not None and record.order_id != order_id:
        raise domain.RecordOrdered()
    if sku_id != record.sku_id:
        raise domain.SkuNotInActivity(sku_id=sku_id)
    activity = await repo.get_activity(session, record.activity_id)
    if activity is None:
        raise domain.ActivityNotFound(id=record.activity_id)
    domain.check_running(activities.terms_of(activity), now)
    return activity


async def prices(session: AsyncSession, request: PricesIn, now: datetime) -> dict:
    """The record's bargained price for its SKU (one unit), if the buyer may order it now."""
    record = await repo.get_record(session, request.record_id)
    activity = await _orderable(session, record, request.record_id, request.user_id, request.sku_ids[0],
                                request.order_id, now)
    if record.order_id is None and activity.stock <= 0:
        raise domain.SoldOut()
    return {"activity_id": activity.id, "activity_name": activity.name, "business_id": activity.business_id,
            "record_id": record.id, "prices": {record.sku_id: record.price}}


def same_hold(order: Order, request: HoldIn) -> Order:
    """The order's hold asked again: the same record, still held or paid (one that went back is not
    held again: its order was cancelled, failed or not paid in time)."""
    if order.record_id != request.record_id:
        raise domain.OrderHoldsAnotherRecord(order_id=request.order_id)
    if order.status not in (OrderStatus.HELD, OrderStatus.PAID):
        raise domain.OrderHoldEnded(order_id=request.order_id)
    return order


async def hold(session: AsyncSession, request: HoldIn, now: datetime, hold_seconds: int) -> Order:
    """The record and one unit of stock for the order, pending payment (idempotent by order id);
    none for an order already cancelled (order.cancelled may come before the checkout's hold)."""
    if await repo.is_cancelled(session, request.order_id):  # before the record: a cancel locks in that order
        existing = await repo.order_by_id(session, request.order_id)
        if existing is not None:
            return same_hold(existing, request)  # its hold went back with the cancel: refused as ended
        raise domain.OrderCancelled(order_id=request.order_id)
    record = await repo.get_record(session, request.record_id, for_update=True)
    existing = await repo.order_by_id(session, request.order_id)
    if existing is not None:
        return same_hold(existing, request)
    await _orderable(session, record, request.record_id, request.user_id, request.sku_id, None, now)
    if not await repo.take_unit(session, record.activity_id):
        raise domain.SoldOut()
    order = Order(order_id=request.order_id, record_id=record.id, activity_id=record.activity_id,
                  user_id=record.user_id, sku_id=record.sku_id, unit_price=record.price, status=OrderStatus.HELD,
                  hold_expires_at=now + timedelta(seconds=hold_seconds), created_at=now, updated_at=now)
    session.add(order)
    record.order_id, record.updated_at = request.order_id, now
    await session.flush()
    return order


async def _locked_order(session: AsyncSession, order_id: int) -> tuple[Record, Order] | None:
    found = await repo.order_by_id(session, order_id)
    if found is None:
        return None
    record = await repo.get_record(session, found.record_id, for_update=True)
    order = await repo.order_by_id(session, order_id, for_update=True)
    assert record is not None and order is not None
    return record, order


def _give_back(record: Record, order: Order, now: datetime, reason: str) -> None:
    order.status, order.ended_at, order.end_reason, order.updated_at = OrderStatus.RELEASED, now, reason, now
    if record.order_id == order.order_id:
        record.order_id, record.updated_at = None, now


async def release(session: AsyncSession, order_id: int, now: datetime, reason: str, *,
                  due_by: datetime | None = None) -> bool:
    """An unpaid order's unit and record go back (the record may be ordered again while it is
    valid), once: a failed checkout, or the job's (`due_by`: only a hold unpaid past its time)."""
    locked = await _locked_order(session, order_id)
    if locked is None:
        return False
    record, order = locked
    if order.status != OrderStatus.HELD or (due_by is not None and order.hold_expires_at > due_by):
        return False
    _give_back(record, order, now, reason)
    await repo.give_unit_back(session, order.activity_id)
    return True


async def cancel(session: AsyncSession, order_id: int, now: datetime, *, said_paid: bool) -> bool:
    """order.cancelled: recorded on the order's hold whatever its state (order.paid may come before
    or after it), and a held or paid hold goes back. A payment handled after it takes nothing: for
    an order said paid (the order service refunds it) it does nothing, else it is refused once. A
    hold we saw paid although the event says unpaid is refused now (the payment must go back). The
    order is kept as cancelled first, so a hold asked for it later is refused."""
    await repo.record_cancelled(session, order_id, now)
    locked = await _locked_order(session, order_id)
    if locked is None:
        return False
    record, order = locked
    recorded = domain.END_CANCELLED_PAID if said_paid else domain.END_ORDER_CANCELLED
    if order.status == OrderStatus.RELEASED:
        if order.end_reason in domain.CANCELLED or order.end_reason == domain.END_PAID_LATE:
            return False  # recorded already, or its payment was refused already
        order.end_reason, order.updated_at = recorded, now  # went back before (checkout, expiry): recorded
        return True
    refund = order.status == OrderStatus.PAID and not said_paid
    _give_back(record, order, now, domain.END_CANCELLED_REFUNDED if refund else recorded)
    await repo.give_unit_back(session, order.activity_id)
    if refund:
        await _publish(session, PAID_AFTER_RELEASE, record, now, order_id=order_id, reason=REFUSED_ORDER_CANCELLED)
    return True


async def pay(session: AsyncSession, order_id: int, paid_at: datetime, now: datetime) -> bool:
    """order.paid: the held unit is sold and the record used, once. A payment for a hold that went
    back (not in time, or a failed checkout) takes the record and a unit again when both are still
    free; otherwise an event asks for the refund. One for an order whose cancellation came first
    takes nothing: refused once if it was cancelled unpaid."""
    locked = await _locked_order(session, order_id)
    if locked is None:
        return False  # not a bargain order
    record, order = locked
    if order.status == OrderStatus.PAID:
        return False
    if order.status == OrderStatus.RELEASED:
        if order.end_reason == domain.END_ORDER_CANCELLED:  # cancelled unpaid before this payment: refund it
            order.end_reason, order.updated_at = domain.END_CANCELLED_REFUNDED, now
            await _publish(session, PAID_AFTER_RELEASE, record, now, order_id=order_id,
                           reason=REFUSED_ORDER_CANCELLED)
            return True
        if order.end_reason in domain.CANCELLED or order.end_reason == domain.END_PAID_LATE:
            return False  # cancelled after payment (the order service refunds it), or settled already
        if record.order_id is None and await repo.take_unit(session, order.activity_id):
            record.order_id = order_id
        else:
            order.end_reason, order.updated_at = domain.END_PAID_LATE, now
            await _publish(session, PAID_AFTER_RELEASE, record, now, order_id=order_id, reason=REFUSED_RELEASED)
            return True
    order.status, order.paid_at, order.ended_at, order.end_reason, order.updated_at = (
        OrderStatus.PAID, paid_at, now, "paid", now)
    record.updated_at = now
    return True


# --- pages ----------------------------------------------------------------------------------------

async def get_record(session: AsyncSession, record_id: int) -> Record:
    record = await repo.get_record(session, record_id)
    if record is None:
        raise domain.RecordNotFound(id=record_id)
    return record


async def my_records(session: AsyncSession, user_id: int, paging) -> dict:
    rows, total = await repo.my_records(session, user_id, paging)
    helps = await repo.helps_of(session, [r.id for r in rows])
    items = [{**_record_view(r), "helps": helps[r.id]} for r in rows]
    return {"items": items, "total": total, "page": paging.page, "size": paging.size}


def _record_view(record: Record) -> dict:
    return {c.key: getattr(record, c.key) for c in Record.__table__.columns}


async def friend_view(session: AsyncSession, record_id: int, viewer_id: int | None, now: datetime) -> dict:
    """A record's page for a friend, with what the viewer may do."""
    record = await get_record(session, record_id)
    view = {**_record_view(record), "viewer_cut": None,
            "helps_left": max(record.helps_needed - record.help_count, 0)}
    mine = None if viewer_id is None else await repo.has_helped(session, record_id, viewer_id)
    activity = await repo.get_activity(session, record.activity_id)
    helpable = record.status == RecordStatus.IN_PROGRESS and now < record.expires_at and _open(activity)
    if viewer_id is None:
        state = "anonymous"
    elif record.user_id == viewer_id:
        state = "own"
    elif mine is not None:
        state, view["viewer_cut"] = "helped", mine.cut
    elif not helpable:
        state = "ended"
    else:
        used = await repo.helps_given(session, record.activity_id, viewer_id)
        state = "no_helps_left" if used >= activity.bargain_count else "help"
    view["viewer"], view["can_help"] = state, state in ("help", "anonymous") and helpable
    return view


async def helps_page(session: AsyncSession, record_id: int, paging) -> dict:
    await get_record(session, record_id)
    rows, total = await repo.page_helps(session, record_id, paging)
    return {"items": rows, "total": total, "page": paging.page, "size": paging.size}


async def records_page(session: AsyncSession, paging, scope, *, activity_id: int | None = None,
                       user_id: int | None = None, status: int | None = None) -> dict:
    """The records of the activities `scope` sees (a merchant naming another owner's activity: 404)."""
    if activity_id is not None and scope.merchant:
        await activities.get_activity(session, activity_id, scope=scope)
    rows, total = await repo.page_records(session, repo.RecordFilter(activity_id, user_id, status), paging, scope)
    return {"items": rows, "total": total, "page": paging.page, "size": paging.size}
