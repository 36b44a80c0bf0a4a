"""/merchant-api/seckill: a merchant runs its own flash sales (merchant PC directly, the merchant app
through the gateway), with the admin's paths and rules, in the platform's time slots (read only
here). Every route sees only the token's business: another merchant's activity, or the platform's,
answers the same 404 as an id that does not exist. The SPU conflict stays global (any owner's
activity), without naming another owner's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.seckill import domain, service
from services.seckill.api.deps import SeckillContext
from services.seckill.flows import admin
from services.seckill.schemas import ActivityIn, ActivityOut, ActivityStatsOut, SlotOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import MerchantScope
from shared.pagination import Page, Paging

router = APIRouter(prefix="/merchant-api/seckill", tags=["merchant: seckill"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SlotNotFound, domain.SlotDisabled, domain.SpuConflict)


@router.get("/slots", response_model=list[SlotOut])
async def list_slots(session: Session):
    """The platform's time slots (an activity may use the enabled ones)."""
    return await service.all_slots(session)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, seckill: SeckillContext, scope: MerchantScope, now: Now):
    """Mine (`business_id`: my business). Created enabled; its stock is loaded into Redis at once."""
    return await admin.save_activity(seckill, None, body, now, scope)


@router.get("/activities", response_model=Page[ActivityOut])
async def page_activities(session: Session, paging: Paging, scope: MerchantScope,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    """Mine only."""
    return await service.page_activities(session, name, status, spu_id, paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session, scope: MerchantScope):
    return await service.get_activity_view(session, activity_id, scope)


@router.get("/activities/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, session: Session, scope: MerchantScope):
    """Units reserved, held, sold, released and expired; orders paid, their amount; stock left."""
    return await service.activity_stats(session, activity_id, scope)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, seckill: SeckillContext, scope: MerchantScope,
                          now: Now):
    """Refused once closed. A SKU's stock is what is left to sell from now on."""
    return await admin.save_activity(seckill, activity_id, body, now, scope)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, seckill: SeckillContext, scope: MerchantScope, now: Now):
    """For good: a closed activity cannot be opened again."""
    await admin.close_and_unload(seckill, activity_id, now, scope)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, seckill: SeckillContext, scope: MerchantScope, now: Now):
    """Only a closed or ended activity."""
    await admin.delete_and_unload(seckill, activity_id, now, scope)
    return Response(status_code=204)
