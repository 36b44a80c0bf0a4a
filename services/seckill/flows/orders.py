"""A reservation's life after the crowd path, by order id (pricing's checkout and the order
events): hold, commit (order.paid), release (order.cancelled, a failed checkout), expiry, and the
flash prices of an order. Each state change is one conditional update in MySQL, then Redis follows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.context import Seckill
from services.seckill.domain import ReservationStatus
from services.seckill.flows import payments
from services.seckill.flows.reservations import give_back_in_redis, offer_on_now, reserve
from services.seckill.models import Reservation
from services.seckill.stock import REDIS_DOWN
from shared.db import in_transaction

log = logging.getLogger("seckill.orders")


@dataclass(frozen=True)
class Cancellation:
    """order.cancelled: when, and whether the order had been paid (the order service refunds it)."""

    at: datetime
    paid: bool


async def release(seckill: Seckill, reservation: Reservation, to: ReservationStatus, now: datetime, *,
                  paid_too: bool = False, cancelled: Cancellation | None = None) -> bool:
    """Held (or, with `paid_too`, paid) -> released or expired, exactly once: the user's total and
    the stock go back in MySQL (quota, then product: the rows in the order the writer locks them),
    then in Redis, as the state that changed says (the token makes it count once there too). A
    cancellation is recorded in the same transaction, or alone when the stock went back before.
    Run again if MySQL picks it as a deadlock's victim (a release and a late payment of two orders
    of one buyer lock the buyer's quota row and the status index in opposite orders)."""
    was = await in_transaction(seckill.sessions, lambda session: _released_in_mysql(session, reservation, to, now,
                                                                                     paid_too, cancelled))
    if was is None:
        return False
    if seckill.redis_filter:
        await _released_in_redis(seckill, reservation, was)
    return True


async def _released_in_mysql(session: AsyncSession, reservation: Reservation, to: ReservationStatus, now: datetime,
                             paid_too: bool, cancelled: Cancellation | None) -> ReservationStatus | None:
    if cancelled is not None:  # first: the row stays locked, a late payment waits and then sees it
        await repo.record_cancellation(session, reservation.id, cancelled.at, cancelled.paid, now)
    was = await _leave(session, reservation.id, to, now, paid_too)
    if was is not None:
        await repo.take_from_quota(session, reservation.activity_id, reservation.user_id, reservation.count)
        await repo.give_stock_back(session, reservation.activity_id, reservation.sku_id, reservation.count)
    return was


async def _leave(session: AsyncSession, reservation_id: int, to: ReservationStatus, now: datetime,
                 paid_too: bool) -> ReservationStatus | None:
    """The state the reservation left for `to` (held, or paid with `paid_too`), None if neither:
    one conditional update each, so what Redis does follows the change made, not an earlier read."""
    for was in (ReservationStatus.HELD, ReservationStatus.COMMITTED) if paid_too else (ReservationStatus.HELD,):
        if await repo.set_status(session, reservation_id, to, now, only_from=(was,)):
            return was
    return None


async def _released_in_redis(seckill: Seckill, reservation: Reservation, was: ReservationStatus) -> None:
    if was == ReservationStatus.HELD:
        await give_back_in_redis(seckill, reservation.activity_id, reservation.token)
        return
    try:  # paid: Redis no longer holds its token
        await seckill.stock.restock(reservation.activity_id, reservation.sku_id, reservation.user_id,
                                    reservation.count)
    except REDIS_DOWN as exc:
        log.warning("could not restock paid reservation %s in redis (reconciliation will): %r", reservation.id, exc)


async def hold(seckill: Seckill, order_id: int, user_id: int, activity_id: int, sku_id: int, count: int,
               reservation_id: int | None, now: datetime) -> Reservation:
    """Checkout (pricing): the order's stock, from the buyer's reservation or taken now. Idempotent
    by order id."""
    async with seckill.sessions() as session, session.begin():
        bound = await repo.reservation_by_order(session, order_id)
        if bound is None and reservation_id is not None:
            bound = await _bind(session, order_id, user_id, activity_id, sku_id, count, reservation_id, now)
    if bound is not None:
        if (bound.user_id, bound.activity_id, bound.sku_id, bound.count) != (user_id, activity_id, sku_id, count):
            raise domain.ReservationNotUsable(id=bound.id, reason=domain.ORDER_HOLDS_ANOTHER)
        if bound.status != ReservationStatus.HELD and bound.status != ReservationStatus.COMMITTED:
            raise domain.ReservationNotUsable(id=bound.id, reason=domain.RELEASED_OR_EXPIRED)
        return bound
    reservation, _ = await reserve(seckill, user_id, activity_id, sku_id, count, now, order_id=order_id)
    return reservation


