"""/admin-api/groupbuy: platform operators manage group-buy activities and watch their groups.
The admin creates the platform's activities (`business_id` null), reads, changes and closes every
activity (merchants' too), and may narrow each list to one owner (`?business_id=`, `?platform=true`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.groupbuy import activities, domain, pages
from services.groupbuy.domain import GroupStatus, MemberStatus
from services.groupbuy.schemas import ActivityIn, ActivityOut, AdminGroupOut, AdminGroupRowOut, MemberOut, StatsOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import ActivityFilter, Page, Paging, to_page

router = APIRouter(prefix="/admin-api/groupbuy", tags=["admin: groupbuy"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, session: Session, now: Now):
    """Created enabled."""
    activity = await activities.create_activity(session, body, now)
    return (await activities.activity_views(session, [activity]))[0]


@router.get("/activities", response_model=Page[ActivityOut], responses=errors(OwnerFilterConflict))
async def page_activities(session: Session, paging: Paging, scope: AdminScope,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    """Every owner's, or one owner's (`business_id`, or `platform=true`)."""
    return await activities.activities_page(session, ActivityFilter(name, status, spu_id), paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session):
    return await activities.get_activity_view(session, activity_id)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, session: Session, now: Now):
    """Refused once closed. Running groups keep their size and each seat its price."""
    activity = await activities.update_activity(session, activity_id, body, now)
    return (await activities.activity_views(session, [activity]))[0]


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, session: Session, now: Now):
    """For good: no new group or member; running groups end with their time."""
    await activities.close_activity(session, activity_id, now)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, session: Session, now: Now):
    """Only a closed or ended activity with no group still running; its groups stay for the record."""
    await activities.delete_activity(session, activity_id, now)
    return Response(status_code=204)


@router.get("/groups", response_model=Page[AdminGroupRowOut], responses=errors(OwnerFilterConflict))
async def page_groups(session: Session, paging: Paging, scope: AdminScope, activity_id: QueryId = None,
                      status: GroupStatus | None = None, leader_user_id: QueryId = None):
    """Filtered by owner: the groups of that owner's activities (those not deleted)."""
    return to_page(AdminGroupRowOut, await pages.groups_page(
        session, paging, activity_id=activity_id, status=status, leader_user_id=leader_user_id, scope=scope),
        paging)


@router.get("/groups/{group_id}", response_model=AdminGroupOut, responses=errors(domain.GroupNotFound))
async def get_group(group_id: PathId, session: Session, now: Now):
    """A group with every seat: buyers (with their orders), robots and placeholders."""
    return await pages.admin_group(session, group_id, now)


@router.get("/members", response_model=Page[MemberOut], responses=errors(OwnerFilterConflict))
async def page_members(session: Session, paging: Paging, scope: AdminScope, activity_id: QueryId = None,
                       group_id: QueryId = None, user_id: QueryId = None, status: MemberStatus | None = None,
                       order_id: QueryId = None):
    return to_page(MemberOut, await pages.members_page(
        session, paging, activity_id=activity_id, group_id=group_id, user_id=user_id, status=status,
        order_id=order_id, scope=scope), paging)


@router.get("/stats", response_model=StatsOut, responses=errors(OwnerFilterConflict))
async def stats(session: Session, scope: AdminScope, activity_id: QueryId = None):
    """Groups opened, succeeded, failed; members; sales: for one activity, or every activity (of one
    owner with `business_id` or `platform=true`)."""
    return await pages.stats(session, activity_id, scope)
