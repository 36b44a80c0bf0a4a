"""/internal/points: pricing's checkout (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.points import domain, flows, service
from services.points.api.deps import PointsContext
from services.points.schemas import HoldIn, HoldOut, PricesIn, PricesOut, ReleaseOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors

router = APIRouter(prefix="/internal/points", tags=["internal: points"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))

ORDER_ERRORS = (domain.ActivityNotFound, domain.ActivityClosed, domain.NotStarted, domain.Ended,
                domain.SkuNotInActivity, domain.SoldOut, domain.LimitExceeded)


@router.post("/prices", response_model=PricesOut, responses=errors(*ORDER_ERRORS))
async def prices(body: PricesIn, session: Session, now: Now):
    """Cash (fen) and points per unit of each SKU, with the activity's name and owner, if the units
    asked (`counts`, else one of each) can be exchanged now (stock left; for `user_id`, their limit
    not used up). With `order_id`, what that order already holds counts as its own (a retried
    checkout)."""
    return await service.prices(session, body, now)


@router.post("/holds", status_code=201, response_model=HoldOut,
             responses=errors(*ORDER_ERRORS, domain.OrderHoldsAnother, domain.OrderHoldEnded,
                              domain.OrderCancelled))
async def hold(body: HoldIn, pm: PointsContext, now: Now):
    """Checkout: `count` units of the SKU and the buyer's count, pending payment. Idempotent by
    order id (another activity, SKU, buyer or count for the same order: 409; an order whose hold
    went back, or that was cancelled before its hold: 409)."""
    return await flows.hold(pm, body, now)


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, pm: PointsContext, now: Now):
    """Checkout failed elsewhere: the order's units and count go back, if not paid (idempotent)."""
    return {"order_id": order_id, "released": await flows.release(pm, order_id, now)}
