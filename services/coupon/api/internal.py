"""/internal/coupon: the order service and pricing (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.coupon import service
from services.coupon.domain import CouponNotUsable
from services.coupon.schemas import HoldIn, HoldOut, MatchOut, ReleaseOut, ServiceCartIn
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.responses import prebuilt_json

router = APIRouter(prefix="/internal/coupon", tags=["internal: coupon"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))


@router.post("/match", response_model=MatchOut)
async def match(body: ServiceCartIn, session: Session, now: Now, locale: Locale):
    return prebuilt_json(await service.match_cart(session, body.user_id, body.lines, now, locale))


@router.post("/holds", status_code=201, response_model=HoldOut, responses=errors(CouponNotUsable))
async def hold(body: HoldIn, request: Request, session: Session, now: Now):
    """Checkout: reserve the coupon for the order (idempotent by order id)."""
    coupon = await service.hold(session, body.order_id, body.user_id, body.coupon_id, now,
                                request.app.state.settings.coupon_hold_seconds)
    return HoldOut(order_id=body.order_id, coupon_id=coupon.id, hold_expires_at=coupon.hold_expires_at)


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, session: Session, now: Now):
    """Checkout failed elsewhere: give the order's coupon back (idempotent)."""
    return ReleaseOut(order_id=order_id, released=await service.release_order(session, order_id, now))
