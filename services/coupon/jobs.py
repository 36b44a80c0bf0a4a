"""Periodic work of the coupon service, safe to run on several replicas: expiry changes each row
once, and reconciliation only reloads Redis from the database."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.coupon import lifecycle
from services.coupon.flows.rush_gate import Reconciler
from shared.jobs import every

log = logging.getLogger("coupon.jobs")


async def expire_forever(app: FastAPI) -> None:
    async def round_() -> None:
        async with app.state.sessionmaker() as session, session.begin():
            released, expired = await lifecycle.expire_due(session, app.state.clock.now())
        if released or expired:
            log.info("released %d expired holds, expired %d coupons", released, expired)

    await every(lambda: app.state.settings.coupon_job_interval_seconds, round_, log, "coupon expiry job")


async def reconcile_forever(app: FastAPI) -> None:
    """Redis's stock of the self-take templates against the database: a drift seen twice in a row
    is reloaded, a template missing from Redis loaded (rush_gate.py)."""
    if not app.state.settings.coupon_redis_front:
        return
    reconciler = Reconciler(app.state.rush.templates)
    await every(lambda: app.state.settings.coupon_reconcile_interval_seconds,
                lambda: reconciler.round(app.state.clock.now()), log, "coupon reconciliation", wait_first=True)
