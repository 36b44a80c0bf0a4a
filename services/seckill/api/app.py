"""/app-api/seckill: the flash-sale pages and the buyer's reservation (the crowd path)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from services.seckill import domain, service
from services.seckill import repository as repo
from services.seckill.schemas import AppActivityOut, ReservationIn, ReservationOut, TodayOut
from shared.auth import Member
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging, to_page

router = APIRouter(prefix="/app-api/seckill", tags=["app: seckill"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                              description="a retry with the same key gets the first answer")]


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
                              domain.Unavailable))
async def reserve(body: ReservationIn, member: Member, request: Request, response: Response, now: Now,
                  key: IdempotencyKey = None):
    """Grab the flash stock: held for the buyer until the order is paid (or the hold expires).
    201 when taken now; 200 with the first answer for a repeated Idempotency-Key."""
    reservation, new = await service.reserve(request.app.state.seckill, member.user_id, body.activity_id,
                                             body.sku_id, body.count, now, key=key)
    if not new:
        response.status_code = 200
    return reservation


@router.get("/reservations", response_model=Page[ReservationOut], responses=errors(Unauthorized, Forbidden))
async def my_reservations(member: Member, session: Session, paging: Paging):
    return to_page(ReservationOut, await repo.my_reservations(session, member.user_id, paging), paging)
