"""Typed dependencies of the coupon routers: settings the routes need, read per request, and the
operators' template filter built from its query parameters."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from pydantic import AwareDatetime

from services.coupon.domain import DiscountType, TakeType
from services.coupon.flows.rush import Rush
from services.coupon.pages import TemplateFilter
from shared.enums import CommonStatus


async def _business_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.business_timezone)  # ZoneInfo keeps one instance per name


async def _hold_seconds(request: Request) -> int:
    return request.app.state.settings.coupon_hold_seconds


async def _rush(request: Request) -> Rush:
    return request.app.state.rush


async def _template_filter(name: Annotated[str | None, Query(max_length=64)] = None,
                           status: CommonStatus | None = None, discount_type: DiscountType | None = None,
                           take_type: TakeType | None = None, created_from: AwareDatetime | None = None,
                           created_to: AwareDatetime | None = None) -> TemplateFilter:
    return TemplateFilter(name, status, discount_type, take_type, created_from, created_to)


BusinessZone = Annotated[ZoneInfo, Depends(_business_zone)]  # the zone buyers read times in
HoldSeconds = Annotated[int, Depends(_hold_seconds)]
TemplateQuery = Annotated[TemplateFilter, Depends(_template_filter)]
RushDep = Annotated[Rush, Depends(_rush)]  # the take path and what template writes tell it
