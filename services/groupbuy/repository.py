"""Every query of the group-buy service. Locks are always taken group first (by primary key),
then its members, so concurrent seats, payments, releases and jobs queue instead of deadlocking.
A locking read refreshes rows the session already holds (`populate_existing`): the state a
decision is made on is the committed one, not what an earlier plain read saw."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from services.groupbuy.models import Activity, Group, Member, Product
from shared import pagination
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import ActivityFilter, PageParams, fetch_page

COUNTED = (MemberStatus.PENDING, MemberStatus.JOINED, MemberStatus.SUCCESS)  # toward the per-user limit
PAID = (MemberStatus.JOINED, MemberStatus.SUCCESS, MemberStatus.FAILED)

# --- activities -----------------------------------------------------------------------------------


async def has_any_data(session: AsyncSession) -> bool:
    """An activity, or a group (a deleted activity's groups stay for the record)."""
    if await session.scalar(select(Activity.id).limit(1)) is not None:
        return True
    return await session.scalar(select(Group.id).limit(1)) is not None


async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False) -> Activity | None:
    query = select(Activity).where(Activity.id == activity_id)
    return await session.scalar(query.with_for_update() if for_update else query)


def owned_by(activity_id: Any, scope: OwnerScope) -> ColumnElement[bool]:
    """The condition on an activity id column (of a group or a seat) that keeps the rows of the
    activities `scope` sees. Unfiltered, nothing is joined: the groups of a deleted activity stay
    in the admin's pages; a filtered scope sees only those of activities that still exist."""
    if not scope.platform_only and scope.business_id is None:
        return true()
    return activity_id.in_(select(Activity.id).where(scope.where(Activity.business_id)))


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


async def running_with_robot_leaders(session: AsyncSession, now: datetime) -> list[Activity]:
    return list((await session.scalars(select(Activity).where(
        Activity.status == CommonStatus.ENABLED, Activity.start_at <= now, Activity.end_at > now,
        Activity.keep_open_groups > 0))).all())


async def enabled_activities_of_spu(session: AsyncSession, spu_id: int, except_id: int | None) -> list[Activity]:
    query = select(Activity).where(Activity.spu_id == spu_id, Activity.status == CommonStatus.ENABLED)
    if except_id is not None:
        query = query.where(Activity.id != except_id)
    return list((await session.scalars(query)).all())


async def products_of(session: AsyncSession, activity_ids: Sequence[int]) -> dict[int, list[Product]]:
    found: dict[int, list[Product]] = {i: [] for i in activity_ids}
    if activity_ids:
        rows = await session.scalars(select(Product).where(Product.activity_id.in_(activity_ids))
                                     .order_by(Product.id))
        for product in rows:
            found[product.activity_id].append(product)
    return found


async def product(session: AsyncSession, activity_id: int, sku_id: int) -> Product | None:
    return await session.scalar(select(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id))


async def joined_counts(session: AsyncSession, activity_ids: Sequence[int]) -> dict[int, int]:
    """Real buyers who paid, per activity (the "N 人已拼" of a product page)."""
    if not activity_ids:
        return {}
    rows = await session.execute(
        select(Member.activity_id, func.count()).where(Member.activity_id.in_(activity_ids),
                                                       Member.kind == MemberKind.REAL,
                                                       Member.status.in_((MemberStatus.JOINED, MemberStatus.SUCCESS)))
        .group_by(Member.activity_id))
    return {activity_id: count for activity_id, count in rows.all()}


async def running_groups(session: AsyncSession, activity_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Group).where(
        Group.activity_id == activity_id, Group.status.in_((GroupStatus.PENDING, GroupStatus.IN_PROGRESS)))) or 0


# --- groups ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupFilter:
    activity_id: int | None = None
    status: int | None = None
    leader_user_id: int | None = None


def _locking(query, for_update: bool):
    return query.with_for_update().execution_options(populate_existing=True) if for_update else query


async def get_group(session: AsyncSession, group_id: int, *, for_update: bool = False) -> Group | None:
    return await session.scalar(_locking(select(Group).where(Group.id == group_id), for_update))


async def groups_by_id(session: AsyncSession, group_ids: Collection[int]) -> list[Group]:
    if not group_ids:
        return []
    return list((await session.scalars(select(Group).where(Group.id.in_(group_ids)))).all())


async def page_groups(session: AsyncSession, f: GroupFilter, paging: PageParams,
                      scope: OwnerScope = EVERYTHING) -> tuple[list[Group], int]:
    query = select(Group).where(owned_by(Group.activity_id, scope)).order_by(Group.id.desc())
    if f.activity_id is not None:
        query = query.where(Group.activity_id == f.activity_id)
    if f.status is not None:
        query = query.where(Group.status == f.status)
    if f.leader_user_id is not None:
        query = query.where(Group.leader_user_id == f.leader_user_id)
    return await fetch_page(session, query, paging)


