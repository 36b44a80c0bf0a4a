"""Use cases of the seckill service: slots and activities (admin), the buyer's pages, and the
reservation path: Redis first (stock.py), MySQL last. What happens to a reservation afterwards, by
order id, is in orders.py."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.catalog import Catalog, Offer, slot_of
from services.seckill.domain import ReservationStatus
from services.seckill.models import Activity, Product, Reservation, Slot, mutex
from services.seckill.repair import drop_leftover, repair_user
from services.seckill.schemas import ActivityIn, SlotIn
from services.seckill.stock import REDIS_DOWN, Answer, Loaded, StockFilter, Verdict
from services.seckill.writer import Duplicate, ReservationWriter
from shared.clock import Clock, SystemClock
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.errors import DomainError

log = logging.getLogger("seckill.service")


@dataclass
class Seckill:
    """What the reservation path needs besides a request; built once per app."""

    sessions: async_sessionmaker
    stock: StockFilter
    writer: ReservationWriter
    catalog: Catalog
    timezone: ZoneInfo
    hold_seconds: int
    redis_filter: bool = True  # False: the database-only variant (benchmarks)
    clock: Clock = field(default_factory=SystemClock)

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.timezone)


# --- slots (admin) --------------------------------------------------------------------------------

async def _check_slot(session: AsyncSession, data: SlotIn, slot_id: int | None) -> None:
    domain.check_slot(data.start_time, data.end_time)
    candidate = domain.Slot(slot_id or 0, data.name, data.start_time, data.end_time, data.status)
    other = domain.first_overlap(candidate, [slot_of(s) for s in await repo.all_slots(session)])
    if other is not None:
        raise domain.SlotOverlaps(other_name=other.name, other_start=other.start.isoformat(),
                                  other_end=other.end.isoformat())


def _apply_slot(slot: Slot, data: SlotIn, now: datetime) -> None:
    slot.name, slot.start_time, slot.end_time = data.name, data.start_time, data.end_time
    slot.picture_urls, slot.status, slot.updated_at = [str(u) for u in data.picture_urls], int(data.status), now


async def create_slot(session: AsyncSession, data: SlotIn, now: datetime) -> Slot:
    await _check_slot(session, data, None)
    slot = Slot(created_at=now)
    _apply_slot(slot, data, now)
    session.add(slot)
    await session.flush()
    return slot


async def get_slot(session: AsyncSession, slot_id: int) -> Slot:
    slot = await repo.get_slot(session, slot_id)
    if slot is None:
        raise domain.SlotNotFound(id=slot_id)
    return slot


async def update_slot(session: AsyncSession, slot_id: int, data: SlotIn, now: datetime) -> Slot:
    slot = await get_slot(session, slot_id)
    await _check_slot(session, data, slot_id)
    _apply_slot(slot, data, now)
    await session.flush()
    return slot


async def delete_slot(session: AsyncSession, slot_id: int) -> None:
    slot = await get_slot(session, slot_id)
    user = await repo.activity_using_slot(session, slot_id)
    if user is not None:
        raise domain.SlotInUse(id=slot_id, activity_name=user.name)
    await session.delete(slot)


async def today(session: AsyncSession, seckill: Seckill, now: datetime) -> dict:
    """Today's enabled slots with their state, and the one on now."""
    local = seckill.local(now)
    rows = [row for row in await repo.all_slots(session) if row.status == CommonStatus.ENABLED]
    current = domain.current_slot([slot_of(row) for row in rows], local.time())
    return {"date": local.date(), "now": now, "current_slot_id": current.id if current else None,
            "slots": [{**_slot_view(row), "state": slot_of(row).state(local.time())} for row in rows]}


def _slot_view(slot: Slot) -> dict:
    return {"id": slot.id, "name": slot.name, "start_time": slot.start_time, "end_time": slot.end_time,
            "picture_urls": slot.picture_urls, "status": slot.status}


# --- activities (admin) ---------------------------------------------------------------------------

