"""Every query of the points service. Locks are taken hold first, then the activity's row
(shared), then the buyer's count row, then the product's stock row, so holds, payments, releases
and the job queue instead of deadlocking; an activity's edit or close locks the activity, then its
products. A locking read refreshes rows the session already holds (`populate_existing`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.points.domain import HoldStatus
from services.points.models import Activity, CancelledOrder, Hold, Product, UserCount
from shared import pagination
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams, fetch_page


def _locking(query, for_update: bool):
    return query.with_for_update().execution_options(populate_existing=True) if for_update else query


def _scoped(scope: OwnerScope) -> bool:
    return scope.platform_only or scope.business_id is not None


def _owned_activities(scope: OwnerScope):
    return select(Activity.id).where(scope.where(Activity.business_id), Activity.deleted_at.is_(None))


# --- activities and products ----------------------------------------------------------------------

async def has_any_data(session: AsyncSession) -> bool:
    if await session.scalar(select(Activity.id).limit(1)) is not None:
        return True
    return await session.scalar(select(Hold.id).limit(1)) is not None


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False,
                       for_share: bool = False) -> Activity | None:
    """`for_share`: a shared lock (LOCK IN SHARE MODE): holds go on side by side, a close waits for them."""
    query = select(Activity).where(Activity.id == activity_id)
    if for_share:
        return await session.scalar(query.with_for_update(read=True).execution_options(populate_existing=True))
    return await session.scalar(_locking(query, for_update))


async def page_activities(session: AsyncSession, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING) -> tuple[list[Activity], int]:
    """The operators' list: the deleted ones left out."""
    return await pagination.page_activities(session, Activity, f, paging, scope, Activity.deleted_at.is_(None))


async def page_running(session: AsyncSession, now: datetime, spu_id: int | None,
                       paging: PageParams) -> tuple[list[Activity], int]:
    query = (select(Activity).where(Activity.status == CommonStatus.ENABLED, Activity.deleted_at.is_(None),
                                    Activity.start_at <= now, Activity.end_at > now)
             .order_by(Activity.sort.desc(), Activity.id.desc()))
    if spu_id is not None:
        query = query.where(Activity.spu_id == spu_id)
    return await fetch_page(session, query, paging)


async def enabled_activities_of_spu(session: AsyncSession, spu_id: int, except_id: int | None) -> list[Activity]:
    query = select(Activity).where(Activity.spu_id == spu_id, Activity.status == CommonStatus.ENABLED,
                                   Activity.deleted_at.is_(None))
    if except_id is not None:
        query = query.where(Activity.id != except_id)
    return list((await session.scalars(query)).all())


async def products_of(session: AsyncSession, activity_ids: Sequence[int], *,
                      for_update: bool = False) -> dict[int, list[Product]]:
    found: dict[int, list[Product]] = {i: [] for i in activity_ids}
    if activity_ids:
        query = select(Product).where(Product.activity_id.in_(set(activity_ids))).order_by(Product.id)
        for product in await session.scalars(_locking(query, for_update)):
            found[product.activity_id].append(product)
    return found


async def get_product(session: AsyncSession, activity_id: int, sku_id: int) -> Product | None:
    return await session.scalar(select(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id))


