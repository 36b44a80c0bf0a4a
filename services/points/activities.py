"""Activities (the admin's and the merchants'): created, updated, closed and deleted under the
activity rules, with their products and figures. Every function takes the caller's `OwnerScope`:
a merchant's sees its own activities only (another owner's id is "not found", like a missing or a
deleted one) and creates for its business; the admin's sees every activity and creates the
platform's. The SPU conflict stays global (the refusal names the other activity only when it is
the caller's own). Flushes; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.points import domain
from services.points import repository as repo
from services.points.models import Activity, Product, mutex
from services.points.schemas import ActivityIn
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams

FIELDS = ("name", "spu_id", "start_at", "end_at", "sort", "remark")
PRODUCT_FIELDS = ("sku_id", "points", "price", "stock", "total_stock", "limit_count")


def terms_of(activity: Activity) -> domain.Terms:
    return domain.Terms(status=CommonStatus(activity.status), start_at=activity.start_at, end_at=activity.end_at)


def _drafts(data: ActivityIn) -> list[domain.ProductDraft]:
    return [domain.ProductDraft(sku_id=p.sku_id, points=p.points, price=p.price, stock=p.stock,
                                limit_count=p.limit_count) for p in data.products]


async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None,
                          scope: OwnerScope) -> None:
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(data.start_at, data.end_at, _drafts(data))
    for other in await repo.enabled_activities_of_spu(session, data.spu_id, activity_id):
        if domain.windows_overlap(data.start_at, data.end_at, other.start_at, other.end_at):
            if not scope.sees(other.business_id):
                raise domain.SpuConflictElsewhere(spu_id=data.spu_id)
            raise domain.SpuConflict(spu_id=data.spu_id, other_name=other.name)


def _apply(activity: Activity, data: ActivityIn, now: datetime) -> None:
    for name in FIELDS:
        setattr(activity, name, getattr(data, name))
    activity.updated_at = now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> dict:
    """Created enabled; owned by the caller's business (a merchant), or the platform's (the admin)."""
    await _check_activity(session, data, None, scope)
    activity = Activity(status=CommonStatus.ENABLED, business_id=scope.owner, created_at=now)
    _apply(activity, data, now)
    session.add(activity)
    await session.flush()
    for p in data.products:
        session.add(Product(activity_id=activity.id, sku_id=p.sku_id, points=p.points, price=p.price, stock=p.stock,
                            total_stock=p.stock, limit_count=p.limit_count, created_at=now, updated_at=now))
    await session.flush()
    return await view(session, activity)


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> dict:
    """Refused once closed. Under the products' row locks: a SKU's stock offered cannot go below
    what is held or sold (what is left follows), a SKU with held or sold units cannot be removed;
    holds already made keep their prices."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id, scope)
    current = {p.sku_id: p for p in (await repo.products_of(session, [activity_id], for_update=True))[activity_id]}
    wanted = {p.sku_id for p in data.products}
    for sku_id, product in current.items():
        if sku_id not in wanted:
            domain.check_can_remove(sku_id, product.total_stock - product.stock)
            await session.delete(product)
    for index, p in enumerate(data.products):
        product = current.get(p.sku_id)
        if product is None:
            session.add(Product(activity_id=activity_id, sku_id=p.sku_id, points=p.points, price=p.price,
                                stock=p.stock, total_stock=p.stock, limit_count=p.limit_count, created_at=now,
                                updated_at=now))
            continue
        product.stock = domain.stock_left(p.sku_id, p.stock, product.total_stock - product.stock, index)
        product.total_stock, product.points, product.price = p.stock, p.points, p.price
        product.limit_count, product.updated_at = p.limit_count, now
    _apply(activity, data, now)
    await session.flush()
    return await view(session, activity)


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False,
                       for_share: bool = False, scope: OwnerScope = EVERYTHING) -> Activity:
    """The activity, if `scope` sees it: another owner's or a deleted one is "not found"."""
    activity = await repo.get_activity(session, activity_id, for_update=for_update, for_share=for_share)
    if activity is None or activity.deleted_at is not None or not scope.sees(activity.business_id):
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime, closed_by: str,
                         scope: OwnerScope = EVERYTHING) -> None:
    """For good, once: no new exchange; holds already made are still paid or released."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.closed_at, activity.closed_by, activity.updated_at = (
        CommonStatus.DISABLED, now, closed_by, now)


async def delete_activity(session: AsyncSession, activity_id: int, now: datetime, deleted_by: str,
                          scope: OwnerScope = EVERYTHING) -> None:
    """Only a closed or ended activity. Marked deleted, never removed: its products and holds stay."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_at, now)
    activity.deleted_at, activity.deleted_by, activity.updated_at = now, deleted_by, now


