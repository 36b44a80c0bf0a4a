"""/admin-api/points: platform operators manage points mall activities and watch their holds.
The admin creates the platform's activities (`business_id` null), reads, changes and closes every
activity (merchants' too), and may narrow each list to one owner (`?business_id=`, `?platform=true`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.points import activities, domain, service
from services.points.domain import HoldStatus
from services.points.schemas import ActivityIn, ActivityOut, AdminHoldOut, StatsOut
from shared.auth import Admin, Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import ActivityFilter, Page, Paging

router = APIRouter(prefix="/admin-api/points", tags=["admin: points"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, session: Session, now: Now):
    """Created enabled, the platform's. One SPU in one enabled activity at a time (overlapping windows)."""
    return await activities.create_activity(session, body, now)


@router.get("/activities", response_model=Page[ActivityOut], responses=errors(OwnerFilterConflict))
async def page_activities(session: Session, paging: Paging, scope: AdminScope,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    """Every owner's, or one owner's (`business_id`, or `platform=true`)."""
    return await activities.activities_page(session, ActivityFilter(name, status, spu_id), paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session):
    return await activities.get_view(session, activity_id)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, session: Session, now: Now):
    """Refused once closed. A SKU's stock cannot go below what is held or sold; a SKU with held or
    sold units cannot be removed. Holds already made keep their prices."""
    return await activities.update_activity(session, activity_id, body, now)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, admin: Admin, session: Session, now: Now):
    """For good: no new exchange; holds already made are still paid or released."""
    await activities.close_activity(session, activity_id, now, f"admin:{admin.subject}")
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, admin: Admin, session: Session, now: Now):
    """Only a closed or ended activity; marked deleted, its products and holds stay for the record."""
    await activities.delete_activity(session, activity_id, now, f"admin:{admin.subject}")
    return Response(status_code=204)


@router.get("/activities/{activity_id}/stats", response_model=StatsOut, responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, session: Session):
    return await activities.stats(session, activity_id)


@router.get("/stats", response_model=StatsOut, responses=errors(OwnerFilterConflict))
async def stats(session: Session, scope: AdminScope):
    """Every activity's figures together (of one owner with `business_id` or `platform=true`)."""
    return await activities.stats(session, None, scope)


@router.get("/holds", response_model=Page[AdminHoldOut], responses=errors(OwnerFilterConflict))
async def page_holds(session: Session, paging: Paging, scope: AdminScope, activity_id: QueryId = None,
                     user_id: QueryId = None, status: HoldStatus | None = None):
    """Orders' holds, newest first, with how they ended. Filtered by owner: that owner's activities'."""
    return await service.holds_page(session, paging, scope, activity_id=activity_id, user_id=user_id, status=status)
