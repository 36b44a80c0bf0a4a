"""/app-api/seckill: the flash-sale pages and the buyer's reservation (the crowd path)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.seckill import domain, service
from services.seckill.api import crowd
from services.seckill.api.deps import SeckillContext
from services.seckill.schemas import AppActivityOut, ReservationIn, ReservationOut, TodayOut
from shared.auth import Member
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging, to_page

router = APIRouter(prefix="/app-api/seckill", tags=["app: seckill"])


@router.get("/slots/today", response_model=TodayOut)
async def today(seckill: SeckillContext, session: Session, now: Now):
    """Today's slots (business timezone) with their state, and the one on now."""
    return await service.today(session, seckill, now)


@router.get("/slots/{slot_id}/activities", response_model=list[AppActivityOut])
async def slot_activities(slot_id: PathId, seckill: SeckillContext, session: Session, now: Now):
    """The activities of a slot today, with each SKU's flash price and live stock."""
    return await service.slot_activities(session, seckill, slot_id, now)


@router.get("/activities/{activity_id}", response_model=AppActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed))
async def activity(activity_id: PathId, seckill: SeckillContext, session: Session):
    return await service.app_activity(session, seckill, activity_id)


@router.post("/reservations", status_code=201, response_model=ReservationOut,
             responses=errors(Unauthorized, Forbidden, domain.ActivityNotFound, domain.ActivityClosed,
                              domain.NotOnNow, domain.SkuNotInActivity, domain.OrderLimitExceeded,
                              domain.UserLimitReached, domain.SoldOut, domain.StockNotEnough,
                              domain.ReservationInProgress, domain.Unavailable),
             openapi_extra={"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                            "schema": {"type": "string", "pattern": crowd.KEY_PATTERN},
                                            "description": "a retry with the same key gets the first answer"}]})
async def reserve(body: ReservationIn, request: Request):
    """Grab the flash stock: held for the buyer until the order is paid (or the hold expires).
    201 when taken now; 200 with the first answer for a repeated Idempotency-Key. Served by the
    crowd's fast path (api/crowd.py) ahead of FastAPI; this route documents it and answers alike."""
    return await crowd.answer(request.app, request.headers, await request.body())


@router.get("/reservations", response_model=Page[ReservationOut], responses=errors(Unauthorized, Forbidden))
async def my_reservations(member: Member, session: Session, paging: Paging):
    return to_page(ReservationOut, await service.my_reservations(session, member.user_id, paging), paging)
