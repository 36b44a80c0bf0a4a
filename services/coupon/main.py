"""Coupon service app: `uvicorn services.coupon.main:create_app --factory --port 8001`."""

from __future__ import annotations

from fastapi import FastAPI

from services.coupon import consumers, jobs, models
from services.coupon.api import admin, app, internal, merchant
from services.coupon.settings import CouponSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock


def create_app(settings: CouponSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or CouponSettings(),
        title="Promotion Center: coupon",
        description="Coupon templates, issued coupons, matching and holds.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.expire_forever],
        clock=clock,
    )
