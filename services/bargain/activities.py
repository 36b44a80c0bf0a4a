"""Activities (the admin's and the merchants'): created, updated, closed and deleted under the
activity rules, with their figures. Every function takes the caller's `OwnerScope`: a merchant's
sees its own activities only (another owner's id is "not found", like a missing one) and creates
for its business; the admin's sees every activity and creates the platform's. The SPU conflict
stays global (the refusal names the other activity only when it is the caller's own). Flushes;
never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.bargain import domain
from services.bargain import repository as repo
from services.bargain.domain import RecordStatus
from services.bargain.models import Activity, mutex
from services.bargain.schemas import ActivityIn
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams

FIELDS = ("name", "spu_id", "sku_id", "start_at", "end_at", "first_price", "floor_price", "stock",
          "help_max_count", "bargain_count", "total_limit_count", "random_min_price", "random_max_price", "sort",
          "remark")


def terms_of(activity: Activity) -> domain.Terms:
    return domain.Terms(
        id=activity.id, status=CommonStatus(activity.status), start_at=activity.start_at, end_at=activity.end_at,
        first_price=activity.first_price, floor_price=activity.floor_price, stock=activity.stock,
        help_max_count=activity.help_max_count, bargain_count=activity.bargain_count,
        total_limit_count=activity.total_limit_count, random_min_price=activity.random_min_price,
        random_max_price=activity.random_max_price)


def _terms_in(data: ActivityIn, activity_id: int | None) -> domain.Terms:
    return domain.Terms(
        id=activity_id or 0, status=CommonStatus.ENABLED, start_at=data.start_at, end_at=data.end_at,
        first_price=data.first_price, floor_price=data.floor_price, stock=data.stock,
        help_max_count=data.help_max_count, bargain_count=data.bargain_count,
        total_limit_count=data.total_limit_count, random_min_price=data.random_min_price,
        random_max_price=data.random_max_price)


async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None,
                          scope: OwnerScope) -> None:
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(_terms_in(data, activity_id), _total_stock(data))
    for other in await repo.enabled_activities_of_spu(session, data.spu_id, activity_id):
        if domain.windows_overlap(data.start_at, data.end_at, other.start_at, other.end_at):
            if not scope.sees(other.business_id):
                raise domain.SpuConflictElsewhere(spu_id=data.spu_id)
            raise domain.SpuConflict(spu_id=data.spu_id, other_name=other.name)


def _total_stock(data: ActivityIn) -> int:
    return data.stock if data.total_stock is None else data.total_stock


def _apply(activity: Activity, data: ActivityIn, now: datetime) -> None:
    for name in FIELDS:
        setattr(activity, name, getattr(data, name))
    activity.total_stock, activity.updated_at = _total_stock(data), now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """Created enabled; owned by the caller's business (a merchant), or the platform's (the admin)."""
    await _check_activity(session, data, None, scope)
    activity = Activity(status=CommonStatus.ENABLED, business_id=scope.owner, created_at=now)
    _apply(activity, data, now)
    session.add(activity)
    await session.flush()
    return activity


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> Activity:
    """Refused once closed. Records already started keep the prices and cut plan they started with."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id, scope)
    _apply(activity, data, now)
    await session.flush()
    return activity


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False,
                       scope: OwnerScope = EVERYTHING) -> Activity:
    """The activity, if `scope` sees it: another owner's is "not found", like a missing one."""
    activity = await repo.get_activity(session, activity_id, for_update=for_update)
    if activity is None or not scope.sees(activity.business_id):
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime, closed_by: str,
                         scope: OwnerScope = EVERYTHING) -> None:
    """For good, once: no new record and no new order; records in progress fail with their time."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.closed_at, activity.closed_by, activity.updated_at = (
        CommonStatus.DISABLED, now, closed_by, now)


async def delete_activity(session: AsyncSession, activity_id: int, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> None:
    """Only a closed or ended activity; its records, helps and orders stay for the record."""
    activity = await get_activity(session, activity_id, for_update=True, scope=scope)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_at, now)
    await session.delete(activity)


async def activities_page(session: AsyncSession, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING) -> dict:
    rows, total = await repo.page_activities(session, f, paging, scope)
    return {"items": rows, "total": total, "page": paging.page, "size": paging.size}


async def running_page(session: AsyncSession, now: datetime, spu_id: int | None, paging: PageParams) -> dict:
    rows, total = await repo.page_running(session, now, spu_id, paging)
    return {"items": await app_views(session, rows), "total": total, "page": paging.page, "size": paging.size}


async def app_views(session: AsyncSession, activities: list[Activity]) -> list[dict]:
    counts = await repo.success_counts(session, [a.id for a in activities])
    return [{**{c: getattr(a, c) for c in ("id", "name", "spu_id", "sku_id", "business_id", "start_at", "end_at",
                                           "first_price", "floor_price", "stock", "total_stock",
                                           "help_max_count")},
             "success_count": counts.get(a.id, 0)} for a in activities]


async def app_activity(session: AsyncSession, activity_id: int) -> dict:
    activity = await get_activity(session, activity_id)
    if activity.status == CommonStatus.DISABLED:
        raise domain.ActivityClosed()
    return (await app_views(session, [activity]))[0]


async def stats(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> dict:
    """Records started, in progress, succeeded, failed, ordered; orders held; helps; sales."""
    if activity_id is not None:
        await get_activity(session, activity_id, scope=scope)
    counts = await repo.record_counts(session, activity_id, scope)
    held, paid, sales = await repo.order_figures(session, activity_id, scope)
    return {"activity_id": activity_id, "records_started": sum(counts.values()),
            "records_in_progress": counts.get(RecordStatus.IN_PROGRESS, 0),
            "records_succeeded": counts.get(RecordStatus.SUCCESS, 0),
            "records_failed": counts.get(RecordStatus.FAILED, 0), "records_ordered": paid, "orders_held": held,
            "helps": await repo.help_total(session, activity_id, scope), "sales": sales}
