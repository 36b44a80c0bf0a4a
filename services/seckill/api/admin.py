"""/admin-api/seckill: platform operators manage time slots and flash activities: the platform's own
(what they create here) and every merchant's (read, update, close, delete; lists filter by owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.seckill import domain, service
from services.seckill.api.deps import SeckillContext
from services.seckill.flows import admin
from services.seckill.flows import reconcile as reconciliation
from services.seckill.schemas import ActivityIn, ActivityOut, ActivityStatsOut, DriftOut, SlotIn, SlotOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import Page, Paging

router = APIRouter(prefix="/admin-api/seckill", tags=["admin: seckill"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))


# --- time slots -----------------------------------------------------------------------------------

@router.post("/slots", status_code=201, response_model=SlotOut, responses=errors(domain.SlotInvalid,
                                                                                 domain.SlotOverlaps))
async def create_slot(body: SlotIn, seckill: SeckillContext, now: Now):
    return await admin.save_slot(seckill, None, body, now)


@router.get("/slots", response_model=list[SlotOut])
async def list_slots(session: Session):
    return await service.all_slots(session)


@router.get("/slots/{slot_id}", response_model=SlotOut, responses=errors(domain.SlotNotFound))
async def get_slot(slot_id: PathId, session: Session):
    return await service.get_slot(session, slot_id)


@router.put("/slots/{slot_id}", response_model=SlotOut,
            responses=errors(domain.SlotNotFound, domain.SlotInvalid, domain.SlotOverlaps))
async def update_slot(slot_id: PathId, body: SlotIn, seckill: SeckillContext, now: Now):
    return await admin.save_slot(seckill, slot_id, body, now)


@router.delete("/slots/{slot_id}", status_code=204, responses=errors(domain.SlotNotFound, domain.SlotInUse))
async def delete_slot(slot_id: PathId, seckill: SeckillContext):
    await admin.delete_slot(seckill, slot_id)
    return Response(status_code=204)


# --- activities -----------------------------------------------------------------------------------

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SlotNotFound, domain.SlotDisabled, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, seckill: SeckillContext, now: Now):
    """The platform's (`business_id` null). Created enabled; its stock is loaded into Redis at once."""
    return await admin.save_activity(seckill, None, body, now)


@router.get("/activities", response_model=Page[ActivityOut], responses=errors(OwnerFilterConflict))
async def page_activities(session: Session, paging: Paging, scope: AdminScope,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    """Every owner's, or one merchant's (`business_id`), or the platform's own (`platform=true`)."""
    return await service.page_activities(session, name, status, spu_id, paging, scope)


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session):
    return await service.get_activity_view(session, activity_id)


@router.get("/activities/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.ActivityNotFound))
async def activity_stats(activity_id: PathId, session: Session):
    """Units reserved, held, sold, released and expired; orders paid, their amount; stock left."""
    return await service.activity_stats(session, activity_id)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, seckill: SeckillContext, now: Now):
    """Refused once closed. A SKU's stock is what is left to sell from now on."""
    return await admin.save_activity(seckill, activity_id, body, now)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, seckill: SeckillContext, now: Now):
    """For good: a closed activity cannot be opened again."""
    await admin.close_and_unload(seckill, activity_id, now)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, seckill: SeckillContext, now: Now):
    """Only a closed or ended activity."""
    await admin.delete_and_unload(seckill, activity_id, now)
    return Response(status_code=204)


@router.post("/activities/{activity_id}/reconcile", response_model=DriftOut)
async def reconcile(activity_id: PathId, seckill: SeckillContext):
    """Redis's stock against MySQL's; reloaded from MySQL when they differ."""
    return await reconciliation.reconcile(seckill, activity_id, fix=True)
