"""/internal/bargain: pricing's checkout (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.bargain import domain, flows, service
from services.bargain.api.deps import BargainContext
from services.bargain.schemas import HoldIn, HoldOut, PricesIn, PricesOut, ReleaseOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors

router = APIRouter(prefix="/internal/bargain", tags=["internal: bargain"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))

ORDER_ERRORS = (domain.RecordNotFound, domain.RecordOfAnotherUser, domain.RecordNotSucceeded, domain.RecordOrdered,
                domain.SkuNotInActivity, domain.ActivityNotFound, domain.ActivityClosed, domain.NotStarted,
                domain.Ended, domain.SoldOut)


@router.post("/prices", response_model=PricesOut, responses=errors(*ORDER_ERRORS))
async def prices(body: PricesIn, session: Session, now: Now):
    """The record's bargained price for its SKU (one unit), with the activity's name and owner.
    With `order_id`, the record this order already holds (a retried checkout) counts as its own."""
    return await service.prices(session, body, now)


@router.post("/holds", status_code=201, response_model=HoldOut,
             responses=errors(*ORDER_ERRORS, domain.OrderHoldsAnotherRecord, domain.OrderHoldEnded,
                              domain.OrderCancelled))
async def hold(body: HoldIn, bg: BargainContext, now: Now):
    """Checkout: the record and one unit of the activity's stock for the order, pending payment.
    Idempotent by order id."""
    return await flows.hold(bg, body, now)


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, bg: BargainContext, now: Now):
    """Checkout failed elsewhere: the order's unit and record go back (idempotent)."""
    return {"order_id": order_id, "released": await flows.release(bg, order_id, now)}
