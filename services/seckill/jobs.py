"""Periodic work of the seckill service, safe to run on several replicas: an expired reservation
changes state once (whoever does it gives the stock back), and reconciliation only reloads Redis
from MySQL."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.seckill.flows import orders
from services.seckill.flows.reconcile import Reconciler
from shared.jobs import every

log = logging.getLogger("seckill.jobs")


async def expire_forever(app: FastAPI) -> None:
    async def round_() -> None:
        expired = await orders.expire_due(app.state.seckill, app.state.clock.now())
        if expired:
            log.info("gave back the stock of %d unpaid reservations", expired)

    await every(lambda: app.state.settings.seckill_job_interval_seconds, round_, log, "seckill expiry job")


async def reconcile_forever(app: FastAPI) -> None:
    """Redis re-derived from MySQL for today's activities: a drift seen twice in a row is fixed
    (flows/reconcile.py)."""
    reconciler = Reconciler(app.state.seckill)
    await every(lambda: app.state.settings.seckill_reconcile_interval_seconds,
                lambda: reconciler.round(app.state.clock.now()), log, "seckill reconciliation", wait_first=True)
