"""Activities (the admin's and the merchants'): created, updated, closed and deleted under the
activity rules (`domain.rules`), and their views with prices and how many joined. Every function
takes the caller's `OwnerScope`: a merchant's sees its own activities only (another owner's id is
"not found", like a missing one) and creates for its business; the admin's sees every activity
and creates the platform's. The SPU conflict stays global: a merchant's activity cannot overlap
the platform's or another merchant's (the refusal names the other activity only when it is the
caller's own). Flushes; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import domain
from services.groupbuy import repository as repo
from services.groupbuy.models import Activity, Product, mutex
from services.groupbuy.schemas import ActivityIn
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams


def _terms_in(data: ActivityIn, activity_id: int | None) -> domain.Terms:
    return domain.Terms(
        id=activity_id or 0, status=CommonStatus.ENABLED, start_at=data.start_at, end_at=data.end_at,
        group_size=data.group_size, limit_hours=data.limit_hours, user_limit=data.user_limit,
        order_limit=data.order_limit, virtual_completion=data.virtual_completion,
        least_population=data.least_population, robot_join_after_hours=data.robot_join_after_hours,
        keep_open_groups=data.keep_open_groups)


async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None,
                          scope: OwnerScope) -> None:
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(_terms_in(data, activity_id), [p.sku_id for p in data.products])
    domain.check_prices([domain.SkuPrice(p.sku_id, p.group_price, p.leader_price) for p in data.products])
    for other in await repo.enabled_activities_of_spu(session, data.spu_id, activity_id):
        if domain.windows_overlap(data.start_at, data.end_at, other.start_at, other.end_at):
            if not scope.sees(other.business_id):
                raise domain.SpuConflictElsewhere(spu_id=data.spu_id)
            raise domain.SpuConflict(spu_id=data.spu_id, other_name=other.name)


def _apply_activity(activity: Activity, data: ActivityIn, now: datetime) -> None:
    for name in ("name", "spu_id", "start_at", "end_at", "group_size", "limit_hours", "user_limit", "order_limit",
                 "virtual_completion", "least_population", "robot_join_after_hours", "keep_open_groups", "sort",
                 "remark"):
        setattr(activity, name, getattr(data, name))
    activity.updated_at = now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """Owned by the caller's business (a merchant), or the platform's (the admin)."""
    await _check_activity(session, data, None, scope)
    activity = Activity(status=CommonStatus.ENABLED, business_id=scope.owner, created_at=now)
    _apply_activity(activity, data, now)
    session.add(activity)
    await session.flush()
    session.add_all([Product(activity_id=activity.id, sku_id=p.sku_id, group_price=p.group_price,
                             leader_price=p.leader_price) for p in data.products])
    await session.flush()
    return activity


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """New prices and rules apply to seats taken from now on; a running group keeps its size and
    each seat keeps the price it was taken at."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id, scope)
    _apply_activity(activity, data, now)
    existing = {p.sku_id: p for p in (await repo.products_of(session, [activity_id]))[activity_id]}
    wanted = {p.sku_id: p for p in data.products}
    for sku_id, product in existing.items():
        if sku_id not in wanted:
            await session.delete(product)
    for sku_id, p in wanted.items():
        product = existing.get(sku_id)
        if product is None:
            session.add(Product(activity_id=activity_id, sku_id=sku_id, group_price=p.group_price,
                                leader_price=p.leader_price))
        else:
            product.group_price, product.leader_price = p.group_price, p.leader_price
    await session.flush()
    return activity


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False,
                       scope: OwnerScope = EVERYTHING) -> Activity:
    """The activity, if `scope` sees it: another owner's is "not found", like a missing one."""
    activity = await repo.get_activity(session, activity_id, for_update=for_update)
    if activity is None or not scope.sees(activity.business_id):
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime,
                         scope: OwnerScope = EVERYTHING) -> None:
    """No new group and no new member; running groups end with their time (or fill up virtually)."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.updated_at = CommonStatus.DISABLED, now


async def delete_activity(session: AsyncSession, activity_id: int, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> None:
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_at, now,
                            await repo.running_groups(session, activity_id))
    await session.delete(activity)


async def activity_views(session: AsyncSession, activities: Sequence[Activity]) -> list[dict]:
    ids = [a.id for a in activities]
    products, joined = await repo.products_of(session, ids), await repo.joined_counts(session, ids)
    return [_activity_view(a, products[a.id], joined.get(a.id, 0)) for a in activities]


def _activity_view(activity: Activity, products: Sequence[Product], joined: int) -> dict:
    view = {name: getattr(activity, name) for name in (
        "id", "name", "spu_id", "business_id", "status", "start_at", "end_at", "group_size", "limit_hours",
        "user_limit", "order_limit", "virtual_completion", "least_population", "robot_join_after_hours",
        "keep_open_groups", "sort", "remark", "created_at", "updated_at")}
    view["joined_count"] = joined
    view["products"] = [{"sku_id": p.sku_id, "group_price": p.group_price,
                         "leader_price": domain.unit_price(p.group_price, p.leader_price, leader=True)}
                        for p in products]
    return view


async def get_activity_view(session: AsyncSession, activity_id: int, scope: OwnerScope = EVERYTHING) -> dict:
    return (await activity_views(session, [await get_activity(session, activity_id, scope=scope)]))[0]


async def activities_page(session: AsyncSession, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING) -> dict:
    rows, total = await repo.page_activities(session, f, paging, scope)
    return {"items": await activity_views(session, rows), "total": total, "page": paging.page, "size": paging.size}


async def running_page(session: AsyncSession, now: datetime, spu_id: int | None, paging: PageParams) -> dict:
    """Activities running now (for a product page: of one SPU)."""
    rows, total = await repo.page_running(session, now, spu_id, paging)
    return {"items": await activity_views(session, rows), "total": total, "page": paging.page, "size": paging.size}
