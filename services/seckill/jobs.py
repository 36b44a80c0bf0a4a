"""Periodic work of the seckill service, safe to run on several replicas: an expired reservation
changes state once (whoever does it gives the stock back), and reconciliation only reloads Redis
from MySQL."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.seckill import orders, service
from services.seckill import repository as repo

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
    """Redis re-derived from MySQL for today's activities. A drift seen once may be reservations
    between Redis and MySQL at that moment; the same drift seen twice in a row is real, and fixed."""
    seckill: service.Seckill = app.state.seckill
    previous: dict[int, dict[int, int]] = {}
    while True:
        await asyncio.sleep(app.state.settings.seckill_reconcile_interval_seconds)
        try:
            async with seckill.sessions() as session:
                activity_ids = [a.id for a in await repo.activities_on(
                    session, seckill.local(app.state.clock.now()).date())]
            seen: dict[int, dict[int, int]] = {}
            for activity_id in activity_ids:
                report = await service.reconcile(seckill, activity_id, fix=False)
                if report["drift"]:
                    seen[activity_id] = report["drift"]
                    log.warning("seckill activity %s: redis stock differs from mysql by %s", activity_id,
                                report["drift"])
                    if previous.get(activity_id) == report["drift"]:
                        await service.load_stock(seckill, activity_id)
                        seen.pop(activity_id)
                elif not report["loaded"]:
                    await service.load_stock(seckill, activity_id)
            previous = seen
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("seckill reconciliation failed, retrying next round: %r", exc)
