"""Pricing service app: `uvicorn services.pricing.main:create_app --factory --port 8006`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.pricing import consumers, models
from services.pricing.api import admin, app, internal
from services.pricing.calculator import PointsRules
from services.pricing.clients import CouponClient
from services.pricing.holds import CouponHolds
from services.pricing.service import Pricing
from services.pricing.settings import PricingSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock
from shared.http import ServiceClient, outbound_service_token


def points_rules(settings: PricingSettings) -> PointsRules:
    return PointsRules(settings.points_enabled, settings.points_fen_per_point, settings.points_max_per_order,
                       settings.points_grant_per_yuan)


@contextlib.asynccontextmanager
async def pricing_context(app: FastAPI):
    """The coupon service client, the points rules and the hold owners, for the app's lifetime."""
    settings: PricingSettings = app.state.settings
    token = outbound_service_token(settings, "pricing", settings.service_token.get_secret_value())
    client = ServiceClient("coupon", settings.coupon_url, token, timeout_seconds=settings.dependency_timeout_seconds)
    coupons = CouponClient(client)
    app.state.pricing = Pricing(coupons=coupons, rules=points_rules(settings), holds=[CouponHolds(coupons)],
                                stale_seconds=settings.checkout_stale_seconds)
    try:
        yield
    finally:
        await client.close()


def create_app(settings: PricingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or PricingSettings(),
        title="Promotion Center: pricing",
        description="Limited-time discounts, spend-and-save, the price calculator and checkout orchestration.",
        routers=[app.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        resources=[pricing_context],
        clock=clock,
    )
