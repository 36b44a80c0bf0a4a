"""Typed dependencies of the coupon routers (settings the routes need, read per request)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def _business_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.business_timezone)  # ZoneInfo keeps one instance per name


async def _hold_seconds(request: Request) -> int:
    return request.app.state.settings.coupon_hold_seconds


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessionmaker


BusinessZone = Annotated[ZoneInfo, Depends(_business_zone)]  # the zone buyers read times in
HoldSeconds = Annotated[int, Depends(_hold_seconds)]
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]  # for use cases owning their transaction
