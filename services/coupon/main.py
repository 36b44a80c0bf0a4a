"""Coupon service app: `uvicorn services.coupon.main:create_app --factory --port 8001`."""

from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from services.coupon import consumers, jobs, models
from services.coupon.api import admin, app, internal, merchant
from services.coupon.api.rush_route import TakeFastPath
from services.coupon.flows.rush import Rush, TemplateCache
from services.coupon.flows.rush_gate import TemplateGate
from services.coupon.flows.rush_writer import TakeWriter
from services.coupon.settings import CouponSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock
from shared.quota_gate import REDIS_DOWN

log = logging.getLogger("coupon.rush")


@contextlib.asynccontextmanager
async def rush_context(app: FastAPI):
    """The take path's Redis gate, writer and cache; on start, Redis rebuilt from the database."""
    settings: CouponSettings = app.state.settings
    templates = TemplateGate(app.state.redis, app.state.sessionmaker, settings.coupon_sold_out_seconds)
    app.state.rush = Rush(sessions=app.state.sessionmaker, templates=templates,
                          writer=TakeWriter(app.state.sessionmaker, templates),
                          cache=TemplateCache(settings.coupon_cache_seconds), redis_front=settings.coupon_redis_front)
    if settings.coupon_redis_front:
        try:
            await templates.warm_up(app.state.clock.now())
        except (*REDIS_DOWN, SQLAlchemyError) as exc:  # takes load what they need; reconciliation the rest
            log.warning("could not load the self-take templates into redis on start: %r", exc)
    yield


def create_app(settings: CouponSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or CouponSettings(),
        title="Promotion Center: coupon",
        description="Coupon templates, issued coupons, matching and holds.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.expire_forever, jobs.reconcile_forever],
        resources=[rush_context],
        clock=clock,
        fast_paths=[TakeFastPath, internal.MatchFastPath],
    )
