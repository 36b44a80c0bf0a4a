"""/merchant-api/points: a merchant (merchant PC directly, the merchant app through the gateway)
runs its own points mall activities with the admin's rules, and watches their holds and figures.
Every route sees only the token's business: another merchant's or the platform's activity, and
its holds, answer 404 like a missing id. The SPU conflict stays global."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.points import activities, domain, service
from services.points.domain import HoldStatus
from services.points.schemas import ActivityIn, ActivityOut, AdminHoldOut, StatsOut
from shared.auth import Merchant, Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import MerchantScope
from shared.pagination import ActivityFilter, Page, Paging

router = APIRouter(prefix="/merchant-api/points", tags=["merchant: points"],
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
    return await activities.get_view(session, activity_id, scope)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, scope: MerchantScope, session: Session, now: Now):
    """Refused once closed. A SKU's stock cannot go below what is held or sold; a SKU with held or
    sold units cannot be removed."""
    return await activities.update_activity(session, activity_id, body, now, scope)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, merchant: Merchant, scope: MerchantScope, session: Session, now: Now):
    """For good: no new exchange; holds already made are still paid or released."""
    await activities.close_activity(session, activity_id, now, f"merchant:{merchant.subject}", scope)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, merchant: Merchant, scope: MerchantScope, session: Session,
                          now: Now):
    """Only a closed or ended activity; marked deleted, its products and holds stay for the record."""
    await activities.delete_activity(session, activity_id, now, f"merchant:{merchant.subject}", scope)
    return Response(status_code=204)


@router.get("/activities/{activity_id}/stats", response_model=StatsOut, responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, scope: MerchantScope, session: Session):
    """Units offered and left; orders held, paid, released; units sold; cash (fen) and points of the paid."""
    return await activities.stats(session, activity_id, scope)


@router.get("/stats", response_model=StatsOut)
async def my_stats(scope: MerchantScope, session: Session):
    """All my activities' figures together."""
    return await activities.stats(session, None, scope)


@router.get("/holds", response_model=Page[AdminHoldOut], responses=errors(domain.ActivityNotFound))
async def my_holds(scope: MerchantScope, session: Session, paging: Paging, activity_id: QueryId = None,
                   user_id: QueryId = None, status: HoldStatus | None = None):
    """The holds of my activities, newest first."""
    return await service.holds_page(session, paging, scope, activity_id=activity_id, user_id=user_id, status=status)
