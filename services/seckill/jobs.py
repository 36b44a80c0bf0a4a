"""Periodic work of the seckill service, safe to run on several replicas: an expired reservation
changes state once (whoever does it gives the stock back), and reconciliation only reloads Redis
from MySQL."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.seckill.flows import orders
from services.seckill.flows.reconcile import Reconciler

log = logging.getLogger("seckill.jobs")


async def expire_forever(app: FastAPI) -> None:
    while True:
        try:
            expired = await orders.expire_due(app.state.seckill, app.state.clock.now())
            if expired:
                log.info("gave back the stock of %d unpaid reservations", expired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("seckill expiry job failed, retrying next round: %r", exc)
        await asyncio.sleep(app.state.settings.seckill_job_interval_seconds)


async def reconcile_forever(app: FastAPI) -> None:
    """Redis re-derived from MySQL for today's activities: a drift seen twice in a row is fixed
    (flows/reconcile.py)."""
    reconciler = Reconciler(app.state.seckill)
    while True:
        await asyncio.sleep(app.state.settings.seckill_reconcile_interval_seconds)
        try:
            await reconciler.round(app.state.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("seckill reconciliation failed, retrying next round: %r", exc)
