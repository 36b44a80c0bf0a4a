"""What the pricing routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.pricing.clients import CouponClient
from services.pricing.quote import Pricing


async def _pricing(request: Request) -> Pricing:
    return request.app.state.pricing


async def _coupons(request: Request) -> CouponClient:
    return request.app.state.pricing.coupons


PricingContext = Annotated[Pricing, Depends(_pricing)]
Coupons = Annotated[CouponClient, Depends(_coupons)]
