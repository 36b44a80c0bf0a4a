"""Use cases of the seckill service that work in the caller's transaction (they only flush; the
request's session commits): slots and activities (admin), the reads routes need, the buyer's pages.
What owns its transactions (writes followed by Redis or the catalog, the reservation path, a
reservation's life by order id) is in flows/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.catalog import slot_of
from services.seckill.context import Seckill
from services.seckill.models import Activity, Product, Reservation, Slot, mutex
from services.seckill.schemas import ActivityIn, SlotIn
from services.seckill.stock import Loaded
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams

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


async def all_slots(session: AsyncSession) -> list[Slot]:
    return await repo.all_slots(session)


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


# --- activities (the admin's, and a merchant's own: `scope`) ---------------------------------------

async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None,
                          scope: OwnerScope) -> None:
    """The rules, the same for every owner; the SPU conflict is global (any owner's activity), and
    names the other activity only if the caller sees it (a merchant: its own)."""
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(data.start_date, data.end_date, data.slot_ids, [p.sku_id for p in data.products],
                          user_limit=data.user_limit, order_limit=data.order_limit)
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
            if not scope.sees(other.business_id):
                raise domain.SpuTaken(spu_id=data.spu_id)
            raise domain.SpuConflict(spu_id=data.spu_id, other_id=other.id, other_name=other.name)


def _apply_activity(activity: Activity, data: ActivityIn, now: datetime) -> None:
    activity.name, activity.spu_id, activity.slot_ids = data.name, data.spu_id, sorted(set(data.slot_ids))
    activity.start_date, activity.end_date = data.start_date, data.end_date
    activity.user_limit, activity.order_limit = data.user_limit, data.order_limit
    activity.sort, activity.remark, activity.updated_at = data.sort, data.remark, now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """Owned by `scope.owner`: the merchant's business, or the platform for the admin."""
    await _check_activity(session, data, None, scope)
    activity = Activity(status=CommonStatus.ENABLED, business_id=scope.owner, created_at=now)
    _apply_activity(activity, data, now)
    session.add(activity)
    await session.flush()
    session.add_all([Product(activity_id=activity.id, sku_id=p.sku_id, price=p.price, stock=p.stock,
                             total_stock=p.stock) for p in data.products])
    await session.flush()
    return activity


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """Prices change; a SKU's stock is set to what is left to sell (what was sold stays sold);
    SKUs left out are removed, unless some of their stock is held or sold. The owner stays."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id, scope)
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


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False,
                       scope: OwnerScope = EVERYTHING) -> Activity:
    """The activity, if `scope` sees it: another owner's answers the same 404 as a missing id."""
    activity = await repo.get_activity(session, activity_id, for_update=for_update)
    if activity is None or not scope.sees(activity.business_id):
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime,
                         scope: OwnerScope = EVERYTHING) -> None:
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.updated_at = CommonStatus.DISABLED, now


async def delete_activity(session: AsyncSession, activity_id: int, today_: date,
                          scope: OwnerScope = EVERYTHING) -> None:
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_date, today_)
    await repo.delete_activity(session, activity)


async def page_activities(session: AsyncSession, name: str | None, status: CommonStatus | None,
                          spu_id: int | None, paging: PageParams, scope: OwnerScope = EVERYTHING) -> dict:
    """One page of the activities `scope` sees, with their products."""
    rows, total = await repo.page_activities(session, ActivityFilter(name, status, spu_id), scope, paging)
    return {"items": await activity_views(session, rows), "total": total, "page": paging.page, "size": paging.size}


async def activity_views(session: AsyncSession, activities: Sequence[Activity]) -> list[dict]:
    products = await repo.products_of(session, [a.id for a in activities])
    return [_activity_view(a, products[a.id]) for a in activities]


def _activity_view(activity: Activity, products: Sequence[Product]) -> dict:
    return {"id": activity.id, "name": activity.name, "spu_id": activity.spu_id,
            "business_id": activity.business_id, "slot_ids": activity.slot_ids,
            "start_date": activity.start_date, "end_date": activity.end_date, "user_limit": activity.user_limit,
            "order_limit": activity.order_limit, "status": activity.status, "sort": activity.sort,
            "remark": activity.remark, "created_at": activity.created_at, "updated_at": activity.updated_at,
            "stock": sum(p.stock for p in products), "total_stock": sum(p.total_stock for p in products),
            "products": [{"sku_id": p.sku_id, "price": p.price, "stock": p.stock, "total_stock": p.total_stock}
                         for p in products]}


async def get_activity_view(session: AsyncSession, activity_id: int, scope: OwnerScope = EVERYTHING) -> dict:
    return (await activity_views(session, [await get_activity(session, activity_id, scope=scope)]))[0]


async def activity_stats(session: AsyncSession, activity_id: int, scope: OwnerScope = EVERYTHING) -> dict:
    """ActivityStatsOut: its reservations' units by state, paid orders and their amount, stock left."""
    activity = await get_activity(session, activity_id, scope=scope)
    figures = await repo.reservation_figures(session, activity.id)
    products = (await repo.products_of(session, [activity.id]))[activity.id]

    def units(status: domain.ReservationStatus) -> int:
        return figures.get(status, repo.NO_FIGURES).units

    paid = figures.get(domain.ReservationStatus.COMMITTED, repo.NO_FIGURES)
    return {"activity_id": activity.id, "reserved": sum(f.units for f in figures.values()),
            "held": units(domain.ReservationStatus.HELD), "sold": paid.units,
            "released": units(domain.ReservationStatus.RELEASED), "expired": units(domain.ReservationStatus.EXPIRED),
            "orders_paid": paid.reservations, "sales_amount": paid.amount,
            "stock": sum(p.stock for p in products), "total_stock": sum(p.total_stock for p in products)}


# --- what Redis should hold ----------------------------------------------------------------------

async def derive(session: AsyncSession, activity_id: int) -> Loaded:
    """What Redis should say, from MySQL: stock left, each user's total, the held reservations."""
    held = await repo.held_reservations(session, activity_id)
    return Loaded(await repo.stock_of(session, activity_id), await repo.quotas(session, activity_id),
                  {r.token: f"{r.sku_id}:{r.user_id}:{r.count}" for r in held})



# --- the buyer's pages ----------------------------------------------------------------------------

async def slot_activities(session: AsyncSession, seckill: Seckill, slot_id: int, now: datetime) -> list[dict]:
    """The activities running today in a slot, with live stock."""
    day = seckill.local(now).date()
    activities = [a for a in await repo.activities_on(session, day) if slot_id in a.slot_ids]
    return [await _with_live_stock(seckill, view) for view in await activity_views(session, activities)]


async def app_activity(session: AsyncSession, seckill: Seckill, activity_id: int) -> dict:
    activity = await get_activity(session, activity_id)
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


async def my_reservations(session: AsyncSession, user_id: int, paging: PageParams) -> tuple[list[Reservation], int]:
    return await repo.my_reservations(session, user_id, paging)
