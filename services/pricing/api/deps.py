"""What the pricing routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.pricing.clients import CouponClient
from services.pricing.quote import Pricing
from services.pricing.service import ActivityFilter
from shared.deps import Now
from shared.enums import CommonStatus


async def _pricing(request: Request) -> Pricing:
    return request.app.state.pricing


async def _coupons(request: Request) -> CouponClient:
    return request.app.state.pricing.coupons


PricingContext = Annotated[Pricing, Depends(_pricing)]
Coupons = Annotated[CouponClient, Depends(_coupons)]

Name = Annotated[str | None, Query(max_length=50, description="part of the name")]
Running = Annotated[bool, Query(description="true: only those whose window includes now")]


async def _activity_filter(now: Now, name: Name = None, status: CommonStatus | None = None,
                           running: Running = False) -> ActivityFilter:
    return ActivityFilter(name, status, now if running else None)


ActivityQuery = Annotated[ActivityFilter, Depends(_activity_filter)]  # every owner's: the route narrows it
