"""Typed dependencies of the coupon routers (settings the routes need, read per request)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


async def _business_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.business_timezone)  # ZoneInfo keeps one instance per name


async def _hold_seconds(request: Request) -> int:
    return request.app.state.settings.coupon_hold_seconds


BusinessZone = Annotated[ZoneInfo, Depends(_business_zone)]  # the zone buyers read times in
HoldSeconds = Annotated[int, Depends(_hold_seconds)]
