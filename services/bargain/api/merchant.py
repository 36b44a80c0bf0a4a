"""/merchant-api/bargain: a merchant (merchant PC directly, the merchant app through the gateway)
runs its own bargain activities with the admin's rules, and watches their records and figures.
Every route sees only the token's business: another merchant's or the platform's activity, and
its records, answer 404 like a missing id. The SPU conflict stays global."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.bargain import activities, domain, service
from services.bargain.domain import RecordStatus
from services.bargain.schemas import ActivityIn, ActivityOut, AdminRecordOut, StatsOut
from shared.auth import Merchant, Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import MerchantScope
from shared.pagination import ActivityFilter, Page, Paging

router = APIRouter(prefix="/merchant-api/bargain", tags=["merchant: bargain"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, scope: MerchantScope, session: Session, now: Now):
    """Created enabled, owned by my business. One SPU in one enabled activity at a time, whoever
    runs the other one (the refusal names it only when it is mine)."""
    return await activities.create_activity(session, body, now, scope)


@router.get("/activities", response_model=Page[ActivityOut])
async def my_activities(scope: MerchantScope, session: Session, paging: Paging,
                        name: Annotated[str | None, Query(max_length=50)] = None,
                        status: CommonStatus | None = None, spu_id: QueryId = None):
    return await activities.activities_page(session, ActivityFilter(name, status, spu_id), paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def my_activity(activity_id: PathId, scope: MerchantScope, session: Session):
    return await activities.get_activity(session, activity_id, scope=scope)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, scope: MerchantScope, session: Session, now: Now):
    """Refused once closed. Records already started keep their prices and cut plan."""
    return await activities.update_activity(session, activity_id, body, now, scope)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, merchant: Merchant, scope: MerchantScope, session: Session, now: Now):
    """For good: no new record or order; records in progress fail with their time."""
    await activities.close_activity(session, activity_id, now, f"merchant:{merchant.subject}", scope)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, scope: MerchantScope, session: Session, now: Now):
    """Only a closed or ended activity; its records stay for the record (shown to the admin only)."""
    await activities.delete_activity(session, activity_id, now, scope)
    return Response(status_code=204)


@router.get("/activities/{activity_id}/stats", response_model=StatsOut, responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, scope: MerchantScope, session: Session):
    """Records started, in progress, succeeded, failed, ordered; orders held; helps; sales (fen)."""
    return await activities.stats(session, activity_id, scope)


@router.get("/records", response_model=Page[AdminRecordOut], responses=errors(domain.ActivityNotFound))
async def my_records(scope: MerchantScope, session: Session, paging: Paging, activity_id: QueryId = None,
                     user_id: QueryId = None, status: RecordStatus | None = None):
    """The records of my activities."""
    return await service.records_page(session, paging, scope, activity_id=activity_id, user_id=user_id,
                                      status=status)
