"""/app-api/groupbuy: the buyer's group-buy pages. Seats are taken through pricing's checkout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.groupbuy import activities, domain, pages
from services.groupbuy.schemas import AppActivityOut, AppGroupOut, GroupOut, MyGroupOut
from shared.auth import Member
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/groupbuy", tags=["app: groupbuy"])


@router.get("/activities", response_model=Page[AppActivityOut])
async def running_activities(session: Session, paging: Paging, now: Now, spu_id: QueryId = None):
    """Activities running now (for a product page: `?spu_id=`), with prices and how many joined."""
    return await activities.running_page(session, now, spu_id, paging)


@router.get("/activities/{activity_id}", response_model=AppActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed))
async def activity(activity_id: PathId, session: Session):
    return await pages.app_activity(session, activity_id)


@router.get("/activities/{activity_id}/groups", response_model=list[GroupOut],
            responses=errors(domain.ActivityNotFound))
async def open_groups(activity_id: PathId, session: Session, now: Now,
                      limit: Annotated[int, Query(ge=1, le=50)] = 10):
    """Groups a buyer can join now, closest to filling first."""
    return await pages.open_groups(session, activity_id, now, limit)


@router.get("/groups/{group_id}", response_model=AppGroupOut, responses=errors(domain.GroupNotFound))
async def group(group_id: PathId, session: Session, now: Now):
    return await pages.app_group(session, group_id, now)


@router.get("/my-groups", response_model=Page[MyGroupOut], responses=errors(Unauthorized, Forbidden))
async def my_groups(member: Member, session: Session, paging: Paging, now: Now):
    """The buyer's seats, newest first, with their groups."""
    return await pages.my_groups(session, member.user_id, paging, now)