async def take_stock(session: AsyncSession, activity_id: int, sku_id: int, count: int) -> bool:
    """`count` units, if that many are left (a conditional update: two holds of the last units, one wins)."""
    result = await session.execute(
        update(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id, Product.stock >= count)
        .values(stock=Product.stock - count).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def give_stock_back(session: AsyncSession, activity_id: int, sku_id: int, count: int) -> None:
    await session.execute(
        update(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id)
        .values(stock=Product.stock + count).execution_options(synchronize_session=False))


async def stock_sums(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> tuple[int, int]:
    """(units offered, units left)."""
    query = select(func.coalesce(func.sum(Product.total_stock), 0), func.coalesce(func.sum(Product.stock), 0))
    if activity_id is not None:
        query = query.where(Product.activity_id == activity_id)
    else:
        query = query.where(Product.activity_id.in_(_owned_activities(scope)))
    offered, left = (await session.execute(query)).one()
    return int(offered), int(left)


# --- the buyers' counts ---------------------------------------------------------------------------

async def ensure_user_count(session: AsyncSession, activity_id: int, sku_id: int, user_id: int,
                            now: datetime) -> None:
    """The buyer's row for the SKU, made on first use. An upsert, not a locking read then an
    insert: on MariaDB a locking read of a missing row takes a gap lock, and two new buyers would
    each hold the gap and wait for the other's insert (the bargain helper deadlock)."""
    values = {"activity_id": activity_id, "sku_id": sku_id, "user_id": user_id, "held": 0, "bought": 0,
              "updated_at": now}
    if session.get_bind().dialect.name == "mysql":
        statement = mysql_insert(UserCount).values(values).on_duplicate_key_update(user_id=UserCount.user_id)
    else:  # SQLite: one writer at a time
        statement = sqlite_insert(UserCount).values(values).on_conflict_do_nothing()
    await session.execute(statement)


def _count_row(activity_id: int, sku_id: int, user_id: int):
    return (UserCount.activity_id == activity_id, UserCount.sku_id == sku_id, UserCount.user_id == user_id)


async def count_within_limit(session: AsyncSession, activity_id: int, sku_id: int, user_id: int, count: int,
                             limit: int, now: datetime, *, bought: bool = False) -> bool:
    """`count` more held (or `bought`) by the user, if held + bought stays within `limit`: the
    database's guard, so two concurrent orders of one buyer cannot both pass."""
    column = UserCount.bought if bought else UserCount.held
    result = await session.execute(
        update(UserCount).where(*_count_row(activity_id, sku_id, user_id),
                                UserCount.held + UserCount.bought + count <= limit)
        .values({column: column + count, UserCount.updated_at: now}).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def move_count(session: AsyncSession, activity_id: int, sku_id: int, user_id: int, now: datetime, *,
                     held: int = 0, bought: int = 0) -> None:
    """Adds `held` and `bought` (negative: gives back) to the user's row."""
    await session.execute(
        update(UserCount).where(*_count_row(activity_id, sku_id, user_id))
        .values(held=UserCount.held + held, bought=UserCount.bought + bought, updated_at=now)
        .execution_options(synchronize_session=False))


async def user_count(session: AsyncSession, activity_id: int, sku_id: int, user_id: int, *,
                     for_update: bool = False) -> tuple[int, int]:
    """(held, bought) of the user for the SKU."""
    row = (await session.execute(_locking(select(UserCount.held, UserCount.bought)
                                          .where(*_count_row(activity_id, sku_id, user_id)), for_update))).first()
    return (row[0], row[1]) if row is not None else (0, 0)


async def user_counts(session: AsyncSession, activity_ids: Sequence[int], user_id: int) -> dict[tuple[int, int], int]:
    """(activity_id, sku_id) -> units the user holds or bought."""
    if not activity_ids:
        return {}
    rows = await session.execute(select(UserCount.activity_id, UserCount.sku_id, UserCount.held + UserCount.bought)
                                 .where(UserCount.activity_id.in_(set(activity_ids)), UserCount.user_id == user_id))
    return {(activity_id, sku_id): used for activity_id, sku_id, used in rows.all()}


# --- order holds ----------------------------------------------------------------------------------

async def is_cancelled(session: AsyncSession, order_id: int) -> bool:
    """A locking read (shared): a cancellation being written for the order is waited for, and (the
    gap lock) none can be written until this transaction ends; also sees one committed after this
    transaction's snapshot."""
    return await session.scalar(select(CancelledOrder.order_id).where(CancelledOrder.order_id == order_id)
                                .with_for_update(read=True)) is not None


async def record_cancelled(session: AsyncSession, order_id: int, at: datetime) -> None:
    """Once per order, whatever the redeliveries (an existing row is left as it is)."""
    await session.execute(insert(CancelledOrder).values(order_id=order_id, cancelled_at=at)
                          .prefix_with("IGNORE", dialect="mysql").prefix_with("OR IGNORE", dialect="sqlite"))


async def hold_by_order(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Hold | None:
    return await session.scalar(_locking(select(Hold).where(Hold.order_id == order_id), for_update))


_AS_READ = object()


async def change_hold(session: AsyncSession, held: Hold, now: datetime, *, reason_was=_AS_READ, **values) -> bool:
    """The hold's new state, if it is still in the state `held` was read in (status and end
    reason; `reason_was` when the caller changed the reason since): a compare-and-set, so two
    deliveries or job rounds cannot both end one hold, on MariaDB (where the row lock already
    serialises them) and on SQLite (whose reads lock nothing)."""
    reason = held.end_reason if reason_was is _AS_READ else reason_was
    result = await session.execute(
        update(Hold).where(Hold.id == held.id, Hold.status == held.status,
                           Hold.end_reason.is_(None) if reason is None else Hold.end_reason == reason)
        .values(**values, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def due_holds(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    return list((await session.scalars(select(Hold.order_id).where(
        Hold.status == HoldStatus.HELD, Hold.hold_expires_at <= now).order_by(Hold.hold_expires_at)
        .limit(limit))).all())


@dataclass(frozen=True)
class HoldFilter:
    activity_id: int | None = None
    user_id: int | None = None
    status: int | None = None


async def page_holds(session: AsyncSession, f: HoldFilter, paging: PageParams,
                     scope: OwnerScope = EVERYTHING) -> tuple[list[Hold], int]:
    query = select(Hold).order_by(Hold.id.desc())
    if _scoped(scope):
        query = query.where(Hold.activity_id.in_(_owned_activities(scope)))
    for column, value in ((Hold.activity_id, f.activity_id), (Hold.user_id, f.user_id), (Hold.status, f.status)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


async def hold_figures(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> dict:
    def when(status: HoldStatus, value):
        return func.coalesce(func.sum(case((Hold.status == status, value), else_=0)), 0)

    query = select(when(HoldStatus.HELD, 1), when(HoldStatus.HELD, Hold.count), when(HoldStatus.PAID, 1),
                   when(HoldStatus.PAID, Hold.count), when(HoldStatus.PAID, Hold.count * Hold.unit_price),
                   when(HoldStatus.PAID, Hold.count * Hold.unit_points), when(HoldStatus.RELEASED, 1))
    if activity_id is not None:
        query = query.where(Hold.activity_id == activity_id)
    else:  # the activities listed: of the owner `scope` sees, not deleted (as `stock_sums`)
        query = query.where(Hold.activity_id.in_(_owned_activities(scope)))
    names = ("orders_held", "units_held", "orders_paid", "units_sold", "sales", "points_used", "orders_released")
    return dict(zip(names, (int(v) for v in (await session.execute(query)).one()), strict=True))
