"""The reservation path, built for a crowd: checks without I/O (the cached catalog, a local
sold-out flag), then Redis (stock.py: one script turns most of the crowd away), then MySQL
(writer.py), which has the last word: what it refuses is given back in Redis. A repeated token
(Idempotency-Key, or pricing's hold retried for one order) gets its first answer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.catalog import Offer
from services.seckill.context import Seckill
from services.seckill.domain import ReservationStatus
from services.seckill.flows.reconcile import load_stock
from services.seckill.flows.repair import drop_leftover, repair_user
from services.seckill.flows.writer import Duplicate
from services.seckill.models import Reservation
from services.seckill.stock import REDIS_DOWN, Answer, Verdict
from shared.errors import DomainError

log = logging.getLogger("seckill.reservations")


async def offer_on_now(seckill: Seckill, activity_id: int, skus: Sequence[int], now: datetime) -> Offer:
    """The activity, if it exists, is on now and sells these SKUs."""
    offer = await seckill.catalog.offer(seckill.sessions, activity_id)
    if offer is None:
        raise domain.ActivityNotFound(id=activity_id)
    domain.check_on_now(offer.terms, await seckill.catalog.slots(seckill.sessions), seckill.local(now))
    missing = [sku for sku in skus if sku not in offer.prices]
    if missing:
        raise domain.SkuNotInActivity(sku_id=missing[0])
    return offer


async def reserve(seckill: Seckill, user_id: int, activity_id: int, sku_id: int, count: int, now: datetime, *,
                  key: str | None = None, order_id: int | None = None) -> tuple[Reservation, bool]:
    """Take `count` for the user: (the reservation, True) when taken now, (the first one, False)
    for a repeated key. The crowd is turned away by the checks, the local sold-out flag and Redis;
    only those Redis let through reach MySQL, which has the last word."""
    offer = await offer_on_now(seckill, activity_id, [sku_id], now)
    terms = offer.terms
    domain.check_order_limit(terms, count)
    repeatable = order_id is not None or key is not None
    # a repeatable request must reach Redis, which knows its first answer
    if seckill.redis_filter and not repeatable and seckill.stock.known_sold_out(activity_id, sku_id):
        raise domain.SoldOut()
    token = f"o:{order_id}" if order_id is not None else f"u:{user_id}:{key}" if key else f"r:{uuid.uuid4().hex}"
    with seckill.stock.flying(token):  # known in this process from before Redis until MySQL answers
        if seckill.redis_filter:
            first = await _through_redis(seckill, terms, token, sku_id, user_id, count)
            if first is not None:
                return first, False
        return await _written(seckill, offer, token, user_id, sku_id, count, now, order_id)


async def _through_redis(seckill: Seckill, terms: domain.Terms, token: str, sku_id: int, user_id: int,
                         count: int) -> Reservation | None:
    """None when Redis took the reservation now; the first request's reservation for a repeated
    token (ReservationInProgress while it is on its way to MySQL). A first request that never
    reached MySQL (a crash's leftover) is given back in Redis, and this one runs again."""
    for attempt in range(2):
        if await _reserve_in_redis(seckill, terms, token, sku_id, user_id, count) != Verdict.REPLAY:
            return None
        async with seckill.sessions() as session:
            found = await repo.reservation_by_token(session, token)
        if found is not None:
            return found
        try:
            if attempt == 1 or not await drop_leftover(seckill, terms.id, token):
                break
        except REDIS_DOWN as exc:
            raise domain.Unavailable() from exc
    raise domain.ReservationInProgress()


async def _written(seckill: Seckill, offer: Offer, token: str, user_id: int, sku_id: int, count: int,
                   now: datetime, order_id: int | None) -> tuple[Reservation, bool]:
    """What Redis let through, written to MySQL (or given back in Redis when MySQL says no)."""
    try:
        return await _reserve_in_database(seckill, offer, token, user_id, sku_id, count, now, order_id), True
    except Duplicate:
        if seckill.redis_filter:  # what this attempt took in Redis; the first one's stands
            await give_back_in_redis(seckill, offer.terms.id, token)
        return await _replayed(seckill, token), False
    except Exception:  # not on cancellation: the write goes on without the caller, and may land
        if seckill.redis_filter:
            await give_back_in_redis(seckill, offer.terms.id, token)
        raise


async def _reserve_in_redis(seckill: Seckill, terms: domain.Terms, token: str, sku_id: int, user_id: int,
                            count: int) -> Verdict:
    """RESERVED or REPLAY, else the refusal. Not loaded: loaded from MySQL and tried again; the user
    at the limit in Redis but not in MySQL (a crash's leftover): repaired and tried again."""
    for attempt in range(2):
        try:
            answer = await seckill.stock.reserve(terms.id, token, sku_id, user_id, count, terms.user_limit,
                                                 terms.order_limit)
            if answer.verdict in (Verdict.RESERVED, Verdict.REPLAY):
                return answer.verdict
            if attempt == 0 and answer.verdict == Verdict.NOT_LOADED:
                await load_stock(seckill, terms.id)
                continue
            if attempt == 0 and answer.verdict == Verdict.USER_LIMIT and await repair_user(seckill, terms, user_id,
                                                                                           count):
                continue
        except REDIS_DOWN as exc:
            log.warning("redis unavailable for a reservation of activity %s: %r", terms.id, exc)
            raise domain.Unavailable() from exc
        raise _refusal(answer, terms, sku_id)
    raise domain.Unavailable()


def _refusal(answer: Answer, terms: domain.Terms, sku_id: int) -> DomainError:
    refusals = {Verdict.SOLD_OUT: lambda: domain.SoldOut(),
                Verdict.NOT_ENOUGH: lambda: domain.StockNotEnough(left=answer.left),
                Verdict.USER_LIMIT: lambda: domain.UserLimitReached(limit=terms.user_limit),
                Verdict.ORDER_LIMIT: lambda: domain.OrderLimitExceeded(limit=terms.order_limit),
                Verdict.NOT_IN_ENTITY: lambda: domain.SkuNotInActivity(sku_id=sku_id)}
    return refusals.get(answer.verdict, domain.Unavailable)()


async def _reserve_in_database(seckill: Seckill, offer: Offer, token: str, user_id: int, sku_id: int, count: int,
                               now: datetime, order_id: int | None) -> Reservation:
    row = {"token": token, "activity_id": offer.terms.id, "activity_name": offer.terms.name,
           "business_id": offer.terms.business_id, "sku_id": sku_id,
           "user_id": user_id, "count": count, "price": offer.prices[sku_id], "status": ReservationStatus.HELD,
           "order_id": order_id, "expires_at": now + timedelta(seconds=seckill.hold_seconds), "created_at": now,
           "updated_at": now}
    return await seckill.writer.write(row, offer.terms.user_limit)


async def _replayed(seckill: Seckill, token: str) -> Reservation:
    async with seckill.sessions() as session:
        found = await repo.reservation_by_token(session, token)
    if found is None:  # the first request is between Redis and MySQL (or failing there)
        raise domain.ReservationInProgress()
    return found


async def give_back_in_redis(seckill: Seckill, activity_id: int, token: str) -> None:
    try:
        await seckill.stock.release(activity_id, token)
    except REDIS_DOWN as exc:
        log.warning("could not give back reservation %s in redis (reconciliation will): %r", token, exc)