async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None) -> None:
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(data.start_date, data.end_date, data.slot_ids, [p.sku_id for p in data.products],
                          data.user_limit, data.order_limit)
    slots = {s.id: s for s in await repo.all_slots(session)}
    for slot_id in data.slot_ids:
        slot = slots.get(slot_id)
        if slot is None:
            raise domain.SlotNotFound(id=slot_id)
        if slot.status != CommonStatus.ENABLED:
            raise domain.SlotDisabled(id=slot_id)
    for other in await repo.enabled_activities_of_spu(session, data.spu_id, activity_id):
        if set(other.slot_ids) & set(data.slot_ids) and domain.dates_overlap(
                data.start_date, data.end_date, other.start_date, other.end_date):
            raise domain.SpuConflict(spu_id=data.spu_id, other_name=other.name)


def _apply_activity(activity: Activity, data: ActivityIn, now: datetime) -> None:
    activity.name, activity.spu_id, activity.slot_ids = data.name, data.spu_id, sorted(set(data.slot_ids))
    activity.start_date, activity.end_date = data.start_date, data.end_date
    activity.user_limit, activity.order_limit = data.user_limit, data.order_limit
    activity.sort, activity.remark, activity.updated_at = data.sort, data.remark, now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime) -> Activity:
    await _check_activity(session, data, None)
    activity = Activity(status=CommonStatus.ENABLED, created_at=now)
    _apply_activity(activity, data, now)
    session.add(activity)
    await session.flush()
    session.add_all([Product(activity_id=activity.id, sku_id=p.sku_id, price=p.price, stock=p.stock,
                             total_stock=p.stock) for p in data.products])
    await session.flush()
    return activity


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime) -> Activity:
    """Prices change; a SKU's stock is set to what is left to sell (what was sold stays sold);
    SKUs left out are removed, unless some of their stock is held or sold."""
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id)
    _apply_activity(activity, data, now)
    existing = {p.sku_id: p for p in (await repo.products_of(session, [activity_id]))[activity_id]}
    wanted = {p.sku_id: p for p in data.products}
    for sku_id, product in existing.items():
        if sku_id not in wanted:
            if product.stock != product.total_stock:
                raise domain.ActivityInvalid(reason=domain.SKU_HAS_SALES.with_(sku_id=sku_id), field="products")
            await session.delete(product)
    for sku_id, p in wanted.items():
        product = existing.get(sku_id)
        if product is None:
            session.add(Product(activity_id=activity_id, sku_id=sku_id, price=p.price, stock=p.stock,
                                total_stock=p.stock))
        else:
            sold = product.total_stock - product.stock
            product.price, product.stock, product.total_stock = p.price, p.stock, sold + p.stock
    await session.flush()
    return activity


async def _get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False) -> Activity:
    activity = await repo.get_activity(session, activity_id, for_update=for_update)
    if activity is None:
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime) -> None:
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.updated_at = CommonStatus.DISABLED, now


async def delete_activity(session: AsyncSession, activity_id: int, today_: date) -> None:
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_date, today_)
    await repo.delete_activity(session, activity)


async def activity_views(session: AsyncSession, activities: Sequence[Activity]) -> list[dict]:
    products = await repo.products_of(session, [a.id for a in activities])
    return [_activity_view(a, products[a.id]) for a in activities]


def _activity_view(activity: Activity, products: Sequence[Product]) -> dict:
    return {"id": activity.id, "name": activity.name, "spu_id": activity.spu_id, "slot_ids": activity.slot_ids,
            "start_date": activity.start_date, "end_date": activity.end_date, "user_limit": activity.user_limit,
            "order_limit": activity.order_limit, "status": activity.status, "sort": activity.sort,
            "remark": activity.remark, "created_at": activity.created_at, "updated_at": activity.updated_at,
            "stock": sum(p.stock for p in products), "total_stock": sum(p.total_stock for p in products),
            "products": [{"sku_id": p.sku_id, "price": p.price, "stock": p.stock, "total_stock": p.total_stock}
                         for p in products]}


async def get_activity_view(session: AsyncSession, activity_id: int) -> dict:
    return (await activity_views(session, [await _get_activity(session, activity_id)]))[0]


# --- writes that change what Redis must hold -----------------------------------------------------

async def save_activity(seckill: Seckill, activity_id: int | None, data: ActivityIn, now: datetime) -> dict:
    """Create or update in one transaction, then load the stock into Redis (warm-up)."""
    async with seckill.sessions() as session, session.begin():
        if activity_id is None:
            activity = await create_activity(session, data, now)
        else:
            activity = await update_activity(session, activity_id, data, now)
        view = (await activity_views(session, [activity]))[0]
    await load_stock(seckill, activity.id)
    return view


