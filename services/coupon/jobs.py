"""Periodic work of the coupon service, safe to run on several replicas."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.coupon import lifecycle
from shared.jobs import every

log = logging.getLogger("coupon.jobs")


async def expire_forever(app: FastAPI) -> None:
    async def round_() -> None:
        async with app.state.sessionmaker() as session, session.begin():
            released, expired = await lifecycle.expire_due(session, app.state.clock.now())
        if released or expired:
            log.info("released %d expired holds, expired %d coupons", released, expired)

    await every(lambda: app.state.settings.coupon_job_interval_seconds, round_, log, "coupon expiry job")
