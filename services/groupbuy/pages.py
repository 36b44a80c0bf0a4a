"""What buyers, merchants and operators read: a running activity, the groups to join, a group and
its seats, my seats, the admin's and the merchants' pages and the stats. The operators' pages take
an `OwnerScope`: a merchant's sees the groups and seats of its own activities only. Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import activities, domain
from services.groupbuy import repository as repo
from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from services.groupbuy.models import Group, Member
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import PageParams


async def app_activity(session: AsyncSession, activity_id: int) -> dict:
    activity = await activities.get_activity(session, activity_id)
    if activity.status != CommonStatus.ENABLED:
        raise domain.ActivityClosed()
    return (await activities.activity_views(session, [activity]))[0]


def group_view(group: Group, now: datetime) -> dict:
    return {"id": group.id, "activity_id": group.activity_id, "spu_id": group.spu_id,
            "leader_nickname": group.leader_nickname, "leader_avatar": group.leader_avatar, "size": group.size,
            "seats_left": max(0, group.size - group.seats_taken), "paid_count": group.paid_count,
            "status": group.status, "expires_at": group.expires_at,
            "time_left_seconds": domain.time_left_seconds(group.expires_at, now)
            if group.status == GroupStatus.IN_PROGRESS else None,
            "opened_at": group.opened_at, "ended_at": group.ended_at}


async def open_groups(session: AsyncSession, activity_id: int, now: datetime, limit: int) -> list[dict]:
    """Groups a buyer can join now: none once the activity is closed."""
    if (await activities.get_activity(session, activity_id)).status != CommonStatus.ENABLED:
        return []
    return [group_view(g, now) for g in await repo.joinable_groups(session, activity_id, now, limit)]


async def _get_group(session: AsyncSession, group_id: int, scope: OwnerScope = EVERYTHING) -> Group:
    """The group, if `scope` sees its activity (a merchant: one of its own, still there)."""
    group = await repo.get_group(session, group_id)
    if group is None or not await _sees_activity(session, group.activity_id, scope):
        raise domain.GroupNotFound(id=group_id)
    return group


async def _sees_activity(session: AsyncSession, activity_id: int, scope: OwnerScope) -> bool:
    if scope == EVERYTHING:
        return True  # the admin: also the groups of a deleted activity
    activity = await repo.get_activity(session, activity_id)
    return activity is not None and scope.sees(activity.business_id)


async def app_group(session: AsyncSession, group_id: int, now: datetime) -> dict:
    """A group and the members who paid (robots and placeholders shown like anyone else)."""
    group = await _get_group(session, group_id)
    if group.status in (GroupStatus.PENDING, GroupStatus.VOID):
        raise domain.GroupNotFound(id=group_id)  # never opened, as far as buyers are concerned
    members = await repo.members_of(session, [group_id], statuses=repo.PAID)
    return {**group_view(group, now), "members": [
        {"nickname": m.nickname, "avatar": m.avatar, "leader": m.leader, "joined_at": m.paid_at} for m in members]}


async def admin_group(session: AsyncSession, group_id: int, now: datetime, scope: OwnerScope = EVERYTHING) -> dict:
    group = await _get_group(session, group_id, scope)
    return {**group_view(group, now), "leader_user_id": group.leader_user_id, "virtual": group.virtual,
            "real_paid_count": group.real_paid_count, "seats_taken": group.seats_taken,
            "started_at": group.started_at, "members": await repo.members_of(session, [group_id])}


async def my_groups(session: AsyncSession, user_id: int, paging: PageParams, now: datetime) -> dict:
    members, total = await repo.my_memberships(session, user_id, paging)
    groups = {g.id: group_view(g, now) for g in await repo.groups_by_id(session, {m.group_id for m in members})}
    items = [{"member_id": m.id, "order_id": m.order_id, "sku_id": m.sku_id, "count": m.count,
              "unit_price": m.unit_price, "leader": m.leader, "status": m.status, "group": groups[m.group_id]}
             for m in members if m.group_id in groups]
    return {"items": items, "total": total, "page": paging.page, "size": paging.size}


async def stats(session: AsyncSession, activity_id: int | None, scope: OwnerScope = EVERYTHING) -> dict:
    """For one activity or every activity `scope` sees."""
    groups = await repo.group_counts(session, activity_id, scope)
    members = await repo.member_counts(session, activity_id, scope)
    real = {status: count for (kind, status), (count, _) in members.items() if kind == MemberKind.REAL}
    fen = {status: amount for (kind, status), (_, amount) in members.items() if kind == MemberKind.REAL}
    return {"activity_id": activity_id,
            "groups_opened": sum(c for s, c in groups.items() if s not in (GroupStatus.PENDING, GroupStatus.VOID)),
            "groups_in_progress": groups.get(GroupStatus.IN_PROGRESS, 0),
            "groups_succeeded": groups.get(GroupStatus.SUCCESS, 0),
            "groups_failed": groups.get(GroupStatus.FAILED, 0),
            "members_paid": sum(real.get(s, 0) for s in repo.PAID),
            "members_succeeded": real.get(MemberStatus.SUCCESS, 0),
            "members_failed": real.get(MemberStatus.FAILED, 0),
            "members_pending": real.get(MemberStatus.PENDING, 0),
            "sales_amount": fen.get(MemberStatus.JOINED, 0) + fen.get(MemberStatus.SUCCESS, 0),
            "refunded_amount": fen.get(MemberStatus.FAILED, 0),
            "robots": sum(c for (kind, _), (c, _) in members.items() if kind == MemberKind.ROBOT),
            "placeholders": sum(c for (kind, _), (c, _) in members.items() if kind == MemberKind.VIRTUAL)}


async def activity_stats(session: AsyncSession, activity_id: int, scope: OwnerScope) -> dict:
    """One activity's figures, if `scope` sees it (else "not found")."""
    await activities.get_activity(session, activity_id, scope=scope)
    return await stats(session, activity_id)


async def groups_page(session: AsyncSession, paging: PageParams, *, activity_id: int | None, status: int | None,
                      leader_user_id: int | None, scope: OwnerScope = EVERYTHING) -> tuple[list[Group], int]:
    return await repo.page_groups(session, repo.GroupFilter(activity_id, status, leader_user_id), paging, scope)


async def members_page(session: AsyncSession, paging: PageParams, *, activity_id: int | None, group_id: int | None,
                       user_id: int | None, status: int | None, order_id: int | None,
                       scope: OwnerScope = EVERYTHING) -> tuple[list[Member], int]:
    return await repo.page_members(session, repo.MemberFilter(activity_id, group_id, user_id, status, order_id),
                                   paging, scope)
