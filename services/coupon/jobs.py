"""Periodic work of the coupon service, safe to run on several replicas."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.coupon import lifecycle

log = logging.getLogger("coupon.jobs")


async def expire_forever(app: FastAPI) -> None:
    while True:
        try:
            async with app.state.sessionmaker() as session, session.begin():
                released, expired = await lifecycle.expire_due(session, app.state.clock.now())
            if released or expired:
                log.info("released %d expired holds, expired %d coupons", released, expired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("coupon expiry job failed, retrying next round: %r", exc)
        await asyncio.sleep(app.state.settings.coupon_job_interval_seconds)