async def _bind(session: AsyncSession, order_id: int, user_id: int, activity_id: int, sku_id: int, count: int,
                reservation_id: int, now: datetime) -> Reservation:
    found = await repo.get_reservation(session, reservation_id)
    if found is None or found.user_id != user_id:
        raise domain.ReservationNotUsable(id=reservation_id, reason=domain.NOT_YOUR_RESERVATION)
    if (found.activity_id, found.sku_id, found.count) != (activity_id, sku_id, count):
        raise domain.ReservationNotUsable(id=reservation_id, reason=domain.OTHER_SKU_OR_COUNT)
    if not await repo.bind_order(session, reservation_id, order_id, now):
        raise domain.ReservationNotUsable(id=reservation_id, reason=domain.USED_OR_ENDED)
    await session.refresh(found)
    return found


async def release_order(seckill: Seckill, order_id: int, now: datetime, *, paid_too: bool = False,
                        cancelled: Cancellation | None = None) -> bool:
    """Checkout failed elsewhere, or the order was cancelled: the order's stock goes back; a paid
    order's too with `paid_too`. Idempotent."""
    async with seckill.sessions() as session:
        found = await repo.reservation_by_order(session, order_id)
    return found is not None and await release(seckill, found, ReservationStatus.RELEASED, now, paid_too=paid_too,
                                               cancelled=cancelled)


async def cancel_order(seckill: Seckill, order_id: int, cancelled: Cancellation, now: datetime) -> bool:
    """order.cancelled: the order's units go back, held or paid (with `paid: false` its payment may
    still have reached us first: the two topics are not ordered together). The cancellation is
    recorded whatever the state, so an order.paid handled after it is never taken again: for an
    order said paid it does nothing (the order service refunds it), else it is refused."""
    return await release_order(seckill, order_id, now, paid_too=True, cancelled=cancelled)


async def commit_order(seckill: Seckill, order_id: int, paid_at: datetime, now: datetime | None = None) -> bool:
    """order.paid: the order's reservation is final. A payment that came after the reservation gave
    its stock back takes it again, or is refused (payments.py). Idempotent."""
    now = now or paid_at
    async with seckill.sessions() as session, session.begin():
        found = await repo.reservation_by_order(session, order_id)
        if found is None:
            return False
        committed = await repo.commit(session, found.id, paid_at, now)
    if not committed:  # paid already (a redelivery), or the stock went back before the payment came
        return await payments.settle_late(seckill, order_id, paid_at, now)
    if seckill.redis_filter:
        try:
            await seckill.stock.commit(found.activity_id, found.token)
        except REDIS_DOWN as exc:
            log.warning("could not mark reservation %s final in redis (reconciliation will): %r", found.id, exc)
    return True


async def expire_due(seckill: Seckill, now: datetime) -> int:
    """Reservations not paid in time give their stock back (safe on several replicas: each one
    changes state once)."""
    async with seckill.sessions() as session:
        due = await repo.due_reservations(session, now)
    return sum([await release(seckill, r, ReservationStatus.EXPIRED, now) for r in due])


async def prices(seckill: Seckill, activity_id: int, sku_ids: Sequence[int], now: datetime,
                 order_id: int | None = None, locale: str = "zh-CN") -> dict:
    """Pricing: the flash price of each SKU of a seckill order, if the sale is on now, and the
    activity's name and owner. Stock and limits are not checked here (the hold does), so what the order
    already holds never refuses it; a checkout retried after a crash (`order_id`) whose order holds
    its reservation is priced as reserved even if the sale ended, closed or was deleted since (named
    as when reserved, or a generic name in the caller's language if that name is unknown; owned by
    whoever owned the activity when reserved)."""
    try:
        offer = await offer_on_now(seckill, activity_id, sku_ids, now)
    except (domain.NotOnNow, domain.ActivityClosed, domain.ActivityNotFound):
        own = await _held_by_order(seckill, order_id, activity_id)
        if own is None or set(sku_ids) != {own.sku_id}:
            raise
        offer = await seckill.catalog.offer(seckill.sessions, activity_id)
        name = offer.terms.name if offer else own.activity_name or domain.FLASH_SALE.render(locale)
        return {"activity_id": activity_id, "activity_name": name, "business_id": own.business_id,
                "prices": {own.sku_id: own.price}}
    return {"activity_id": activity_id, "activity_name": offer.terms.name, "business_id": offer.terms.business_id,
            "prices": {sku: offer.prices[sku] for sku in sku_ids}}


async def _held_by_order(seckill: Seckill, order_id: int | None, activity_id: int) -> Reservation | None:
    """The order's own reservation in the activity, still held or paid."""
    if order_id is None:
        return None
    async with seckill.sessions() as session:
        found = await repo.reservation_by_order(session, order_id)
    usable = (ReservationStatus.HELD, ReservationStatus.COMMITTED)
    return found if found is not None and found.activity_id == activity_id and found.status in usable else None