async def close_and_unload(seckill: Seckill, activity_id: int, now: datetime) -> None:
    async with seckill.sessions() as session, session.begin():
        await close_activity(session, activity_id, now)
    seckill.catalog.forget(activity_id)
    await seckill.stock.unload(activity_id)


async def delete_and_unload(seckill: Seckill, activity_id: int, now: datetime) -> None:
    async with seckill.sessions() as session, session.begin():
        await delete_activity(session, activity_id, seckill.local(now).date())
    seckill.catalog.forget(activity_id)
    await seckill.stock.unload(activity_id)


# --- Redis: load and reconcile --------------------------------------------------------------------

async def derive(session: AsyncSession, activity_id: int) -> Loaded:
    """What Redis should say, from MySQL: stock left, each user's total, the held reservations."""
    held = await repo.held_reservations(session, activity_id)
    return Loaded(await repo.stock_of(session, activity_id), await repo.quotas(session, activity_id),
                  {r.token: f"{r.sku_id}:{r.user_id}:{r.count}" for r in held})


async def load_stock(seckill: Seckill, activity_id: int) -> None:
    """Warm-up: after an activity is created, edited or found missing in Redis."""
    async with seckill.sessions() as session:
        activity = await repo.get_activity(session, activity_id)
        if activity is None or activity.status != CommonStatus.ENABLED:
            await seckill.stock.unload(activity_id)
            return
        loaded = await derive(session, activity_id)
    await seckill.stock.load(activity_id, loaded)
    seckill.catalog.forget(activity_id)


async def reconcile(seckill: Seckill, activity_id: int, *, fix: bool) -> dict:
    """Redis against MySQL for one activity: the drift per SKU, reloaded when `fix`."""
    async with seckill.sessions() as session:
        truth = await repo.stock_of(session, activity_id)
    seen = await seckill.stock.stock_left(activity_id)
    drift = {} if seen is None else {sku: seen.get(sku, 0) - left for sku, left in truth.items()
                                     if seen.get(sku, 0) != left}
    if fix and (drift or seen is None):
        await load_stock(seckill, activity_id)
    return {"activity_id": activity_id, "loaded": seen is not None, "drift": drift, "fixed": fix and bool(drift)}


# --- the buyer's pages ----------------------------------------------------------------------------

async def slot_activities(session: AsyncSession, seckill: Seckill, slot_id: int, now: datetime) -> list[dict]:
    """The activities running today in a slot, with live stock."""
    day = seckill.local(now).date()
    activities = [a for a in await repo.activities_on(session, day) if slot_id in a.slot_ids]
    return [await _with_live_stock(seckill, view) for view in await activity_views(session, activities)]


async def app_activity(session: AsyncSession, seckill: Seckill, activity_id: int) -> dict:
    activity = await _get_activity(session, activity_id)
    if activity.status != CommonStatus.ENABLED:
        raise domain.ActivityClosed()
    return await _with_live_stock(seckill, (await activity_views(session, [activity]))[0])


async def _with_live_stock(seckill: Seckill, view: dict) -> dict:
    """Redis's count of what is left (it moves ahead of MySQL during a sale), MySQL's when not loaded."""
    if seckill.redis_filter:
        live = await seckill.stock.stock_left(view["id"])
        if live is not None:
            for product in view["products"]:
                product["stock"] = max(0, live.get(product["sku_id"], product["stock"]))
            view["stock"] = sum(p["stock"] for p in view["products"])
    return view


# --- reservations ---------------------------------------------------------------------------------

def reservation_view(r: Reservation) -> dict:
    """ReservationOut's fields, as plain JSON-ready data."""
    return {"id": r.id, "activity_id": r.activity_id, "sku_id": r.sku_id, "count": r.count, "price": r.price,
            "status": int(r.status), "order_id": r.order_id, "expires_at": r.expires_at}


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
                Verdict.NOT_IN_ACTIVITY: lambda: domain.SkuNotInActivity(sku_id=sku_id)}
    return refusals.get(answer.verdict, domain.Unavailable)()


async def _reserve_in_database(seckill: Seckill, offer: Offer, token: str, user_id: int, sku_id: int, count: int,
                               now: datetime, order_id: int | None) -> Reservation:
    row = {"token": token, "activity_id": offer.terms.id, "activity_name": offer.terms.name, "sku_id": sku_id,
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
