"""/internal/seckill: pricing's checkout (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.seckill import domain
from services.seckill.api.deps import SeckillContext
from services.seckill.flows import orders
from services.seckill.schemas import HoldIn, PricesIn, PricesOut, ReleaseOut, ReservationOut
from shared.auth import Role, require_role
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors

router = APIRouter(prefix="/internal/seckill", tags=["internal: seckill"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))


@router.post("/prices", response_model=PricesOut,
             responses=errors(domain.ActivityNotFound, domain.ActivityClosed, domain.NotOnNow,
                              domain.SkuNotInActivity))
async def prices(body: PricesIn, seckill: SeckillContext, now: Now, locale: Locale):
    """The flash price of each SKU of a seckill order while the sale is on, and the activity's name.
    Never refused for stock or limits (the hold checks them). With `order_id` (a checkout retried
    after a crash), the SKU the order already holds is priced as reserved even if the sale ended since."""
    return await orders.prices(seckill, body.activity_id, body.sku_ids, now, body.order_id, locale)


@router.post("/holds", status_code=201, response_model=ReservationOut,
             responses=errors(domain.ActivityNotFound, domain.ActivityClosed, domain.NotOnNow,
                              domain.SkuNotInActivity, domain.OrderLimitExceeded, domain.UserLimitReached,
                              domain.SoldOut, domain.StockNotEnough, domain.ReservationNotUsable,
                              domain.Unavailable))
async def hold(body: HoldIn, seckill: SeckillContext, now: Now):
    """Checkout: the order's flash stock (the buyer's reservation, or taken now). Idempotent by order id."""
    return await orders.hold(seckill, body.order_id, body.user_id, body.activity_id,
                              body.sku_id, body.count, body.reservation_id, now)


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, seckill: SeckillContext, now: Now):
    """Checkout failed elsewhere: the order's stock goes back (idempotent)."""
    return {"order_id": order_id, "released": await orders.release_order(seckill, order_id, now)}
