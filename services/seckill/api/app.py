"""/app-api/seckill: the flash-sale pages and the buyer's reservation (the crowd path)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from services.seckill import domain, service
from services.seckill import repository as repo
from services.seckill.schemas import AppActivityOut, ReservationIn, ReservationOut, TodayOut
from services.seckill.service import reservation_view
from shared.auth import Member, Role, optional_principal, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized, ValidationFailed
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging, to_page
from shared.responses import prebuilt_json

router = APIRouter(prefix="/app-api/seckill", tags=["app: seckill"])

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@router.get("/slots/today", response_model=TodayOut)
async def today(request: Request, session: Session, now: Now):
    """Today's slots (business timezone) with their state, and the one on now."""
    return await service.today(session, request.app.state.seckill, now)


@router.get("/slots/{slot_id}/activities", response_model=list[AppActivityOut])
async def slot_activities(slot_id: PathId, request: Request, session: Session, now: Now):
    """The activities of a slot today, with each SKU's flash price and live stock."""
    return await service.slot_activities(session, request.app.state.seckill, slot_id, now)


@router.get("/activities/{activity_id}", response_model=AppActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed))
async def activity(activity_id: PathId, request: Request, session: Session):
    return await service.app_activity(session, request.app.state.seckill, activity_id)


@router.post("/reservations", status_code=201, response_model=ReservationOut,
             responses=errors(Unauthorized, Forbidden, domain.ActivityNotFound, domain.ActivityClosed,
                              domain.NotOnNow, domain.SkuNotInActivity, domain.OrderLimitExceeded,
                              domain.UserLimitReached, domain.SoldOut, domain.ReservationInProgress,
                              domain.Unavailable),
             openapi_extra={"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                            "schema": {"type": "string", "pattern": KEY.pattern},
                                            "description": "a retry with the same key gets the first answer"}]})
async def reserve(body: ReservationIn, request: Request):
    """Grab the flash stock: held for the buyer until the order is paid (or the hold expires).
    201 when taken now; 200 with the first answer for a repeated Idempotency-Key. (The flash
    crowd's route: the member check, the clock and the key are read here rather than through
    dependencies, which cost a third of a rejection's time.)"""
    member = await require_role(Role.MEMBER)(await optional_principal(request))
    key = request.headers.get("idempotency-key")
    if key is not None and not KEY.fullmatch(key):
        raise ValidationFailed(errors=[{"loc": ["header", "Idempotency-Key"], "msg": f"must match {KEY.pattern}"}])
    reservation, new = await service.reserve(request.app.state.seckill, member.user_id, body.activity_id,
                                             body.sku_id, body.count, request.app.state.clock.now(), key=key)
    return prebuilt_json(reservation_view(reservation), status_code=201 if new else 200)


@router.get("/reservations", response_model=Page[ReservationOut], responses=errors(Unauthorized, Forbidden))
async def my_reservations(member: Member, session: Session, paging: Paging):
    return to_page(ReservationOut, await repo.my_reservations(session, member.user_id, paging), paging)
