"""Seckill service app: `uvicorn services.seckill.main:create_app --factory --port 8002`."""

from __future__ import annotations

import contextlib
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.seckill import consumers, jobs, models
from services.seckill.api import admin, app, internal, merchant
from services.seckill.api.crowd import ReservationFastPath
from services.seckill.catalog import Catalog
from services.seckill.context import Seckill
from services.seckill.flows.writer import ReservationWriter
from services.seckill.settings import SeckillSettings
from services.seckill.stock import StockFilter
from shared.app import Messaging, create_service_app
from shared.clock import Clock


@contextlib.asynccontextmanager
async def seckill_context(app: FastAPI):
    settings: SeckillSettings = app.state.settings
    app.state.seckill = Seckill(
        sessions=app.state.sessionmaker, stock=StockFilter(app.state.redis, settings.seckill_sold_out_seconds),
        writer=ReservationWriter(app.state.sessionmaker),
        catalog=Catalog(settings.seckill_cache_seconds), timezone=ZoneInfo(settings.business_timezone),
        hold_seconds=settings.seckill_hold_seconds, redis_filter=settings.seckill_redis_filter,
        clock=app.state.clock)
    yield


def create_app(settings: SeckillSettings | None = None, clock: Clock | None = None) -> FastAPI:
    def seckill() -> Seckill:
        return created.state.seckill

    created = create_service_app(
        settings or SeckillSettings(),
        title="Promotion Center: seckill",
        description="Time slots, flash activities and the crowd-proof reservation path.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.handlers(seckill)),
        jobs=[jobs.expire_forever, jobs.reconcile_forever],
        resources=[seckill_context],
        clock=clock,
        fast_paths=[ReservationFastPath],
    )
    return created
