"""/merchant-api/groupbuy: a merchant (merchant PC directly, the merchant app through the gateway)
runs its own group buys with the admin's rules, and watches their groups, seats and figures.
Every route sees only the token's business: another merchant's or the platform's activity, and
the groups and seats of one, answer 404 like a missing id. The SPU conflict stays global."""

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
from shared.ownership import MerchantScope
from shared.pagination import ActivityFilter, Page, Paging, to_page

router = APIRouter(prefix="/merchant-api/groupbuy", tags=["merchant: groupbuy"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, scope: MerchantScope, session: Session, now: Now):
    """Created enabled, owned by my business. One SPU in one enabled activity at a time, whoever
    runs the other one (the refusal names it only when it is mine)."""
    activity = await activities.create_activity(session, body, now, scope)
    return (await activities.activity_views(session, [activity]))[0]


@router.get("/activities", response_model=Page[ActivityOut])
async def my_activities(scope: MerchantScope, session: Session, paging: Paging,
                        name: Annotated[str | None, Query(max_length=50)] = None,
                        status: CommonStatus | None = None, spu_id: QueryId = None):
    return await activities.activities_page(session, ActivityFilter(name, status, spu_id), paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def my_activity(activity_id: PathId, scope: MerchantScope, session: Session):
    return await activities.get_activity_view(session, activity_id, scope)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, scope: MerchantScope, session: Session, now: Now):
    """Refused once closed. Running groups keep their size and each seat its price."""
    activity = await activities.update_activity(session, activity_id, body, now, scope)
    return (await activities.activity_views(session, [activity]))[0]


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, scope: MerchantScope, session: Session, now: Now):
    """For good: no new group or member; running groups end with their time."""
    await activities.close_activity(session, activity_id, now, scope)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, scope: MerchantScope, session: Session, now: Now):
    """Only a closed or ended activity with no group still running; its groups stay for the record
    (shown to the admin only from then on)."""
    await activities.delete_activity(session, activity_id, now, scope)
    return Response(status_code=204)


@router.get("/activities/{activity_id}/stats", response_model=StatsOut, responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, scope: MerchantScope, session: Session):
    """Groups opened, in progress, succeeded, failed; buyers and their orders; sales and refunds
    (fen); robots and placeholders."""
    return await pages.activity_stats(session, activity_id, scope)


@router.get("/groups", response_model=Page[AdminGroupRowOut])
async def my_groups(scope: MerchantScope, session: Session, paging: Paging, activity_id: QueryId = None,
                    status: GroupStatus | None = None, leader_user_id: QueryId = None):
    """The groups of my activities."""
    return to_page(AdminGroupRowOut, await pages.groups_page(
        session, paging, activity_id=activity_id, status=status, leader_user_id=leader_user_id, scope=scope),
        paging)


@router.get("/groups/{group_id}", response_model=AdminGroupOut, responses=errors(domain.GroupNotFound))
async def my_group(group_id: PathId, scope: MerchantScope, session: Session, now: Now):
    """A group of one of my activities with every seat: buyers (with their orders), robots, placeholders."""
    return await pages.admin_group(session, group_id, now, scope)


@router.get("/members", response_model=Page[MemberOut])
async def my_members(scope: MerchantScope, session: Session, paging: Paging, activity_id: QueryId = None,
                     group_id: QueryId = None, user_id: QueryId = None, status: MemberStatus | None = None,
                     order_id: QueryId = None):
    """The seats of my activities' groups."""
    return to_page(MemberOut, await pages.members_page(
        session, paging, activity_id=activity_id, group_id=group_id, user_id=user_id, status=status,
        order_id=order_id, scope=scope), paging)