def _product_view(product: Product) -> dict:
    return {name: getattr(product, name) for name in PRODUCT_FIELDS}


def _activity_view(activity: Activity, products: list[Product]) -> dict:
    return {**{c.key: getattr(activity, c.key) for c in Activity.__table__.columns},
            "stock": sum(p.stock for p in products), "total_stock": sum(p.total_stock for p in products),
            "products": [_product_view(p) for p in products]}


async def view(session: AsyncSession, activity: Activity) -> dict:
    products = await repo.products_of(session, [activity.id])
    return _activity_view(activity, products[activity.id])


async def get_view(session: AsyncSession, activity_id: int, scope: OwnerScope = EVERYTHING) -> dict:
    return await view(session, await get_activity(session, activity_id, scope=scope))


async def activities_page(session: AsyncSession, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING) -> dict:
    rows, total = await repo.page_activities(session, f, paging, scope)
    products = await repo.products_of(session, [a.id for a in rows])
    return {"items": [_activity_view(a, products[a.id]) for a in rows], "total": total, "page": paging.page,
            "size": paging.size}


# --- the buyers' points mall ----------------------------------------------------------------------

async def app_views(session: AsyncSession, activities: list[Activity], user_id: int | None) -> list[dict]:
    """Each activity with its SKUs; `my_remaining` per SKU for a member (null anonymously)."""
    ids = [a.id for a in activities]
    products = await repo.products_of(session, ids)
    used = await repo.user_counts(session, ids, user_id) if user_id is not None else {}
    views = []
    for activity in activities:
        items = [{**_product_view(p), "my_remaining": None if user_id is None else domain.remaining_for_user(
            p.limit_count, used.get((activity.id, p.sku_id), 0), 0)} for p in products[activity.id]]
        views.append({**{c: getattr(activity, c) for c in ("id", "name", "spu_id", "business_id", "start_at",
                                                           "end_at")},
                      "stock": sum(p.stock for p in products[activity.id]),
                      "total_stock": sum(p.total_stock for p in products[activity.id]), "products": items})
    return views


async def running_page(session: AsyncSession, now: datetime, spu_id: int | None, paging: PageParams,
                       user_id: int | None) -> dict:
    rows, total = await repo.page_running(session, now, spu_id, paging)
    return {"items": await app_views(session, rows, user_id), "total": total, "page": paging.page,
            "size": paging.size}


async def app_activity(session: AsyncSession, activity_id: int, user_id: int | None) -> dict:
    activity = await get_activity(session, activity_id)
    if activity.status == CommonStatus.DISABLED:
        raise domain.ActivityClosed()
    return (await app_views(session, [activity], user_id))[0]


async def stats(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> dict:
    """Units offered and left; orders held, paid and released; units sold; cash and points of the paid."""
    if activity_id is not None:
        await get_activity(session, activity_id, scope=scope)
    offered, left = await repo.stock_sums(session, activity_id, scope)
    return {"activity_id": activity_id, "total_stock": offered, "stock": left,
            **await repo.hold_figures(session, activity_id, scope)}
