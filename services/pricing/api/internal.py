"""/internal/pricing: the order service (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.pricing import calculator as calc
from services.pricing import domain, flows, snapshots
from services.pricing import quote as quotes
from services.pricing.api.deps import PricingContext
from services.pricing.domain import CHECKOUT_STATUS_NAMES, CheckoutStatus
from services.pricing.schemas import CheckoutIn, CheckoutOut, QuoteOut, ServiceQuoteIn, SnapshotOut
from shared.auth import Role, require_role
from shared.db import Session, Sessions
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.http import DependencyUnavailable
from shared.ids import PathId
from shared.openapi import errors
from shared.responses import prebuilt_json

router = APIRouter(prefix="/internal/pricing", tags=["internal: pricing"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))

PRICING_ERRORS = (calc.NothingSelected, calc.PayAmountNotPositive, calc.CouponNotAllowed, calc.SpecialPriceMissing,
                  calc.SpecialPriceOtherShop, calc.CouponsOfOneOwner, domain.CouponCannotBeUsed,
                  domain.BargainOrderInvalid, domain.PointsOrderInvalid, domain.ActivityRefused,
                  domain.CartTooLarge, DependencyUnavailable)


@router.post("/quote", response_model=QuoteOut, responses=errors(*PRICING_ERRORS))
async def quote(body: ServiceQuoteIn, session: Session, pricing: PricingContext, now: Now, locale: Locale):
    """Price an order with trusted prices (the order service's confirm page)."""
    return prebuilt_json(await quotes.quote(session, pricing, body.user_id, body, now, locale))


@router.post("/checkout", response_model=CheckoutOut,
             responses=errors(*PRICING_ERRORS, domain.HoldFailed, domain.CheckoutInProgress,
                              domain.CheckoutMismatch, domain.OrderAlreadyCancelled))
async def checkout(body: CheckoutIn, sessions: Sessions, pricing: PricingContext, now: Now, locale: Locale):
    """Order creation: re-price, hold every limited resource the order uses, store the snapshot.
    Idempotent by order id."""
    return await flows.checkout(sessions, pricing, body, now, locale)


@router.get("/snapshots/{order_id}", response_model=SnapshotOut, responses=errors(domain.SnapshotNotFound))
async def snapshot(order_id: PathId, session: Session):
    """What the order was priced with (request, promotions' terms, result, holds), for audits and refunds."""
    row = await snapshots.get_snapshot(session, order_id)
    return SnapshotOut.model_validate({**{c: getattr(row, c) for c in SnapshotOut.model_fields if c != "status"},
                                       "status": CHECKOUT_STATUS_NAMES[CheckoutStatus(row.status)]})
