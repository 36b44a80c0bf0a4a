"""Every query of the bargain service. Locks are taken record first (an order's hold and cancel:
the cancelled order's row before it), then its order hold, then the activity's stock row, so
helps, holds, payments, releases and jobs queue instead of deadlocking. A locking read refreshes
rows the session already holds (`populate_existing`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.bargain.domain import OrderStatus, RecordStatus
from services.bargain.models import Activity, CancelledOrder, Help, Helper, Order, Record
from shared import pagination
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams, fetch_page


def _locking(query, for_update: bool):
    return query.with_for_update().execution_options(populate_existing=True) if for_update else query


# --- activities -----------------------------------------------------------------------------------

async def has_any_data(session: AsyncSession) -> bool:
    if await session.scalar(select(Activity.id).limit(1)) is not None:
        return True
    return await session.scalar(select(Record.id).limit(1)) is not None


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False) -> Activity | None:
    return await session.scalar(_locking(select(Activity).where(Activity.id == activity_id), for_update))


async def activities_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Activity]:
    if not ids:
        return {}
    return {a.id: a for a in await session.scalars(select(Activity).where(Activity.id.in_(set(ids))))}


async def page_activities(session: AsyncSession, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING) -> tuple[list[Activity], int]:
    return await pagination.page_activities(session, Activity, f, paging, scope)


async def page_running(session: AsyncSession, now: datetime, spu_id: int | None,
                       paging: PageParams) -> tuple[list[Activity], int]:
    query = (select(Activity).where(Activity.status == CommonStatus.ENABLED, Activity.start_at <= now,
                                    Activity.end_at > now)
             .order_by(Activity.sort.desc(), Activity.id.desc()))
    if spu_id is not None:
        query = query.where(Activity.spu_id == spu_id)
    return await fetch_page(session, query, paging)


async def enabled_activities_of_spu(session: AsyncSession, spu_id: int, except_id: int | None) -> list[Activity]:
    query = select(Activity).where(Activity.spu_id == spu_id, Activity.status == CommonStatus.ENABLED)
    if except_id is not None:
        query = query.where(Activity.id != except_id)
    return list((await session.scalars(query)).all())


async def take_unit(session: AsyncSession, activity_id: int) -> bool:
    """One unit of stock, if any is left (a conditional update: two holds of the last unit, one wins)."""
    result = await session.execute(update(Activity).where(Activity.id == activity_id, Activity.stock >= 1)
                                   .values(stock=Activity.stock - 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def give_unit_back(session: AsyncSession, activity_id: int) -> None:
    await session.execute(update(Activity).where(Activity.id == activity_id).values(stock=Activity.stock + 1)
                          .execution_options(synchronize_session=False))


async def success_counts(session: AsyncSession, activity_ids: Sequence[int]) -> dict[int, int]:
    if not activity_ids:
        return {}
    rows = await session.execute(select(Record.activity_id, func.count()).where(
        Record.activity_id.in_(activity_ids), Record.status == RecordStatus.SUCCESS).group_by(Record.activity_id))
    return {activity_id: count for activity_id, count in rows.all()}


# --- records --------------------------------------------------------------------------------------

async def get_record(session: AsyncSession, record_id: int, *, for_update: bool = False) -> Record | None:
    return await session.scalar(_locking(select(Record).where(Record.id == record_id), for_update))


async def in_progress(session: AsyncSession, user_id: int, activity_id: int) -> Record | None:
    return await session.scalar(select(Record).where(Record.activity_id == activity_id,
                                                     Record.busy_user_id == user_id))


async def succeeded_count(session: AsyncSession, user_id: int, activity_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Record).where(
        Record.user_id == user_id, Record.activity_id == activity_id, Record.status == RecordStatus.SUCCESS)) or 0


async def due_records(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    return list((await session.scalars(select(Record.id).where(
        Record.status == RecordStatus.IN_PROGRESS, Record.expires_at <= now).order_by(Record.expires_at)
        .limit(limit))).all())


async def my_records(session: AsyncSession, user_id: int, paging: PageParams) -> tuple[list[Record], int]:
    return await fetch_page(session, select(Record).where(Record.user_id == user_id).order_by(Record.id.desc()),
                            paging)


@dataclass(frozen=True)
class RecordFilter:
    activity_id: int | None = None
    user_id: int | None = None
    status: int | None = None


def _owned(scope: OwnerScope):
    return Record.activity_id.in_(select(Activity.id).where(scope.where(Activity.business_id)))


async def page_records(session: AsyncSession, f: RecordFilter, paging: PageParams,
                       scope: OwnerScope = EVERYTHING) -> tuple[list[Record], int]:
    query = select(Record).order_by(Record.id.desc())
    if scope.platform_only or scope.business_id is not None:
        query = query.where(_owned(scope))
    for column, value in ((Record.activity_id, f.activity_id), (Record.user_id, f.user_id),
                          (Record.status, f.status)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


async def record_counts(session: AsyncSession, activity_id: int | None,
                        scope: OwnerScope = EVERYTHING) -> dict[int, int]:
    query = select(Record.status, func.count()).group_by(Record.status)
    if activity_id is not None:
        query = query.where(Record.activity_id == activity_id)
    if scope.platform_only or scope.business_id is not None:
        query = query.where(_owned(scope))
    return {status: count for status, count in (await session.execute(query)).all()}


async def help_total(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> int:
    query = select(func.count()).select_from(Help)
    if activity_id is not None:
        query = query.where(Help.activity_id == activity_id)
    if scope.platform_only or scope.business_id is not None:
        query = query.where(Help.activity_id.in_(select(Activity.id).where(scope.where(Activity.business_id))))
    return await session.scalar(query) or 0


async def order_figures(session: AsyncSession, activity_id: int | None,
                        scope: OwnerScope = EVERYTHING) -> tuple[int, int, int]:
    """(orders held, orders paid, fen paid)."""
    paid = Order.status == OrderStatus.PAID
    query = select(func.coalesce(func.sum(case((Order.status == OrderStatus.HELD, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((paid, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((paid, Order.unit_price), else_=0)), 0))
    if activity_id is not None:
        query = query.where(Order.activity_id == activity_id)
    if scope.platform_only or scope.business_id is not None:
        query = query.where(Order.activity_id.in_(select(Activity.id).where(scope.where(Activity.business_id))))
    held, paid_count, sales = (await session.execute(query)).one()
    return int(held), int(paid_count), int(sales)


# --- helps ----------------------------------------------------------------------------------------

async def lock_helper(session: AsyncSession, activity_id: int, user_id: int, now: datetime) -> None:
    """The helper's row in the activity, made on first use and locked until the transaction ends.
    An upsert, not a locking read then an insert: on MariaDB a locking read of a missing row takes
    a gap lock, and two new helpers of one activity (helping different records at once) would each
    hold the gap and wait for the other's insert: a deadlock. The upsert takes the row's exclusive
    lock directly (a new row, or the existing one), and inserts into one gap do not block each other."""
    values = {"activity_id": activity_id, "user_id": user_id, "created_at": now}
    if session.get_bind().dialect.name == "mysql":
        statement = mysql_insert(Helper).values(values).on_duplicate_key_update(user_id=Helper.user_id)
    else:  # SQLite: one writer at a time
        statement = sqlite_insert(Helper).values(values).on_conflict_do_nothing()
    await session.execute(statement)


async def has_helped(session: AsyncSession, record_id: int, user_id: int) -> Help | None:
    return await session.scalar(select(Help).where(Help.record_id == record_id, Help.user_id == user_id))


async def helps_given(session: AsyncSession, activity_id: int, user_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Help).where(
        Help.activity_id == activity_id, Help.user_id == user_id)) or 0


async def helps_of(session: AsyncSession, record_ids: Sequence[int]) -> dict[int, list[Help]]:
    found: dict[int, list[Help]] = {i: [] for i in record_ids}
    if record_ids:
        for help_ in await session.scalars(select(Help).where(Help.record_id.in_(record_ids)).order_by(Help.id)):
            found[help_.record_id].append(help_)
    return found


async def page_helps(session: AsyncSession, record_id: int, paging: PageParams) -> tuple[list[Help], int]:
    return await fetch_page(session, select(Help).where(Help.record_id == record_id).order_by(Help.id), paging)


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


async def order_by_id(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Order | None:
    return await session.scalar(_locking(select(Order).where(Order.order_id == order_id), for_update))


async def due_holds(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    return list((await session.scalars(select(Order.order_id).where(
        Order.status == OrderStatus.HELD, Order.hold_expires_at <= now).order_by(Order.hold_expires_at)
        .limit(limit))).all())