async def joinable_groups(session: AsyncSession, activity_id: int, now: datetime, limit: int) -> list[Group]:
    """Open groups a buyer may join, fullest and soonest-ending first (they complete fastest)."""
    return list((await session.scalars(select(Group).where(
        Group.activity_id == activity_id, Group.status == GroupStatus.IN_PROGRESS, Group.seats_taken < Group.size,
        Group.expires_at > now,
    ).order_by((Group.size - Group.seats_taken), Group.expires_at, Group.id).limit(limit))).all())


async def count_joinable(session: AsyncSession, activity_id: int, now: datetime) -> int:
    return await session.scalar(select(func.count()).select_from(Group).where(
        Group.activity_id == activity_id, Group.status == GroupStatus.IN_PROGRESS, Group.seats_taken < Group.size,
        Group.expires_at > now)) or 0


async def due_groups(session: AsyncSession, now: datetime, limit: int = 200) -> list[int]:
    return list((await session.scalars(select(Group.id).where(
        Group.status == GroupStatus.IN_PROGRESS, Group.expires_at <= now).order_by(Group.expires_at).limit(limit)
    )).all())


async def groups_due_for_robots(session: AsyncSession, now: datetime, limit: int = 200) -> list[int]:
    """Only groups robots may fill (activity enabled, enough real buyers paid): the others would
    come back every round and crowd out the eligible ones."""
    return list((await session.scalars(select(Group.id).join(Activity, Activity.id == Group.activity_id).where(
        Group.status == GroupStatus.IN_PROGRESS, Group.robots_at <= now, Group.seats_taken < Group.size,
        Group.expires_at > now, Activity.status == CommonStatus.ENABLED, Group.real_paid_count >= 1,
        Group.real_paid_count >= Activity.least_population).order_by(Group.robots_at).limit(limit))).all())


async def group_counts(session: AsyncSession, activity_id: int | None,
                       scope: OwnerScope = EVERYTHING) -> dict[int, int]:
    query = select(Group.status, func.count()).where(owned_by(Group.activity_id, scope)).group_by(Group.status)
    if activity_id is not None:
        query = query.where(Group.activity_id == activity_id)
    return {status: count for status, count in (await session.execute(query)).all()}


# --- members --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberFilter:
    activity_id: int | None = None
    group_id: int | None = None
    user_id: int | None = None
    status: int | None = None
    order_id: int | None = None


async def member_by_order(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Member | None:
    return await session.scalar(_locking(select(Member).where(Member.order_id == order_id), for_update))


async def members_of(session: AsyncSession, group_ids: Sequence[int], *, for_update: bool = False,
                     statuses: Sequence[MemberStatus] | None = None) -> list[Member]:
    if not group_ids:
        return []
    query = select(Member).where(Member.group_id.in_(group_ids)).order_by(Member.group_id, Member.id)
    if statuses is not None:
        query = query.where(Member.status.in_(statuses))
    return list((await session.scalars(_locking(query, for_update))).all())


async def bought_in_activity(session: AsyncSession, user_id: int, activity_id: int) -> int:
    return await session.scalar(select(func.coalesce(func.sum(Member.count), 0)).where(
        Member.user_id == user_id, Member.activity_id == activity_id, Member.status.in_(COUNTED))) or 0


async def busy_in_activity(session: AsyncSession, user_id: int, activity_id: int) -> Member | None:
    return await session.scalar(select(Member).where(Member.activity_id == activity_id,
                                                     Member.busy_user_id == user_id))


async def due_holds(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    """Orders whose seat is unpaid past its hold (re-checked under the lock before it goes)."""
    return list((await session.scalars(select(Member.order_id).where(
        Member.status == MemberStatus.PENDING, Member.hold_expires_at <= now).order_by(Member.hold_expires_at)
        .limit(limit))).all())


async def page_members(session: AsyncSession, f: MemberFilter, paging: PageParams,
                       scope: OwnerScope = EVERYTHING) -> tuple[list[Member], int]:
    query = select(Member).where(owned_by(Member.activity_id, scope)).order_by(Member.id.desc())
    for column, value in ((Member.activity_id, f.activity_id), (Member.group_id, f.group_id),
                          (Member.user_id, f.user_id), (Member.status, f.status), (Member.order_id, f.order_id)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


async def my_memberships(session: AsyncSession, user_id: int, paging: PageParams) -> tuple[list[Member], int]:
    return await fetch_page(session, select(Member).where(Member.user_id == user_id, Member.kind == MemberKind.REAL)
                            .order_by(Member.id.desc()), paging)


async def member_counts(session: AsyncSession, activity_id: int | None,
                        scope: OwnerScope = EVERYTHING) -> dict[tuple[int, int], tuple[int, int]]:
    """(kind, status) -> (seats, fen: units x the unit price each seat was taken at)."""
    amount = func.coalesce(func.sum(Member.count * Member.unit_price), 0)
    query = (select(Member.kind, Member.status, func.count(), amount)
             .where(owned_by(Member.activity_id, scope)).group_by(Member.kind, Member.status))
    if activity_id is not None:
        query = query.where(Member.activity_id == activity_id)
    rows = (await session.execute(query)).all()
    return {(kind, status): (count, int(fen)) for kind, status, count, fen in rows}
