"""Pricing service app: `uvicorn services.pricing.main:create_app --factory --port 8006`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.pricing import consumers, models
from services.pricing.api import admin, app, internal, merchant
from services.pricing.api.quote_route import QuoteFastPath
from services.pricing.calculator import PointsRules, SpecialKind
from services.pricing.clients import BargainClient, CouponClient, GroupbuyClient, PointsClient, SeckillClient
from services.pricing.holds import BargainHolds, CouponHolds, GroupbuyHolds, PointsHolds, SeckillHolds
from services.pricing.quote import Pricing
from services.pricing.settings import PricingSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock
from shared.http import ServiceClient, outbound_service_token


def points_rules(settings: PricingSettings) -> PointsRules:
    return PointsRules(settings.points_enabled, settings.points_fen_per_point, settings.points_max_per_order,
                       settings.points_grant_per_yuan)


@contextlib.asynccontextmanager
async def pricing_context(app: FastAPI):
    """The coupon, seckill, group-buy, bargain and points-mall service clients, the points rules, the
    hold owners and the special price sources, for the app's lifetime."""
    settings: PricingSettings = app.state.settings
    token = outbound_service_token(settings, "pricing", settings.service_token.get_secret_value())
    timeout = settings.dependency_timeout_seconds
    coupon_client = ServiceClient("coupon", settings.coupon_url, token, timeout_seconds=timeout)
    seckill_client = ServiceClient("seckill", settings.seckill_url, token, timeout_seconds=timeout)
    groupbuy_client = ServiceClient("groupbuy", settings.groupbuy_url, token, timeout_seconds=timeout)
    bargain_client = ServiceClient("bargain", settings.bargain_url, token, timeout_seconds=timeout)
    points_client = ServiceClient("points", settings.points_url, token, timeout_seconds=timeout)
    coupons, seckill = CouponClient(coupon_client), SeckillClient(seckill_client)
    groupbuy, bargain = GroupbuyClient(groupbuy_client), BargainClient(bargain_client)
    points = PointsClient(points_client)
    app.state.pricing = Pricing(coupons=coupons, rules=points_rules(settings),
                                holds=[SeckillHolds(seckill), GroupbuyHolds(groupbuy), BargainHolds(bargain),
                                       PointsHolds(points), CouponHolds(coupons)],
                                special_prices={SpecialKind.SECKILL: seckill, SpecialKind.GROUPBUY: groupbuy,
                                                SpecialKind.BARGAIN: bargain, SpecialKind.POINTS_MALL: points},
                                stale_seconds=settings.checkout_stale_seconds)
    try:
        yield
    finally:
        await coupon_client.close()
        await seckill_client.close()
        await groupbuy_client.close()
        await bargain_client.close()
        await points_client.close()


def create_app(settings: PricingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or PricingSettings(),
        title="Promotion Center: pricing",
        description="Limited-time discounts, spend-and-save, the price calculator and checkout orchestration.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        resources=[pricing_context],
        fast_paths=[QuoteFastPath],
        clock=clock,
    )
