"""/admin-api/seckill: platform operators manage time slots and flash activities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.seckill import domain, service
from services.seckill import repository as repo
from services.seckill.schemas import ActivityIn, ActivityOut, DriftOut, SlotIn, SlotOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/admin-api/seckill", tags=["admin: seckill"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))


# --- time slots -----------------------------------------------------------------------------------

@router.post("/slots", status_code=201, response_model=SlotOut, responses=errors(domain.SlotInvalid,
                                                                                 domain.SlotOverlaps))
async def create_slot(body: SlotIn, request: Request, session: Session, now: Now):
    request.app.state.seckill.catalog.forget()
    return await service.create_slot(session, body, now)


@router.get("/slots", response_model=list[SlotOut])
async def list_slots(session: Session):
    return await repo.all_slots(session)


@router.get("/slots/{slot_id}", response_model=SlotOut, responses=errors(domain.SlotNotFound))
async def get_slot(slot_id: PathId, session: Session):
    return await service.get_slot(session, slot_id)


@router.put("/slots/{slot_id}", response_model=SlotOut,
            responses=errors(domain.SlotNotFound, domain.SlotInvalid, domain.SlotOverlaps))
async def update_slot(slot_id: PathId, body: SlotIn, request: Request, session: Session, now: Now):
    request.app.state.seckill.catalog.forget()
    return await service.update_slot(session, slot_id, body, now)


@router.delete("/slots/{slot_id}", status_code=204, responses=errors(domain.SlotNotFound, domain.SlotInUse))
async def delete_slot(slot_id: PathId, request: Request, session: Session):
    request.app.state.seckill.catalog.forget()
    await service.delete_slot(session, slot_id)
    return Response(status_code=204)


# --- activities -----------------------------------------------------------------------------------

ACTIVITY_ERRORS = (domain.ActivityInvalid, domain.SlotNotFound, domain.SlotDisabled, domain.SpuConflict)


@router.post("/activities", status_code=201, response_model=ActivityOut, responses=errors(*ACTIVITY_ERRORS))
async def create_activity(body: ActivityIn, request: Request, now: Now):
    """Created enabled; its stock is loaded into Redis at once."""
    return await service.save_activity(request.app.state.seckill, None, body, now)


@router.get("/activities", response_model=Page[ActivityOut])
async def page_activities(session: Session, paging: Paging,
                          name: Annotated[str | None, Query(max_length=50)] = None,
                          status: CommonStatus | None = None, spu_id: QueryId = None):
    rows, total = await repo.page_activities(session, repo.ActivityFilter(name, status, spu_id), paging)
    return {"items": await service.activity_views(session, rows), "total": total, "page": paging.page,
            "size": paging.size}


@router.get("/activities/{activity_id}", response_model=ActivityOut, responses=errors(domain.ActivityNotFound))
async def get_activity(activity_id: PathId, session: Session):
    return await service.get_activity_view(session, activity_id)


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed, *ACTIVITY_ERRORS))
async def update_activity(activity_id: PathId, body: ActivityIn, request: Request, now: Now):
    """Refused once closed. A SKU's stock is what is left to sell from now on."""
    return await service.save_activity(request.app.state.seckill, activity_id, body, now)


@router.post("/activities/{activity_id}/close", status_code=204,
             responses=errors(domain.ActivityNotFound, domain.AlreadyClosed))
async def close_activity(activity_id: PathId, request: Request, now: Now):
    """For good: a closed activity cannot be opened again."""
    await service.close_and_unload(request.app.state.seckill, activity_id, now)
    return Response(status_code=204)


@router.delete("/activities/{activity_id}", status_code=204,
               responses=errors(domain.ActivityNotFound, domain.DeleteRefused))
async def delete_activity(activity_id: PathId, request: Request, now: Now):
    """Only a closed or ended activity."""
    await service.delete_and_unload(request.app.state.seckill, activity_id, now)
    return Response(status_code=204)


@router.post("/activities/{activity_id}/reconcile", response_model=DriftOut)
async def reconcile(activity_id: PathId, request: Request):
    """Redis's stock against MySQL's; reloaded from MySQL when they differ."""
    return await service.reconcile(request.app.state.seckill, activity_id, fix=True)
