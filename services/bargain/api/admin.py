"""/admin-api/bargain: platform operators manage bargain activities and watch their records.
The admin creates the platform's activities (`business_id` null), reads, changes and closes every
activity (merchants' too), and may narrow each list to one owner (`?business_id=`, `?platform=true`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.bargain import activities, domain, service
from services.bargain.domain import RecordStatus
from services.bargain.schemas import ActivityIn, ActivityOut, AdminRecordOut, HelpOut, StatsOut
from shared.auth import Admin, Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import ActivityFilter, Page, Paging

router = APIRouter(prefix="/admin-api/bargain", tags=["admin: bargain"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, session: Session, now: Now):
    """Created enabled, the platform's."""
    return await activities.create_activity(session, body, now)


@router.get("/activities", response_model=Page[ActivityOut], responses=errors(OwnerFilterConflict))
async def page_activities(session: Session, paging: Paging, scope: AdminScope,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    """Every owner's, or one owner's (`business_id`, or `platform=true`)."""
    return await activities.activities_page(session, ActivityFilter(name, status, spu_id), paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session):
    return await activities.get_activity(session, activity_id)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, session: Session, now: Now):
    """Refused once closed. Records already started keep their prices and cut plan."""
    return await activities.update_activity(session, activity_id, body, now)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, admin: Admin, session: Session, now: Now):
    """For good: no new record or order; records in progress fail with their time."""
    await activities.close_activity(session, activity_id, now, f"admin:{admin.subject}")
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, session: Session, now: Now):
    """Only a closed or ended activity; its records, helps and orders stay for the record."""
    await activities.delete_activity(session, activity_id, now)
    return Response(status_code=204)


@router.get("/activities/{activity_id}/stats", response_model=StatsOut, responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, session: Session):
    return await activities.stats(session, activity_id)


@router.get("/stats", response_model=StatsOut, responses=errors(OwnerFilterConflict))
async def stats(session: Session, scope: AdminScope):
    """Every activity's figures together (of one owner with `business_id` or `platform=true`)."""
    return await activities.stats(session, None, scope)


@router.get("/records", response_model=Page[AdminRecordOut], responses=errors(OwnerFilterConflict))
async def page_records(session: Session, paging: Paging, scope: AdminScope, activity_id: QueryId = None,
                       user_id: QueryId = None, status: RecordStatus | None = None):
    """Filtered by owner: the records of that owner's activities."""
    return await service.records_page(session, paging, scope, activity_id=activity_id, user_id=user_id,
                                      status=status)


@router.get("/records/{record_id}/helps", response_model=Page[HelpOut], responses=errors(domain.RecordNotFound))
async def record_helps(record_id: PathId, session: Session, paging: Paging):
    return await service.helps_page(session, record_id, paging)
