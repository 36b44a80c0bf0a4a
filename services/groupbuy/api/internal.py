"""/internal/groupbuy: pricing's checkout (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.groupbuy import domain, flows, service
from services.groupbuy.api.deps import GroupbuyContext
from services.groupbuy.schemas import HoldIn, PricesIn, PricesOut, ReleaseOut, SeatOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors

router = APIRouter(prefix="/internal/groupbuy", tags=["internal: groupbuy"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))

SEAT_ERRORS = (domain.ActivityNotFound, domain.ActivityClosed, domain.NotStarted, domain.Ended,
               domain.GroupNotFound, domain.WrongActivity, domain.GroupNotJoinable, domain.GroupExpired,
               domain.GroupFull, domain.SkuNotInActivity)


@router.post("/prices", response_model=PricesOut, responses=errors(*SEAT_ERRORS))
async def prices(body: PricesIn, session: Session, now: Now):
    """The leader price of each SKU when opening a group, the group price when joining one.
    With `order_id`, a seat this order already holds (a retried checkout) counts as its own."""
    return await service.prices(session, body, now)


@router.post("/holds", status_code=201, response_model=SeatOut,
             responses=errors(*SEAT_ERRORS, domain.OrderLimitExceeded, domain.UserLimitReached,
                              domain.AlreadyInGroup, domain.OrderHoldsAnotherSeat))
async def hold(body: HoldIn, gb: GroupbuyContext, now: Now):
    """Checkout: a seat for the order (pending payment), in a new group or in `group_id`.
    Idempotent by order id."""
    return await flows.hold(gb, body, now)


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, gb: GroupbuyContext, now: Now):
    """Checkout failed elsewhere: the order's seat goes back (idempotent)."""
    return {"order_id": order_id, "released": await flows.release_order(gb, order_id, now)}
