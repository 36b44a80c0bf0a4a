"""/app-api/pricing: product pages and the cart page (display prices; the client sends prices)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from services.pricing import calculator as calc
from services.pricing import domain, service
from services.pricing import quote as quotes
from services.pricing.api.deps import PricingContext
from services.pricing.schemas import QuoteIn, QuoteOut, RunningRewardOut, SkuDiscountOut
from shared.auth import MaybePrincipal, Role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized, ValidationFailed
from shared.ids import MAX_ID, QueryId
from shared.openapi import errors
from shared.responses import prebuilt_json

router = APIRouter(prefix="/app-api/pricing", tags=["app: pricing"], responses=errors(Unauthorized, Forbidden))

SkuParam = Annotated[str, StringConstraints(pattern=r"^\d{1,19}(:\d{1,12})?$")]


def _parse_skus(values: list[str]) -> list[tuple[int, int | None]]:
    skus = []
    for value in values:
        sku, _, price = value.partition(":")
        if not 1 <= int(sku) <= MAX_ID:
            raise ValidationFailed(errors=[{"loc": ["query", "sku"], "msg": f"{sku} is not a valid SKU id"}])
        skus.append((int(sku), int(price) if price else None))
    return list(dict.fromkeys(skus))


@router.get("/discounts", response_model=list[SkuDiscountOut])
async def sku_discounts(session: Session, pricing: PricingContext, now: Now, sku: Annotated[list[SkuParam], Query(
        min_length=1, max_length=100,
        description="`sku_id` or `sku_id:unit_price` (fen), repeated: ?sku=101:9900&sku=102")]):
    """Each SKU's running limited-time discount and, for SKUs sent with a price, the discounted unit price."""
    return await service.sku_discounts(session, pricing.catalog, _parse_skus(sku), now)


@router.get("/rewards", response_model=list[RunningRewardOut])
async def running_rewards(session: Session, pricing: PricingContext, now: Now, locale: Locale,
                          spu_id: Annotated[int, Query(ge=1, le=MAX_ID)], category_id: QueryId = None):
    """The spend-and-save activity that applies to a product, its levels as display text ("满100减10")."""
    return await service.running_rewards_for(session, pricing.catalog, spu_id, category_id, now, locale)


@router.post("/quote", response_model=QuoteOut,
             responses=errors(calc.NothingSelected, calc.PayAmountNotPositive, calc.CouponNotAllowed,
                              calc.SpecialPriceMissing, calc.SpecialPriceOtherShop, calc.CouponsOfOneOwner,
                              domain.CouponCannotBeUsed, domain.BargainOrderInvalid, domain.PointsOrderInvalid,
                              domain.ActivityRefused, domain.CartTooLarge))
async def quote(body: QuoteIn, session: Session, pricing: PricingContext, now: Now, locale: Locale,
                principal: MaybePrincipal):
    """The cart page: every line's price and why, the coupons that fit, what the order would earn,
    the lines by shop. Anonymous callers get discounts and spend-and-save; members also get their
    coupons (a shop's and the platform's). Prices and shops are display-only here. Well-formed
    quotes are served by the fast path in api/quote_route.py, with the same answers."""
    if principal is not None and principal.role is not Role.MEMBER:
        raise Forbidden(required=[Role.MEMBER])
    user_id = principal.user_id if principal else None
    return prebuilt_json(await quotes.quote(session, pricing, user_id, body, now, locale))
