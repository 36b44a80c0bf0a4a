"""Periodic work of the cart service, safe on several replicas: old device carts go."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.cart import service
from shared.jobs import every

log = logging.getLogger("cart.jobs")

BATCH = 500  # carts per transaction


async def expire_once(app: FastAPI) -> int:
    """Every device cart unchanged for CART_DEVICE_TTL_DAYS, BATCH at a time, each batch in a
    transaction of its own; returns how many went."""
    removed = 0
    while True:
        async with app.state.sessionmaker() as session, session.begin():
            done = await service.expire_device_carts(session, app.state.clock.now(),
                                                     app.state.settings.cart_device_ttl_days, BATCH)
        removed += done
        if done < BATCH:
            return removed


async def expire_forever(app: FastAPI) -> None:
    async def round_() -> None:
        removed = await expire_once(app)
        if removed:
            log.info("removed %d device carts unchanged for %d days", removed, app.state.settings.cart_device_ttl_days)

    await every(lambda: app.state.settings.cart_job_interval_seconds, round_, log, "cart expiry job")
